"""The names staff call records by, kept as an indexed table (NameTerm) instead of a
vocabulary each process builds in memory.

Every name of an active item, warehouse, customer or supplier becomes one or more terms:
its own names (SKU, English, Chinese, aliases, the short forms staff use) at tier EXACT,
parts of them (the Chinese name's substrings, the English name's 1–3 word runs) at tier
DERIVED. A record's terms are rewritten when it is saved and dropped when it is deleted
(signals, apps.py), so a new or renamed item is found at once in every process, with no
rebuild. Writes that skip signals (bulk_create, queryset.update, seed_scale) are followed by
`manage.py index_names`, which rebuilds the table.

Reading: `lookup(texts)` finds which pieces of a sentence are terms in two index-only reads;
the records behind the pieces the scan keeps come after. A text that names several records at
the same tier stays ambiguous for the caller to ask back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from apps.inventory.models import Item, Warehouse
from apps.purchasing.models import Supplier
from apps.sales.models import Customer

from ..models import NameTerm
from ..tools.lookup import KIND_DEFAULT_LIMIT, kind_default
from .text import normalize, singular, singularize

# Term tiers: a record's own names beat names derived from parts of them. WORD rows are the
# single words of item names, never a name themselves: what a misspelt word is compared with.
EXACT, DERIVED, WORD = 2, 1, 0
# Longer names are not indexed (nobody types them whole): this bounds a sentence's pieces.
TERM_MAX_LENGTH = 64
INSERT_BATCH = 5000

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Other words staff use for the demo warehouses (the records' own names are added too).
WAREHOUSE_WORDS = {
    "main": ["主仓", "总仓", "苏州仓", "大仓", "主库", "main warehouse", "suzhou warehouse"],
    "spare": ["备件仓库", "备件库", "配件仓", "配件库", "spare parts warehouse", "spare parts"],
    "sz": ["深圳", "深圳仓库", "深圳分公司", "shenzhen", "shenzhen warehouse"],
    "van1": [
        "服务车",
        "售后车",
        "1号服务车",
        "一号服务车",
        "我车上",
        "车上",
        "service van",
        "van 1",
        "the van",
        "my van",
        "van",
    ],  # fmt: skip
}
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
CITY_PREFIXES = re.compile(
    r"^(深圳市|苏州|昆山|无锡|常州|南通|杭州|宁波|温州|上海|深圳|东莞|佛山|"
    r"广州|青岛|济南|合肥|武汉|成都|天津|厦门|郑州|北京|南京|"
    r"嘉兴|绍兴|台州|扬州|徐州|芜湖|长沙|西安|重庆|洛阳|潍坊|烟台|淄博|临沂|唐山|保定|"
    r"沈阳|大连|长春|哈尔滨|南昌|泉州|福州|南宁|昆明|贵阳|太原|石家庄|兰州|中山|珠海|"
    r"惠州|江门|湖州|金华|镇江|泰州|盐城|连云港|淮安|宿迁|漳州|莆田|汕头|揭阳|肇庆)"
)
# A district between the city and the name ("佛山南海宏源家具": 宏源).
EN_DISTRICTS = {
    "nanhai", "shunde", "panyu", "baoan", "longgang", "longhua", "xiaoshan", "yuhang",
    "jiangning", "pudong", "wujiang", "jiangyin",
}  # fmt: skip
DISTRICT_PREFIXES = re.compile(r"^(南海|顺德|番禺|宝安|龙岗|龙华|萧山|余杭|江宁|浦东|吴江|江阴)")
# Words that never start or end a derived English term.
EN_FUNCTION_WORDS = {
    "co", "ltd", "co.,", "ltd.", "the", "of", "for", "and", "with", "mm", "kw", "w", "style",
    "on-site", "dual-circuit",
}  # fmt: skip
# Words too general to name an item on their own.
EN_GENERIC = {
    "laser", "fiber", "fibre", "machine", "source", "cutting", "auto", "marking", "part",
    "product", "precision", "focus", "layer", "single-layer",
    "double-layer", "handheld", "training", "style",
}  # fmt: skip
# The short way staff say a kind of machine: "fiber marker", "3015 cutter".
EN_SHORT_FORMS = (
    ("marking machine", "marker"), ("cutting machine", "cutter"), ("welding machine", "welder"),
)  # fmt: skip
# A model code in a name ("BLT641", "F125"): letters and digits, not a power or size ("12kw").
MODEL_CODE = re.compile(r"(?!\d+(?:kw|w|mm|nm)$)(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{4,}")
ENGLISH_WORD = re.compile(r"[a-z]{3,}")
SKU_CODE_PART = re.compile(r"(?!\d+k?w$)[a-z]{1,3}\d{2,}[a-z]?")

KINDS: dict[str, Any] = {
    "item": Item,
    "warehouse": Warehouse,
    "customer": Customer,
    "supplier": Supplier,
}


# --- what a record is called ------------------------------------------------------------


def term_text(name: str) -> str:
    return singularize(normalize(name))


def item_terms(item: Item) -> Iterator[tuple[str, int]]:
    for name in [item.sku, item.name, item.name_zh, *(item.aliases or [])]:
        if name:
            yield name, EXACT
    yield item.sku.replace("-", ""), EXACT
    yield item.sku.replace("-", " "), EXACT
    yield compact_code(item.sku), EXACT
    for number in model_numbers(item):
        yield number, DERIVED
    for part in sku_parts(item.sku):
        yield part, DERIVED
    for name in [item.name_zh, *(item.aliases or [])]:
        yield from chinese_parts(normalize(name or ""))
    for words in english_readings(item.name):
        yield from english_parts(words)
        for word in words:
            if ENGLISH_WORD.fullmatch(word):
                yield word, WORD
    # An acronym of the name ("UV") names its item, short as it is.
    for word in re.findall(r"\b[A-Z]{2,3}\b", item.name or ""):
        yield word.lower(), DERIVED


def model_numbers(item: Item) -> list[str]:
    """A SKU's number that its English name also gives as a model, not a power or a size:
    staff call LC-3015-6KW "3015" ("6 kW fiber laser cutting machine 3015"), never CHL-3000
    "3000" ("Chiller 3000 W": that is a power, said with its unit)."""
    name = normalize(item.name or "")
    return [
        part
        for part in item.sku.split("-")
        if part.isdigit()
        and len(part) >= 4
        and re.search(rf"(?<![\d.]){part}(?![\d.])(?!\s*(?:k?w|mm|nm)\b)", name)
    ]


def sku_parts(sku: str) -> list[str]:
    """What staff type of a SKU short of its whole: the SKU without its last part ("LC-3015"
    of LC-3015-6KW; shared by several, it is asked back) and a word of it that is no code
    ("install" of SV-INSTALL, "f30" of LM-F30)."""
    parts = sku.lower().split("-")
    found = []
    if len(parts) >= 3:
        head = "-".join(parts[:-1])
        found += [head, compact_code(head)]
    found += [part for part in parts[1:] if part.isalpha() and len(part) >= 5]
    # A code part with letters and digits ("F30" of LM-F30, "UV5"), not a power ("6KW").
    found += [part for part in parts[1:] if SKU_CODE_PART.fullmatch(part)]
    return found


def chinese_parts(name: str) -> Iterator[tuple[str, int]]:
    """Every part of a Chinese name's runs ("陶瓷环" of "BLT641陶瓷环28"), and a model code
    with the words after it ("blt641", "blt641陶瓷环")."""
    for run in CJK_RUN.findall(name):
        for size in range(2, len(run) + 1):
            for start in range(0, len(run) - size + 1):
                yield run[start : start + size], DERIVED
    for match in re.finditer(r"([a-z0-9]+)([\u4e00-\u9fff]*)", name):
        code, words = match.groups()
        if MODEL_CODE.fullmatch(code):
            yield code, DERIVED
            for size in range(2, len(words) + 1):
                yield code + words[:size], DERIVED


def english_readings(name: str) -> list[list[str]]:
    """The English name's words as staff read them: as written, with hyphenated words apart
    ("single layer nozzle"), kinds of machine said short ("fiber marker"). A "for …" tail says
    what an item fits, not what it is ("Ceramic ring 28 mm for BLT641 heads")."""
    head = re.split(r"\s+for\s+", normalize(name or ""))[0]
    readings = {head, head.replace("-", " ")}
    for long, short in EN_SHORT_FORMS:
        readings |= {reading.replace(long, short) for reading in readings if long in reading}
    return [[singular(w) for w in re.split(r"[\s,()]+", reading) if w] for reading in readings]


def english_parts(words: list[str]) -> Iterator[tuple[str, int]]:
    """Runs of 1–3 words; a single word only when it says what the item is."""
    for size in (1, 2, 3):
        for start in range(0, len(words) - size + 1):
            gram = words[start : start + size]
            if gram[0] in EN_FUNCTION_WORDS or gram[-1] in EN_FUNCTION_WORDS:
                continue
            if size == 1 and not _names_alone(gram[0]):
                continue
            yield " ".join(gram), DERIVED


def _names_alone(word: str) -> bool:
    if MODEL_CODE.fullmatch(word):
        return True
    return len(word) >= 4 and word.isalpha() and word not in EN_GENERIC


def compact_code(code: str) -> str:
    """A SKU without its separators, as a code typed loosely is compared:
    PW-D37T7, pw d37 t7 and PW-D37-T7 are all "pwd37t7"."""
    return re.sub(r"[-.,_\s]", "", code.lower())


def warehouse_terms(warehouse: Warehouse) -> Iterator[tuple[str, int]]:
    names = [warehouse.code, warehouse.name, warehouse.name_zh]
    for name in [*names, *WAREHOUSE_WORDS.get(warehouse.code, [])]:
        if name:
            yield name, EXACT


def party_terms(party: Customer | Supplier) -> Iterator[tuple[str, int]]:
    for name in party_names(party):
        yield name, EXACT


def party_names(party: Customer | Supplier) -> list[str]:
    """A customer's or supplier's names, including the short forms staff use ("恒通") and
    its city ("苏州那家客户": every party there; not a city that names a warehouse)."""
    names = [party.name, party.name_zh]
    english = re.sub(r",?\s*(co\.?,?\s*ltd\.?|inc\.?|ltd\.?)$", "", party.name, flags=re.I)
    names.append(english)
    words = english.split()
    if len(words) >= 2:
        names.append(words[1])
        names.append(" ".join(words[:2]))
        names.append(words[0])
    if len(words) >= 3 and words[1].lower() in EN_DISTRICTS:
        names.append(words[2])  # "Foshan Nanhai Hongyuan Furniture": Hongyuan
        names.append(" ".join(words[2:4]))
    core = party.name_zh or ""
    for suffix in COMPANY_SUFFIXES:
        if core.endswith(suffix):
            core = core[: -len(suffix)]
            break
    names.append(core)
    without_city = CITY_PREFIXES.sub("", core)
    if without_city != core:
        names.append(without_city)
        names.append(without_city[:2])
        names.append(core[: len(core) - len(without_city)].removesuffix("市"))
        without_district = DISTRICT_PREFIXES.sub("", without_city)
        if without_district != without_city:
            names.append(without_district)
            names.append(without_district[:2])
    return [name for name in names if name and len(name) >= 2 and not _names_a_warehouse(name)]


def _names_a_warehouse(name: str) -> bool:
    """A city staff also call a warehouse by ("深圳", "Shenzhen")."""
    return term_text(name) in {
        term_text(word) for words in WAREHOUSE_WORDS.values() for word in words
    }


TERMS = {
    "item": item_terms,
    "warehouse": warehouse_terms,
    "customer": party_terms,
    "supplier": party_terms,
}


def value_of(kind: str, record: Any) -> str:
    return record.sku if kind == "item" else record.code


def terms_of(kind: str, record: Any) -> list[NameTerm]:
    """The record's rows of the table: each text once, at its best tier."""
    best: dict[str, int] = {}
    for name, tier in TERMS[kind](record):
        text = term_text(name)
        if 2 <= len(text) <= TERM_MAX_LENGTH and best.get(text, -1) < tier:
            best[text] = tier
    value = value_of(kind, record)
    return [
        NameTerm(
            text=text, kind=kind, record_id=record.pk, value=value, tier=tier, length=len(text)
        )
        for text, tier in best.items()
    ]


