"""Purchasing writes: draft purchase orders from a confirmed reorder plan, exactly once.

A plan line is a dict as reports.reorder_plan puts them in its summary ("plan_lines"):
{"supplier": "S003", "item": "NZ-D1.2", "warehouse": "main", "qty": "200", "rate": "5.00"}
(rate optional: the item's standard cost). Lines may come back through JSON, so quantities
and rates may be strings or numbers.

Exactly once per idempotency key: the first call records the key (a unique row) in the same
transaction as the orders; a repeat, or a concurrent call with the same key, finds that row
and returns the same orders. On PostgreSQL the concurrent call waits on the unique key until
the first one commits (or rolls back, and then it creates the orders itself).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from apps.inventory.models import Item, Warehouse
from apps.reporting.models import PURCHASING, bump
from better_laser_erp.numbering import create_numbered

from .models import DraftOrderRequest, PurchaseOrder, PurchaseOrderLine, Supplier

CENT = Decimal("0.01")
MILLI = Decimal("0.001")


class PurchaseError(ValueError):
    """The orders cannot be made as asked; the message says why and is safe to show."""


@dataclass(frozen=True)
class PlanLine:
    supplier: str
    item: str
    warehouse: str
    qty: Decimal
    rate: Decimal | None


def create_draft_purchase_orders(
    plan_lines: Iterable[Mapping[str, Any]], user: Any, idempotency_key: str
) -> list[PurchaseOrder]:
    """One draft PO per supplier with its lines, numbered PO-YYYY-NNNN, in one transaction.

    Called again with the same key, it creates nothing and returns the orders of the first
    call; a key already used for other lines is refused.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > DraftOrderRequest._meta.get_field("idempotency_key").max_length:
        raise PurchaseError("An idempotency key of 1 to 100 characters is needed.")
    lines = [_plan_line(line) for line in plan_lines]
    if not lines:
        raise PurchaseError("The plan has no lines: there is nothing to order.")
    digest = _digest(lines)
    with transaction.atomic():
        request = DraftOrderRequest.objects.filter(idempotency_key=key).first()
        if request is not None:
            return _orders_of(request, digest)
        try:
            with transaction.atomic():
                request = DraftOrderRequest.objects.create(
                    idempotency_key=key, lines_digest=digest, created_by=user
                )
        except IntegrityError:
            # A concurrent call with this key committed first: its orders are the answer.
            return _orders_of(DraftOrderRequest.objects.get(idempotency_key=key), digest)
        bump(PURCHASING)
        return _create_orders(request, lines)


def _orders_of(request: DraftOrderRequest, digest: str) -> list[PurchaseOrder]:
    if request.lines_digest != digest:
        raise PurchaseError(
            f"The key {request.idempotency_key!r} was already used for another plan."
        )
    return list(request.orders.order_by("number"))


def _create_orders(request: DraftOrderRequest, lines: list[PlanLine]) -> list[PurchaseOrder]:
    suppliers = Supplier.objects.in_bulk({line.supplier for line in lines}, field_name="code")
    items = Item.objects.in_bulk({line.item for line in lines}, field_name="sku")
    warehouses = Warehouse.objects.in_bulk({line.warehouse for line in lines}, field_name="code")
    _check_known(lines, suppliers, items, warehouses)
    orders = []
    for code in sorted({line.supplier for line in lines}):
        supplier = suppliers[code]
        order = create_numbered(
            PurchaseOrder,
            "PO",
            supplier=supplier,
            status=PurchaseOrder.Status.DRAFT,
            currency=supplier.currency,
            request=request,
        )
        order_lines = [
            PurchaseOrderLine(
                order=order,
                item=items[line.item],
                warehouse=warehouses[line.warehouse],
                qty=line.qty,
                rate=items[line.item].standard_cost if line.rate is None else line.rate,
            )
            for line in lines
            if line.supplier == code
        ]
        PurchaseOrderLine.objects.bulk_create(order_lines)
        order.grand_total = sum(
            ((line.qty * line.rate).quantize(CENT) for line in order_lines), Decimal("0")
        )
        order.save(update_fields=["grand_total"])
        orders.append(order)
    return orders


def _check_known(lines, suppliers, items, warehouses) -> None:
    problems = []
    for line in lines:
        supplier = suppliers.get(line.supplier)
        if supplier is None or not supplier.active:
            problems.append(f"no active supplier {line.supplier}")
        if line.item not in items or not items[line.item].is_stock_item:
            problems.append(f"no stock item {line.item}")
        if line.warehouse not in warehouses:
            problems.append(f"no warehouse {line.warehouse}")
    if problems:
        raise PurchaseError("The plan cannot be ordered: " + "; ".join(sorted(set(problems))) + ".")


def _plan_line(line: Mapping[str, Any]) -> PlanLine:
    try:
        supplier, item, warehouse = (
            str(line[name]).strip() for name in ("supplier", "item", "warehouse")
        )
        qty = Decimal(str(line["qty"])).quantize(MILLI)
        rate = None if line.get("rate") in (None, "") else Decimal(str(line["rate"])).quantize(CENT)
    except (KeyError, TypeError, InvalidOperation) as error:
        raise PurchaseError(
            f"A plan line needs supplier, item, warehouse and qty: {line!r}."
        ) from error
    if qty <= 0 or (rate is not None and rate < 0):
        raise PurchaseError(f"A plan line needs a quantity above 0 and no negative rate: {line!r}.")
    if not (supplier and item and warehouse):
        raise PurchaseError(f"A plan line needs a supplier, an item and a warehouse: {line!r}.")
    return PlanLine(supplier, item, warehouse, qty, rate)


def _digest(lines: list[PlanLine]) -> str:
    """The same for the same lines however they were written ("200", 200, "200.000")."""
    normal = sorted(
        [line.supplier, line.item, line.warehouse, str(line.qty), str(line.rate)] for line in lines
    )
    return hashlib.sha256(json.dumps(normal).encode()).hexdigest()
