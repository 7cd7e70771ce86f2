"""What a report is, apart from how it is written: plain data a builder returns and
apps.reporting.xlsx renders.

A report is a few sheets of typed columns and rows of values, with an optional totals row,
and a JSON-serialisable summary the chat can word an answer from. Values are plain Python:
str (or Label, text in both languages), Decimal or int for qty/money, Decimal fractions for
percent (0.25 is 25 %), date for date, None for an empty cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("text", "qty", "money", "percent", "date")


class ReportError(ValueError):
    """The report cannot be made as asked (an unknown warehouse, say); safe to show."""


@dataclass(frozen=True)
class Label:
    """Text shown in the reader's language: a name_zh / name pair, a status label."""

    zh: str
    en: str

    def in_language(self, language: str) -> str:
        return (self.zh or self.en) if language == "zh" else (self.en or self.zh)


@dataclass(frozen=True)
class Column:
    key: str
    title_zh: str
    title_en: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Column {self.key!r}: kind {self.kind!r} is not one of {KINDS}.")

    def title(self, language: str) -> str:
        return self.title_zh if language == "zh" else self.title_en


@dataclass
class Sheet:
    """One tab. `totals`, when given, has one value per column (None where nothing adds up)."""

    name: str
    columns: list[Column]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    name_zh: str = ""

    def __post_init__(self) -> None:
        width = len(self.columns)
        if self.totals is not None and len(self.totals) != width:
            raise ValueError(f"Sheet {self.name!r}: totals have {len(self.totals)} cells.")
        for number, row in enumerate(self.rows, 1):
            if len(row) != width:
                raise ValueError(f"Sheet {self.name!r}: row {number} has {len(row)} cells.")

    def title(self, language: str) -> str:
        return (self.name_zh or self.name) if language == "zh" else self.name


@dataclass
class Report:
    title: str
    filename: str
    sheets: list[Sheet]
    summary: dict[str, Any] = field(default_factory=dict)
    title_zh: str = ""

    def sheet(self, name: str) -> Sheet:
        return next(sheet for sheet in self.sheets if sheet.name == name)

    def title_in(self, language: str) -> str:
        return (self.title_zh or self.title) if language == "zh" else self.title
