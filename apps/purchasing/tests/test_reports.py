"""The reorder plan against the demo company: short rules, what to buy, from whom."""

from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.inventory.models import Item, ReorderRule, StockLevel, Warehouse
from apps.inventory.services import reserve_stock
from apps.inventory.tests.factories import make_item, make_warehouse
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from apps.purchasing.reports import reorder_plan
from apps.purchasing.services import create_draft_purchase_orders
from apps.reporting.report import ReportError
from apps.reporting.xlsx import render_xlsx

pytestmark = pytest.mark.django_db

OPEN = ("draft", "to_receive_and_bill", "to_receive")


class Cancelled(Exception):
    pass


def plan_rows(report) -> dict[tuple[str, str], list]:
    return {(row[2], row[4]): row for row in report.sheet("Plan").rows}


def expected_needs(request_type="purchase") -> dict[tuple[str, str], Decimal]:
    """(sku, warehouse) → proposed qty, worked out here rule by rule."""
    needs = {}
    for rule in ReorderRule.objects.filter(request_type=request_type).select_related(
        "item", "warehouse"
    ):
        if not (rule.item.active and rule.warehouse.active):
            continue
        level = StockLevel.objects.filter(item=rule.item, warehouse=rule.warehouse).first()
        actual = level.actual_qty if level else 0
        reserved = level.reserved_qty + level.reserved_for_production if level else 0
        on_order = sum(
            line.qty - line.received_qty
            for line in PurchaseOrderLine.objects.filter(
                item=rule.item, warehouse=rule.warehouse, order__status__in=OPEN
            )
        )
        projected = actual + on_order - reserved
        if projected < rule.reorder_level:
            shortfall = rule.reorder_level - projected
            needs[(rule.item.sku, rule.warehouse.code)] = max(rule.reorder_qty, shortfall)
    return needs


def make_short(sku, code, level):
    ReorderRule.objects.filter(item__sku=sku, warehouse__code=code).update(reorder_level=level)


def test_the_plan_is_every_purchase_rule_projected_below_its_level():
    make_short("CR-32", "main", 60)
    make_short("LS-RC-3000", "main", 9)
    report = reorder_plan()
    proposed = {key: row[12] for key, row in plan_rows(report).items()}
    assert proposed == expected_needs()
    assert len(proposed) >= 3


def test_a_short_rule_gets_its_reorder_qty():
    row = plan_rows(reorder_plan())[("NZ-D1.2", "main")]
    assert row[6:13] == [0, 0, 0, 0, 50, 200, 200]


def test_the_reorder_qty_is_raised_when_it_would_not_reach_the_level():
    make_short("LS-RC-3000", "main", 20)  # 5 in stock, reorder qty 5
    row = plan_rows(reorder_plan())[("LS-RC-3000", "main")]
    assert (row[9], row[12]) == (5, 15)


def test_open_purchase_orders_that_cover_the_shortfall_keep_a_rule_out():
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    rule = ReorderRule.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    assert level.actual_qty < rule.reorder_level  # the low-stock report lists it
    assert ("PW-D37-T7", "main") not in plan_rows(reorder_plan())  # PO-2026-0003 covers it


def test_reserved_stock_counts_against_the_projected_quantity():
    item, main = Item.objects.get(sku="CR-32"), Warehouse.objects.get(code="main")
    reserve_stock(item=item, warehouse=main, qty=15)  # 30 in stock, level 20
    row = plan_rows(reorder_plan())[("CR-32", "main")]
    assert (row[7], row[9], row[12]) == (15, 15, 50)


def test_lines_go_to_the_items_default_supplier():
    Item.objects.filter(sku="NZ-D1.2").update(default_supplier=Supplier.objects.get(code="S001"))
    row = plan_rows(reorder_plan())[("NZ-D1.2", "main")]
    assert row[0] == "S001"


def test_without_a_default_supplier_lines_go_to_the_supplier_last_bought_from():
    Item.objects.filter(sku="NZ-D1.2").update(default_supplier=None)
    row = plan_rows(reorder_plan())[("NZ-D1.2", "main")]
    assert row[0] == "S003"  # PO-2026-0002