# --- keeping the table current ------------------------------------------------------------


def index_record(kind: str, record: Any) -> None:
    """Rewrite one record's terms (none when it is inactive)."""
    with transaction.atomic():
        NameTerm.objects.filter(kind=kind, record_id=record.pk).delete()
        if record.active:
            NameTerm.objects.bulk_create(terms_of(kind, record), batch_size=INSERT_BATCH)


def unindex_record(kind: str, record_id: int) -> None:
    NameTerm.objects.filter(kind=kind, record_id=record_id).delete()


def kind_of(model: type) -> str:
    return next(kind for kind, known in KINDS.items() if known is model)


def record_saved(sender: type, instance: Any, raw: bool = False, **_arguments: Any) -> None:
    """post_save: the record's names as they are now (fixtures loaded raw are indexed by
    `manage.py index_names`)."""
    if not raw:
        index_record(kind_of(sender), instance)


def record_deleted(sender: type, instance: Any, **_arguments: Any) -> None:
    unindex_record(kind_of(sender), instance.pk)


def rebuild(kinds: Iterable[str] = tuple(KINDS), models: dict[str, Any] | None = None) -> int:
    """The whole table again from the records (of `models`, a migration's historical
    ones, else the current ones); returns the number of terms."""
    models = models or KINDS
    written = 0
    with transaction.atomic():
        for kind in kinds:
            NameTerm.objects.filter(kind=kind).delete()
            batch: list[NameTerm] = []
            for record in models[kind].objects.filter(active=True).iterator(chunk_size=2000):
                batch.extend(terms_of(kind, record))
                if len(batch) >= INSERT_BATCH:
                    NameTerm.objects.bulk_create(batch, batch_size=INSERT_BATCH)
                    written += len(batch)
                    batch = []
            NameTerm.objects.bulk_create(batch, batch_size=INSERT_BATCH)
            written += len(batch)
    return written


