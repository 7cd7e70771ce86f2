"""Inventory reports: the stock valuation, quantity on hand × standard cost.

Read-only and set-based: one warehouse is two queries (its stock rows, and its totals per
category grouped in SQL), whatever its size. The valuation is built per warehouse
(`valuation_part`, a JSON-serialisable dict, so parts can be made in parallel by separate
workers) and merged (`merge_valuation`); `inventory_valuation` does both in one process.

Value = StockLevel.actual_qty × Item.standard_cost, over every stock row with stock (items
inactive or not: what is on the shelf has a value). Totals are rounded to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum

from apps.reporting.progress import Progress, no_progress, step_percent
from apps.reporting.report import Column, Label, Report, ReportError, Sheet

from .models import Item, StockLevel, Warehouse

ZERO = Decimal("0")
CENT = Decimal("0.01")
SHARE = Decimal("0.0001")
MILLI = Decimal("0.001")
# qty (3 places) × cost (2 places), summed over many rows.
VALUE_FIELD = DecimalField(max_digits=28, decimal_places=5)
CATEGORY_EN = dict(Item.Category.choices)
CATEGORY_ZH = {
    "cutting_machine": "切割机",
    "welding_machine": "焊接机",
    "marking_machine": "打标机",
    "laser_source": "激光器",
    "lens": "镜片",
    "nozzle": "喷嘴",
    "protective_window": "保护镜",
    "cutting_head": "切割头",
    "chiller": "冷水机",
    "other": "其他",
}
CATEGORY_LABELS = {key: Label(CATEGORY_ZH.get(key, en), en) for key, en in CATEGORY_EN.items()}
# The filename names the warehouses up to this many, else counts them.
NAMED_WAREHOUSES = 3


def category_label(category: str) -> Label:
    label = CATEGORY_LABELS.get(category)
    return label if label else Label(category, category)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- one warehouse ------------------------------------------------------------------------


def valuation_part(warehouse_code: str, category: str | None = None) -> dict[str, Any]:
    """One warehouse's stock value: its rows with stock and its totals per category.

    JSON-serialisable (quantities and money as strings), so it can travel between workers.
    """
    check_category(category)
    warehouse = Warehouse.objects.filter(code=warehouse_code).first()
    if warehouse is None:
        raise ReportError(f"No warehouse with code {warehouse_code!r}.")
    levels = StockLevel.objects.filter(warehouse=warehouse).exclude(actual_qty=0)
    if category:
        levels = levels.filter(item__category=category)
    value = ExpressionWrapper(F("actual_qty") * F("item__standard_cost"), output_field=VALUE_FIELD)
    by_category = (
        levels.order_by()
        .values("item__category")
        .annotate(lines=Count("id"), qty=Sum("actual_qty"), value=Sum(value))
        .order_by("item__category")
    )
    items = levels.order_by("item__sku").values_list(
        "item__sku",
        "item__name",
        "item__name_zh",
        "item__category",
        "item__stock_uom",
        "item__currency",
        "actual_qty",
        "item__standard_cost",
    )
    categories = [
        {
            "category": row["item__category"],
            "lines": row["lines"],
            "qty": str(row["qty"].quantize(MILLI)),
            "value": str(cents(row["value"])),
        }
        for row in by_category
    ]
    return {
        "warehouse": {"code": warehouse.code, "name": warehouse.name, "name_zh": warehouse.name_zh},
        "category": category,
        "by_category": categories,
        "items": [
            {
                "sku": sku,
                "name": name,
                "name_zh": name_zh,
                "category": item_category,
                "uom": uom,
                "currency": currency,
                "qty": str(qty),
                "standard_cost": str(cost),
                "value": str(qty * cost),
            }
            for sku, name, name_zh, item_category, uom, currency, qty, cost in items
        ],
        "lines": sum(row["lines"] for row in categories),
        "value": str(cents(sum((Decimal(row["value"]) for row in categories), ZERO))),
    }


def check_category(category: str | None) -> None:
    if category and category not in CATEGORY_EN:
        raise ReportError(f"Unknown item category {category!r}; one of {', '.join(CATEGORY_EN)}.")


def valued_warehouses(warehouse_codes: Iterable[str] | None) -> list[str]:
    """The codes asked for, checked; without any, every active warehouse and any inactive one
    that still holds stock."""
    if warehouse_codes is None:
        holding = Q(active=True) | Q(stock_levels__actual_qty__gt=0)
        return list(
            Warehouse.objects.filter(holding)
            .distinct()
            .order_by("code")
            .values_list("code", flat=True)
        )
    codes = list(dict.fromkeys(warehouse_codes))
    known = set(Warehouse.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ReportError(f"No warehouse with code {', '.join(unknown)}.")
    return codes


# --- the whole report ---------------------------------------------------------------------

WAREHOUSE_COLUMNS = [
    Column("warehouse", "仓库", "Warehouse"),
    Column("warehouse_name", "仓库名称", "Warehouse name"),
    Column("lines", "库存行数", "Stock lines", "qty"),
    Column("value", "库存金额", "Stock value", "money"),
]
WAREHOUSE_CATEGORY_COLUMNS = [
    Column("warehouse", "仓库", "Warehouse"),
    Column("category", "类别", "Category"),
    Column("lines", "库存行数", "Stock lines", "qty"),
    Column("qty", "数量", "Quantity", "qty"),
    Column("value", "库存金额", "Stock value", "money"),
]
CATEGORY_COLUMNS = [
    Column("category", "类别", "Category"),
    Column("lines", "库存行数", "Stock lines", "qty"),
    Column("qty", "数量", "Quantity", "qty"),
    Column("value", "库存金额", "Stock value", "money"),
    Column("share", "占比", "Share", "percent"),
]
ITEM_COLUMNS = [
    Column("warehouse", "仓库", "Warehouse"),
    Column("sku", "物料编码", "SKU"),
    Column("name", "名称", "Name"),
    Column("category", "类别", "Category"),
    Column("uom", "单位", "Unit"),
    Column("qty", "数量", "Quantity", "qty"),
    Column("standard_cost", "标准成本", "Standard cost", "money"),
    Column("value", "库存金额", "Stock value", "money"),
]


def merge_valuation(parts: list[dict[str, Any]], category: str | None = None) -> Report:
    """The valuation report from the parts of its warehouses (in any order)."""
    parts = sorted(parts, key=lambda part: part["warehouse"]["code"])
    total = cents(sum((Decimal(part["value"]) for part in parts), ZERO))
    lines = sum(part["lines"] for part in parts)
    by_warehouse = Sheet(
        name="By warehouse",
        name_zh="按仓库",
        columns=WAREHOUSE_COLUMNS,
        rows=[
            [
                part["warehouse"]["code"],
                Label(part["warehouse"]["name_zh"], part["warehouse"]["name"]),
                part["lines"],
                Decimal(part["value"]),
            ]
            for part in parts
        ],
        totals=[None, None, lines, total],
    )
    by_warehouse_category = Sheet(
        name="By warehouse and category",
        name_zh="按仓库和类别",
        columns=WAREHOUSE_CATEGORY_COLUMNS,
        rows=[
            [
                part["warehouse"]["code"],
                category_label(row["category"]),
                row["lines"],
                Decimal(row["qty"]),
                Decimal(row["value"]),
            ]
            for part in parts
            for row in part["by_category"]
        ],
        totals=[None, None, lines, None, total],
    )
    categories: dict[str, dict[str, Any]] = {}
    for part in parts:
        for row in part["by_category"]:
            entry = categories.setdefault(row["category"], {"lines": 0, "qty": ZERO, "value": ZERO})
            entry["lines"] += row["lines"]
            entry["qty"] += Decimal(row["qty"])
            entry["value"] += Decimal(row["value"])
    ranked = sorted(categories.items(), key=lambda pair: (-pair[1]["value"], pair[0]))
    by_category = Sheet(
        name="By category",
        name_zh="按类别",
        columns=CATEGORY_COLUMNS,
        rows=[
            [
                category_label(name),
                entry["lines"],
                entry["qty"],
                entry["value"],
                (entry["value"] / total).quantize(SHARE) if total else ZERO,
            ]
            for name, entry in ranked
        ],
        totals=[None, lines, None, total, Decimal(1) if total else ZERO],
    )
    items = Sheet(
        name="Items",
        name_zh="明细",
        columns=ITEM_COLUMNS,
        rows=[
            [
                part["warehouse"]["code"],
                row["sku"],
                Label(row["name_zh"], row["name"]),
                category_label(row["category"]),
                row["uom"],
                Decimal(row["qty"]),
                Decimal(row["standard_cost"]),
                Decimal(row["value"]),
            ]
            for part in parts
            for row in part["items"]
        ],
        totals=[None, None, None, None, None, None, None, total],
    )
    codes = [part["warehouse"]["code"] for part in parts]
    currencies = sorted({row["currency"] for part in parts for row in part["items"]})
    return Report(
        title=_title(category, "en"),
        title_zh=_title(category, "zh"),
        filename=_filename(codes, category),
        sheets=[by_warehouse, by_warehouse_category, by_category, items],
        summary={
            "report": "inventory_valuation",
            "warehouses": codes,
            "category": category,
            "lines": lines,
            "total_value": str(total),
            "currencies": currencies,
            "by_warehouse": [
                {"warehouse": part["warehouse"]["code"], "value": part["value"]} for part in parts
            ],
            "top_categories": [
                {"category": name, "value": str(entry["value"])} for name, entry in ranked[:5]
            ],
        },
    )


def inventory_valuation(
    warehouse_codes: list[str] | None = None,
    category: str | None = None,
    progress: Progress = no_progress,
) -> Report:
    """The stock value of these warehouses (all when None), of one item category or all."""
    check_category(category)
    progress(0, "finding warehouses")
    codes = valued_warehouses(warehouse_codes)
    parts = []
    for done, code in enumerate(codes, 1):
        parts.append(valuation_part(code, category))
        progress(step_percent(done, len(codes)), f"valued warehouse {code}")
    report = merge_valuation(parts, category)
    progress(100, "done")
    return report


def _title(category: str | None, language: str) -> str:
    if language == "zh":
        return "库存估值" + (f"：{CATEGORY_ZH.get(category, category)}" if category else "")
    return "Inventory valuation" + (f": {CATEGORY_EN.get(category, category)}" if category else "")


def _filename(codes: list[str], category: str | None) -> str:
    if not codes:
        where = "none"
    elif len(codes) <= NAMED_WAREHOUSES:
        where = "-".join(codes)
    else:
        where = f"{len(codes)}-warehouses"
    return f"inventory-valuation-{where}{'-' + category if category else ''}.xlsx"
