"""Inventory tools: products, stock per warehouse, low stock, machine warranties, reservations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.db import transaction
from django.db.models import (
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz, process

from apps.inventory import services
from apps.inventory.models import QTY, Item, ReorderRule, SerialNumber, StockLevel, Warehouse
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine
from apps.service.models import ServiceTicket

from ._reply import capped, iso, label, listing, mask_name, max_rows, pick
from .lookup import find_items, resolve_item, resolve_warehouse, spellings
from .registry import Preview, Tool, ToolContext, ToolError, ToolInputError, number, register
from .sales import resolve_visible_order

ZERO = Decimal("0")
QTY_FIELD = DecimalField(**QTY)
KEY_SPECS = (
    "power_w",
    "wavelength_nm",
    "diameter_mm",
    "thickness_mm",
    "focal_length_mm",
    "thread",
    "working_area_mm",
)
# How a product card names a spec, and its unit.
SPEC_WORDS = {
    "power_w": ("功率", "power", "W"),
    "max_power_w": ("最大功率", "max power", "W"),
    "wavelength_nm": ("波长", "wavelength", "nm"),
    "diameter_mm": ("直径", "diameter", "mm"),
    "thickness_mm": ("厚度", "thickness", "mm"),
    "focal_length_mm": ("焦距", "focal length", "mm"),
    "thread": ("螺纹", "thread", ""),
    "working_area_mm": ("幅面", "working area", "mm"),
    "bed_mm": ("幅面", "bed", "mm"),
}
WARRANTY_LABELS_EN = dict(SerialNumber.WarrantyStatus.choices)
CATEGORY_LABELS_EN = dict(Item.Category.choices)


def _item_ref(item: Item) -> dict[str, Any]:
    return {"sku": item.sku, "name": item.name, "name_zh": item.name_zh, "uom": item.stock_uom}


def _item_words(row: dict[str, Any], language: str) -> str:
    name = row.get("name_zh") if language == "zh" else row.get("name")
    return f"{row['sku']} {name or row.get('name') or ''}".strip()


def _warehouse_words(row: dict[str, Any], language: str) -> str:
    name = row.get("warehouse_name_zh") if language == "zh" else row.get("warehouse_name")
    return f"{row['warehouse']} {name or ''}".strip()


def _spec_words(specs: dict[str, Any], language: str) -> list[str]:
    """Specs as a product card says them: "功率 6000 W", "thread M11"."""
    words = []
    for key, value in specs.items():
        name_zh, name_en, unit = SPEC_WORDS.get(key, (key, key, ""))
        words.append(f"{pick(language, name_zh, name_en)} {value}{' ' + unit if unit else ''}")
    return words


def _open_purchases(item_ids, warehouse_ids=None) -> dict[tuple[int, int], dict[str, Any]]:
    """Open PO quantity and earliest expected date per (item, warehouse)."""
    lines = PurchaseOrderLine.objects.filter(
        item_id__in=item_ids, order__status__in=PurchaseOrder.OPEN_STATUSES
    )
    if warehouse_ids is not None:
        lines = lines.filter(warehouse_id__in=warehouse_ids)
    totals: dict[tuple[int, int], dict[str, Any]] = {}
    for line in lines.select_related("order"):
        key = (line.item_id, line.warehouse_id)
        entry = totals.setdefault(key, {"qty": ZERO, "eta": None, "orders": []})
        entry["qty"] += line.open_qty
        expected = line.order.expected_date
        if expected and (entry["eta"] is None or expected < entry["eta"]):
            entry["eta"] = expected
        if line.order.number not in entry["orders"]:
            entry["orders"].append(line.order.number)
    return totals


# ---------------------------------------------------------------------------- find_product


class FindProductParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=100,
        description="SKU, English or Chinese name, or alias, e.g. 'PW-D37-T7', '保护镜', "
        "'focus lens'.",
    )
    category: Item.Category | None = Field(
        None, description="Only items of this category, e.g. 'nozzle' or 'laser_source'."
    )
    limit: int = Field(10, ge=1, le=50, description="At most this many items.")


@register
class FindProduct(Tool):
    name = "find_product"
    description_en = (
        "Find products by SKU, name or alias: sku, names, category, key specs and list price."
    )
    description_zh = "按物料编码、名称或别名查找产品：编码、名称、类别、主要规格和标价。"
    Params = FindProductParams
    permission = "inventory.view_item"
    topic = {"zh": "查询产品资料", "en": "look up products"}
    examples = {
        "zh": ["有没有1.5的喷嘴"],
        "en": ["find nozzle"],
    }
    slots = {"query": "item"}
    help_rank = 3

    def run(self, ctx: ToolContext, params: FindProductParams) -> dict[str, Any]:
        show_cost = ctx.user.has_perm("inventory.view_cost")
        matches = [item for item, _score in find_items(params.query, limit=200)]
        if params.category:
            matches = [item for item in matches if item.category == params.category]
        rows = []
        for item in matches[: params.limit]:
            row = {
                **_item_ref(item),
                "category": item.category,
                "item_type": item.item_type,
                "brand": item.brand,
                "model": item.model,
                "specs": {key: item.specs[key] for key in KEY_SPECS if key in item.specs},
                "all_specs": dict(item.specs or {}),
                "list_price": number(item.list_price),
                "currency": item.currency,
                "has_serial_no": item.has_serial_no,
                "warranty_months": item.warranty_months,
            }
            if show_cost:
                row["standard_cost"] = number(item.standard_cost)
            rows.append(row)
        return {"query": params.query, "count": len(matches), "items": rows}

    def render(self, data: dict[str, Any], language: str) -> str:
        if not data["items"]:
            return pick(
                language,
                f"没有找到与“{data['query']}”匹配的产品。",
                f"No product matches “{data['query']}”.",
            )
        if data["count"] == 1:
            return self._card(data["items"][0], language)
        lines = []
        for row in data["items"]:
            specs = ", ".join(f"{key}={value}" for key, value in row["specs"].items())
            price = pick(language, "标价", "list price")
            colon = pick(language, "：", ": ")
            line = f"- {_item_words(row, language)}{colon}"
            line += f"{price} {row['list_price']} {row['currency']}/{row['uom']}"
            if "standard_cost" in row:
                line += pick(language, "，成本 ", ", cost ") + f"{row['standard_cost']}"
            if specs:
                line += f" ({specs})"
            lines.append(line)
        header = pick(language, "找到以下产品：", "Products found:")
        return listing(header, lines, len(data["items"]), language)

    @staticmethod
    def _card(row: dict[str, Any], language: str) -> str:
        """One product: what it is, its kind and unit, specs, price and warranty."""
        other_name = row["name"] if language == "zh" else row["name_zh"]
        title = _item_words(row, language)
        if other_name and other_name not in title:
            title += pick(language, f"（{other_name}）", f" ({other_name})")
        kind = label(row["category"], language, CATEGORY_LABELS_EN)
        spec_words = _spec_words(row.get("all_specs", row["specs"]), language)
        price = f"{row['list_price']} {row['currency']}/{row['uom']}"
        if language == "zh":
            lines = [title, f"类别：{kind}，单位：{row['uom']}，品牌：{row['brand'] or '-'}"]
            if spec_words:
                lines.append("规格：" + "，".join(spec_words))
            lines.append(f"标价：{price}")
            if "standard_cost" in row:
                lines[-1] += f"，成本 {row['standard_cost']} {row['currency']}"
            if row["warranty_months"]:
                lines.append(f"保修：{row['warranty_months']} 个月")
            return "\n".join(lines)
        lines = [title, f"Category: {kind}, unit: {row['uom']}, brand: {row['brand'] or '-'}"]
        if spec_words:
            lines.append("Specs: " + ", ".join(spec_words))
        lines.append(f"List price: {price}")
        if "standard_cost" in row:
            lines[-1] += f", cost {row['standard_cost']} {row['currency']}"
        if row["warranty_months"]:
            lines.append(f"Warranty: {row['warranty_months']} months")
        return "\n".join(lines)

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['count']} items: " + ", ".join(row["sku"] for row in data["items"][:10])


# ---------------------------------------------------------------------- check_inventory_stock


class CheckStockParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str | None = Field(
        None,
        max_length=100,
        description="The item: SKU, name or alias, e.g. 'PW-D37-T7' or '保护镜'. "
        "Omit to list a whole warehouse.",
    )
    warehouse: str | None = Field(
        None,
        max_length=60,
        description="Warehouse code or name, e.g. 'main', '备件仓'. Omit for all warehouses.",
    )
    category: Item.Category | None = Field(
        None,
        description="Instead of one item, every item of this category, e.g. 'nozzle' for "
        "'how many nozzles in sz'.",
    )

    @model_validator(mode="after")
    def _needs_item_or_warehouse(self):
        if not self.item and not self.warehouse and not self.category:
            raise ValueError("give an item, a category or a warehouse")
        if self.item and self.category:
            raise ValueError("give an item or a category, not both")
        return self


def _reorder_levels(item_ids) -> dict[tuple[int, int], Decimal]:
    rules = ReorderRule.objects.filter(item_id__in=item_ids)
    return {(rule.item_id, rule.warehouse_id): rule.reorder_level for rule in rules}


@register
class CheckInventoryStock(Tool):
    name = "check_inventory_stock"
    description_en = (
        "Stock of an item (or of every item of a category) per warehouse (actual, reserved, "
        "available, ordered, projected, reorder level), or everything in one warehouse."
    )
    description_zh = (
        "查询物料（或某类物料）在各仓库的库存（实际、预留、可用、在途、预计、补货点），"
        "或某仓库的全部库存。"
    )
    Params = CheckStockParams
    permission = "inventory.view_stocklevel"
    topic = {"zh": "查询库存", "en": "check stock"}
    examples = {
        "zh": ["主仓库 保护镜 还有多少", "NZ-S1.5 库存"],
        "en": ["check stock of NZ-S1.5", "how many cutting heads in sz"],
    }
    slots = {"item": "item", "warehouse": "warehouse"}
    help_rank = 1

    def run(self, ctx: ToolContext, params: CheckStockParams) -> dict[str, Any]:
        item = resolve_item(params.item) if params.item else None
        warehouse = resolve_warehouse(params.warehouse) if params.warehouse else None
        levels = StockLevel.objects.filter(warehouse__active=True, item__active=True)
        if item:
            levels = levels.filter(item=item)
        if warehouse:
            levels = levels.filter(warehouse=warehouse)
        if params.category:
            levels = levels.filter(item__category=params.category)
        levels = levels.select_related("item", "warehouse")
        if item:
            # A row per warehouse, all of them: the item's totals add them up.
            levels = list(levels)
            count = len(levels)
        else:
            # A warehouse may hold thousands of items: only the rows the reply shows are
            # read, the count comes from the database.
            count = levels.count()
            levels = list(levels[: max_rows()])
        reorder = _reorder_levels({level.item_id for level in levels})
        rows, totals = [], {}
        for level in levels:
            reorder_level = reorder.get((level.item_id, level.warehouse_id))
            rows.append(
                {
                    **_item_ref(level.item),
                    "warehouse": level.warehouse.code,
                    "warehouse_name": level.warehouse.name,
                    "warehouse_name_zh": level.warehouse.name_zh,
                    "actual": number(level.actual_qty),
                    "reserved": number(level.reserved_qty + level.reserved_for_production),
                    "available": number(level.available_qty),
                    "ordered": number(level.ordered_qty),
                    "projected": number(level.projected_qty),
                    "reorder_level": number(reorder_level),
                    "below_reorder": reorder_level is not None and level.actual_qty < reorder_level,
                    "out_of_stock": level.actual_qty <= 0,
                }
            )
            total = totals.setdefault(
                level.item.sku,
                {**_item_ref(level.item), "actual": ZERO, "available": ZERO, "projected": ZERO},
            )
            total["actual"] += level.actual_qty
            total["available"] += level.available_qty
            total["projected"] += level.projected_qty
        if item and not totals:
            totals[item.sku] = {
                **_item_ref(item),
                "actual": ZERO,
                "available": ZERO,
                "projected": ZERO,
            }
        item_totals = [
            {
                **total,
                "actual": number(total["actual"]),
                "available": number(total["available"]),
                "projected": number(total["projected"]),
                "out_of_stock": total["actual"] <= 0,
            }
            for total in totals.values()
        ]
        return {
            "item": _item_ref(item) if item else None,
            "category": params.category,
            "warehouse": warehouse.code if warehouse else None,
            "warehouse_name_zh": warehouse.name_zh if warehouse else None,
            "warehouse_name": warehouse.name if warehouse else None,
            "count": count,
            "rows": capped(rows),
            "item_count": len(item_totals) if item else count,
            "totals": capped(item_totals),
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        lines = [self._row_line(row, data, language) for row in data["rows"]]
        where = self._warehouse_words(data, language)
        if not data["item"]:
            return self._render_listing(data, lines, where, language)
        item = data["item"]
        header = pick(
            language,
            f"{_item_words(item, language)} 库存：",
            f"Stock of {_item_words(item, language)}:",
        )
        if not lines and where:
            none_here = pick(language, f"- {where}：0，没有库存", f"- {where}: 0, none in stock")
            return f"{header}\n{none_here}"
        text = listing(header, lines, data["count"], language)
        total = data["totals"][0]
        if total["out_of_stock"]:
            nowhere = pick(language, "各仓库均为 0", "0 everywhere")
            if where:
                nowhere = pick(language, f"{where} 为 0", f"0 in {where}")
            return (
                text
                + "\n"
                + pick(language, f"合计：缺货（{nowhere}）", f"Total: out of stock ({nowhere})")
            )
        uom = total["uom"]
        return (
            text
            + "\n"
            + pick(
                language,
                f"合计：实际 {total['actual']} {uom}，可用 {total['available']} {uom}",
                f"Total: actual {total['actual']} {uom}, available {total['available']} {uom}",
            )
        )

    @staticmethod
    def _warehouse_words(data: dict[str, Any], language: str) -> str:
        if not data["warehouse"]:
            return ""
        name = data["warehouse_name_zh"] if language == "zh" else data["warehouse_name"]
        return f"{data['warehouse']} {name or ''}".strip()

    @staticmethod
    def _render_listing(data: dict[str, Any], lines: list[str], where: str, language: str) -> str:
        """A warehouse's stock, or a category's, or a category's in one warehouse."""
        if not data.get("category"):
            header = pick(language, f"{where} 库存：", f"Stock in {where}:")
            return listing(header, lines, data["count"], language)
        category = label(data["category"], language, CATEGORY_LABELS_EN)
        if not lines:
            return pick(
                language,
                f"{where or '各仓库'} 没有{category}的库存。",
                f"No {category.lower()} in stock in {where or 'any warehouse'}.",
            )
        header = pick(language, f"{category}库存：", f"{category} stock:")
        if where:
            header = pick(language, f"{where} 的{category}库存：", f"{category} stock in {where}:")
        return listing(header, lines, data["count"], language)

    @staticmethod
    def _row_line(row: dict[str, Any], data: dict[str, Any], language: str) -> str:
        if not data["item"] and data["warehouse"]:
            lead = _item_words(row, language)
        elif not data["item"]:
            lead = f"{_item_words(row, language)} @ {_warehouse_words(row, language)}"
        elif not data["warehouse"]:
            lead = _warehouse_words(row, language)
        else:
            lead = f"{_item_words(row, language)} @ {_warehouse_words(row, language)}"
        uom = row["uom"]
        if language == "zh":
            line = (
                f"- {lead}：可用 {row['available']} {uom}（实际 {row['actual']}，"
                f"预留 {row['reserved']}，在途 {row['ordered']}，预计 {row['projected']}）"
            )
            if row["out_of_stock"]:
                line += "，缺货"
            if row["below_reorder"]:
                line += f"，⚠ 低于补货点 {row['reorder_level']}"
            return line
        line = (
            f"- {lead}: available {row['available']} {uom} (actual {row['actual']}, "
            f"reserved {row['reserved']}, ordered {row['ordered']}, "
            f"projected {row['projected']})"
        )
        if row["out_of_stock"]:
            line += ", out of stock"
        if row["below_reorder"]:
            line += f", ⚠ below reorder level {row['reorder_level']}"
        return line

    def summarize(self, data: dict[str, Any]) -> str:
        parts = [
            f"{total['sku']} actual {total['actual']} available {total['available']}"
            for total in data["totals"][:5]
        ]
        return "; ".join(parts) or "no stock rows"


