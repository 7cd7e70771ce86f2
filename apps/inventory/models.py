"""Items, warehouses and stock: the ledger (StockMove) and its per item × warehouse totals."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

QTY = {"max_digits": 14, "decimal_places": 3}
MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0")


class Item(models.Model):
    class ItemType(models.TextChoices):
        MACHINE = "machine", "Machine"
        SPARE_PART = "spare_part", "Spare part"
        CONSUMABLE = "consumable", "Consumable"
        SERVICE = "service", "Service"

    class Category(models.TextChoices):
        CUTTING_MACHINE = "cutting_machine", "Cutting machine"
        WELDING_MACHINE = "welding_machine", "Welding machine"
        MARKING_MACHINE = "marking_machine", "Marking machine"
        LASER_SOURCE = "laser_source", "Laser source"
        LENS = "lens", "Lens"
        NOZZLE = "nozzle", "Nozzle"
        PROTECTIVE_WINDOW = "protective_window", "Protective window"
        CUTTING_HEAD = "cutting_head", "Cutting head"
        CHILLER = "chiller", "Chiller"
        OTHER = "other", "Other"

    class Uom(models.TextChoices):
        PCS = "pcs", "pcs"
        SET = "set", "set"
        BOX = "box", "box"
        M = "m", "m"

    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    aliases = models.JSONField(default=list, blank=True, help_text="Other names staff use.")
    # Lower-cased sku, names and aliases in one column, so one indexed LIKE finds an item.
    search_text = models.TextField(blank=True, editable=False, db_index=True)
    item_type = models.CharField(max_length=20, choices=ItemType.choices)
    category = models.CharField(max_length=30, choices=Category.choices, default=Category.OTHER)
    brand = models.CharField(max_length=80, blank=True)
    model = models.CharField(max_length=80, blank=True)
    specs = models.JSONField(default=dict, blank=True)
    stock_uom = models.CharField(max_length=10, choices=Uom.choices, default=Uom.PCS)
    is_stock_item = models.BooleanField(default=True)
    has_serial_no = models.BooleanField(default=False)
    warranty_months = models.PositiveSmallIntegerField(default=0)
    list_price = models.DecimalField(**MONEY, default=ZERO)
    standard_cost = models.DecimalField(**MONEY, default=ZERO)
    currency = models.CharField(max_length=3, default="CNY")
    # Who the item is bought from when it runs short (apps.purchasing.reports.reorder_plan);
    # empty for items made in-house or not yet bought.
    default_supplier = models.ForeignKey(
        "purchasing.Supplier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="default_items",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        permissions = [("view_cost", "Can see item costs")]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="item_list_price_gte_0"),
            models.CheckConstraint(
                condition=Q(standard_cost__gte=0), name="item_standard_cost_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name_zh or self.name}"

    def save(self, *args, **kwargs) -> None:
        self.search_text = self.search_text_of(self.sku, self.name, self.name_zh, self.aliases)
        super().save(*args, **kwargs)

    @staticmethod
    def search_text_of(sku: str, name: str, name_zh: str, aliases: list[str] | None) -> str:
        """Every name in one lower-case column (bulk_create callers set it themselves)."""
        return " ".join([sku, name, name_zh, *(aliases or [])]).lower()

    @property
    def display_name(self) -> str:
        return self.name_zh or self.name


class Warehouse(models.Model):
    class WarehouseType(models.TextChoices):
        MAIN = "main", "Main"
        SPARE_PARTS = "spare_parts", "Spare parts"
        SERVICE_VAN = "service_van", "Service van"
        TRANSIT = "transit", "Transit"
        CONSIGNMENT = "consignment", "Consignment"
        SCRAP = "scrap", "Scrap"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100, blank=True)
    warehouse_type = models.CharField(max_length=20, choices=WarehouseType.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    address = models.CharField(max_length=200, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh or self.name}"


class StockLevel(models.Model):
    """Quantities of one item in one warehouse. Changed only by services.post_stock_move."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_levels")
    actual_qty = models.DecimalField(**QTY, default=ZERO)
    reserved_qty = models.DecimalField(**QTY, default=ZERO)
    ordered_qty = models.DecimalField(**QTY, default=ZERO)
    planned_qty = models.DecimalField(**QTY, default=ZERO)
    reserved_for_production = models.DecimalField(**QTY, default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item__sku", "warehouse__code"]
        permissions = [("reserve_stock", "Can reserve stock")]
        constraints = [
            models.UniqueConstraint(fields=["item", "warehouse"], name="stocklevel_item_warehouse"),
            models.CheckConstraint(
                condition=Q(reserved_qty__gte=0), name="stocklevel_reserved_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(reserved_for_production__gte=0),
                name="stocklevel_reserved_for_production_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(actual_qty__gte=F("reserved_qty") + F("reserved_for_production")),
                name="stocklevel_available_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.sku} @ {self.warehouse.code}: {self.actual_qty}"

    @property
    def available_qty(self) -> Decimal:
        return self.actual_qty - self.reserved_qty - self.reserved_for_production

    @property
    def projected_qty(self) -> Decimal:
        return (
            self.actual_qty
            + self.ordered_qty
            + self.planned_qty
            - self.reserved_qty
            - self.reserved_for_production
        )


class StockMove(models.Model):
    """One line of the append-only stock ledger."""

    class VoucherType(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        DELIVERY = "delivery", "Delivery"
        TRANSFER = "transfer", "Transfer"
        PRODUCTION_ISSUE = "production_issue", "Production issue"
        PRODUCTION_RECEIPT = "production_receipt", "Production receipt"
        SERVICE_ISSUE = "service_issue", "Service issue"
        ADJUSTMENT = "adjustment", "Adjustment"

    posted_at = models.DateTimeField(default=timezone.now, db_index=True)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock_moves")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_moves")
    qty = models.DecimalField(**QTY, help_text="Positive in, negative out.")
    qty_after = models.DecimalField(**QTY)
    voucher_type = models.CharField(max_length=20, choices=VoucherType.choices)
    voucher_id = models.CharField(max_length=40, blank=True)
    serial_no = models.CharField(max_length=40, blank=True)
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["item", "warehouse", "posted_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(qty=0), name="stockmove_qty_not_zero"),
            models.CheckConstraint(condition=Q(qty_after__gte=0), name="stockmove_qty_after_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_type} {self.qty:+} {self.item.sku} @ {self.warehouse.code}"


class ReorderRule(models.Model):
    class RequestType(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        TRANSFER = "transfer", "Transfer"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reorder_rules")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reorder_rules")
    reorder_level = models.DecimalField(**QTY)
    reorder_qty = models.DecimalField(**QTY)
    request_type = models.CharField(
        max_length=10, choices=RequestType.choices, default=RequestType.PURCHASE
    )

    class Meta:
        ordering = ["item__sku", "warehouse__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "warehouse"], name="reorderrule_item_warehouse"
            ),
            models.CheckConstraint(condition=Q(reorder_level__gte=0), name="reorder_level_gte_0"),
            models.CheckConstraint(condition=Q(reorder_qty__gt=0), name="reorder_qty_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.item.sku} @ {self.warehouse.code} ≤ {self.reorder_level}"


class SerialNumber(models.Model):
    class Status(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        RESERVED = "reserved", "Reserved"
        DELIVERED = "delivered", "Delivered"
        INSTALLED = "installed", "Installed"
        RETURNED = "returned", "Returned"
        SCRAPPED = "scrapped", "Scrapped"

    class WarrantyStatus(models.TextChoices):
        UNDER_WARRANTY = "under_warranty", "Under warranty"
        OUT_OF_WARRANTY = "out_of_warranty", "Out of warranty"
        UNDER_AMC = "under_amc", "Under AMC"
        OUT_OF_AMC = "out_of_amc", "Out of AMC"

    serial = models.CharField(max_length=40, unique=True)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="serial_numbers")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_STOCK)
    warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.PROTECT)
    customer = models.ForeignKey(
        "sales.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="machines"
    )
    sales_order = models.ForeignKey(
        "sales.SalesOrder", null=True, blank=True, on_delete=models.SET_NULL
    )
    parent_serial = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    delivery_date = models.DateField(null=True, blank=True)
    install_date = models.DateField(null=True, blank=True)
    warranty_start = models.DateField(null=True, blank=True)
    warranty_end = models.DateField(null=True, blank=True)
    amc_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["serial"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(warranty_end__isnull=True)
                | Q(warranty_start__isnull=True)
                | Q(warranty_end__gte=F("warranty_start")),
                name="serial_warranty_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.serial

    def warranty_status(self, on: date | None = None) -> str | None:
        """Warranty status on a day (today by default); None if the machine has no warranty."""
        on = on or timezone.localdate()
        if self.warranty_end and on <= self.warranty_end:
            return self.WarrantyStatus.UNDER_WARRANTY
        if self.amc_end:
            if on <= self.amc_end:
                return self.WarrantyStatus.UNDER_AMC
            return self.WarrantyStatus.OUT_OF_AMC
        if self.warranty_end:
            return self.WarrantyStatus.OUT_OF_WARRANTY
        return None
