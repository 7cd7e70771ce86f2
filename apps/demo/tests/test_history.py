"""The demo's six months of history: enough trade for the reports, and no answer about the
demo's own records changed by it."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from apps.demo import data
from apps.demo.history import HISTORY_NOTE, seed_history
from apps.inventory.models import StockLevel, StockMove
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine
from apps.sales.models import SalesOrder, SalesOrderLine
from apps.sales.reports import period_for, sales_report

pytestmark = pytest.mark.django_db


def history_orders():
    return SalesOrder.objects.filter(note=HISTORY_NOTE)


def history_moves():
    return StockMove.objects.filter(note=HISTORY_NOTE)


def test_the_history_has_hundreds_of_orders_over_six_months_up_to_today():
    orders = history_orders()
    today = timezone.localdate()
    assert orders.count() >= 400
    assert orders.order_by("order_date").first().order_date <= today - timedelta(days=180)
    assert orders.order_by("-order_date").first().order_date == today


def test_this_month_and_the_last_seven_days_have_booked_orders():
    today = timezone.localdate()
    assert sales_report(*period_for("this_month", today)).summary["orders"] > 0
    assert sales_report(*period_for("last_7_days", today)).summary["orders"] > 0


def test_the_last_six_months_sell_to_many_customers_and_many_products():
    today = timezone.localdate()
    report = sales_report(today - timedelta(days=182), today)
    assert report.summary["customers"] >= 30
    assert report.summary["products"] >= 25


def test_history_orders_are_completed_orders_of_the_history_customers_only():
    orders = history_orders()
    assert set(orders.values_list("status", flat=True)) == {"completed"}
    assert set(orders.values_list("doc_type", flat=True)) == {"order"}
    codes = set(orders.values_list("customer__code", flat=True))
    assert codes <= set(data.HISTORY_CUSTOMERS)
    assert not codes & set(data.CUSTOMERS)


def test_history_orders_continue_the_demo_number_series():
    numbers = list(history_orders().order_by("number").values_list("number", flat=True))
    year = numbers[0][3:7]
    assert numbers[0] in {f"SO-{year}-0001", f"SO-{year}-0015"}
    assert all(len(number) == len("SO-2026-0001") for number in numbers)


def test_each_history_order_is_its_lines_added_up():
    lines = dict(
        SalesOrderLine.objects.filter(order__note=HISTORY_NOTE)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    for order in history_orders():
        assert order.grand_total == lines[order.pk], order.number


def test_every_stock_line_sold_left_its_warehouse_once():
    delivered = defaultdict(Decimal)
    for move in history_moves().filter(voucher_type="delivery"):
        delivered[(move.voucher_id, move.item_id)] -= move.qty
    sold = {
        (line.order.number, line.item_id): line.qty
        for line in SalesOrderLine.objects.filter(
            order__note=HISTORY_NOTE, item__is_stock_item=True
        ).select_related("order")
    }
    assert dict(delivered) == sold


def test_the_history_leaves_todays_stock_as_the_demo_has_it():
    moved = history_moves().values("item__sku", "warehouse__code").annotate(total=Sum("qty"))
    assert all(row["total"] == 0 for row in moved)
    stock = {(row[0], row[1]): row[2] for row in data.STOCK}
    for level in StockLevel.objects.select_related("item", "warehouse"):
        key = (level.item.sku, level.warehouse.code)
        if key in stock:
            assert level.actual_qty == stock[key], key


def test_history_stock_never_goes_below_zero_and_each_balance_follows_the_moves():
    running = defaultdict(Decimal)
    for move in history_moves().order_by("posted_at", "id"):
        running[(move.item_id, move.warehouse_id)] += move.qty
        assert move.qty_after == running[(move.item_id, move.warehouse_id)] >= 0


def test_history_stock_moves_are_all_in_the_past():
    assert not history_moves().filter(posted_at__gt=timezone.now()).exists()


def test_purchases_were_received_in_full_from_the_items_default_suppliers():
    lines = PurchaseOrderLine.objects.filter(
        order__number__in=history_moves().filter(voucher_type="receipt").values("voucher_id")
    ).select_related("order__supplier", "item")
    assert lines.count() >= 20
    for line in lines:
        assert line.order.status == "completed" and line.received_qty == line.qty
        assert line.order.supplier.code == data.DEFAULT_SUPPLIERS[line.item.sku]


def test_the_open_purchase_orders_are_still_only_the_demos_own():
    open_orders = set(
        PurchaseOrder.objects.filter(status__in=PurchaseOrder.OPEN_STATUSES).values_list(
            "number", flat=True
        )
    )
    demo_open = {
        number
        for number, row in data.PURCHASE_ORDERS.items()
        if row[1] in PurchaseOrder.OPEN_STATUSES
    }
    assert open_orders == demo_open


def test_the_history_is_made_once():
    from apps.inventory.models import Item, Warehouse

    items = {item.sku: item for item in Item.objects.all()}
    warehouses = {warehouse.code: warehouse for warehouse in Warehouse.objects.all()}
    count = history_orders().count()
    assert seed_history(items, warehouses) == {}
    assert history_orders().count() == count
