"""The purchase order status tool against the demo company's purchase orders."""

import pytest

from apps.ai_assistant.models import ToolExecutionLog
from apps.ai_assistant.tools.registry import number
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine

from .tool_helpers import call, render

pytestmark = pytest.mark.django_db


def test_purchase_order_status_gives_ordered_and_received_qty_per_line():
    order = PurchaseOrder.objects.filter(lines__received_qty__gt=0).first()

    result = call("wh1", "purchase_order_status", {"po": order.number})

    row = result.data["orders"][0]
    assert result.status == "success"
    assert row["status"] == order.status
    assert row["expected_date"] == (order.expected_date and order.expected_date.isoformat())
    assert [(line["sku"], line["qty"], line["received_qty"]) for line in row["lines"]] == [
        (line.item.sku, number(line.qty), number(line.received_qty)) for line in order.lines.all()
    ]
    first = order.lines.first()
    assert f"已收 {number(first.received_qty)}" in render(result)


def test_purchase_order_status_lists_open_orders_for_an_item():
    result = call("wh1", "purchase_order_status", {"item": "保护镜"}, language="en")

    expected = PurchaseOrderLine.objects.filter(
        item__sku="PW-D37-T7", order__status__in=PurchaseOrder.OPEN_STATUSES
    ).values_list("order__number", flat=True)
    assert {row["number"] for row in result.data["orders"]} == set(expected)
    for row in result.data["orders"]:
        assert {line["sku"] for line in row["lines"]} == {"PW-D37-T7"}


def test_purchase_order_status_lists_a_suppliers_open_orders():
    order = PurchaseOrder.objects.filter(status__in=PurchaseOrder.OPEN_STATUSES).first()

    result = call("wh1", "purchase_order_status", {"supplier": order.supplier.code})

    expected = PurchaseOrder.objects.filter(
        supplier=order.supplier, status__in=PurchaseOrder.OPEN_STATUSES
    )
    assert {row["number"] for row in result.data["orders"]} == {o.number for o in expected}


def test_purchase_order_status_offers_suppliers_for_an_unknown_one():
    result = call("wh1", "purchase_order_status", {"supplier": "不存在的供应商"})

    assert result.status == "invalid"
    assert result.candidates


def test_purchase_order_status_refuses_an_unknown_order():
    result = call("wh1", "purchase_order_status", {"po": "PO-1999-0001"})

    assert result.status == "invalid"
    assert "PO-1999-0001" in result.message


def test_purchase_order_status_is_denied_to_a_user_without_view_purchaseorder():
    result = call("sales1", "purchase_order_status", {"po": "PO-2026-0001"})

    assert result.status == "denied"
    assert ToolExecutionLog.objects.get(pk=result.log_id).status == "denied"
