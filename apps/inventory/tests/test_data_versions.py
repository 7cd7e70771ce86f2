"""Every stock change raises the inventory data version, in its own transaction."""

import pytest

from apps.inventory.models import Item, Warehouse
from apps.inventory.services import StockError, post_stock_move, reserve_stock
from apps.reporting.models import AREAS, versions
from apps.reporting.tests.versions import assert_raised_only

pytestmark = pytest.mark.django_db


def stock_of(sku="NZ-S1.5", code="main"):
    return Item.objects.get(sku=sku), Warehouse.objects.get(code=code)


def test_posting_a_stock_move_bumps_only_the_inventory_version():
    item, warehouse = stock_of()
    before = versions(AREAS)
    post_stock_move(item=item, warehouse=warehouse, qty=5, voucher_type="receipt")
    assert_raised_only(before, "inventory")


def test_reserving_stock_bumps_the_inventory_version():
    item, warehouse = stock_of()
    before = versions(["inventory"])["inventory"]
    reserve_stock(item=item, warehouse=warehouse, qty=1)
    assert versions(["inventory"])["inventory"] > before


def test_a_refused_stock_move_leaves_the_inventory_version():
    item, warehouse = stock_of("NZ-D1.2")
    before = versions(["inventory"])
    with pytest.raises(StockError):
        post_stock_move(item=item, warehouse=warehouse, qty=-1, voucher_type="delivery")
    assert versions(["inventory"]) == before