def rebuild_for_migration(apps: Any) -> int:
    """`rebuild` from a migration, with its historical models of the named records (a
    migration that changes how names are indexed calls this)."""
    return rebuild(
        models={
            "item": apps.get_model("inventory", "Item"),
            "warehouse": apps.get_model("inventory", "Warehouse"),
            "customer": apps.get_model("sales", "Customer"),
            "supplier": apps.get_model("purchasing", "Supplier"),
        }
    )


# --- reading ------------------------------------------------------------------------------


def lookup(texts: Iterable[str]) -> Lookup:
    """Which of `texts` are terms, with the records of their own names (tier EXACT): two
    index-only reads, whatever the catalogue's size. The items a text names only as part of
    their names (tier DERIVED, a word thousands of items share) are read by `derived_items`
    for the texts the caller settles on."""
    wanted = sorted(set(texts))
    exact: dict[str, dict[str, set[str]]] = {}
    partial: set[str] = set()
    for chunk in _chunks(wanted):
        rows = NameTerm.objects.filter(text__in=chunk, tier=EXACT)
        for text, kind, value in rows.values_list("text", "kind", "value"):
            exact.setdefault(text, {}).setdefault(kind, set()).add(value)
        derived = NameTerm.objects.filter(text__in=chunk, tier=DERIVED).order_by()
        partial.update(derived.values_list("text", flat=True).distinct())
    return Lookup(exact, partial)


