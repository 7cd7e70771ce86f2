"""Finding ERP records from the words staff use: SKUs, Chinese and English names, aliases.

Shared by the tools (which accept names from an LLM) and the rule brain (which finds them in
a sentence). Ambiguity is never guessed away: the caller gets the candidates to ask back.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, process

from apps.inventory.models import Item, Warehouse
from apps.sales.models import Customer

from .registry import ToolInputError

FUZZY_CUTOFF = 80
# More items than this sharing an English phrase are a real choice, never one kind's default.
KIND_DEFAULT_LIMIT = 50
CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
# Two candidates closer than this are a tie: ask back instead of picking one.
TIE_MARGIN = 3


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def spellings(text: str) -> list[str]:
    """A code or document number as typed and in upper case, the way they are stored.
    `field__in=spellings(x)` uses the field's unique index; `field__iexact` compares
    UPPER(field) and reads the whole table."""
    typed = text.strip()
    return list(dict.fromkeys([typed, typed.upper()]))


def item_names(item: Item) -> list[str]:
    """Every name the item is known by, lower-cased."""
    return _names(item.sku, item.name, item.name_zh, item.aliases)


def _names(sku: str, name: str, name_zh: str, aliases: list[str] | None) -> list[str]:
    return [_normalize(each) for each in [sku, name, name_zh, *(aliases or [])] if each]


NAME_COLUMNS = ("pk", "sku", "name", "name_zh", "aliases")


def find_items(query: str, limit: int = 10) -> list[tuple[Item, float]]:
    """Active items matching the query, best first, with a 0–100 score.

    The database finds the items whose names contain the query (a name equal to it first);
    only when none does are all names ranked by similarity, and then as plain strings, not
    model instances."""
    needle = _normalize(query)
    if not needle:
        return []
    active = Item.objects.filter(active=True).order_by("sku")
    # A SKU names its item (the brain passes SKUs): the unique index answers.
    by_sku = list(active.filter(sku__in=spellings(query)))
    if by_sku:
        return [(item, 100.0) for item in by_sku]
    contained = list(active.filter(search_text__contains=needle).values_list(*NAME_COLUMNS))
    exact = [row[0] for row in contained if needle in _names(*row[1:])]
    if exact:
        return [(item, 100.0) for item in _items(exact[:limit])]
    default = kind_default(contained) if needle.isascii() else None
    if default is not None:
        return [(item, 100.0) for item in _items([default])]
    if contained:
        return [(item, 95.0) for item in _items([row[0] for row in contained[:limit]])]
    choices = {
        (row[0], name): name
        for row in active.values_list(*NAME_COLUMNS)
        for name in _names(*row[1:])
    }
    matches = process.extract(
        needle, choices, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=limit * 3
    )
    best: dict[int, float] = {}
    for _name, score, (item_pk, _) in matches:
        best[item_pk] = max(best.get(item_pk, 0.0), score)
    ranked = sorted(best.items(), key=lambda pair: -pair[1])[:limit]
    by_pk = Item.objects.in_bulk([pk for pk, _ in ranked])
    return [(by_pk[pk], score) for pk, score in ranked]


def kind_default(rows: list[tuple]) -> Any | None:
    """Of the items an English phrase names alike ("chiller": CHL-3000 and CHL-6000), the one
    whose own Chinese name or alias is part of every one's Chinese names ("冷水机", in "6000W
    双温冷水机"): the item the Chinese word names exactly, so the English phrase names it too.
    Rows are (key, sku, name, name_zh, aliases); None when no single item is that default."""
    if not 2 <= len(rows) <= KIND_DEFAULT_LIMIT:
        return None
    chinese = {row[0]: [name for name in [row[3], *(row[4] or [])] if name] for row in rows}
    owners = {
        key
        for key, own in chinese.items()
        for name in own
        if CJK_ONLY.fullmatch(name)
        and all(any(name in other for other in others) for others in chinese.values())
    }
    return owners.pop() if len(owners) == 1 else None


def _items(pks: list[int]) -> list[Item]:
    """The items of these keys, in the order given."""
    by_pk = Item.objects.in_bulk(pks)
    return [by_pk[pk] for pk in pks]


def resolve_item(text: str) -> Item:
    """The one item the text names; ToolInputError with candidates when none or several."""
    matches = find_items(text)
    if not matches:
        raise ToolInputError(f"No item matches “{text}”.")
    top_score = matches[0][1]
    tied = [item for item, score in matches if top_score - score < TIE_MARGIN]
    if len(tied) > 1:
        raise ToolInputError(
            f"“{text}” matches several items.",
            candidates=[f"{item.sku} {item.display_name}" for item in tied[:8]],
        )
    return matches[0][0]


def warehouse_names(warehouse: Warehouse) -> list[str]:
    names = [warehouse.code, warehouse.name, warehouse.name_zh]
    return [_normalize(name) for name in names if name]


def resolve_warehouse(text: str) -> Warehouse:
    """The warehouse named by code, English or Chinese name (or an unambiguous part of one)."""
    needle = _normalize(text)
    warehouses = list(Warehouse.objects.filter(active=True))
    for warehouse in warehouses:
        if needle in warehouse_names(warehouse):
            return warehouse
    partial = [
        warehouse
        for warehouse in warehouses
        if any(
            needle in name or (len(name) >= 2 and name in needle)
            for name in warehouse_names(warehouse)
        )
    ]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise ToolInputError(
            f"“{text}” matches several warehouses.",
            candidates=[
                f"{warehouse.code} {warehouse.name_zh or warehouse.name}" for warehouse in partial
            ],
        )
    raise ToolInputError(f"No warehouse matches “{text}”.")


def resolve_customer(text: str, queryset=None) -> Customer:
    """The customer named by code or (part of) its Chinese or English name."""
    needle = _normalize(text)
    customers = queryset if queryset is not None else Customer.objects.filter(active=True)
    by_code = customers.filter(code__in=spellings(needle)).first()
    if by_code:
        return by_code
    matches = list(customers.filter(name_zh__icontains=needle)) or list(
        customers.filter(name__icontains=needle)
    )
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ToolInputError(
            f"“{text}” matches several customers.",
            candidates=[str(customer) for customer in matches[:8]],
        )
    raise ToolInputError(f"No customer matches “{text}”.")
