"""The inventory valuation against the demo company: its figures are the ledger's."""

import json
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.inventory.models import StockLevel
from apps.inventory.reports import inventory_valuation, merge_valuation, valuation_part
from apps.inventory.services import post_stock_move
from apps.inventory.tests.factories import make_item, make_warehouse
from apps.reporting.report import ReportError
from apps.reporting.xlsx import render_xlsx

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


class Cancelled(Exception):
    pass


def stock_value(**filters) -> Decimal:
    """Σ actual × standard cost, added up here row by row."""
    levels = StockLevel.objects.filter(**filters).select_related("item")
    return sum((level.actual_qty * level.item.standard_cost for level in levels), Decimal("0"))


def totals_row(data: bytes, sheet_name: str) -> list:
    sheet = openpyxl.load_workbook(BytesIO(data))[sheet_name]
    return [cell.value for cell in list(sheet.iter_rows())[-1]]


def test_the_total_is_the_sum_of_quantity_times_standard_cost_over_all_stock():
    report = inventory_valuation()
    assert Decimal(report.summary["total_value"]) == stock_value().quantize(CENT)
    assert report.sheet("By warehouse").totals[-1] == stock_value().quantize(CENT)


def test_each_warehouse_is_valued_at_its_own_stock():
    report = inventory_valuation()
    sheet = report.sheet("By warehouse")
    values = {row[0]: row[-1] for row in sheet.rows}
    assert set(values) == {"main", "spare", "sz", "van1"}
    for code, value in values.items():
        assert value == stock_value(warehouse__code=code).quantize(CENT), code


def test_only_the_warehouses_asked_for_are_valued():
    report = inventory_valuation(["spare", "van1"])
    assert report.summary["warehouses"] == ["spare", "van1"]
    expected = stock_value(warehouse__code__in=["spare", "van1"]).quantize(CENT)
    assert Decimal(report.summary["total_value"]) == expected


def test_a_category_values_only_its_items():
    report = inventory_valuation(category="nozzle")
    expected = stock_value(item__category="nozzle").quantize(CENT)
    assert Decimal(report.summary["total_value"]) == expected
    assert {row[3].en for row in report.sheet("Items").rows} == {"Nozzle"}


def test_the_category_sheets_add_up_to_the_total():
    report = inventory_valuation()
    total = Decimal(report.summary["total_value"])
    assert sum(row[-1] for row in report.sheet("By warehouse and category").rows) == total
    assert sum(row[3] for row in report.sheet("By category").rows) == total


def test_the_item_sheet_lists_every_stock_row_with_stock_at_its_value():
    report = inventory_valuation()
    rows = report.sheet("Items").rows
    assert len(rows) == StockLevel.objects.exclude(actual_qty=0).count()
    pw_main = next(row for row in rows if row[:2] == ["main", "PW-D37-T7"])
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    assert pw_main[5:] == [level.actual_qty, level.item.standard_cost, level.actual_qty * 18]
    assert sum(row[-1] for row in rows).quantize(CENT) == report.sheet("Items").totals[-1]


def test_the_xlsx_totals_row_shows_the_reports_totals():
    report = inventory_valuation()
    data = render_xlsx(report, "en")
    for sheet in report.sheets:
        written = totals_row(data, sheet.name)
        assert written[0] == "Total"
        figures = [None if cell is None else Decimal(str(cell)) for cell in written[1:]]
        assert figures == sheet.totals[1:], sheet.name


def test_the_same_stock_gives_byte_identical_files():
    first = render_xlsx(inventory_valuation(), "zh")
    assert render_xlsx(inventory_valuation(), "zh") == first


def test_a_stock_move_changes_the_file():
    before = render_xlsx(inventory_valuation(["main"]), "zh")
    post_stock_move(
        item=StockLevel.objects.filter(warehouse__code="main").first().item,
        warehouse=StockLevel.objects.filter(warehouse__code="main").first().warehouse,
        qty=1,
        voucher_type="receipt",
    )
    assert render_xlsx(inventory_valuation(["main"]), "zh") != before


def test_an_empty_warehouse_gives_a_valid_report_with_zero_totals():
    make_warehouse(code="empty-wh")
    report = inventory_valuation(["empty-wh"])
    assert report.summary["total_value"] == "0.00"
    assert report.sheet("Items").rows == []
    assert totals_row(render_xlsx(report, "en"), "By warehouse") == ["Total", None, 0, 0]


def test_stock_of_an_item_with_no_cost_counts_at_zero():
    item = make_item(sku="TEST-FREE", standard_cost=Decimal("0"))
    warehouse = make_warehouse(code="free-wh")
    post_stock_move(item=item, warehouse=warehouse, qty=5, voucher_type="receipt")
    report = inventory_valuation(["free-wh"])
    assert report.sheet("Items").rows[0][5:] == [Decimal("5.000"), Decimal("0.00"), Decimal("0")]
    assert report.summary["total_value"] == "0.00"


def test_an_unknown_warehouse_is_refused_by_name():
    with pytest.raises(ReportError, match="nowhere"):
        inventory_valuation(["main", "nowhere"])


def test_an_unknown_category_is_refused():
    with pytest.raises(ReportError, match="category"):
        inventory_valuation(category="lasers")


def test_parts_travel_as_json_and_merge_in_any_order_to_the_same_report():
    parts = [json.loads(json.dumps(valuation_part(code))) for code in ["van1", "main", "sz"]]
    merged = merge_valuation(parts)
    assert render_xlsx(merged, "zh") == render_xlsx(inventory_valuation(["main", "sz", "van1"]))


def test_a_warehouse_costs_the_same_few_queries_however_many_rows_it_has():
    with CaptureQueriesContext(connection) as small:
        valuation_part("van1")
    with CaptureQueriesContext(connection) as large:
        valuation_part("main")
    assert len(small) == len(large) <= 3


def test_progress_rises_to_100_with_a_step_per_warehouse():
    calls = []
    inventory_valuation(progress=lambda percent, stage: calls.append((percent, stage)))
    percents = [percent for percent, _stage in calls]
    assert percents == sorted(percents)
    assert percents[0] == 0 and percents[-1] == 100
    assert len(calls) == 4 + 2


def test_an_exception_raised_by_progress_stops_the_report():
    def cancel_after_first_warehouse(percent, stage):
        if stage.startswith("valued"):
            raise Cancelled

    with pytest.raises(Cancelled):
        inventory_valuation(progress=cancel_after_first_warehouse)
