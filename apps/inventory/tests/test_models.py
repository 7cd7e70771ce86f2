from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.inventory.models import ReorderRule, SerialNumber, StockLevel, StockMove
from apps.inventory.tests.factories import make_item, make_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return make_item()


@pytest.fixture
def warehouse():
    return make_warehouse()


def test_sku_is_unique(item):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_item(sku=item.sku)


def test_warehouse_code_is_unique(warehouse):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_warehouse(code=warehouse.code)


def test_serial_number_is_unique(item):
    SerialNumber.objects.create(serial="TEST-SN-1", item=item)
    with pytest.raises(IntegrityError), transaction.atomic():
        SerialNumber.objects.create(serial="TEST-SN-1", item=item)


def test_there_is_one_stock_level_per_item_and_warehouse(item, warehouse):
    StockLevel.objects.create(item=item, warehouse=warehouse)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(item=item, warehouse=warehouse)


def test_reserved_qty_cannot_be_negative(item, warehouse):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(
            item=item, warehouse=warehouse, actual_qty=5, reserved_qty=Decimal("-1")
        )


def test_the_database_refuses_reserving_more_than_is_on_hand(item, warehouse):
    level = StockLevel.objects.create(item=item, warehouse=warehouse, actual_qty=5)
    level.reserved_qty = Decimal("6")
    with pytest.raises(IntegrityError), transaction.atomic():
        level.save()


def test_the_database_refuses_actual_qty_below_what_is_reserved(item, warehouse):
    level = StockLevel.objects.create(item=item, warehouse=warehouse, actual_qty=5, reserved_qty=3)
    level.actual_qty = Decimal("2")
    with pytest.raises(IntegrityError), transaction.atomic():
        level.save()


def test_a_stock_move_cannot_have_zero_qty(item, warehouse):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(
            item=item, warehouse=warehouse, qty=0, qty_after=0, voucher_type="adjustment"
        )


def test_a_stock_move_cannot_leave_negative_stock(item, warehouse):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(
            item=item, warehouse=warehouse, qty=-1, qty_after=-1, voucher_type="delivery"
        )


def test_there_is_one_reorder_rule_per_item_and_warehouse(item, warehouse):
    ReorderRule.objects.create(item=item, warehouse=warehouse, reorder_level=5, reorder_qty=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReorderRule.objects.create(item=item, warehouse=warehouse, reorder_level=1, reorder_qty=2)


def test_saving_an_item_fills_search_text_with_sku_names_and_aliases():
    item = make_item(sku="PW-X", name="Window X", name_zh="保护镜X", aliases=["镜片X", "Lens X"])
    assert item.search_text == "pw-x window x 保护镜x 镜片x lens x"


def test_available_and_projected_qty_subtract_what_is_committed(item, warehouse):
    level = StockLevel(
        item=item,
        warehouse=warehouse,
        actual_qty=10,
        reserved_qty=3,
        reserved_for_production=2,
        ordered_qty=7,
    )
    assert level.available_qty == 5
    assert level.projected_qty == 12


class TestWarrantyStatus:
    def make_serial(self, item, **dates):
        return SerialNumber(serial="TEST-SN", item=item, **dates)

    def test_it_is_under_warranty_until_the_last_day(self, item):
        serial = self.make_serial(item, warranty_end=date(2027, 3, 1))
        assert serial.warranty_status(on=date(2027, 3, 1)) == "under_warranty"

    def test_it_is_out_of_warranty_the_day_after(self, item):
        serial = self.make_serial(item, warranty_end=date(2027, 3, 1))
        assert serial.warranty_status(on=date(2027, 3, 2)) == "out_of_warranty"

    def test_a_maintenance_contract_follows_the_warranty(self, item):
        serial = self.make_serial(item, warranty_end=date(2026, 1, 1), amc_end=date(2027, 1, 1))
        assert serial.warranty_status(on=date(2026, 6, 1)) == "under_amc"
        assert serial.warranty_status(on=date(2027, 1, 2)) == "out_of_amc"

    def test_it_is_none_without_warranty_dates(self, item):
        assert self.make_serial(item).warranty_status(on=date(2026, 6, 1)) is None

    def test_the_database_refuses_a_warranty_ending_before_it_starts(self, item):
        with pytest.raises(IntegrityError), transaction.atomic():
            SerialNumber.objects.create(
                serial="TEST-SN-2",
                item=item,
                warranty_start=date(2026, 5, 1),
                warranty_end=date(2026, 4, 30),
            )
