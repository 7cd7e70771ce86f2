"""Draft purchase orders from a confirmed plan: one per supplier, exactly once per key."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.inventory.tests.factories import make_item, make_warehouse
from apps.purchasing.models import DraftOrderRequest, PurchaseOrder, Supplier
from apps.purchasing.services import PurchaseError, create_draft_purchase_orders
from apps.reporting.models import AREAS, versions
from apps.reporting.tests.versions import assert_raised_only

PLAN = [
    {"supplier": "S003", "item": "NZ-D1.2", "warehouse": "main", "qty": "200.000", "rate": "5.00"},
    {"supplier": "S003", "item": "CR-32", "warehouse": "spare", "qty": 50, "rate": "32"},
    {"supplier": "S001", "item": "LS-RC-3000", "warehouse": "main", "qty": "2"},
]


def year_prefix() -> str:
    return f"PO-{timezone.localdate().year}-"


@pytest.mark.django_db
def test_each_supplier_gets_one_draft_order_with_its_lines():
    orders = create_draft_purchase_orders(PLAN, None, "test-one-per-supplier")
    by_supplier = {order.supplier.code: order for order in orders}
    assert set(by_supplier) == {"S001", "S003"}
    assert all(order.status == "draft" for order in orders)
    lines = by_supplier["S003"].lines.order_by("item__sku")
    assert [(ln.item.sku, ln.warehouse.code, ln.qty, ln.rate) for ln in lines] == [
        ("CR-32", "spare", Decimal("50"), Decimal("32")),
        ("NZ-D1.2", "main", Decimal("200"), Decimal("5")),
    ]
    assert by_supplier["S003"].grand_total == Decimal("2600.00")


@pytest.mark.django_db
def test_a_line_without_a_rate_is_priced_at_the_items_standard_cost():
    orders = create_draft_purchase_orders(PLAN[2:], None, "test-standard-cost")
    assert orders[0].lines.get().rate == Decimal("41000")
    assert orders[0].grand_total == Decimal("82000.00")


@pytest.mark.django_db
def test_the_orders_take_the_next_numbers_of_the_year():
    existing = PurchaseOrder.objects.filter(number__startswith=year_prefix()).count()
    orders = create_draft_purchase_orders(PLAN, None, "test-numbers")
    numbers = sorted(order.number for order in orders)
    assert numbers == [f"{year_prefix()}{existing + 1:04d}", f"{year_prefix()}{existing + 2:04d}"]


@pytest.mark.django_db
def test_calling_again_with_the_same_key_returns_the_same_orders_and_creates_nothing():
    first = create_draft_purchase_orders(PLAN, None, "test-repeat")
    count, version = PurchaseOrder.objects.count(), versions(["purchasing"])
    again = create_draft_purchase_orders(list(reversed(PLAN)), None, "test-repeat")
    assert [order.pk for order in again] == sorted(order.pk for order in first)
    assert PurchaseOrder.objects.count() == count
    assert versions(["purchasing"]) == version


@pytest.mark.django_db
def test_the_same_key_for_another_plan_is_refused():
    create_draft_purchase_orders(PLAN, None, "test-other-plan")
    with pytest.raises(PurchaseError, match="another plan"):
        create_draft_purchase_orders(PLAN[:1], None, "test-other-plan")


@pytest.mark.django_db
def test_creating_the_orders_bumps_only_the_purchasing_version():
    before = versions(AREAS)
    create_draft_purchase_orders(PLAN, None, "test-version")
    assert_raised_only(before, "purchasing")


@pytest.mark.django_db
def test_a_plan_naming_an_unknown_supplier_creates_nothing():
    count = PurchaseOrder.objects.count()
    bad = [*PLAN, {"supplier": "S999", "item": "NZ-D1.2", "warehouse": "main", "qty": 1}]
    with pytest.raises(PurchaseError, match="S999"):
        create_draft_purchase_orders(bad, None, "test-unknown")
    assert PurchaseOrder.objects.count() == count
    assert not DraftOrderRequest.objects.filter(idempotency_key="test-unknown").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "line",
    [
        {"supplier": "S003", "item": "NZ-D1.2", "warehouse": "main", "qty": 0},
        {"supplier": "S003", "item": "NZ-D1.2", "warehouse": "main", "qty": "lots"},
        {"supplier": "S003", "item": "NZ-D1.2", "qty": 5},
        {"supplier": "S003", "item": "NZ-D1.2", "warehouse": "main", "qty": 5, "rate": -1},
    ],
)
def test_a_malformed_plan_line_is_refused(line):
    with pytest.raises(PurchaseError):
        create_draft_purchase_orders([line], None, "test-malformed")


@pytest.mark.django_db
def test_an_empty_plan_or_key_is_refused():
    with pytest.raises(PurchaseError, match="no lines"):
        create_draft_purchase_orders([], None, "test-empty")
    with pytest.raises(PurchaseError, match="idempotency key"):
        create_draft_purchase_orders(PLAN, None, "  ")


THREADS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_key_create_the_orders_once():
    for code in ("TEST-SA", "TEST-SB"):
        Supplier.objects.create(code=code, name=f"Supplier {code}")
    make_item(sku="TEST-PART-A", standard_cost=Decimal("3"))
    make_item(sku="TEST-PART-B", standard_cost=Decimal("4"))
    make_warehouse(code="test-conc-po")
    plan = [
        {"supplier": "TEST-SA", "item": "TEST-PART-A", "warehouse": "test-conc-po", "qty": 10},
        {"supplier": "TEST-SB", "item": "TEST-PART-B", "warehouse": "test-conc-po", "qty": 20},
    ]
    start = threading.Barrier(THREADS)
    results, errors = [], []

    def confirm():
        try:
            start.wait()
            orders = create_draft_purchase_orders(plan, None, "test-concurrent-key")
            results.append(sorted(order.number for order in orders))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == THREADS and len({tuple(numbers) for numbers in results}) == 1
    assert PurchaseOrder.objects.filter(supplier__code__startswith="TEST-S").count() == 2
    assert DraftOrderRequest.objects.filter(idempotency_key="test-concurrent-key").count() == 1
