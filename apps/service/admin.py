"""Admin for after-sales service tickets."""

from django.contrib import admin

from .models import ServiceTicket


@admin.register(ServiceTicket)
class ServiceTicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "customer",
        "serial",
        "category",
        "priority",
        "status",
        "assigned_engineer",
        "created_at",
    ]
    list_filter = ["status", "priority", "category", "assigned_engineer"]
    search_fields = [
        "number",
        "complaint",
        "customer__code",
        "customer__name",
        "customer__name_zh",
        "serial__serial",
    ]
    date_hierarchy = "created_at"
    autocomplete_fields = ["customer", "serial", "item"]
    raw_id_fields = ["assigned_engineer", "created_by"]
    list_select_related = ["customer", "serial", "assigned_engineer"]
