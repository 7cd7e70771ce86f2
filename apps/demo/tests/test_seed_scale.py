"""seed_scale: the large company is deterministic, grows to the sizes asked, keeps the stock
ledger's rules, leaves the demo company alone, and the assistant still answers on it."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q, Sum
from django.test import override_settings

from apps.demo import data, scale
from apps.demo.seed import row_counts
from apps.inventory.models import Item, ReorderRule, StockLevel, StockMove, Warehouse
from apps.purchasing.models import Supplier
from apps.sales.models import Customer, SalesOrder, SalesOrderLine

ITEMS, WAREHOUSES, ORDERS = 300, 8, 1000
STOCK_ROWS = ITEMS * WAREHOUSES // 4


def seed_scale(**sizes) -> str:
    out = StringIO()
    options = {"items": ITEMS, "warehouses": WAREHOUSES, "orders": ORDERS, **sizes}
    call_command("seed_scale", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def scaled(demo) -> str:
    return seed_scale()


def scale_items():
    return Item.objects.filter(sku__in=[spec.sku for spec in scale.item_specs(1, ITEMS)])


def scale_orders():
    return SalesOrder.objects.filter(number__regex=scale.SCALE_ORDER_NUMBER)


def ask(username: str, text: str) -> str:
    # Through manage.py chat: the same MessageHandler, and apps.demo imports nothing of the
    # assistant (whose tests import apps.demo: import-linter forbids the cycle).
    out = StringIO()
    call_command("chat", user=username, message=text, stdout=out)
    return out.getvalue()


def test_creates_the_sizes_asked(scaled):
    assert scale_items().count() == ITEMS
    codes = [scale.warehouse_spec(index).code for index in range(WAREHOUSES)]
    assert Warehouse.objects.filter(code__in=codes).count() == WAREHOUSES
    assert StockLevel.objects.filter(item__in=scale_items()).count() == STOCK_ROWS
    assert scale_orders().count() == ORDERS
    assert Customer.objects.filter(code__gte="C100", code__lte="C999").count() == 300
    assert Supplier.objects.filter(code__gte="S100", code__lte="S999").count() == 100
    assert "Created in" in scaled and "inventory.Item" in scaled


def test_orders_are_whole_and_numbered_apart_from_the_demo(scaled):
    assert not scale_orders().annotate(line_count=Count("lines")).filter(line_count=0).exists()
    totals = SalesOrderLine.objects.filter(order__in=scale_orders()).values("order_id")
    by_order = dict(totals.annotate(total=Sum("amount")).values_list("order_id", "total"))
    for order in scale_orders().only("pk", "grand_total"):
        assert order.grand_total == by_order[order.pk]
    assert set(scale_orders().values_list("customer__code", flat=True)) <= {
        f"C{code}" for code in range(100, 400)
    }
    assert not scale_orders().filter(number__in=data.SALES_ORDERS).exists()
    today = date.today()
    oldest = scale_orders().order_by("order_date").first().order_date
    assert (today - oldest).days <= 366
    assert scale_orders().values("status").distinct().count() >= 8


def test_same_seed_same_company_other_seed_another():
    first = scale.item_specs(1, ITEMS)
    assert first == scale.item_specs(1, ITEMS)
    assert scale.item_specs(1, ITEMS * 2)[:ITEMS] == first  # item k is the same at any size
    assert [spec.sku for spec in scale.item_specs(2, ITEMS)] != [spec.sku for spec in first]
    assert scale.party_specs(1, "C", 300) == scale.party_specs(1, "C", 300)
    assert len({spec.sku for spec in first}) == ITEMS


def test_the_database_holds_the_generated_catalogue(scaled):
    stored = {item.sku: (item.name, item.name_zh, item.aliases) for item in scale_items()}
    expected = {
        spec.sku: (spec.name, spec.name_zh, spec.aliases) for spec in scale.item_specs(1, ITEMS)
    }
    assert stored == expected


def test_a_second_run_adds_nothing_and_a_larger_one_grows(scaled):
    before = row_counts()
    assert "nothing" in seed_scale()
    assert row_counts() == before

    seed_scale(items=ITEMS + 100, orders=ORDERS + 500)
    after = row_counts()
    assert after["inventory.Item"] == before["inventory.Item"] + 100
    assert after["sales.SalesOrder"] == before["sales.SalesOrder"] + 500
    assert after["inventory.StockLevel"] > before["inventory.StockLevel"]


def test_stock_keeps_the_ledger_rules(scaled):
    levels = StockLevel.objects.all()
    assert not levels.filter(
        Q(reserved_qty__lt=0)
        | Q(reserved_for_production__lt=0)
        | Q(actual_qty__lt=F("reserved_qty") + F("reserved_for_production"))
    ).exists()
    totals = StockMove.objects.values("item_id", "warehouse_id").annotate(total=Sum("qty"))
    ledger = {(row["item_id"], row["warehouse_id"]): row["total"] for row in totals}
    for level in levels:
        assert level.actual_qty == ledger.get((level.item_id, level.warehouse_id), 0), level
    assert not StockMove.objects.filter(Q(qty=0) | Q(qty_after__lt=0)).exists()


def test_some_reorder_rules_are_below_their_level(scaled):
    rules = ReorderRule.objects.filter(item__in=scale_items())
    on_hand = {
        (level.item_id, level.warehouse_id): level.actual_qty
        for level in StockLevel.objects.filter(item__in=scale_items())
    }
    below = [
        rule for rule in rules if on_hand[(rule.item_id, rule.warehouse_id)] < rule.reorder_level
    ]
    assert rules.count() > 20
    assert 0 < len(below) < rules.count()


def test_search_text_is_what_item_save_writes(scaled):
    items = list(scale_items()[:50])
    assert any(item.aliases for item in items)
    for item in items:
        stored = item.search_text
        item.save()
        item.refresh_from_db()
        assert item.search_text == stored


def test_no_scale_name_repeats_a_demo_name():
    demo_names = set()
    for row in data.ITEMS:
        fields = dict(zip(data.ITEM_FIELDS, row, strict=True))
        demo_names |= {fields["sku"], fields["name"], fields["name_zh"], *fields["aliases"]}
    demo_names = {name.lower() for name in demo_names}
    for spec in scale.item_specs(1, 3000):
        names = {spec.sku, spec.name, spec.name_zh, *spec.aliases}
        assert not {name.lower() for name in names} & demo_names, spec
    demo_codes = set(data.WAREHOUSES) | set(data.CUSTOMERS) | set(data.SUPPLIERS)
    codes = [scale.warehouse_spec(index).code for index in range(300)]
    codes += [spec.code for spec in scale.party_specs(1, "C", 300)]
    codes += [spec.code for spec in scale.party_specs(1, "S", 100)]
    assert len(set(codes)) == len(codes)
    assert not set(codes) & demo_codes


def demo_snapshot() -> dict:
    skus = [row[0] for row in data.ITEMS]
    return {
        "items": list(Item.objects.filter(sku__in=skus).order_by("sku").values()),
        "stock": list(
            StockLevel.objects.filter(item__sku__in=skus)
            .order_by("item__sku", "warehouse__code")
            .values("item__sku", "warehouse__code", "actual_qty", "reserved_qty", "ordered_qty")
        ),
        "moves": StockMove.objects.filter(item__sku__in=skus).count(),
        "rules": list(ReorderRule.objects.filter(item__sku__in=skus).order_by("pk").values()),
        "orders": list(SalesOrder.objects.filter(number__in=data.SALES_ORDERS).values()),
        "customers": list(Customer.objects.filter(code__in=data.CUSTOMERS).values()),
        "warehouses": list(Warehouse.objects.filter(code__in=data.WAREHOUSES).values()),
    }


def test_the_demo_company_is_untouched(demo):
    before = demo_snapshot()
    seed_scale()
    assert demo_snapshot() == before
    pw_main = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    assert pw_main.actual_qty == Decimal("8")


def test_the_assistant_answers_on_the_grown_data(scaled):
    reply = ask("wh1", "NZ-S1.5 库存")
    assert "NZ-S1.5" in reply
    assert "120" in reply  # the demo's stock in main


def test_the_assistant_knows_the_new_items_at_once(demo):
    ask("wh1", "NZ-S1.5 库存")  # the assistant has read the names before the seed
    seed_scale()
    sku = StockLevel.objects.filter(item__in=scale_items(), actual_qty__gt=0).first().item.sku
    assert sku in ask("wh1", f"{sku} 库存")


@override_settings(ENVIRONMENT="production")
def test_refuses_outside_development(demo):
    with pytest.raises(CommandError, match="development only"):
        seed_scale()
    assert not scale_items().exists()
