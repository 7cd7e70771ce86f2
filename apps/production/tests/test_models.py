from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.inventory.tests.factories import make_item
from apps.production.models import WorkOrder, WorkOrderOperation

pytestmark = pytest.mark.django_db


@pytest.fixture
def work_order():
    item = make_item(sku="TEST-MACHINE", item_type="machine")
    return WorkOrder.objects.create(number="TEST-WO-1", item=item, qty=2)


def test_work_order_number_is_unique(work_order):
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrder.objects.create(number=work_order.number, item=work_order.item)


def test_a_work_order_needs_a_positive_qty(work_order):
    work_order.qty = Decimal("0")
    with pytest.raises(IntegrityError), transaction.atomic():
        work_order.save()


def test_a_work_order_cannot_produce_more_than_its_qty(work_order):
    work_order.produced_qty = Decimal("3")
    with pytest.raises(IntegrityError), transaction.atomic():
        work_order.save()


def test_each_operation_step_number_is_used_once_per_work_order(work_order):
    WorkOrderOperation.objects.create(work_order=work_order, seq=10, name="Frame")
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkOrderOperation.objects.create(work_order=work_order, seq=10, name="Optics")


def test_operations_are_listed_in_step_order(work_order):
    for seq, name in [(30, "Source install"), (10, "Frame"), (20, "Optics")]:
        WorkOrderOperation.objects.create(work_order=work_order, seq=seq, name=name)
    assert [op.name for op in work_order.operations.all()] == ["Frame", "Optics", "Source install"]