# --------------------------------------------------------------------------- low_stock_report


class LowStockParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    warehouse: str | None = Field(
        None, max_length=60, description="Warehouse code or name; omit for all warehouses."
    )
    category: Item.Category | None = Field(None, description="Only items of this category.")
    mode: Literal["below_reorder", "zero"] = Field(
        "below_reorder",
        description="below_reorder: stock under the reorder level; zero: items out of stock.",
    )


@register
class LowStockReport(Tool):
    name = "low_stock_report"
    description_en = (
        "Items below their reorder level (or out of stock), with open purchase order qty and ETA."
    )
    description_zh = "低于补货点（或缺货）的物料清单，附未到货采购数量和预计到货日期。"
    Params = LowStockParams
    permission = "inventory.view_stocklevel"
    topic = {"zh": "查看缺货/补货报表", "en": "see the low-stock report"}
    examples = {
        "zh": ["哪些东西要补货了", "主仓库缺货的有哪些"],
        "en": ["what is below reorder level", "what is out of stock"],
    }
    slots = {"warehouse": "warehouse"}
    help_rank = 2

    def run(self, ctx: ToolContext, params: LowStockParams) -> dict[str, Any]:
        warehouse = resolve_warehouse(params.warehouse) if params.warehouse else None
        if params.mode == "below_reorder":
            count, rows = self._below_reorder(warehouse, params.category)
        else:
            count, rows = self._zero(warehouse, params.category)
        return {
            "mode": params.mode,
            "warehouse": warehouse.code if warehouse else None,
            "category": params.category,
            "count": count,
            "rows": rows,
        }

    # Both reports are one query each for the count and for the rows shown: the database
    # compares stock with the rules; Python only formats what the reply shows.

    @staticmethod
    def _below_reorder(warehouse: Warehouse | None, category: str | None) -> tuple[int, list]:
        # The rule's own stock row, joined (a correlated subquery per rule is 4× slower).
        rules = (
            ReorderRule.objects.filter(warehouse__active=True, item__active=True)
            .annotate(
                level=FilteredRelation(
                    "item__stock_levels",
                    condition=Q(item__stock_levels__warehouse=F("warehouse")),
                )
            )
            .annotate(qty=Coalesce(F("level__actual_qty"), Value(ZERO), output_field=QTY_FIELD))
            .filter(qty__lt=F("reorder_level"))
        )
        if warehouse:
            rules = rules.filter(warehouse=warehouse)
        if category:
            rules = rules.filter(item__category=category)
        shown = list(rules.select_related("item", "warehouse")[: max_rows()])
        incoming = _open_purchases({rule.item_id for rule in shown})
        rows = []
        for rule in shown:
            purchase = incoming.get((rule.item_id, rule.warehouse_id), {})
            rows.append(
                {
                    **_item_ref(rule.item),
                    "warehouse": rule.warehouse.code,
                    "warehouse_name": rule.warehouse.name,
                    "warehouse_name_zh": rule.warehouse.name_zh,
                    "qty": number(rule.qty),
                    "reorder_level": number(rule.reorder_level),
                    "reorder_qty": number(rule.reorder_qty),
                    "shortfall": number(rule.reorder_level - rule.qty),
                    "open_po_qty": number(purchase.get("qty", ZERO)),
                    "open_po_eta": iso(purchase.get("eta")),
                    "open_pos": purchase.get("orders", []),
                }
            )
        return rules.count(), rows

    @staticmethod
    def _zero(warehouse: Warehouse | None, category: str | None) -> tuple[int, list]:
        items = Item.objects.filter(active=True, is_stock_item=True)
        if category:
            items = items.filter(category=category)
        counted = Q(stock_levels__warehouse__active=True)
        if warehouse:
            counted &= Q(stock_levels__warehouse=warehouse)
            # Only items this warehouse keeps: a stock row or a reorder rule there.
            level_here = StockLevel.objects.filter(item_id=OuterRef("pk"), warehouse=warehouse)
            rule_here = ReorderRule.objects.filter(item_id=OuterRef("pk"), warehouse=warehouse)
            items = items.filter(Exists(level_here) | Exists(rule_here))
        # One grouped pass over the stock rows; the keys of the empty items are few.
        empty = list(
            items.annotate(
                on_hand=Coalesce(
                    Sum("stock_levels__actual_qty", filter=counted),
                    Value(ZERO),
                    output_field=QTY_FIELD,
                )
            )
            .filter(on_hand__lte=0)
            .order_by("sku")
            .values_list("pk", flat=True)
        )
        by_pk = Item.objects.in_bulk(empty[: max_rows()])
        shown = [by_pk[pk] for pk in empty[: max_rows()]]
        incoming = _open_purchases(
            [item.pk for item in shown], [warehouse.pk] if warehouse else None
        )
        rows = []
        for item in shown:
            purchases = [entry for key, entry in incoming.items() if key[0] == item.pk]
            etas = [entry["eta"] for entry in purchases if entry["eta"]]
            rows.append(
                {
                    **_item_ref(item),
                    "warehouse": warehouse.code if warehouse else None,
                    "qty": "0",
                    "open_po_qty": number(sum((entry["qty"] for entry in purchases), ZERO)),
                    "open_po_eta": iso(min(etas)) if etas else None,
                    "open_pos": sorted({no for entry in purchases for no in entry["orders"]}),
                }
            )
        return len(empty), rows

    def render(self, data: dict[str, Any], language: str) -> str:
        where = f" @ {data['warehouse']}" if data["warehouse"] else ""
        if data["mode"] == "zero":
            header = pick(language, f"缺货物料{where}：", f"Out of stock{where}:")
        else:
            header = pick(language, f"低于补货点的库存{where}：", f"Below reorder level{where}:")
        if not data["rows"]:
            return pick(language, "没有符合条件的物料。", "No items match.")
        lines = []
        for row in data["rows"]:
            uom = row["uom"]
            lead = _item_words(row, language)
            if row["warehouse"] and not data["warehouse"]:
                lead += f" @ {row['warehouse']}"
            if "reorder_level" in row:
                text = pick(
                    language,
                    f"- {lead}：现有 {row['qty']} {uom}，低于补货点 {row['reorder_level']}",
                    f"- {lead}: {row['qty']} {uom}, below reorder level {row['reorder_level']}",
                )
            else:
                text = pick(language, f"- {lead}：缺货 0 {uom}", f"- {lead}: out of stock, 0 {uom}")
            if Decimal(row["open_po_qty"]) > 0:
                eta = row["open_po_eta"] or "-"
                text += pick(
                    language,
                    f"；采购在途 {row['open_po_qty']} {uom}，预计 {eta} 到货",
                    f"; on order {row['open_po_qty']} {uom}, ETA {eta}",
                )
            else:
                text += pick(language, "；无在途采购", "; nothing on order")
            lines.append(text)
        return listing(header, lines, data["count"], language)

    def summarize(self, data: dict[str, Any]) -> str:
        skus = ", ".join(f"{row['sku']}@{row['warehouse'] or '*'}" for row in data["rows"][:10])
        return f"{data['mode']}: {data['count']} rows {skus}"


