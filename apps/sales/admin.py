"""Admin for customers, quotes and sales orders."""

from django.contrib import admin

from .models import Customer, SalesOrder, SalesOrderLine


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "name",
        "territory",
        "owner_salesperson",
        "credit_limit",
        "active",
    ]
    list_filter = ["territory", "active", "owner_salesperson"]
    search_fields = ["code", "name", "name_zh", "tax_id", "contact_name", "contact_phone"]
    raw_id_fields = ["owner_salesperson"]


class SalesOrderLineInline(admin.TabularInline):
    model = SalesOrderLine
    extra = 0
    autocomplete_fields = ["item"]


@admin.register(SalesOrder)
class SalesOrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "doc_type",
        "customer",
        "salesperson",
        "order_date",
        "promised_date",
        "status",
        "grand_total",
        "currency",
        "per_delivered",
    ]
    list_filter = ["doc_type", "status", "salesperson"]
    search_fields = ["number", "customer__code", "customer__name", "customer__name_zh"]
    date_hierarchy = "order_date"
    autocomplete_fields = ["customer"]
    raw_id_fields = ["salesperson"]
    list_select_related = ["customer", "salesperson"]
    inlines = [SalesOrderLineInline]


@admin.register(SalesOrderLine)
class SalesOrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "item", "qty", "rate", "discount_pct", "amount", "delivered_qty"]
    list_filter = ["order__status"]
    search_fields = ["order__number", "item__sku", "item__name_zh", "item__search_text"]
    autocomplete_fields = ["order", "item"]
    list_select_related = ["order", "item"]
