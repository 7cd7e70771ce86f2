"""Customers, quotes and sales orders."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

QTY = {"max_digits": 14, "decimal_places": 3}
MONEY = {"max_digits": 14, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2}


class Customer(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    territory = models.CharField(max_length=60, blank=True)
    owner_salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    credit_limit = models.DecimalField(**MONEY, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="CNY")
    contact_name = models.CharField(max_length=80, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["name_zh"]), models.Index(fields=["name"])]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="customer_credit_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh or self.name}"

    @property
    def display_name(self) -> str:
        return self.name_zh or self.name


class SalesOrder(models.Model):
    """A quote (doc_type=quote, always draft until approved) or a sales order."""

    class DocType(models.TextChoices):
        QUOTE = "quote", "Quote"
        ORDER = "order", "Order"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        CONFIRMED = "confirmed", "Confirmed"
        TO_DELIVER_AND_BILL = "to_deliver_and_bill", "To deliver and bill"
        TO_DELIVER = "to_deliver", "To deliver"
        TO_BILL = "to_bill", "To bill"
        COMPLETED = "completed", "Completed"
        ON_HOLD = "on_hold", "On hold"
        CANCELLED = "cancelled", "Cancelled"
        CLOSED = "closed", "Closed"

    number = models.CharField(max_length=30, unique=True)
    doc_type = models.CharField(max_length=10, choices=DocType.choices, default=DocType.ORDER)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sales_orders")
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    order_date = models.DateField(default=timezone.localdate)
    promised_date = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    grand_total = models.DecimalField(**MONEY, default=Decimal("0"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    per_delivered = models.DecimalField(**PERCENT, default=Decimal("0"))
    per_billed = models.DecimalField(**PERCENT, default=Decimal("0"))
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-order_date", "-number"]
        permissions = [
            ("view_all_salesorders", "Can see every salesperson's orders"),
            ("create_quote", "Can create draft quotes"),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["customer", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(grand_total__gte=0), name="so_grand_total_gte_0"),
            models.CheckConstraint(
                condition=Q(per_delivered__gte=0, per_delivered__lte=100), name="so_per_delivered"
            ),
            models.CheckConstraint(
                condition=Q(per_billed__gte=0, per_billed__lte=100), name="so_per_billed"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class SalesOrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT)
    qty = models.DecimalField(**QTY)
    uom = models.CharField(max_length=10, default="pcs")
    rate = models.DecimalField(**MONEY)
    discount_pct = models.DecimalField(**PERCENT, default=Decimal("0"))
    amount = models.DecimalField(**MONEY)
    delivered_qty = models.DecimalField(**QTY, default=Decimal("0"))
    billed_qty = models.DecimalField(**QTY, default=Decimal("0"))

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(qty__gt=0), name="soline_qty_gt_0"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="soline_rate_gte_0"),
            models.CheckConstraint(
                condition=Q(delivered_qty__gte=0), name="soline_delivered_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.qty} × {self.item.sku}"
