"""The sales report against the demo company: booked orders of a period, added up."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.reporting.report import ReportError
from apps.reporting.xlsx import render_xlsx
from apps.sales.models import SalesOrder, SalesOrderLine
from apps.sales.reports import period_for, sales_report

pytestmark = pytest.mark.django_db

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
NOT_A_SALE = {"draft", "pending_approval", "cancelled"}


class Cancelled(Exception):
    pass


def counted(start, end) -> list[SalesOrder]:
    """The orders a sales report of start…end counts, picked out here one by one."""
    return [
        order
        for order in SalesOrder.objects.all()
        if order.doc_type == "order"
        and order.status not in NOT_A_SALE
        and start <= order.order_date <= end
    ]


def test_the_total_is_the_sum_of_the_counted_orders_grand_totals():
    report = sales_report(*YEAR)
    expected = sum(order.grand_total for order in counted(*YEAR))
    assert Decimal(report.summary["total"]) == expected
    assert report.sheet("By customer").totals[3] == expected
    assert report.sheet("Orders").totals[7] == expected


def test_the_product_total_is_the_sum_of_the_counted_orders_line_amounts():
    report = sales_report(*YEAR)
    lines = SalesOrderLine.objects.filter(order__in=[order.pk for order in counted(*YEAR)])
    expected = sum(line.amount for line in lines)
    assert Decimal(report.summary["lines_amount"]) == expected
    assert report.sheet("By product").totals[5] == expected


def test_each_customer_row_adds_up_that_customers_orders():
    report = sales_report(*YEAR)
    for code, _name, orders, amount, _share in report.sheet("By customer").rows:
        mine = [order for order in counted(*YEAR) if order.customer.code == code]
        assert (orders, amount) == (len(mine), sum(order.grand_total for order in mine)), code


def test_each_product_row_adds_up_that_products_lines():
    report = sales_report(*YEAR)
    orders = [order.pk for order in counted(*YEAR)]
    for sku, _name, _uom, _orders, qty, amount, _share in report.sheet("By product").rows:
        lines = SalesOrderLine.objects.filter(order__in=orders, item__sku=sku)
        assert (qty, amount) == (sum(ln.qty for ln in lines), sum(ln.amount for ln in lines))


def test_quotes_drafts_pending_and_cancelled_orders_are_left_out_and_counted_apart():
    report = sales_report(*YEAR)
    numbers = {row[0] for row in report.sheet("Orders").rows}
    assert not {"QT-2026-0001", "SO-2026-0009", "SO-2026-0008", "SO-2026-0011"} & numbers
    excluded = report.summary["excluded"]
    assert excluded["draft"] >= 1 and excluded["pending_approval"] >= 1
    assert excluded["cancelled"] >= 1


def test_orders_on_hold_count_as_sold():
    numbers = {row[0] for row in sales_report(*YEAR).sheet("Orders").rows}
    assert "SO-2026-0010" in numbers


def test_only_orders_dated_in_the_period_count_both_ends_included():
    report = sales_report(date(2026, 2, 10), date(2026, 3, 2))
    numbers = {row[0] for row in report.sheet("Orders").rows}
    assert {"SO-2026-0001", "SO-2026-0002", "SO-2026-0003"} <= numbers
    assert all(
        date(2026, 2, 10) <= row[1] <= date(2026, 3, 2) for row in report.sheet("Orders").rows
    )


def test_the_summary_says_the_totals_agree_when_every_order_equals_its_lines():
    report = sales_report(date(2026, 2, 1), date(2026, 3, 31))
    assert report.summary["difference"] == "0.00"
    assert report.summary["differing_orders"] == []
    assert "equal" in report.summary["totals_note"]


def test_an_order_total_beyond_its_lines_is_named_in_the_summary():
    order = SalesOrder.objects.get(number="SO-2026-0003")
    order.grand_total += Decimal("500.00")  # freight charged on the order, on no line
    order.save()
    report = sales_report(date(2026, 2, 1), date(2026, 3, 31))
    assert report.summary["difference"] == "500.00"
    assert report.summary["differing_orders"] == ["SO-2026-0003"]
    assert "500.00" in report.summary["totals_note"]
    row = next(row for row in report.sheet("Orders").rows if row[0] == "SO-2026-0003")
    assert row[7] - row[8] == Decimal("500.00")


def test_a_period_without_orders_gives_a_valid_report_with_zero_totals():
    report = sales_report(date(2019, 1, 1), date(2019, 1, 31))
    assert (report.summary["orders"], report.summary["total"]) == (0, "0.00")
    sheet = openpyxl.load_workbook(BytesIO(render_xlsx(report, "en")))["By customer"]
    assert [cell.value for cell in list(sheet.iter_rows())[-1]] == ["Total", None, 0, 0, 0]


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ReportError, match="after it ends"):
        sales_report(date(2026, 3, 1), date(2026, 2, 1))


def test_the_xlsx_totals_rows_show_the_reports_totals():
    report = sales_report(*YEAR)
    workbook = openpyxl.load_workbook(BytesIO(render_xlsx(report, "en")))
    for sheet in report.sheets:
        written = [cell.value for cell in list(workbook[sheet.name].iter_rows())[-1]]
        assert written[0] == "Total"
        figures = [None if value is None else Decimal(str(value)) for value in written[1:]]
        assert figures == sheet.totals[1:], sheet.name


def test_the_same_orders_give_byte_identical_files():
    assert render_xlsx(sales_report(*YEAR), "zh") == render_xlsx(sales_report(*YEAR), "zh")


def test_a_year_costs_the_same_few_queries_as_a_day():
    with CaptureQueriesContext(connection) as day:
        sales_report(date(2026, 2, 10), date(2026, 2, 10))
    with CaptureQueriesContext(connection) as year:
        sales_report(*YEAR)
    assert len(day) == len(year) == 5


def test_progress_rises_from_0_to_100():
    calls = []
    sales_report(*YEAR, progress=lambda percent, stage: calls.append(percent))
    assert calls == sorted(set(calls)) and (calls[0], calls[-1]) == (0, 100)


def test_an_exception_raised_by_progress_stops_the_report():
    def cancel(percent, stage):
        if percent > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        sales_report(*YEAR, progress=cancel)


@pytest.mark.parametrize(
    ("name", "today", "period"),
    [
        ("today", date(2026, 12, 3), (date(2026, 12, 3), date(2026, 12, 3))),
        ("yesterday", date(2026, 1, 1), (date(2025, 12, 31), date(2025, 12, 31))),
        ("this_week", date(2026, 12, 3), (date(2026, 11, 30), date(2026, 12, 6))),
        ("last_week", date(2026, 12, 3), (date(2026, 11, 23), date(2026, 11, 29))),
        ("last_7_days", date(2026, 12, 3), (date(2026, 11, 27), date(2026, 12, 3))),
        ("last_30_days", date(2026, 12, 3), (date(2026, 11, 4), date(2026, 12, 3))),
        ("this_month", date(2026, 2, 14), (date(2026, 2, 1), date(2026, 2, 28))),
        ("last_month", date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31))),
        ("this_quarter", date(2026, 11, 3), (date(2026, 10, 1), date(2026, 12, 31))),
        ("last_quarter", date(2026, 2, 3), (date(2025, 10, 1), date(2025, 12, 31))),
        ("this_year", date(2026, 6, 30), (date(2026, 1, 1), date(2026, 12, 31))),
        ("last_year", date(2026, 6, 30), (date(2025, 1, 1), date(2025, 12, 31))),
    ],
)
def test_a_named_period_is_its_first_and_last_day(name, today, period):
    assert period_for(name, today) == period


def test_an_unknown_period_is_refused_with_the_known_ones():
    with pytest.raises(ReportError, match="this_month"):
        period_for("fortnight", date(2026, 12, 3))
