"""Sales tools against the demo company: order status and its row scope, customers, quotes."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from apps.ai_assistant.tools.registry import number
from apps.inventory.models import Item
from apps.sales.models import Customer, SalesOrder
from apps.service.models import ServiceTicket

from .tool_helpers import call, log_of, render

pytestmark = pytest.mark.django_db

CLOSED = ("completed", "cancelled", "closed")


def user(username):
    return get_user_model().objects.get(username=username)


def orders_of(username):
    me = user(username)
    return SalesOrder.objects.filter(Q(salesperson=me) | Q(customer__owner_salesperson=me))


def order_outside_scope_of(username):
    me = user(username)
    return SalesOrder.objects.exclude(salesperson=me).exclude(customer__owner_salesperson=me)[0]


# sales_order_status


def test_sales_order_status_reports_an_order_with_exact_figures():
    order = orders_of("sales1").filter(work_orders__isnull=False).first()

    result = call("sales1", "sales_order_status", {"order_no": order.number.lower()})

    row = result.data["orders"][0]
    assert result.status == "success"
    assert row["number"] == order.number
    assert row["status"] == order.status
    assert row["grand_total"] == number(order.grand_total)
    assert row["currency"] == order.currency
    assert row["per_delivered"] == number(order.per_delivered)
    assert row["per_billed"] == number(order.per_billed)
    assert row["promised_date"] == (order.promised_date and order.promised_date.isoformat())
    assert [wo["number"] for wo in row["work_orders"]] == [
        wo.number for wo in order.work_orders.all()
    ]
    assert f"金额 {number(order.grand_total)} {order.currency}" in render(result)


def test_sales_order_status_hides_another_salespersons_order_as_not_found():
    other = order_outside_scope_of("sales1")

    result = call("sales1", "sales_order_status", {"order_no": other.number})

    assert result.status == "invalid"
    assert result.message == f"No sales order “{other.number}” found."
    assert other.number not in result.candidates
    assert result.data == {}


def test_sales_order_status_shows_any_order_to_a_user_who_may_see_all():
    other = order_outside_scope_of("sales1")

    result = call("admin", "sales_order_status", {"order_no": other.number})

    assert result.data["orders"][0]["number"] == other.number


def test_sales_order_status_lists_only_the_users_own_orders_by_default():
    result = call("sales1", "sales_order_status", {"limit": 20})

    mine = orders_of("sales1")
    assert result.data["count"] == mine.count()
    assert {row["number"] for row in result.data["orders"]} <= set(
        mine.values_list("number", flat=True)
    )
    assert f"共 {mine.count()} 项" in render(result)


def test_sales_order_status_lists_a_customers_orders_in_a_status():
    order = orders_of("sales1").exclude(status="draft").first()

    result = call(
        "sales1",
        "sales_order_status",
        {"customer": order.customer.code, "status": order.status},
        language="en",
    )

    expected = orders_of("sales1").filter(customer=order.customer, status=order.status)
    assert [row["number"] for row in result.data["orders"]] == [o.number for o in expected][:5]
    assert order.number in render(result, "en")


def test_sales_order_status_flags_an_order_past_its_promised_date():
    order = orders_of("sales1").exclude(status__in=CLOSED).first()
    order.promised_date = timezone.localdate().replace(year=2020)
    order.per_delivered = Decimal("0")
    order.save()

    result = call("sales1", "sales_order_status", {"order_no": order.number})

    assert result.data["orders"][0]["late"] is True
    assert "已逾期" in render(result)


def test_sales_order_status_asks_back_when_the_customer_is_ambiguous():
    result = call("sales1", "sales_order_status", {"customer": "钣金"})

    assert result.status == "invalid"
    assert "C001 苏州恒通钣金有限公司" in result.candidates


def test_sales_order_status_rejects_an_unknown_status():
    result = call("sales1", "sales_order_status", {"status": "shipped"})

    assert result.status == "invalid"
    assert "status" in result.message and "to_deliver" in result.message
    assert log_of(result).status == "invalid"


def test_sales_order_status_is_denied_to_a_user_without_view_salesorder():
    result = call("wh1", "sales_order_status", {"order_no": "SO-2026-0001"})

    assert result.status == "denied"
    assert log_of(result).status == "denied"


# customer_lookup


def test_customer_lookup_counts_open_orders_and_tickets():
    result = call("sales1", "customer_lookup", {"query": "C001"})

    customer = Customer.objects.get(code="C001")
    open_orders = (
        orders_of("sales1")
        .filter(customer=customer, doc_type="order")
        .exclude(status__in=CLOSED)
        .count()
    )
    open_tickets = ServiceTicket.objects.filter(
        customer=customer, status__in=ServiceTicket.OPEN_STATUSES
    ).count()
    row = result.data["customers"][0]
    assert result.data["count"] == 1
    assert row["code"] == "C001"
    assert row["name_zh"] == "苏州恒通钣金有限公司"
    assert (row["open_orders"], row["open_tickets"]) == (open_orders, open_tickets)
    assert f"未结服务单 {open_tickets} 张" in render(result)


def test_customer_lookup_counts_only_orders_in_the_users_scope():
    other = order_outside_scope_of("sales1")
    other.status = "confirmed"
    other.doc_type = "order"
    other.save()

    result = call("sales1", "customer_lookup", {"query": other.customer.code})

    assert result.data["customers"][0]["open_orders"] == 0


def test_customer_lookup_finds_customers_by_part_of_the_name():
    result = call("sales1", "customer_lookup", {"query": "钣金"}, language="en")

    expected = Customer.objects.filter(Q(name_zh__icontains="钣金") | Q(name__icontains="钣金"))
    assert {row["code"] for row in result.data["customers"]} == {c.code for c in expected}
    assert f"{expected.count()} in total" in render(result, "en")


def test_customer_lookup_offers_close_customers_when_nothing_matches():
    result = call("sales1", "customer_lookup", {"query": "恒通钢铁"})

    assert result.status == "invalid"
    assert "C001 苏州恒通钣金有限公司" in result.candidates


def test_customer_lookup_is_denied_to_a_user_without_view_customer():
    result = call("wh1", "customer_lookup", {"query": "C001"})

    assert result.status == "denied"
    assert log_of(result).status == "denied"


# create_sales_quote

QUOTE = {"customer": "恒通", "lines": [{"item": "切割机", "qty": 1}, {"item": "保护镜", "qty": 10}]}


def test_create_sales_quote_is_only_staged_without_confirmation():
    before = SalesOrder.objects.count()

    result = call("sales1", "create_sales_quote", QUOTE)

    total = (
        Item.objects.get(sku="LC-3015-6KW").list_price
        + 10 * Item.objects.get(sku="PW-D37-T7").list_price
    )
    assert result.status == "staged"
    assert result.data["resolved_args"] == {
        "customer": "C001",
        "lines": [{"item": "LC-3015-6KW", "qty": "1"}, {"item": "PW-D37-T7", "qty": "10"}],
        "note": None,
    }
    assert f"合计 {number(total)} CNY" in result.data["target_repr"]
    assert SalesOrder.objects.count() == before


def test_create_sales_quote_creates_one_draft_priced_from_the_list_price():
    before = SalesOrder.objects.count()

    result = call("sales1", "create_sales_quote", QUOTE, confirmed=True)

    quote = SalesOrder.objects.get(number=result.data["number"])
    machine, window = Item.objects.get(sku="LC-3015-6KW"), Item.objects.get(sku="PW-D37-T7")
    assert SalesOrder.objects.count() == before + 1
    assert quote.number.startswith(f"QT-{timezone.localdate().year}-")
    assert (quote.doc_type, quote.status) == ("quote", "draft")
    assert quote.salesperson == user("sales1")
    assert quote.customer.code == "C001"
    assert [(line.item.sku, line.qty, line.rate) for line in quote.lines.all()] == [
        ("LC-3015-6KW", Decimal("1"), machine.list_price),
        ("PW-D37-T7", Decimal("10"), window.list_price),
    ]
    assert quote.grand_total == machine.list_price + 10 * window.list_price
    assert f"{number(quote.grand_total)} CNY" in render(result)


def test_create_sales_quote_numbers_quotes_one_after_another():
    first = call("sales1", "create_sales_quote", QUOTE, confirmed=True).data["number"]
    second = call("sales1", "create_sales_quote", QUOTE, confirmed=True).data["number"]

    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


def test_create_sales_quote_never_takes_a_price_from_the_request():
    params = {"customer": "C001", "lines": [{"item": "PW-D37-T7", "qty": 1, "rate": 1}]}

    result = call("sales1", "create_sales_quote", params, confirmed=True)

    assert result.status == "invalid"
    assert "lines.0.rate" in result.message


def test_create_sales_quote_needs_at_least_one_line():
    result = call("sales1", "create_sales_quote", {"customer": "C001", "lines": []})

    assert result.status == "invalid"
    assert "lines" in result.message


def test_create_sales_quote_asks_back_for_an_ambiguous_item():
    params = {"customer": "C001", "lines": [{"item": "喷嘴", "qty": 5}]}

    result = call("sales1", "create_sales_quote", params)

    assert result.status == "invalid"
    assert "NZ-S1.5 单层喷嘴1.5" in result.candidates


def test_create_sales_quote_is_denied_to_a_user_without_create_quote():
    before = SalesOrder.objects.count()

    result = call("wh1", "create_sales_quote", QUOTE, confirmed=True)

    assert result.status == "denied"
    assert SalesOrder.objects.count() == before
    assert log_of(result).status == "denied"
