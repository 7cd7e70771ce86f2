"""seed_demo: idempotent, and the fixed names of docs/design.md §7 are there."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.test import override_settings

from apps.demo import data
from apps.demo.seed import row_counts
from apps.inventory.models import (
    Item,
    ReorderRule,
    SerialNumber,
    StockLevel,
    StockMove,
    Warehouse,
)
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine
from apps.sales.models import Customer, SalesOrder

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 27)

FIXED_ITEMS = {
    "LC-3015-6KW": ("光纤激光切割机", ["切割机"]),
    "LW-1500-HH": ("手持激光焊接机", ["焊接机"]),
    "LM-F30": ("光纤打标机", ["打标机"]),
    "LS-RC-3000": ("锐科3000W激光器", ["激光器", "光源"]),
    "LS-MX-6000": ("创鑫6000W激光器", []),
    "CH-BT240S": ("切割头", []),
    "PW-D37-T7": ("保护镜", ["保护片", "防护镜"]),
    "FL-D30-F125": ("聚焦镜", []),
    "NZ-S1.5": ("单层喷嘴1.5", []),
    "NZ-D1.2": ("双层喷嘴1.2", []),
    "CR-32": ("陶瓷环", []),
    "CHL-3000": ("冷水机", []),
}


def seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def level(sku, code):
    return StockLevel.objects.get(item__sku=sku, warehouse__code=code)


def test_running_seed_demo_again_leaves_every_table_the_same_size():
    before = row_counts()
    seed(verbosity=0)
    seed(verbosity=0)
    assert row_counts() == before


def test_running_seed_demo_again_posts_no_stock_moves():
    last_move = StockMove.objects.order_by("-id").first()
    seed(verbosity=0)
    assert StockMove.objects.order_by("-id").first() == last_move


def test_seed_demo_restores_stock_that_was_changed_with_one_adjustment():
    from apps.inventory.services import post_stock_move

    pw = Item.objects.get(sku="PW-D37-T7")
    main = Warehouse.objects.get(code="main")
    post_stock_move(item=pw, warehouse=main, qty=5, voucher_type="receipt")
    seed(verbosity=0)
    assert level("PW-D37-T7", "main").actual_qty == 8
    assert StockMove.objects.filter(item=pw, warehouse=main).first().qty == -5


def test_stock_levels_match_the_ledger():
    totals = StockMove.objects.values("item_id", "warehouse_id").annotate(total=Sum("qty"))
    ledger = {(row["item_id"], row["warehouse_id"]): row["total"] for row in totals}
    for stock in StockLevel.objects.all():
        assert stock.actual_qty == ledger.get((stock.item_id, stock.warehouse_id), 0), stock


def test_the_four_fixed_warehouses_exist():
    names = dict(Warehouse.objects.values_list("code", "name_zh"))
    assert {code: names.get(code) for code in ("main", "spare", "sz", "van1")} == {
        "main": "主仓库",
        "spare": "备件仓",
        "sz": "深圳仓",
        "van1": "服务车1",
    }


@pytest.mark.parametrize("sku", FIXED_ITEMS)
def test_each_fixed_item_has_its_chinese_name_and_aliases(sku):
    name_zh, aliases = FIXED_ITEMS[sku]
    item = Item.objects.get(sku=sku)
    assert item.name_zh == name_zh
    assert set(aliases) <= set(item.aliases)


def test_each_chinese_name_or_alias_of_a_fixed_item_names_no_other_item():
    for sku in FIXED_ITEMS:
        item = Item.objects.get(sku=sku)
        for word in [item.name_zh, *item.aliases]:
            others = [
                other.sku
                for other in Item.objects.exclude(sku=sku)
                if word == other.name_zh or word in other.aliases
            ]
            assert others == [], f"{word!r} also names {others}"


def test_there_are_enough_other_items_for_realistic_lists():
    assert Item.objects.count() >= 25


def test_customer_c001_is_suzhou_hengtong():
    assert Customer.objects.get(code="C001").name_zh == "苏州恒通钣金有限公司"


def test_there_are_at_least_twenty_customers_owned_by_two_salespeople():
    assert Customer.objects.count() >= 20
    owners = set(Customer.objects.values_list("owner_salesperson__username", flat=True))
    assert owners == {"sales1", "sales2"}


def test_lx20260001_is_under_warranty_for_years():
    serial = SerialNumber.objects.get(serial="LX20260001")
    assert serial.customer.code == "C001"
    assert serial.warranty_status(on=TODAY) == "under_warranty"
    assert serial.warranty_end >= date(2028, 1, 1)


def test_lx20250007_warranty_has_expired():
    serial = SerialNumber.objects.get(serial="LX20250007")
    assert serial.warranty_end < TODAY
    assert serial.warranty_status() == "out_of_warranty"


def test_pw_d37_t7_in_main_is_below_its_reorder_level():
    rule = ReorderRule.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    assert level("PW-D37-T7", "main").actual_qty < rule.reorder_level


def test_nz_d1_2_is_out_of_stock_everywhere_but_on_order():
    stock = StockLevel.objects.filter(item__sku="NZ-D1.2").aggregate(total=Sum("actual_qty"))
    assert stock["total"] == 0
    assert ReorderRule.objects.filter(item__sku="NZ-D1.2").exists()
    assert PurchaseOrderLine.objects.filter(
        item__sku="NZ-D1.2", order__status__in=["to_receive", "to_receive_and_bill"]
    ).exists()
    assert level("NZ-D1.2", "spare").ordered_qty == 200


def test_nz_s1_5_is_in_stock_in_main_and_spare():
    assert level("NZ-S1.5", "main").available_qty > 0
    assert level("NZ-S1.5", "spare").available_qty > 0


def test_some_stock_is_reserved():
    assert StockLevel.objects.filter(reserved_qty__gt=0).count() >= 3


def test_every_sales_order_status_appears():
    statuses = set(
        SalesOrder.objects.filter(number__startswith="SO-2026-").values_list("status", flat=True)
    )
    assert statuses == set(SalesOrder.Status.values)


def test_there_are_draft_quotes():
    assert SalesOrder.objects.filter(doc_type="quote").count() >= 2


def test_order_lines_are_priced_from_the_item_list_price():
    order = SalesOrder.objects.get(number="SO-2026-0001")
    assert all(line.rate == line.item.list_price for line in order.lines.all())
    assert order.grand_total == sum(line.amount for line in order.lines.all())


def test_purchase_orders_come_in_several_statuses():
    assert PurchaseOrder.objects.values("status").distinct().count() >= 5


def test_seed_demo_prints_counts_and_passwords_in_development():
    with override_settings(ENVIRONMENT="development", DEBUG=False):
        output = seed()
    assert "inventory.Item" in output
    assert "demo-sales1-2026" in output


def test_seed_demo_hides_passwords_outside_development():
    with override_settings(ENVIRONMENT="production", DEBUG=False):
        output = seed()
    assert "demo-sales1-2026" not in output
    assert "only in development" in output


def test_seed_demo_does_not_reset_a_changed_password():
    user = get_user_model().objects.get(username="sales1")
    user.set_password("changed-by-sales1")
    user.save()
    seed(verbosity=0)
    user.refresh_from_db()
    assert user.check_password("changed-by-sales1")


def test_the_seed_tables_name_only_known_items():
    skus = {row[0] for row in data.ITEMS}
    used = {row[0] for row in data.STOCK} | {row[0] for row in data.REORDER_RULES}
    assert used <= skus
    assert Decimal(len(skus)) == Item.objects.filter(sku__in=skus).count()