# -------------------------------------------------------------------- machine_warranty_lookup


class WarrantyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial_no: str = Field(
        min_length=3, max_length=40, description="Machine serial number, e.g. 'LX20260001'."
    )


def resolve_serial(text: str) -> SerialNumber:
    """The serial number named exactly (case-insensitive); close spellings as candidates."""
    needle = text.strip()
    serial = (
        SerialNumber.objects.select_related("item", "customer")
        .filter(serial__in=spellings(needle))
        .first()
    )
    if serial:
        return serial
    serials = list(SerialNumber.objects.values_list("serial", flat=True))
    close = process.extract(needle.upper(), serials, scorer=fuzz.ratio, score_cutoff=75, limit=5)
    raise ToolInputError(
        f"No machine with serial number “{text}”.", candidates=[match[0] for match in close]
    )


def customer_words(customer, user) -> tuple[str | None, bool]:
    """The customer's name as this user may see it, and whether it was masked."""
    if customer is None:
        return None, False
    if user.has_perm("sales.view_customer"):
        return f"{customer.code} {customer.display_name}", False
    return mask_name(customer.display_name), True


@register
class MachineWarrantyLookup(Tool):
    name = "machine_warranty_lookup"
    description_en = (
        "Warranty of a machine by serial number: item, customer, delivery and install dates, "
        "warranty end and status, days left, open service tickets."
    )
    description_zh = (
        "按序列号查询机器保修：型号、客户、发货/安装日期、保修截止、保修状态、剩余天数、"
        "未结服务单。"
    )
    Params = WarrantyParams
    permission = "inventory.view_serialnumber"
    topic = {"zh": "查询机器保修", "en": "look up machine warranties"}
    examples = {
        "zh": ["LX20260001 还在保修期吗"],
        "en": ["warranty LX20260001"],
    }
    slots = {"serial_no": "serial"}
    help_rank = 4

    def run(self, ctx: ToolContext, params: WarrantyParams) -> dict[str, Any]:
        serial = resolve_serial(params.serial_no)
        today = timezone.localdate()
        status = serial.warranty_status(today)
        end = None
        if status == SerialNumber.WarrantyStatus.UNDER_WARRANTY:
            end = serial.warranty_end
        elif status == SerialNumber.WarrantyStatus.UNDER_AMC:
            end = serial.amc_end
        customer, masked = customer_words(serial.customer, ctx.user)
        open_tickets = serial.service_tickets.filter(status__in=ServiceTicket.OPEN_STATUSES)
        return {
            "serial_no": serial.serial,
            **_item_ref(serial.item),
            "status": serial.status,
            "customer": customer,
            "customer_masked": masked,
            "delivery_date": iso(serial.delivery_date),
            "install_date": iso(serial.install_date),
            "warranty_start": iso(serial.warranty_start),
            "warranty_end": iso(serial.warranty_end),
            "amc_end": iso(serial.amc_end),
            "warranty_status": status,
            "days_left": (end - today).days if end else 0,
            "open_tickets": open_tickets.count(),
            "open_ticket_numbers": list(open_tickets.values_list("number", flat=True)[:5]),
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        status = label(data["warranty_status"], language, WARRANTY_LABELS_EN)
        if data["warranty_status"] is None:
            status = pick(language, "无保修信息", "no warranty on record")
        machine = f"{data['serial_no']}（{_item_words(data, language)}）"
        if language != "zh":
            machine = f"{data['serial_no']} ({_item_words(data, language)})"
        lines = [machine]
        if language == "zh":
            lines.append(f"客户：{data['customer'] or '-'}")
            lines.append(
                f"发货日期：{data['delivery_date'] or '-'}，安装日期：{data['install_date'] or '-'}"
            )
            lines.append(f"保修截止：{data['warranty_end'] or '-'}，状态：{status}")
            if data["days_left"]:
                lines.append(f"剩余 {data['days_left']} 天")
            lines.append(f"未结服务单：{data['open_tickets']} 张")
        else:
            lines.append(f"Customer: {data['customer'] or '-'}")
            lines.append(
                f"Delivered: {data['delivery_date'] or '-'}, "
                f"installed: {data['install_date'] or '-'}"
            )
            lines.append(f"Warranty end: {data['warranty_end'] or '-'}, status: {status}")
            if data["days_left"]:
                lines.append(f"{data['days_left']} days left")
            lines.append(f"Open service tickets: {data['open_tickets']}")
        return "\n".join(lines)

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{data['serial_no']} {data['warranty_status']} until {data['warranty_end']}"


# ------------------------------------------------------------------------------ reserve_stock


class ReserveStockParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(
        min_length=1, max_length=100, description="The item: SKU, name or alias, e.g. 'PW-D37-T7'."
    )
    qty: Decimal = Field(
        gt=0,
        max_digits=14,
        decimal_places=3,
        description="Quantity to reserve, in the item's unit.",
    )
    warehouse: str = Field(
        min_length=1, max_length=60, description="Warehouse code or name, e.g. 'main' or '主仓库'."
    )
    sales_order: str | None = Field(
        None, max_length=30, description="The sales order this stock is for, e.g. 'SO-2026-0003'."
    )
    reason: str | None = Field(None, max_length=200, description="Why the stock is reserved.")


@register
class ReserveStock(Tool):
    name = "reserve_stock"
    description_en = (
        "Reserve available stock of an item in a warehouse, optionally for a sales order."
    )
    description_zh = "在指定仓库预留物料的可用库存，可关联销售订单。"
    Params = ReserveStockParams
    permission = "inventory.reserve_stock"
    write = True
    topic = {"zh": "预留库存", "en": "reserve stock"}
    examples = {
        "zh": ["在主仓库给SO-2026-0001预留2个保护镜"],
        "en": ["reserve 2 PW-D37-T7 in main for SO-2026-0001"],
    }
    help_rank = 11

    def _resolve(self, ctx: ToolContext, params: ReserveStockParams):
        item = resolve_item(params.item)
        if not item.is_stock_item:
            raise ToolError(f"{item.sku} is not a stock item and cannot be reserved.")
        warehouse = resolve_warehouse(params.warehouse)
        order = resolve_visible_order(ctx.user, params.sales_order) if params.sales_order else None
        return item, warehouse, order

    def preview(self, ctx: ToolContext, params: ReserveStockParams) -> Preview:
        item, warehouse, order = self._resolve(ctx, params)
        level = StockLevel.objects.filter(item=item, warehouse=warehouse).first()
        available = level.available_qty if level else ZERO
        if params.qty > available:
            raise ToolError(
                f"Not enough stock of {item.sku} in {warehouse.code} to reserve "
                f"{number(params.qty)}: {number(available)} available."
            )
        qty, uom = number(params.qty), item.stock_uom
        if ctx.language == "zh":
            target = (
                f"在 {warehouse.code} {warehouse.name_zh or warehouse.name} 预留 {qty} {uom} "
                f"{item.sku} {item.display_name}（当前可用 {number(available)} {uom}）"
            )
            if order:
                target += f"，用于 {order.number} {order.customer.display_name}"
        else:
            target = (
                f"Reserve {qty} {uom} of {item.sku} {item.name} in {warehouse.code} "
                f"{warehouse.name} (available now {number(available)} {uom})"
            )
            if order:
                target += f" for {order.number} {order.customer.name}"
        if params.reason:
            target += pick(ctx.language, f"，原因：{params.reason}", f", reason: {params.reason}")
        resolved = {
            "item": item.sku,
            "qty": qty,
            "warehouse": warehouse.code,
            "sales_order": order.number if order else None,
            "reason": params.reason,
        }
        return Preview(resolved_args=resolved, target_repr=target)

    def run(self, ctx: ToolContext, params: ReserveStockParams) -> dict[str, Any]:
        item, warehouse, order = self._resolve(ctx, params)
        try:
            with transaction.atomic():
                level = services.reserve_stock(item=item, warehouse=warehouse, qty=params.qty)
        except services.StockError as error:
            raise ToolError(str(error)) from error
        return {
            **_item_ref(item),
            "warehouse": warehouse.code,
            "warehouse_name": warehouse.name,
            "warehouse_name_zh": warehouse.name_zh,
            "qty": number(params.qty),
            "reserved": number(level.reserved_qty),
            "available": number(level.available_qty),
            "sales_order": order.number if order else None,
            "reason": params.reason,
        }

    def render(self, data: dict[str, Any], language: str) -> str:
        uom = data["uom"]
        text = pick(
            language,
            f"已在 {_warehouse_words(data, language)} 预留 {data['qty']} {uom} "
            f"{_item_words(data, language)}；该仓库现预留 {data['reserved']} {uom}，"
            f"可用 {data['available']} {uom}。",
            f"Reserved {data['qty']} {uom} of {_item_words(data, language)} in "
            f"{_warehouse_words(data, language)}; now reserved {data['reserved']} {uom}, "
            f"available {data['available']} {uom}.",
        )
        if data["sales_order"]:
            text += pick(language, f"（{data['sales_order']}）", f" ({data['sales_order']})")
        return text

    def summarize(self, data: dict[str, Any]) -> str:
        return f"reserved {data['qty']} {data['sku']}@{data['warehouse']} for {data['sales_order']}"
