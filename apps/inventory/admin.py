"""Admin for items, warehouses and stock. Stock quantities are read-only here: they change
only through apps.inventory.services (post_stock_move, reserve_stock)."""

from django.contrib import admin

from .models import Item, ReorderRule, SerialNumber, StockLevel, StockMove, Warehouse


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable in admin, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReorderRuleInline(admin.TabularInline):
    model = ReorderRule
    extra = 0
    autocomplete_fields = ["warehouse"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "name",
        "name_zh",
        "item_type",
        "category",
        "brand",
        "stock_uom",
        "list_price",
        "active",
    ]
    list_filter = ["item_type", "category", "has_serial_no", "is_stock_item", "active"]
    search_fields = ["sku", "name", "name_zh", "search_text", "brand", "model"]
    readonly_fields = ["search_text"]
    autocomplete_fields = ["default_supplier"]
    inlines = [ReorderRuleInline]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_zh", "warehouse_type", "manager", "active"]
    list_filter = ["warehouse_type", "active"]
    search_fields = ["code", "name", "name_zh"]
    raw_id_fields = ["manager"]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = [
        "item",
        "warehouse",
        "actual_qty",
        "reserved_qty",
        "available_qty",
        "ordered_qty",
        "projected_qty",
        "updated_at",
    ]
    list_filter = ["warehouse", "item__category"]
    search_fields = ["item__sku", "item__name", "item__name_zh", "item__search_text"]
    list_select_related = ["item", "warehouse"]


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = [
        "posted_at",
        "item",
        "warehouse",
        "qty",
        "qty_after",
        "voucher_type",
        "voucher_id",
        "user",
    ]
    list_filter = ["voucher_type", "warehouse"]
    search_fields = ["item__sku", "item__name_zh", "voucher_id", "serial_no", "note"]
    date_hierarchy = "posted_at"
    list_select_related = ["item", "warehouse", "user"]


@admin.register(ReorderRule)
class ReorderRuleAdmin(admin.ModelAdmin):
    list_display = ["item", "warehouse", "reorder_level", "reorder_qty", "request_type"]
    list_filter = ["warehouse", "request_type"]
    search_fields = ["item__sku", "item__name", "item__name_zh", "item__search_text"]
    autocomplete_fields = ["item", "warehouse"]
    list_select_related = ["item", "warehouse"]


@admin.register(SerialNumber)
class SerialNumberAdmin(admin.ModelAdmin):
    list_display = [
        "serial",
        "item",
        "status",
        "customer",
        "warehouse",
        "delivery_date",
        "warranty_end",
        "warranty",
    ]
    list_filter = ["status", "item__category", "warehouse"]
    search_fields = [
        "serial",
        "item__sku",
        "item__name_zh",
        "customer__code",
        "customer__name",
        "customer__name_zh",
    ]
    autocomplete_fields = ["item", "warehouse", "customer", "sales_order", "parent_serial"]
    list_select_related = ["item", "customer", "warehouse"]

    @admin.display(description="Warranty")
    def warranty(self, obj):
        return obj.warranty_status() or "-"
