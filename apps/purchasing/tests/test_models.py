from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.inventory.tests.factories import make_item, make_warehouse
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    supplier = Supplier.objects.create(code="TEST-S1", name="Test supplier")
    return PurchaseOrder.objects.create(number="TEST-PO-1", supplier=supplier)


def add_line(order, qty=10, received_qty=0):
    return PurchaseOrderLine.objects.create(
        order=order,
        item=make_item(sku="TEST-PO-ITEM"),
        warehouse=make_warehouse(code="test-po-wh"),
        qty=qty,
        received_qty=received_qty,
        rate=Decimal("5"),
    )


def test_supplier_code_is_unique(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        Supplier.objects.create(code="TEST-S1", name="Another")


def test_purchase_order_number_is_unique(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrder.objects.create(number=order.number, supplier=order.supplier)


def test_a_line_needs_a_positive_qty(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        add_line(order, qty=0)


def test_a_line_cannot_receive_more_than_was_ordered(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        add_line(order, qty=10, received_qty=11)


def test_open_qty_is_what_is_still_to_be_received(order):
    assert add_line(order, qty=10, received_qty=4).open_qty == 6


def test_drafts_and_orders_being_received_are_open():
    assert set(PurchaseOrder.OPEN_STATUSES) == {"draft", "to_receive_and_bill", "to_receive"}
