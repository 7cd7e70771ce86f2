"""Inventory tools against the demo company: products, stock, low stock, warranty, reserving."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.ai_assistant.tools.registry import number
from apps.inventory.models import Item, ReorderRule, SerialNumber, StockLevel, Warehouse
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine
from apps.service.models import ServiceTicket

from .tool_helpers import call, log_of, render

pytestmark = pytest.mark.django_db


def level(sku, warehouse):
    return StockLevel.objects.get(item__sku=sku, warehouse__code=warehouse)


# find_product


def test_find_product_finds_the_protective_window_by_its_chinese_alias():
    result = call("sales1", "find_product", {"query": "保护片"})

    item = Item.objects.get(sku="PW-D37-T7")
    assert result.status == "success"
    assert [row["sku"] for row in result.data["items"]] == ["PW-D37-T7"]
    assert result.data["items"][0]["list_price"] == number(item.list_price)
    assert result.data["items"][0]["uom"] == item.stock_uom
    assert f"{number(item.list_price)} {item.currency}" in render(result)


def test_find_product_of_one_item_is_its_card_of_several_a_list():
    card = render(call("sales1", "find_product", {"query": "PW-D37-T7"}), "en")
    listed = render(call("sales1", "find_product", {"query": "nozzle"}), "en")

    assert card.splitlines() == [
        "PW-D37-T7 Protective window D37×7 (保护镜)",
        "Category: Protective window, unit: pcs, brand: BLT",
        "Specs: diameter 37 mm, thickness 7 mm",
        "List price: 45 CNY/pcs",
    ]
    assert listed.startswith("Products found:\n- NZ-")


def test_find_product_filters_by_category():
    result = call("sales1", "find_product", {"query": "nozzle", "category": "nozzle"})

    expected = Item.objects.filter(active=True, category="nozzle", search_text__contains="nozzle")
    assert result.status == "success"
    assert {row["sku"] for row in result.data["items"]} == {item.sku for item in expected}


def test_find_product_hides_cost_from_a_user_without_view_cost():
    result = call("sales1", "find_product", {"query": "PW-D37-T7"})

    assert "standard_cost" not in result.data["items"][0]
    assert "成本" not in render(result)


def test_find_product_shows_cost_to_a_user_with_view_cost():
    result = call("admin", "find_product", {"query": "PW-D37-T7"})

    item = Item.objects.get(sku="PW-D37-T7")
    assert result.data["items"][0]["standard_cost"] == number(item.standard_cost)


def test_find_product_is_denied_to_a_user_without_view_item():
    result = call("guest1", "find_product", {"query": "保护镜"})

    assert result.status == "denied"
    assert result.data == {}
    assert log_of(result).status == "denied"


def test_find_product_rejects_an_unknown_category_with_the_allowed_ones():
    result = call("sales1", "find_product", {"query": "镜", "category": "mirrors"})

    assert result.status == "invalid"
    assert "category" in result.message and "protective_window" in result.message
    assert log_of(result).status == "invalid"


def test_find_product_says_so_when_nothing_matches():
    result = call("sales1", "find_product", {"query": "qqqzzz-unknown"}, language="en")

    assert result.status == "success"
    assert result.data["items"] == []
    assert "No product matches" in render(result, "en")


# check_inventory_stock


def test_check_stock_gives_exact_figures_for_every_active_warehouse():
    result = call("wh1", "check_inventory_stock", {"item": "保护镜"})

    levels = StockLevel.objects.filter(item__sku="PW-D37-T7", warehouse__active=True)
    assert result.status == "success"
    rows = {row["warehouse"]: row for row in result.data["rows"]}
    assert set(rows) == {stock.warehouse.code for stock in levels}
    for stock in levels:
        row = rows[stock.warehouse.code]
        assert row["actual"] == number(stock.actual_qty)
        assert row["available"] == number(stock.available_qty)
        assert row["projected"] == number(stock.projected_qty)
        assert row["uom"] == "pcs"
    total = sum((stock.actual_qty for stock in levels), Decimal("0"))
    assert result.data["totals"][0]["actual"] == number(total)
    assert f"合计：实际 {number(total)} pcs" in render(result)


def test_check_stock_says_when_an_item_is_below_its_reorder_level():
    result = call("wh1", "check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "main"})

    rule = ReorderRule.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    row = result.data["rows"][0]
    assert row["below_reorder"] is True
    assert row["reorder_level"] == number(rule.reorder_level)
    assert f"低于补货点 {number(rule.reorder_level)}" in render(result)
    assert f"below reorder level {number(rule.reorder_level)}" in render(result, "en")


def test_check_stock_says_when_an_item_is_out_of_stock():
    result = call("wh1", "check_inventory_stock", {"item": "NZ-D1.2"}, language="en")

    assert result.data["totals"][0]["out_of_stock"] is True
    assert "缺货" in render(result)
    assert "out of stock" in render(result, "en")


def test_check_stock_lists_a_whole_warehouse():
    result = call("wh1", "check_inventory_stock", {"warehouse": "main"})

    expected = StockLevel.objects.filter(warehouse__code="main", item__active=True).count()
    assert result.status == "success"
    assert result.data["count"] == expected
    assert f"共 {expected} 项" in render(result)


def test_check_stock_of_a_category_lists_each_of_its_items_in_the_warehouse():
    result = call("wh1", "check_inventory_stock", {"category": "nozzle", "warehouse": "spare"})

    expected = StockLevel.objects.filter(warehouse__code="spare", item__category="nozzle")
    assert {row["sku"] for row in result.data["rows"]} == {
        level.item.sku for level in expected.select_related("item")
    }
    assert render(result).startswith("spare 备件仓 的喷嘴库存：")
    assert render(result, "en").startswith("Nozzle stock in spare Spare parts warehouse:")


def test_check_stock_of_a_category_a_warehouse_does_not_hold_says_so():
    result = call("wh1", "check_inventory_stock", {"category": "nozzle", "warehouse": "sz"})

    assert result.data["rows"] == []
    assert render(result) == "sz 深圳仓 没有喷嘴的库存。"
    assert render(result, "en") == "No nozzle in stock in sz Shenzhen branch warehouse."


def test_check_stock_of_an_item_a_warehouse_does_not_hold_is_zero_there_not_everywhere():
    result = call("wh1", "check_inventory_stock", {"item": "CH-BT240S", "warehouse": "sz"})

    assert "sz 深圳仓：0，没有库存" in render(result)
    assert "各仓库" not in render(result)


def test_check_stock_leaves_out_inactive_warehouses():
    Warehouse.objects.filter(code="sz").update(active=False)

    result = call("wh1", "check_inventory_stock", {"item": "PW-D37-T7"})

    assert "sz" not in {row["warehouse"] for row in result.data["rows"]}


def test_check_stock_needs_an_item_a_category_or_a_warehouse():
    result = call("wh1", "check_inventory_stock", {})

    assert result.status == "invalid"
    assert "give an item, a category or a warehouse" in result.message
    assert log_of(result).status == "invalid"


def test_check_stock_asks_back_when_the_item_name_is_ambiguous():
    result = call("wh1", "check_inventory_stock", {"item": "喷嘴"})

    assert result.status == "invalid"
    assert "NZ-D1.2 双层喷嘴1.2" in result.candidates
    assert "NZ-S1.5 单层喷嘴1.5" in result.candidates


def test_check_stock_refuses_an_unknown_warehouse():
    result = call("wh1", "check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "火星仓"})

    assert result.status == "invalid"
    assert "No warehouse matches" in result.message


def test_check_stock_refuses_unexpected_parameters():
    result = call("wh1", "check_inventory_stock", {"item": "PW-D37-T7", "sql": "drop"})

    assert result.status == "invalid"
    assert "sql" in result.message


def test_check_stock_is_denied_to_a_user_without_view_stocklevel():
    result = call("guest1", "check_inventory_stock", {"item": "PW-D37-T7"})

    assert result.status == "denied"
    assert log_of(result).status == "denied"


# low_stock_report


def test_low_stock_report_lists_stock_below_reorder_level_with_open_purchases():
    result = call("wh1", "low_stock_report", {})

    rows = {(row["sku"], row["warehouse"]): row for row in result.data["rows"]}
    row = rows[("PW-D37-T7", "main")]
    rule = ReorderRule.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    open_lines = PurchaseOrderLine.objects.filter(
        item__sku="PW-D37-T7",
        warehouse__code="main",
        order__status__in=PurchaseOrder.OPEN_STATUSES,
    )
    open_qty = sum((line.open_qty for line in open_lines), Decimal("0"))
    eta = min(line.order.expected_date for line in open_lines)
    assert row["qty"] == number(level("PW-D37-T7", "main").actual_qty)
    assert row["reorder_level"] == number(rule.reorder_level)
    assert row["open_po_qty"] == number(open_qty)
    assert row["open_po_eta"] == eta.isoformat()
    assert f"采购在途 {number(open_qty)} pcs，预计 {eta.isoformat()} 到货" in render(result)


def test_low_stock_report_lists_only_rows_under_their_reorder_level():
    result = call("wh1", "low_stock_report", {"warehouse": "spare"})

    for row in result.data["rows"]:
        assert row["warehouse"] == "spare"
        assert Decimal(row["qty"]) < Decimal(row["reorder_level"])


def test_low_stock_report_in_zero_mode_lists_items_out_of_stock_everywhere():
    result = call("wh1", "low_stock_report", {"mode": "zero"}, language="en")

    assert "NZ-D1.2" in {row["sku"] for row in result.data["rows"]}
    for row in result.data["rows"]:
        held = StockLevel.objects.filter(item__sku=row["sku"], warehouse__active=True)
        assert sum((stock.actual_qty for stock in held), Decimal("0")) == 0
    assert "NZ-D1.2" in render(result, "en")


def test_low_stock_report_rejects_an_unknown_mode():
    result = call("wh1", "low_stock_report", {"mode": "projected_negative"})

    assert result.status == "invalid"
    assert "mode" in result.message


def test_low_stock_report_is_denied_to_a_user_without_view_stocklevel():
    result = call("guest1", "low_stock_report", {})

    assert result.status == "denied"
    assert log_of(result).status == "denied"


# machine_warranty_lookup


def test_warranty_lookup_reports_a_machine_under_warranty():
    result = call("svc1", "machine_warranty_lookup", {"serial_no": "LX20260001"})

    serial = SerialNumber.objects.get(serial="LX20260001")
    days_left = (serial.warranty_end - timezone.localdate()).days
    open_tickets = serial.service_tickets.filter(status__in=ServiceTicket.OPEN_STATUSES).count()
    assert result.data["warranty_status"] == "under_warranty"
    assert result.data["warranty_end"] == serial.warranty_end.isoformat()
    assert result.data["days_left"] == days_left
    assert result.data["open_tickets"] == open_tickets
    assert result.data["customer"] == "C001 苏州恒通钣金有限公司"
    text = render(result)
    assert "保修期内" in text and f"剩余 {days_left} 天" in text


def test_warranty_lookup_reports_an_expired_warranty():
    result = call("svc1", "machine_warranty_lookup", {"serial_no": "lx20250007"}, language="en")

    serial = SerialNumber.objects.get(serial="LX20250007")
    assert result.data["serial_no"] == "LX20250007"
    assert result.data["warranty_status"] == "out_of_warranty"
    assert result.data["days_left"] == 0
    assert f"Warranty end: {serial.warranty_end.isoformat()}" in render(result, "en")
    assert "已过保" in render(result)


def test_warranty_lookup_masks_the_customer_for_a_user_without_view_customer():
    result = call("wh1", "machine_warranty_lookup", {"serial_no": "LX20260001"})

    assert result.data["customer"] == "苏州****公司"
    assert result.data["customer_masked"] is True
    assert "恒通" not in render(result)


def test_warranty_lookup_offers_close_serial_numbers_for_a_typo():
    result = call("svc1", "machine_warranty_lookup", {"serial_no": "LX2026001"})

    assert result.status == "invalid"
    assert "LX20260001" in result.candidates


def test_warranty_lookup_is_denied_to_a_user_without_view_serialnumber():
    result = call("guest1", "machine_warranty_lookup", {"serial_no": "LX20260001"})

    assert result.status == "denied"
    assert log_of(result).status == "denied"


# reserve_stock


def test_reserve_stock_is_only_staged_without_confirmation():
    before = level("PW-D37-T7", "main").reserved_qty

    result = call("wh1", "reserve_stock", {"item": "保护镜", "qty": 3, "warehouse": "主仓库"})

    assert result.status == "staged"
    assert result.data["resolved_args"] == {
        "item": "PW-D37-T7",
        "qty": "3",
        "warehouse": "main",
        "sales_order": None,
        "reason": None,
    }
    assert "PW-D37-T7" in result.data["target_repr"] and "main" in result.data["target_repr"]
    assert level("PW-D37-T7", "main").reserved_qty == before
    assert log_of(result).status == "staged"


def test_reserve_stock_reserves_exactly_once_when_confirmed():
    before = level("PW-D37-T7", "main")

    result = call(
        "wh1",
        "reserve_stock",
        {"item": "PW-D37-T7", "qty": "2.5", "warehouse": "main"},
        confirmed=True,
    )

    after = level("PW-D37-T7", "main")
    assert result.status == "success"
    assert after.reserved_qty == before.reserved_qty + Decimal("2.5")
    assert after.actual_qty == before.actual_qty
    assert result.data["available"] == number(after.available_qty)
    assert f"可用 {number(after.available_qty)} pcs" in render(result)


def test_reserve_stock_beyond_what_is_available_is_refused_with_the_reason():
    before = level("PW-D37-T7", "main")
    too_much = before.available_qty + 1

    result = call(
        "wh1",
        "reserve_stock",
        {"item": "PW-D37-T7", "qty": str(too_much), "warehouse": "main"},
        confirmed=True,
    )

    assert result.status == "error"
    assert "Not enough stock of PW-D37-T7 in main" in result.message
    assert level("PW-D37-T7", "main").reserved_qty == before.reserved_qty
    assert log_of(result).status == "error"


def test_reserve_stock_beyond_what_is_available_is_refused_before_staging():
    result = call("wh1", "reserve_stock", {"item": "NZ-D1.2", "qty": 1, "warehouse": "main"})

    assert result.status == "error"
    assert "0 available" in result.message


def test_reserve_stock_rejects_a_zero_quantity():
    result = call("wh1", "reserve_stock", {"item": "PW-D37-T7", "qty": 0, "warehouse": "main"})

    assert result.status == "invalid"
    assert "qty" in result.message and "greater than 0" in result.message


def test_reserve_stock_is_denied_to_a_user_without_the_permission():
    before = level("PW-D37-T7", "main").reserved_qty

    result = call(
        "svc1",
        "reserve_stock",
        {"item": "PW-D37-T7", "qty": 1, "warehouse": "main"},
        confirmed=True,
    )

    assert result.status == "denied"
    assert level("PW-D37-T7", "main").reserved_qty == before
    assert log_of(result).status == "denied"
