"""render_xlsx: a workbook any reader opens, figures as values, the same bytes every time."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest

from apps.reporting.report import Column, Label, Report, Sheet
from apps.reporting.xlsx import render_xlsx, sheet_names

COLUMNS = [
    Column("sku", "编码", "SKU"),
    Column("name", "名称", "Name"),
    Column("qty", "数量", "Qty", "qty"),
    Column("value", "金额", "Value", "money"),
    Column("share", "占比", "Share", "percent"),
    Column("day", "日期", "Date", "date"),
]
ROWS = [
    ["PW-D37-T7", Label("保护镜", "Protective window"), Decimal("8"), Decimal("144.00"),
     Decimal("0.25"), date(2026, 11, 2)],
    ["CL-5M", Label("光纤线缆", "Fibre cable"), Decimal("2.5"), Decimal("432.10"),
     Decimal("0.75"), None],
]  # fmt: skip
TOTALS = [None, None, None, Decimal("576.10"), Decimal("1"), None]


def report(**changes) -> Report:
    sheet = Sheet(name="Detail", name_zh="明细", columns=COLUMNS, rows=ROWS, totals=TOTALS)
    fields = {"title": "Test report", "filename": "test.xlsx", "sheets": [sheet], "summary": {}}
    return Report(**{**fields, **changes})


def opened(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(BytesIO(data))


def test_the_workbook_opens_with_the_sheet_titled_in_the_readers_language():
    assert opened(render_xlsx(report(), "zh")).sheetnames == ["明细"]
    assert opened(render_xlsx(report(), "en")).sheetnames == ["Detail"]


def test_the_header_row_is_bold_and_frozen_with_titles_in_the_language():
    sheet = opened(render_xlsx(report(), "en")).active
    assert [cell.value for cell in sheet[1]] == ["SKU", "Name", "Qty", "Value", "Share", "Date"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"


def test_labels_are_written_in_the_readers_language():
    sheet = opened(render_xlsx(report(), "zh")).active
    assert [sheet["B2"].value, sheet["B3"].value] == ["保护镜", "光纤线缆"]


def test_numbers_are_formatted_by_the_kind_of_their_column():
    sheet = opened(render_xlsx(report(), "zh")).active
    formats = [cell.number_format for cell in sheet[2]][2:]
    assert formats == ["#,##0", '"¥"#,##0.00', "0.0%", "yyyy-mm-dd"]
    assert sheet["C3"].number_format == "#,##0.###"


def test_the_totals_row_holds_values_not_formulas_and_is_labelled():
    sheet = opened(render_xlsx(report(), "en")).active
    totals = [cell.value for cell in sheet[4]]
    assert totals == ["Total", None, None, 576.1, 1, None]
    assert Decimal(str(totals[3])) == TOTALS[3]
    assert all(cell.font.b for cell in sheet[4])


def test_columns_are_sized_to_their_contents():
    sheet = opened(render_xlsx(report(), "zh")).active
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["C"].width


def test_the_same_report_gives_the_same_bytes():
    assert render_xlsx(report(), "zh") == render_xlsx(report(), "zh")


def test_another_figure_gives_other_bytes():
    changed = report(sheets=[Sheet("Detail", COLUMNS, ROWS[:1], TOTALS)])
    assert render_xlsx(changed, "zh") != render_xlsx(report(), "zh")


def test_the_workbook_carries_the_title_and_fixed_times():
    properties = opened(render_xlsx(report(title_zh="测试报表"), "zh")).properties
    assert properties.title == "测试报表"
    assert properties.created == properties.modified


def test_sheet_names_are_made_valid_unique_and_at_most_31_characters():
    sheets = [
        Sheet("Sales by customer / product [2026]: all", [], []),
        Sheet("Sales by customer / product [2026]: ALL", [], []),
        Sheet("", [], []),
    ]
    names = sheet_names(sheets, "en")
    assert all(len(name) <= 31 for name in names)
    assert len({name.lower() for name in names}) == 3
    assert not any(char in name for name in names for char in "[]:*?/\\")


def test_a_report_without_rows_still_opens():
    empty = report(sheets=[Sheet("Detail", COLUMNS, [], [None, None, None, 0, 0, None])])
    sheet = opened(render_xlsx(empty, "en")).active
    assert [cell.value for cell in sheet[2]] == ["Total", None, None, 0, 0, None]


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="row 1"):
        Sheet("Detail", COLUMNS, [["only one cell"]])


def test_an_unknown_column_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Column("x", "x", "x", "currency")
