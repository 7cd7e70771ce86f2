from decimal import Decimal

import pytest

from apps.inventory.models import Item, StockLevel, StockMove
from apps.inventory.services import StockError, post_stock_move, reserve_stock
from apps.inventory.tests.factories import make_item, make_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return make_item(sku="TEST-NOZZLE")


@pytest.fixture
def warehouse():
    return make_warehouse(code="test-wh")


def post(item, warehouse, qty, voucher_type="adjustment"):
    return post_stock_move(item=item, warehouse=warehouse, qty=qty, voucher_type=voucher_type)


def level_of(item, warehouse) -> StockLevel:
    return StockLevel.objects.get(item=item, warehouse=warehouse)


def test_the_first_move_creates_the_stock_level(item, warehouse):
    post(item, warehouse, 5, "receipt")
    assert level_of(item, warehouse).actual_qty == 5


def test_a_receipt_adds_to_actual_qty_and_records_qty_after(item, warehouse):
    post(item, warehouse, 5, "receipt")
    move = post(item, warehouse, "2.5", "receipt")
    assert level_of(item, warehouse).actual_qty == Decimal("7.5")
    assert (move.qty, move.qty_after, move.voucher_type) == (
        Decimal("2.5"),
        Decimal("7.5"),
        "receipt",
    )


def test_a_delivery_takes_from_actual_qty(item, warehouse):
    post(item, warehouse, 10, "receipt")
    move = post(item, warehouse, -4, "delivery")
    assert level_of(item, warehouse).actual_qty == 6
    assert move.qty_after == 6


def test_it_refuses_to_take_more_than_is_available_and_says_why(item, warehouse):
    post(item, warehouse, 5, "receipt")
    with pytest.raises(
        StockError,
        match=r"Not enough stock of TEST-NOZZLE in test-wh: 5\.000 available, 6 requested",
    ):
        post(item, warehouse, -6, "delivery")


def test_a_refused_move_changes_neither_stock_nor_ledger(item, warehouse):
    post(item, warehouse, 5, "receipt")
    with pytest.raises(StockError):
        post(item, warehouse, -6, "delivery")
    assert level_of(item, warehouse).actual_qty == 5
    assert StockMove.objects.filter(item=item).count() == 1


def test_it_refuses_to_take_from_an_empty_warehouse(item, warehouse):
    with pytest.raises(StockError, match="0 available"):
        post(item, warehouse, -1, "delivery")


def test_it_refuses_a_zero_quantity(item, warehouse):
    with pytest.raises(StockError, match="non-zero"):
        post(item, warehouse, 0)


def test_it_refuses_an_item_that_is_not_stocked(warehouse):
    service = make_item(sku="TEST-SERVICE", item_type=Item.ItemType.SERVICE, is_stock_item=False)
    with pytest.raises(StockError, match="TEST-SERVICE is not a stock item"):
        post(service, warehouse, 1)


def test_reserving_lowers_available_but_not_actual_qty(item, warehouse):
    post(item, warehouse, 10, "receipt")
    level = reserve_stock(item=item, warehouse=warehouse, qty=4)
    assert (level.actual_qty, level.reserved_qty, level.available_qty) == (10, 4, 6)


def test_reserved_stock_cannot_be_delivered_to_someone_else(item, warehouse):
    post(item, warehouse, 10, "receipt")
    reserve_stock(item=item, warehouse=warehouse, qty=4)
    with pytest.raises(StockError, match="6.000 available, 7 requested"):
        post(item, warehouse, -7, "delivery")


def test_it_refuses_to_reserve_more_than_is_available(item, warehouse):
    post(item, warehouse, 3, "receipt")
    with pytest.raises(StockError, match="to reserve 4: 3.000 available"):
        reserve_stock(item=item, warehouse=warehouse, qty=4)
    assert level_of(item, warehouse).reserved_qty == 0


def test_releasing_a_reservation_makes_the_stock_available_again(item, warehouse):
    post(item, warehouse, 10, "receipt")
    reserve_stock(item=item, warehouse=warehouse, qty=4)
    level = reserve_stock(item=item, warehouse=warehouse, qty=-3)
    assert (level.reserved_qty, level.available_qty) == (1, 9)


def test_it_refuses_to_release_more_than_is_reserved(item, warehouse):
    post(item, warehouse, 10, "receipt")
    reserve_stock(item=item, warehouse=warehouse, qty=2)
    with pytest.raises(StockError, match="Cannot release 3 .* only 2.000 reserved"):
        reserve_stock(item=item, warehouse=warehouse, qty=-3)


def test_it_refuses_a_zero_reservation(item, warehouse):
    with pytest.raises(StockError, match="non-zero"):
        reserve_stock(item=item, warehouse=warehouse, qty=0)
