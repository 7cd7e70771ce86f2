"""Suppliers and purchase orders."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

QTY = {"max_digits": 14, "decimal_places": 3}
MONEY = {"max_digits": 14, "decimal_places": 2}


class Supplier(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=80, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh or self.name}"


class DraftOrderRequest(models.Model):
    """One request to turn a reorder plan into draft purchase orders, kept by its idempotency
    key so the same request made twice creates its orders once (services.py)."""

    idempotency_key = models.CharField(max_length=100, unique=True)
    # The plan's lines, normalised and hashed: the same key for another plan is refused.
    lines_digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.idempotency_key


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        TO_RECEIVE_AND_BILL = "to_receive_and_bill", "To receive and bill"
        TO_RECEIVE = "to_receive", "To receive"
        TO_BILL = "to_bill", "To bill"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        CLOSED = "closed", "Closed"

    OPEN_STATUSES = (Status.DRAFT, Status.TO_RECEIVE_AND_BILL, Status.TO_RECEIVE)

    number = models.CharField(max_length=30, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    order_date = models.DateField(default=timezone.localdate)
    expected_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    grand_total = models.DecimalField(**MONEY, default=Decimal("0"))
    request = models.ForeignKey(
        DraftOrderRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )

    class Meta:
        ordering = ["-order_date", "-number"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT)
    qty = models.DecimalField(**QTY)
    received_qty = models.DecimalField(**QTY, default=Decimal("0"))
    rate = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(qty__gt=0), name="poline_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(received_qty__gte=0, received_qty__lte=F("qty")),
                name="poline_received_within_qty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.qty} × {self.item.sku}"

    @property
    def open_qty(self) -> Decimal:
        return self.qty - self.received_qty
