"""Admin for suppliers and purchase orders."""

from django.contrib import admin

from .models import DraftOrderRequest, PurchaseOrder, PurchaseOrderLine, Supplier


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name", "contact_name", "contact_phone", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "name_zh", "contact_name"]


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    autocomplete_fields = ["item", "warehouse"]


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "supplier",
        "status",
        "order_date",
        "expected_date",
        "grand_total",
        "currency",
    ]
    list_filter = ["status", "supplier"]
    search_fields = ["number", "supplier__code", "supplier__name", "supplier__name_zh"]
    date_hierarchy = "order_date"
    autocomplete_fields = ["supplier"]
    readonly_fields = ["request"]
    list_select_related = ["supplier"]
    inlines = [PurchaseOrderLineInline]


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "item", "warehouse", "qty", "received_qty", "rate"]
    list_filter = ["order__status", "warehouse"]
    search_fields = ["order__number", "item__sku", "item__name_zh", "item__search_text"]
    autocomplete_fields = ["order", "item", "warehouse"]
    list_select_related = ["order", "item", "warehouse"]


@admin.register(DraftOrderRequest)
class DraftOrderRequestAdmin(admin.ModelAdmin):
    """Who turned which reorder plan into draft orders; made only by the service."""

    list_display = ["idempotency_key", "created_by", "created_at"]
    search_fields = ["idempotency_key", "orders__number"]
    readonly_fields = ["idempotency_key", "lines_digest", "created_by", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
