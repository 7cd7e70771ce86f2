"""After-sales service tickets."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ServiceTicket(models.Model):
    class Category(models.TextChoices):
        INSTALLATION = "installation", "Installation"
        REPAIR = "repair", "Repair"
        MAINTENANCE = "maintenance", "Maintenance"
        TRAINING = "training", "Training"
        PARTS_REQUEST = "parts_request", "Parts request"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        WAITING_PARTS = "waiting_parts", "Waiting for parts"
        WAITING_CUSTOMER = "waiting_customer", "Waiting for customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.WAITING_PARTS,
        Status.WAITING_CUSTOMER,
    )

    number = models.CharField(max_length=30, unique=True)
    customer = models.ForeignKey(
        "sales.Customer", on_delete=models.PROTECT, related_name="service_tickets"
    )
    serial = models.ForeignKey(
        "inventory.SerialNumber",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_tickets",
    )
    item = models.ForeignKey("inventory.Item", null=True, blank=True, on_delete=models.PROTECT)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.REPAIR)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    complaint = models.TextField()
    warranty_status_at_open = models.CharField(max_length=20, blank=True)
    assigned_engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_tickets",
    )
    channel = models.CharField(max_length=20, blank=True)
    resolution = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return self.number
