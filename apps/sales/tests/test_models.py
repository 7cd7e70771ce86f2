from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.inventory.tests.factories import make_item
from apps.sales.models import Customer, SalesOrder, SalesOrderLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return Customer.objects.create(code="TEST-C1", name="Test customer", name_zh="测试客户")


@pytest.fixture
def order(customer):
    return SalesOrder.objects.create(number="TEST-SO-1", customer=customer)


def add_line(order, **fields):
    fields.setdefault("qty", 1)
    fields.setdefault("rate", Decimal("10"))
    fields.setdefault("amount", Decimal("10"))
    return SalesOrderLine.objects.create(order=order, item=make_item(sku="TEST-SO-ITEM"), **fields)


def test_customer_code_is_unique(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(code=customer.code, name="Another")


def test_customer_credit_limit_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(code="TEST-C2", name="Test", credit_limit=Decimal("-1"))


def test_a_customer_is_shown_by_its_chinese_name(customer):
    assert str(customer) == "TEST-C1 测试客户"
    assert customer.display_name == "测试客户"


def test_sales_order_number_is_unique(order, customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesOrder.objects.create(number=order.number, customer=customer)


def test_a_new_sales_order_is_a_draft_order(order):
    assert (order.doc_type, order.status) == ("order", "draft")


def test_per_delivered_stays_between_0_and_100(order):
    order.per_delivered = Decimal("100.01")
    with pytest.raises(IntegrityError), transaction.atomic():
        order.save()


def test_an_order_line_needs_a_positive_qty(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        add_line(order, qty=0)


def test_an_order_line_cannot_have_a_negative_rate(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        add_line(order, rate=Decimal("-1"))


def test_deleting_an_order_deletes_its_lines(order):
    add_line(order)
    order.delete()
    assert not SalesOrderLine.objects.filter(order__number="TEST-SO-1").exists()
