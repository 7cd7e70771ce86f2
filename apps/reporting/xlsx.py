"""A Report as an XLSX workbook (openpyxl): one tab per sheet, in the reader's language.

Header row bold and frozen, columns sized to their contents, numbers formatted by kind
(qty, ¥ money, percent, date), and the totals row written as values, not formulas, so any
reader (openpyxl included, which does not calculate) sees the figures.

The bytes depend only on the report and the language: workbook times are fixed and the
archive is repacked with fixed entry times, so a cache can compare or reuse files.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring

from .report import Column, Label, Report, Sheet

MAX_SHEET_NAME = 31
FORBIDDEN_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
FIXED_MOMENT = datetime(2026, 1, 1)
ZIP_MOMENT = (2026, 1, 1, 0, 0, 0)
CREATOR = "better_laser_erp"
NUMBER_FORMATS = {
    "money": '"¥"#,##0.00',
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
}
WHOLE_QTY = "#,##0"
PART_QTY = "#,##0.###"
TOTAL_LABEL = {"zh": "合计", "en": "Total"}
# Column widths are measured on the first rows (and the totals): enough to size them, and
# a sheet of 300,000 rows is not read twice.
ROWS_MEASURED = 2000
MIN_WIDTH, MAX_WIDTH = 8, 60
BOLD = Font(bold=True)


def render_xlsx(report: Report, language: str = "zh") -> bytes:
    """The report as the bytes of an .xlsx file, titles and labels in `language` (zh/en)."""
    workbook = Workbook(write_only=True)
    sheets = report.sheets or [Sheet(name="Report", columns=[], rows=[])]
    for sheet, name in zip(sheets, sheet_names(sheets, language), strict=True):
        _write_sheet(workbook.create_sheet(name), sheet, language)
    workbook.properties.title = report.title_in(language)
    workbook.properties.creator = CREATOR
    workbook.properties.created = FIXED_MOMENT
    buffer = BytesIO()
    workbook.save(buffer)
    # Saving stamps the modified time and each archive entry's time: both are fixed here.
    workbook.properties.modified = FIXED_MOMENT
    return _repacked(
        buffer.getvalue(), {"docProps/core.xml": tostring(workbook.properties.to_tree())}
    )


def sheet_names(sheets: list[Sheet], language: str) -> list[str]:
    """Each sheet's title made a valid, unique Excel tab name (≤ 31 characters)."""
    names: list[str] = []
    taken: set[str] = set()
    for sheet in sheets:
        base = FORBIDDEN_IN_SHEET_NAME.sub(" ", sheet.title(language)).strip().strip("'")
        base = base[:MAX_SHEET_NAME].strip() or "Sheet"
        name, number = base, 2
        while name.lower() in taken:  # Excel compares tab names case-insensitively
            suffix = f" ({number})"
            name = base[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
            number += 1
        taken.add(name.lower())
        names.append(name)
    return names


def _write_sheet(worksheet, sheet: Sheet, language: str) -> None:
    for index, width in enumerate(_widths(sheet, language), 1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = "A2"
    worksheet.append([_bold(worksheet, column.title(language)) for column in sheet.columns])
    for row in sheet.rows:
        worksheet.append(
            [
                _cell(worksheet, column, value, language)
                for column, value in zip(sheet.columns, row, strict=True)
            ]
        )
    if sheet.totals is not None:
        totals = list(sheet.totals)
        if sheet.columns and totals[0] is None and sheet.columns[0].kind == "text":
            totals[0] = TOTAL_LABEL.get(language, TOTAL_LABEL["en"])
        worksheet.append(
            [
                _cell(worksheet, column, value, language, bold=True)
                for column, value in zip(sheet.columns, totals, strict=True)
            ]
        )


def _bold(worksheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(worksheet, value=value)
    cell.font = BOLD
    return cell


def _cell(worksheet, column: Column, value: Any, language: str, bold: bool = False) -> Any:
    """A plain value where no style is needed (fast), else a styled cell."""
    if isinstance(value, Label):
        value = value.in_language(language)
    elif column.kind == "text" and value is not None and not isinstance(value, str):
        value = str(value)
    numeric = column.kind != "text" and value is not None
    if not (numeric or bold):
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    if numeric:
        cell.number_format = _number_format(column.kind, value)
    if bold:
        cell.font = BOLD
    return cell


def _number_format(kind: str, value: Any) -> str:
    if kind == "qty":
        whole = isinstance(value, int) or (
            isinstance(value, Decimal) and value == value.to_integral()
        )
        return WHOLE_QTY if whole else PART_QTY
    return NUMBER_FORMATS[kind]


def _widths(sheet: Sheet, language: str) -> list[float]:
    measured = sheet.rows[:ROWS_MEASURED] + ([sheet.totals] if sheet.totals else [])
    widths = []
    for index, column in enumerate(sheet.columns):
        longest = _display_width(column.title(language))
        for row in measured:
            longest = max(longest, _display_width(_shown(column.kind, row[index], language)))
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))))
    return widths


def _shown(kind: str, value: Any, language: str) -> str:
    """Roughly the text Excel shows for a value: what its column must be wide enough for."""
    if value is None:
        return ""
    if isinstance(value, Label):
        return value.in_language(language)
    if kind == "money":
        return f"¥{value:,.2f}"
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "qty":
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _display_width(text: str) -> int:
    """Characters as wide as they print: CJK and other wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _repacked(archive: bytes, replaced: dict[str, bytes]) -> bytes:
    """The zip archive again with fixed entry times and some entries' contents replaced."""
    out = BytesIO()
    with ZipFile(BytesIO(archive)) as source, ZipFile(out, "w", ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = ZipInfo(entry.filename, date_time=ZIP_MOMENT)
            fixed.compress_type = ZIP_DEFLATED
            fixed.external_attr = entry.external_attr
            target.writestr(fixed, replaced.get(entry.filename, source.read(entry.filename)))
    return out.getvalue()
