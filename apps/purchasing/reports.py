"""Purchasing reports: the reorder plan, what to buy from whom so stock gets back to its level.

For each reorder rule (active item, active warehouse):

    projected = actual + on order − reserved

with on order the open quantity (qty − received) of the item's lines for that warehouse on
purchase orders in PurchaseOrder.OPEN_STATUSES (drafts included, as the low-stock tool counts
them) and reserved = reserved_qty + reserved_for_production, as the stock tool shows it.
A rule whose projected quantity is below its reorder level needs

    proposed = max(reorder_qty, reorder_level − projected)

i.e. the usual reorder quantity, raised when that would not reach the level. Purchase rules
go to the item's default supplier, else the supplier of its latest purchase order (cancelled
ones aside); transfer rules are listed apart (they are refilled from another warehouse, not
bought). The summary's "plan_lines" are what services.create_draft_purchase_orders takes.

Set-based: the rules below their level are one query (stock row joined, last supplier as a
subquery), the open purchase orders two grouped queries, the suppliers one.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    DecimalField,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from apps.inventory.models import QTY, ReorderRule, Warehouse
from apps.reporting.progress import Progress, no_progress
from apps.reporting.report import Column, Label, Report, ReportError, Sheet

from .models import PurchaseOrder, PurchaseOrderLine, Supplier

ZERO = Decimal("0")
CENT = Decimal("0.01")
MILLI = Decimal("0.001")
QTY_FIELD = DecimalField(**QTY)
NO_SUPPLIER = Label("（无供应商）", "(no supplier)")

PLAN_COLUMNS = [
    Column("supplier", "供应商编码", "Supplier"),
    Column("supplier_name", "供应商", "Supplier name"),
    Column("sku", "物料编码", "SKU"),
    Column("name", "名称", "Name"),
    Column("warehouse", "仓库", "Warehouse"),
    Column("uom", "单位", "Unit"),
    Column("actual", "实际库存", "Actual", "qty"),
    Column("reserved", "预留", "Reserved", "qty"),
    Column("on_order", "采购在途", "On order", "qty"),
    Column("projected", "预计库存", "Projected", "qty"),
    Column("reorder_level", "补货点", "Reorder level", "qty"),
    Column("reorder_qty", "补货量", "Reorder qty", "qty"),
    Column("proposed", "建议采购", "Proposed qty", "qty"),
    Column("rate", "单价", "Rate", "money"),
    Column("amount", "金额", "Amount", "money"),
    Column("open_orders", "在途采购单", "Open purchase orders"),
]
SUPPLIER_COLUMNS = [
    Column("supplier", "供应商编码", "Supplier"),
    Column("supplier_name", "供应商", "Supplier name"),
    Column("lines", "行数", "Lines", "qty"),
    Column("amount", "金额", "Amount", "money"),
]
TRANSFER_COLUMNS = [
    Column("warehouse", "仓库", "Warehouse"),
    Column("sku", "物料编码", "SKU"),
    Column("name", "名称", "Name"),
    Column("uom", "单位", "Unit"),
    Column("projected", "预计库存", "Projected", "qty"),
    Column("reorder_level", "补货点", "Reorder level", "qty"),
    Column("proposed", "建议调拨", "Proposed qty", "qty"),
]


def reorder_plan(
    warehouse_codes: list[str] | None = None, progress: Progress = no_progress
) -> Report:
    """What to order, per supplier, for the rules of these warehouses (all when None)."""
    progress(0, "finding rules below their level")
    codes = _checked_codes(warehouse_codes)
    candidates = _rules_short_before_orders(codes)
    progress(30, "rules below their level")
    on_order = _open_orders()
    progress(60, "open purchase orders")
    needs = []
    for row in candidates:
        incoming = on_order.get((row["item_id"], row["warehouse_id"]), {})
        projected = row["actual"] + incoming.get("qty", ZERO) - row["reserved"]
        if projected < row["reorder_level"]:
            proposed = max(row["reorder_qty"], row["reorder_level"] - projected)
            needs.append(
                {**row, **_incoming(incoming), "projected": projected, "proposed": proposed}
            )
    suppliers = Supplier.objects.in_bulk({row["supplier_id"] for row in needs} - {None})
    progress(80, "suppliers")
    purchases = [row for row in needs if row["request_type"] == ReorderRule.RequestType.PURCHASE]
    transfers = [row for row in needs if row["request_type"] != ReorderRule.RequestType.PURCHASE]
    report = _report(codes, purchases, transfers, suppliers)
    progress(100, "done")
    return report


def _checked_codes(warehouse_codes: Iterable[str] | None) -> list[str] | None:
    if warehouse_codes is None:
        return None
    codes = list(dict.fromkeys(warehouse_codes))
    known = set(Warehouse.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ReportError(f"No warehouse with code {', '.join(unknown)}.")
    return codes


def _rules_short_before_orders(codes: list[str] | None) -> list[dict[str, Any]]:
    """Rules whose actual − reserved is below the level: open orders can only add to that, so
    the rules short after them are among these."""
    last_supplier = (
        PurchaseOrderLine.objects.filter(item_id=OuterRef("item_id"))
        .exclude(order__status=PurchaseOrder.Status.CANCELLED)
        .order_by("-order__order_date", "-order_id")
        .values("order__supplier_id")[:1]
    )
    rules = (
        ReorderRule.objects.filter(warehouse__active=True, item__active=True)
        # The rule's own stock row, joined (as the low-stock tool does).
        .annotate(
            level=FilteredRelation(
                "item__stock_levels",
                condition=Q(item__stock_levels__warehouse=F("warehouse")),
            )
        )
        .annotate(
            actual=Coalesce(F("level__actual_qty"), Value(ZERO), output_field=QTY_FIELD),
            reserved=Coalesce(
                F("level__reserved_qty") + F("level__reserved_for_production"),
                Value(ZERO),
                output_field=QTY_FIELD,
            ),
        )
        .filter(reorder_level__gt=F("actual") - F("reserved"))
    )
    if codes is not None:
        rules = rules.filter(warehouse__code__in=codes)
    rows = rules.annotate(
        supplier_id=Coalesce(
            F("item__default_supplier_id"), Subquery(last_supplier), output_field=BigIntegerField()
        )
    ).values(
        "item_id",
        "warehouse_id",
        "request_type",
        "reorder_level",
        "reorder_qty",
        "actual",
        "reserved",
        "supplier_id",
        sku=F("item__sku"),
        name=F("item__name"),
        name_zh=F("item__name_zh"),
        uom=F("item__stock_uom"),
        cost=F("item__standard_cost"),
        warehouse_code=F("warehouse__code"),
    )
    return [
        {
            **row,
            **{
                key: _qty(row[key])
                for key in ("reorder_level", "reorder_qty", "actual", "reserved")
            },
        }
        for row in rows.order_by("item__sku", "warehouse__code")
    ]


def _open_orders() -> dict[tuple[int, int], dict[str, Any]]:
    """Open quantity, earliest expected date and order numbers per (item, warehouse).

    Over all open purchase order lines: they are few next to the stock rows, and naming the
    short items instead would send thousands of ids with the query.
    """
    lines = PurchaseOrderLine.objects.filter(order__status__in=PurchaseOrder.OPEN_STATUSES)
    totals = (
        lines.order_by()
        .values("item_id", "warehouse_id")
        .annotate(
            qty=Sum(F("qty") - F("received_qty"), output_field=QTY_FIELD),
            eta=Min("order__expected_date"),
        )
    )
    found = {
        (row["item_id"], row["warehouse_id"]): {"qty": _qty(row["qty"]), "eta": row["eta"]}
        for row in totals
    }
    numbers = lines.order_by().values_list("item_id", "warehouse_id", "order__number").distinct()
    for item_id, warehouse_id, number in sorted(numbers):
        found[(item_id, warehouse_id)].setdefault("numbers", []).append(number)
    return found


def _incoming(incoming: dict[str, Any]) -> dict[str, Any]:
    return {
        "on_order": _qty(incoming.get("qty")),
        "eta": incoming.get("eta"),
        "open_orders": incoming.get("numbers", []),
    }


def _qty(value: Decimal | None) -> Decimal:
    """A quantity to 3 places (SQLite adds decimals as floats; this evens it out)."""
    return (value or ZERO).quantize(MILLI)


def _report(codes, purchases, transfers, suppliers) -> Report:
    def supplier_key(row):
        supplier = suppliers.get(row["supplier_id"])
        return (
            supplier is None,
            supplier.code if supplier else "",
            row["sku"],
            row["warehouse_code"],
        )

    plan_rows, plan_lines, by_supplier = [], [], {}
    for row in sorted(purchases, key=supplier_key):
        supplier = suppliers.get(row["supplier_id"])
        amount = (row["proposed"] * row["cost"]).quantize(CENT)
        plan_rows.append(
            [
                supplier.code if supplier else "",
                Label(supplier.name_zh, supplier.name) if supplier else NO_SUPPLIER,
                row["sku"],
                Label(row["name_zh"], row["name"]),
                row["warehouse_code"],
                row["uom"],
                row["actual"],
                row["reserved"],
                row["on_order"],
                row["projected"],
                row["reorder_level"],
                row["reorder_qty"],
                row["proposed"],
                row["cost"],
                amount,
                ", ".join(row["open_orders"]),
            ]
        )
        entry = by_supplier.setdefault(supplier.code if supplier else None, [supplier, 0, ZERO])
        entry[1] += 1
        entry[2] += amount
        if supplier:
            plan_lines.append(
                {
                    "supplier": supplier.code,
                    "item": row["sku"],
                    "warehouse": row["warehouse_code"],
                    "qty": str(row["proposed"]),
                    "rate": str(row["cost"]),
                }
            )
    total = sum((amount for _supplier, _lines, amount in by_supplier.values()), ZERO).quantize(CENT)
    supplier_rows = [
        [
            supplier.code if supplier else "",
            Label(supplier.name_zh, supplier.name) if supplier else NO_SUPPLIER,
            lines,
            amount,
        ]
        for supplier, lines, amount in by_supplier.values()
    ]
    transfer_rows = [
        [
            row["warehouse_code"],
            row["sku"],
            Label(row["name_zh"], row["name"]),
            row["uom"],
            row["projected"],
            row["reorder_level"],
            row["proposed"],
        ]
        for row in sorted(transfers, key=lambda row: (row["warehouse_code"], row["sku"]))
    ]
    unassigned = by_supplier.get(None, [None, 0, ZERO])
    return Report(
        title="Reorder plan",
        title_zh="补货计划",
        filename=f"reorder-plan-{'-'.join(codes) if codes else 'all'}.xlsx",
        sheets=[
            Sheet(
                name="Plan",
                name_zh="补货计划",
                columns=PLAN_COLUMNS,
                rows=plan_rows,
                totals=[None] * 14 + [total, None],
            ),
            Sheet(
                name="By supplier",
                name_zh="按供应商",
                columns=SUPPLIER_COLUMNS,
                rows=supplier_rows,
                totals=[None, None, len(plan_rows), total],
            ),
            Sheet(
                name="Transfers",
                name_zh="调拨",
                columns=TRANSFER_COLUMNS,
                rows=transfer_rows,
            ),
        ],
        summary={
            "report": "reorder_plan",
            "warehouses": codes,
            "lines": len(plan_rows),
            "suppliers": len([code for code in by_supplier if code]),
            "total": str(total),
            "unassigned_lines": unassigned[1],
            "transfers": len(transfer_rows),
            "by_supplier": [
                {"supplier": code, "lines": lines, "amount": str(amount)}
                for code, (_supplier, lines, amount) in by_supplier.items()
                if code
            ],
            "plan_lines": plan_lines,
        },
    )