class Lookup:
    def __init__(self, exact: dict[str, dict[str, set[str]]], partial: set[str]) -> None:
        self.exact = exact
        self.partial = partial  # texts that are part of some items' names
        self.known = partial | set(exact)

    def __contains__(self, text: str) -> bool:
        return text in self.known

    def longest(self) -> int:
        return max((len(text) for text in self.known), default=0)

    def kinds(self, texts: list[str]) -> dict[str, dict[str, list[str]]]:
        """{text: {kind: sorted values}} for these terms, each kind at its best tier."""
        found = {
            text: {kind: sorted(values) for kind, values in self.exact.get(text, {}).items()}
            for text in texts
        }
        wanted = [text for text in texts if text in self.partial and "item" not in found[text]]
        for text, skus in derived_items(wanted).items():
            found[text]["item"] = kind_default_of(text, skus)
        return found


def kind_default_of(text: str, skus: list[str]) -> list[str]:
    """An English phrase several items share names the one its Chinese word names exactly
    ("chiller" is CHL-3000 as "冷水机" is): both languages resolve alike (lookup.kind_default)."""
    if not 2 <= len(skus) <= KIND_DEFAULT_LIMIT or not text.isascii():
        return skus
    if re.search(r"[-\d]", text):
        return skus  # part of a code ("LS-RC"), not a word of a kind
    rows = list(
        Item.objects.filter(sku__in=skus).values_list(
            "sku", "sku", "name", "name_zh", "aliases", "brand"
        )
    )
    if all((row[5] or "").lower() == text for row in rows):
        return skus  # a brand ("raycus") names all its items, as "锐科" does
    default = kind_default([row[:5] for row in rows])
    return [default] if default else skus


