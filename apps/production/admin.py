"""Admin for work orders and their operations."""

from django.contrib import admin

from .models import WorkOrder, WorkOrderOperation


class WorkOrderOperationInline(admin.TabularInline):
    model = WorkOrderOperation
    extra = 0


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "item",
        "qty",
        "produced_qty",
        "status",
        "sales_order",
        "serial_no",
        "planned_start",
        "planned_end",
    ]
    list_filter = ["status"]
    search_fields = ["number", "serial_no", "item__sku", "item__name_zh", "sales_order__number"]
    autocomplete_fields = ["item", "sales_order"]
    list_select_related = ["item", "sales_order"]
    inlines = [WorkOrderOperationInline]


@admin.register(WorkOrderOperation)
class WorkOrderOperationAdmin(admin.ModelAdmin):
    list_display = ["work_order", "seq", "name", "name_zh", "status", "done_at"]
    list_filter = ["status", "name"]
    search_fields = ["work_order__number", "name", "name_zh"]
    autocomplete_fields = ["work_order"]
    list_select_related = ["work_order"]
