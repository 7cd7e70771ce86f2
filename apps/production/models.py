"""Work orders that build machines, and their operations."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

QTY = {"max_digits": 14, "decimal_places": 3}


class WorkOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        NOT_STARTED = "not_started", "Not started"
        IN_PROCESS = "in_process", "In process"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=30, unique=True)
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT)
    qty = models.DecimalField(**QTY, default=Decimal("1"))
    produced_qty = models.DecimalField(**QTY, default=Decimal("0"))
    sales_order = models.ForeignKey(
        "sales.SalesOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="work_orders",
    )
    serial_no = models.CharField(max_length=40, blank=True, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    planned_start = models.DateField(null=True, blank=True)
    planned_end = models.DateField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(condition=Q(qty__gt=0), name="wo_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(produced_qty__gte=0, produced_qty__lte=F("qty")),
                name="wo_produced_within_qty",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class WorkOrderOperation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="operations")
    seq = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=80)
    name_zh = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["work_order", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "seq"], name="wo_operation_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order.number} #{self.seq} {self.name}"