def test_an_item_never_bought_is_planned_without_a_supplier_and_left_out_of_the_plan_lines():
    item = make_item(sku="TEST-NEW", standard_cost=Decimal("7"))
    ReorderRule.objects.create(
        item=item, warehouse=Warehouse.objects.get(code="main"), reorder_level=5, reorder_qty=10
    )
    report = reorder_plan(["main"])
    row = plan_rows(report)[("TEST-NEW", "main")]
    assert row[0] == "" and row[1].en == "(no supplier)"
    assert report.summary["unassigned_lines"] == 1
    assert "TEST-NEW" not in {line["item"] for line in report.summary["plan_lines"]}


def test_transfer_rules_are_listed_apart_and_not_bought():
    make_short("PW-D37-T7", "sz", 40)  # 15 in Shenzhen, refilled from main
    report = reorder_plan()
    assert ("PW-D37-T7", "sz") not in plan_rows(report)
    transfers = report.sheet("Transfers").rows
    assert [row[:2] for row in transfers] == [["sz", "PW-D37-T7"]]
    assert transfers[0][-1] == expected_needs("transfer")[("PW-D37-T7", "sz")]


def test_only_the_warehouses_asked_for_are_planned():
    make_short("CR-32", "spare", 90)
    report = reorder_plan(["spare"])
    assert {warehouse for _sku, warehouse in plan_rows(report)} == {"spare"}


def test_the_totals_are_the_sum_of_proposed_qty_times_cost():
    make_short("CR-32", "main", 60)
    report = reorder_plan()
    expected = sum(
        Item.objects.get(sku=sku).standard_cost * qty
        for (sku, _code), qty in expected_needs().items()
    )
    assert Decimal(report.summary["total"]) == expected
    assert report.sheet("Plan").totals[14] == report.sheet("By supplier").totals[3] == expected


def test_the_xlsx_totals_rows_show_the_reports_totals():
    make_short("CR-32", "main", 60)
    report = reorder_plan()
    workbook = openpyxl.load_workbook(BytesIO(render_xlsx(report, "en")))
    for sheet in report.sheets:
        if sheet.totals is None:
            continue
        written = [cell.value for cell in list(workbook[sheet.name].iter_rows())[-1]]
        figures = [None if value is None else Decimal(str(value)) for value in written[1:]]
        assert written[0] == "Total" and figures == sheet.totals[1:], sheet.name


def test_the_same_stock_gives_byte_identical_files():
    assert render_xlsx(reorder_plan(), "zh") == render_xlsx(reorder_plan(), "zh")


def test_a_warehouse_with_nothing_short_gives_a_valid_empty_plan():
    make_warehouse(code="calm-wh")
    report = reorder_plan(["calm-wh"])
    assert (report.summary["lines"], report.summary["total"]) == (0, "0.00")
    sheet = openpyxl.load_workbook(BytesIO(render_xlsx(report, "en")))["Plan"]
    assert [cell.value for cell in list(sheet.iter_rows())[-1]][-2:] == [0, None]


def test_an_unknown_warehouse_is_refused():
    with pytest.raises(ReportError, match="nowhere"):
        reorder_plan(["nowhere"])


def test_confirming_the_plan_as_draft_orders_leaves_nothing_to_order():
    report = reorder_plan()
    assert report.summary["plan_lines"]
    create_draft_purchase_orders(report.summary["plan_lines"], None, "test-confirm-plan")
    assert reorder_plan().summary["lines"] == report.summary["unassigned_lines"]


def test_the_plan_costs_the_same_few_queries_however_many_rules_are_short():
    with CaptureQueriesContext(connection) as few:
        reorder_plan(["van1"])
    make_short("CR-32", "main", 60)
    make_short("LS-RC-3000", "main", 9)
    with CaptureQueriesContext(connection) as more:
        reorder_plan()
    assert len(more) <= 5 and len(few) <= len(more)


def test_progress_rises_from_0_to_100():
    calls = []
    reorder_plan(progress=lambda percent, stage: calls.append(percent))
    assert calls == sorted(set(calls)) and (calls[0], calls[-1]) == (0, 100)


def test_an_exception_raised_by_progress_stops_the_plan():
    def cancel(percent, stage):
        if percent > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        reorder_plan(progress=cancel)
    assert not PurchaseOrder.objects.filter(status="draft", request__isnull=False).exists()
