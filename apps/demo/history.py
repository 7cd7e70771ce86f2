"""Six months of trading behind the demo company, so its reports have something to add up.

Made once, by the seed_demo run that first finds none: about 500 completed sales orders up to
that day (machines, spare parts and many more consumable orders) from the history customers
(data.HISTORY_CUSTOMERS), their deliveries, and the stock that fed them: an opening balance
six months back and two replenishment rounds (purchase orders received from the items'
default suppliers, machines built in-house). Dates count back from the day of that run, so
"this month" always has orders; a later run adds nothing.

Nothing that answers staff get about the demo's own records changes:
- orders are of the history customers only, all completed, so open-order counts, a demo
  customer's orders and the follow-ups on them stay as they were;
- every history move of an item in a warehouse adds up to zero, so today's stock (the
  quantities docs/design.md §7 relies on) and the ledger totals stay as they were;
- the history purchase orders are completed: open purchase orders stay as they were.
No serial numbers are made for the machines sold.

Deterministic for the day it is made (one fixed random stream), written with bulk_create.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models.functions import Length
from django.utils import timezone

from apps.inventory.models import Item, StockMove, Warehouse
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from apps.sales.models import Customer, SalesOrder, SalesOrderLine

from . import data
from .data import SHANGHAI

HISTORY_NOTE = "Demo history"
HISTORY_VOUCHER = "DEMO-HISTORY"
DAYS = 182
ROUNDS = (61, 122)  # days after the start when stock is replenished
SEED = "better-laser-demo-history"
CENT = Decimal("0.01")
# Machines take weeks to build and deliver: none is sold in the last three weeks (the
# history has only completed orders).
MACHINE_LEAD_DAYS = 21
SOUTH = {"Guangdong", "Fujian", "Guangxi", "Yunnan", "Guizhou", "Hainan"}

# sku → weight among machine orders
MACHINES = {
    "LC-3015-6KW": 30, "LW-1500-HH": 25, "LM-F30": 20, "LC-4020-12KW": 8, "LW-2000-HH": 10,
    "LM-UV5": 7,
}  # fmt: skip
CHILLER_FOR = {"LC-3015-6KW": "CHL-3000", "LC-4020-12KW": "CHL-6000"}
# sku → (weight, quantities to pick from)
SPARE_PARTS = {
    "LS-RC-1500": (6, (1, 1, 2)), "LS-RC-3000": (8, (1, 1, 2)), "LS-MX-6000": (4, (1,)),
    "LS-RC-12000": (1, (1,)), "CH-BT240S": (8, (1, 2)), "CH-BLT641": (4, (1,)),
    "FL-D30-F125": (12, (2, 4, 5, 10)), "FL-D37-F150": (6, (2, 4, 5)),
    "FL-D37-F200": (5, (2, 4)), "CL-D30-F100": (5, (1, 2, 4)), "SN-CAP": (7, (1, 2, 4)),
    "CHL-3000": (3, (1,)),
}  # fmt: skip
CONSUMABLES = {
    "PW-D37-T7": (30, (10, 20, 30, 50, 100)), "NZ-S1.5": (20, (20, 50, 100, 200)),
    "NZ-S1.0": (8, (20, 50, 100)), "NZ-S2.0": (8, (20, 50, 100)),
    "NZ-D1.2": (10, (20, 50, 100)), "NZ-D1.5": (8, (20, 50, 100)),
    "NZ-D2.0": (6, (20, 50)), "CR-32": (14, (5, 10, 20, 30)), "CR-28": (5, (5, 10, 20)),
}  # fmt: skip
MACHINE_DISCOUNTS = (0, 0, 2, 3, 5)
PART_DISCOUNTS = (0, 0, 0, 0, 2, 3)


@dataclass
class Sale:
    customer: Customer
    order_date: date
    kind: str
    lines: list[tuple[str, int, int]]  # sku, qty, discount %
    delivered_at: datetime
    number: str = ""  # given when the orders are numbered


@dataclass
class History:
    start: datetime
    now: datetime
    sales: list[Sale] = field(default_factory=list)


def has_history() -> bool:
    return SalesOrder.objects.filter(note=HISTORY_NOTE).exists()


def seed_history(items: dict[str, Item], warehouses: dict[str, Warehouse]) -> dict[str, int]:
    """Create the history unless it exists; rows created per kind."""
    if has_history():
        return {}
    now = timezone.now()
    today = timezone.localdate(now)
    start_day = today - timedelta(days=DAYS)
    history = History(start=datetime.combine(start_day, time(8), SHANGHAI), now=now)
    customers = list(Customer.objects.filter(code__in=data.HISTORY_CUSTOMERS).order_by("code"))
    rng = random.Random(SEED)
    for offset in range(DAYS + 1):
        day = start_day + timedelta(days=offset)
        # The day it is made has orders whatever day that is: "this month" is never empty.
        count = max(2, orders_on(rng, day)) if day == today else orders_on(rng, day)
        for _ in range(count):
            history.sales.append(sale(rng, day, today, customers, now))
    stocked = {(sku, code) for sku, code, _actual, _reserved in data.STOCK}
    orders, lines = sales_orders(history, items)
    moves = deliveries(history, items, warehouses, stocked)
    purchase_orders, purchase_lines, feeds = replenishment(history, items, warehouses, moves)
    all_moves = with_running_balance(moves + feeds)
    return {
        "sales orders": len(orders),
        "sales order lines": len(lines),
        "purchase orders": len(purchase_orders),
        "purchase order lines": len(purchase_lines),
        "stock moves": len(all_moves),
    }


# --- what was sold ------------------------------------------------------------------------


def orders_on(rng: random.Random, day: date) -> int:
    """Orders booked on a day: about four a working day, a few on Saturdays, none on Sundays."""
    weekday = day.weekday()
    if weekday == 6:
        return 0
    if weekday == 5:
        return rng.choice((0, 0, 1, 2))
    return rng.choice((2, 3, 3, 4, 4, 5, 5, 6))


def sale(rng: random.Random, day: date, today: date, customers: list, now: datetime) -> Sale:
    # A few customers buy much more than the rest (weights 1, 1/2, 1/3, …).
    customer = rng.choices(customers, weights=[1 / (rank + 1) for rank in range(len(customers))])[0]
    roll = rng.random()
    if roll < 0.12 and (today - day).days >= MACHINE_LEAD_DAYS:
        kind, lines, lead_days = "machine", machine_lines(rng), rng.randint(10, 20)
    elif roll < 0.30:
        kind, lines, lead_days = "spare", picked(rng, SPARE_PARTS, 1, 2, PART_DISCOUNTS), 1
    else:
        kind, lines, lead_days = "consumable", picked(rng, CONSUMABLES, 1, 4, PART_DISCOUNTS), 0
    at = datetime.combine(day + timedelta(days=lead_days), time(rng.randint(9, 16)), SHANGHAI)
    at += timedelta(minutes=rng.randrange(60))
    # Nothing is delivered after the moment the history is made.
    delivered_at = min(at, now - timedelta(minutes=1))
    return Sale(customer, day, kind, lines, delivered_at)


def machine_lines(rng: random.Random) -> list[tuple[str, int, int]]:
    sku = rng.choices(list(MACHINES), weights=list(MACHINES.values()))[0]
    qty = 1 if sku.startswith("LC-") else rng.choice((1, 1, 1, 2))
    lines = [(sku, qty, rng.choice(MACHINE_DISCOUNTS))]
    if sku in CHILLER_FOR and rng.random() < 0.4:
        lines.append((CHILLER_FOR[sku], qty, 0))
    if rng.random() < (0.8 if sku.startswith("LC-") else 0.4):
        lines.append(("SV-INSTALL", qty, 0))
    if rng.random() < 0.5:
        lines.append(("PW-D37-T7", 10 * qty, 0))
        lines.append(("NZ-S1.5", 20 * qty, 0))
    return lines


def picked(rng: random.Random, choices: dict, fewest: int, most: int, discounts: tuple) -> list:
    count = rng.randint(fewest, most)
    skus = rng.choices(list(choices), weights=[weight for weight, _ in choices.values()], k=count)
    return [
        (sku, rng.choice(choices[sku][1]), rng.choice(discounts)) for sku in dict.fromkeys(skus)
    ]


def sales_orders(history: History, items: dict[str, Item]) -> tuple[list, list]:
    numbers = Numbers(SalesOrder, "SO")
    orders, lines = [], []
    for sale_ in sorted(history.sales, key=lambda s: (s.order_date, s.delivered_at)):
        lead = 30 if sale_.kind == "machine" else 3
        order = SalesOrder(
            number=numbers.next(sale_.order_date.year),
            doc_type=SalesOrder.DocType.ORDER,
            customer=sale_.customer,
            salesperson_id=sale_.customer.owner_salesperson_id,
            order_date=sale_.order_date,
            promised_date=sale_.order_date + timedelta(days=lead),
            status=SalesOrder.Status.COMPLETED,
            per_delivered=Decimal(100),
            per_billed=Decimal(100),
            note=HISTORY_NOTE,
        )
        order_lines = []
        for sku, qty, discount in sale_.lines:
            item = items[sku]
            amount = (qty * item.list_price * (100 - discount) / 100).quantize(CENT)
            order_lines.append(
                SalesOrderLine(
                    order=order,
                    item=item,
                    qty=Decimal(qty),
                    uom=item.stock_uom,
                    rate=item.list_price,
                    discount_pct=Decimal(discount),
                    amount=amount,
                    delivered_qty=Decimal(qty),
                    billed_qty=Decimal(qty),
                )
            )
        order.grand_total = sum((line.amount for line in order_lines), Decimal("0"))
        sale_.number = order.number
        orders.append(order)
        lines.extend(order_lines)
    SalesOrder.objects.bulk_create(orders)
    SalesOrderLine.objects.bulk_create(lines)
    return orders, lines


class Numbers:
    """The next free numbers of the demo's series, <code>-<year>-<4 digits>, per year."""

    def __init__(self, model, code: str) -> None:
        self.model, self.code, self.last = model, code, {}

    def next(self, year: int) -> str:
        prefix = f"{self.code}-{year}-"
        if year not in self.last:
            # The 4-digit series only: seed_scale's long numbers are a series of their own.
            latest = (
                self.model.objects.filter(number__startswith=prefix)
                .annotate(length=Length("number"))
                .filter(length=len(prefix) + 4)
                .order_by("-number")
                .values_list("number", flat=True)
                .first()
            )
            self.last[year] = int(latest.rsplit("-", 1)[1]) if latest else 0
        self.last[year] += 1
        return f"{prefix}{self.last[year]:04d}"