def derived_items(texts: list[str]) -> dict[str, list[str]]:
    """{text: sorted SKUs} of the items these texts name as part of their names."""
    found: dict[str, set[str]] = {}
    if not texts:
        return {}
    for chunk in _chunks(texts):
        rows = NameTerm.objects.filter(text__in=chunk, kind="item", tier=DERIVED)
        for text, value in rows.values_list("text", "value"):
            found.setdefault(text, set()).add(value)
    return {text: sorted(values) for text, values in found.items()}


def _chunks(texts: list[str]) -> Iterator[list[str]]:
    size = min(connection.features.max_query_params or 2000, 2000)
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def words_like(word: str) -> list[str]:
    """The words of item names that could be `word` misspelt: the same first letter, one
    letter more or less (index-only: kind, tier, length, text). A word that is also a name
    of its own is stored at that tier."""
    lengths = [len(word) - 1, len(word), len(word) + 1]
    rows = NameTerm.objects.filter(
        kind="item", tier__in=[WORD, DERIVED], length__in=lengths, text__startswith=word[0]
    ).exclude(text__contains=" ")
    return sorted(set(rows.order_by().values_list("text", flat=True)))


def names_starting(shapes: set[tuple[str, int]], kind: str = "item") -> dict[str, set[str]]:
    """The names of `kind`, whole or part ("陶瓷环" of "BLT641陶瓷环28"), of these (first
    character, length) shapes, each with the records it names at its best tier; one read."""
    found: dict[str, set[str]] = {}
    if not shapes:
        return found
    condition = Q()
    for first, length in shapes:
        condition |= Q(length=length, text__startswith=first)
    rows = NameTerm.objects.filter(condition, kind=kind, tier__in=[EXACT, DERIVED])
    best: dict[str, int] = {}
    for text, value, tier in rows.values_list("text", "value", "tier"):
        if tier > best.get(text, -1):  # a record's own name beats a part of another's
            best[text], found[text] = tier, set()
        if tier == best[text]:
            found[text].add(value)
    return found


def names_like(first: str, length: int, kind: str = "item") -> list[tuple[str, str]]:
    """(text, value) of the EXACT names of `kind` that start with `first` and are `length`
    characters long: the candidates of a one-character typo."""
    rows = NameTerm.objects.filter(
        kind=kind, tier=EXACT, length=length, text__startswith=first
    ).values_list("text", "value")
    return list(rows)