# --- how stock moved ----------------------------------------------------------------------


def delivery_warehouse(sku: str, customer: Customer, stocked: set) -> str:
    if customer.territory in SOUTH and (sku, "sz") in stocked:
        return "sz"
    return "main" if (sku, "main") in stocked else "spare"


def deliveries(history: History, items, warehouses, stocked) -> list[StockMove]:
    moves = []
    for sale_ in history.sales:
        for sku, qty, _discount in sale_.lines:
            item = items[sku]
            if not item.is_stock_item:
                continue
            code = delivery_warehouse(sku, sale_.customer, stocked)
            moves.append(
                StockMove(
                    posted_at=sale_.delivered_at,
                    item=item,
                    warehouse=warehouses[code],
                    qty=Decimal(-qty),
                    qty_after=Decimal(0),  # set once all moves are known
                    voucher_type=StockMove.VoucherType.DELIVERY,
                    voucher_id=sale_.number,
                    unit_cost=item.standard_cost,
                    note=HISTORY_NOTE,
                )
            )
    return moves


def replenishment(history: History, items, warehouses, moves) -> tuple[list, list, list]:
    """The stock the deliveries came from: an opening balance covering what left before the
    first round, then at each round what leaves until the next, so stock never goes below
    zero and every item ends where it started (zero: today's stock is the demo's own)."""
    rounds = [history.start + timedelta(days=days, hours=2) for days in ROUNDS]
    needed: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for move in moves:
        period = sum(move.posted_at >= moment for moment in rounds)
        needed[(move.item.sku, move.warehouse.code)][period] -= move.qty
    feeds, purchases = [], defaultdict(list)
    for (sku, code), (before, first, second) in sorted(needed.items()):
        item, warehouse = items[sku], warehouses[code]
        if before:
            feeds.append(
                feed(item, warehouse, before, history.start, "adjustment", HISTORY_VOUCHER)
            )
        for moment, qty in zip(rounds, (first, second), strict=True):
            if not qty:
                continue
            if item.item_type == Item.ItemType.MACHINE:
                feeds.append(feed(item, warehouse, qty, moment, "production_receipt", ""))
            else:
                purchases[(moment, data.DEFAULT_SUPPLIERS[sku])].append((item, warehouse, qty))
    suppliers = Supplier.objects.in_bulk(list(data.SUPPLIERS), field_name="code")
    numbers = Numbers(PurchaseOrder, "PO")
    orders, lines = [], []
    for (moment, code), wanted in sorted(purchases.items(), key=lambda pair: pair[0]):
        received = timezone.localdate(moment)
        order = PurchaseOrder(
            number=numbers.next((received - timedelta(days=12)).year),
            supplier=suppliers[code],
            status=PurchaseOrder.Status.COMPLETED,
            order_date=received - timedelta(days=12),
            expected_date=received,
            grand_total=sum(
                ((qty * item.standard_cost).quantize(CENT) for item, _wh, qty in wanted), Decimal(0)
            ),
        )
        orders.append(order)
        for item, warehouse, qty in wanted:
            lines.append(
                PurchaseOrderLine(
                    order=order,
                    item=item,
                    warehouse=warehouse,
                    qty=qty,
                    received_qty=qty,
                    rate=item.standard_cost,
                )
            )
            feeds.append(feed(item, warehouse, qty, moment, "receipt", order.number))
    PurchaseOrder.objects.bulk_create(orders)
    PurchaseOrderLine.objects.bulk_create(lines)
    return orders, lines, feeds


def feed(item, warehouse, qty: Decimal, at: datetime, voucher_type: str, voucher: str):
    return StockMove(
        posted_at=at,
        item=item,
        warehouse=warehouse,
        qty=qty,
        qty_after=Decimal(0),
        voucher_type=voucher_type,
        voucher_id=voucher,
        unit_cost=item.standard_cost,
        note=HISTORY_NOTE,
    )


def with_running_balance(moves: list[StockMove]) -> list[StockMove]:
    """Each move's qty_after, in time order per item and warehouse; then written."""
    # Stock in before stock out at the same moment.
    ordered = sorted(moves, key=lambda move: (move.posted_at, move.qty < 0))
    balance: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for move in ordered:
        key = (move.item.pk, move.warehouse.pk)
        balance[key] += move.qty
        move.qty_after = balance[key]
    if any(move.qty_after < 0 for move in ordered) or any(balance.values()):
        raise RuntimeError("The demo history's stock must stay at or above zero and end at zero.")
    StockMove.objects.bulk_create(ordered, batch_size=2000)
    return ordered
