"""Finding ERP records in a sentence: document numbers, serials, items, warehouses, customers,
suppliers and quantities, in Chinese, English or both.

The vocabulary is read from the database once per message. Every name a record is known by
becomes a term; the sentence is scanned longest term first, so "单层喷嘴1.5" wins over
"喷嘴" and "深圳创新精密钣金" (a customer) over "深圳" (a warehouse). A term that names several
records is kept as an ambiguous mention for the caller to ask back, never guessed.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache

from apps.inventory.models import Item, Warehouse
from apps.purchasing.models import Supplier
from apps.sales.models import Customer

# Term tiers: a record's own names beat names derived from parts of them.
EXACT, DERIVED = 2, 1

DOC_NUMBER = re.compile(
    r"(?<![a-z0-9])(so|wo|po|st)\s*[-_ ]?\s*(20\d\d)\s*[-_ ]?\s*(\d{1,4})(?!\d)", re.I
)
SERIAL = re.compile(r"(?<![a-z0-9])lx\s*-?\s*(\d{8})(?!\d)", re.I)
PARTY_CODE = re.compile(r"(?<![a-z0-9])([cs])(\d{3})(?![\d.])", re.I)
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")

# Other words staff use for the demo warehouses (the records' own names are added too).
WAREHOUSE_WORDS = {
    "main": ["主仓", "总仓", "苏州仓", "大仓", "主库", "main warehouse", "suzhou warehouse"],
    "spare": ["备件仓库", "备件库", "配件仓", "配件库", "spare parts warehouse", "spare parts"],
    "sz": ["深圳", "深圳仓库", "深圳分公司", "shenzhen", "shenzhen warehouse"],
    "van1": ["服务车", "售后车", "1号服务车", "一号服务车", "service van", "van 1", "the van"],
}
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
CITY_PREFIXES = re.compile(
    r"^(深圳市|苏州|昆山|无锡|常州|南通|杭州|宁波|温州|上海|深圳|东莞|佛山|"
    r"广州|青岛|济南|合肥|武汉|成都|天津|厦门|郑州|北京|南京)"
)
# Words that never start or end a derived English term.
EN_FUNCTION_WORDS = {
    "co",
    "ltd",
    "co.,",
    "ltd.",
    "the",
    "of",
    "for",
    "and",
    "with",
    "mm",
    "kw",
    "w",
    "style",
    "on-site",
    "dual-circuit",
}
# Words too general to name an item on their own.
EN_GENERIC = {
    "laser",
    "fiber",
    "fibre",
    "machine",
    "source",
    "cutting",
    "auto",
    "head",
    "marking",
    "part",
    "product",
    "precision",
    "focus",
    "single-layer",
    "double-layer",
    "handheld",
    "ring",
    "lens",
    "window",
    "sensor",
    "training",
    "installation",
}
SINGULAR_KEEP = {
    "lens",
    "focus",
    "status",
    "raycus",
    "this",
    "has",
    "is",
    "was",
    "its",
    "gas",
    "plus",
    "yes",
    "less",
    "process",
    "us",
    "does",
    "pcs",
    "always",
    "series",
    "bus",
}
UNITS = r"(?:个|件|台|套|片|只|支|把|盒|pcs|pc|pieces|piece|units|unit|sets|set|nos)"
CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a": 1,
    "an": 1,
}


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, one space between words."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", text).strip()


def singular(word: str) -> str:
    if len(word) <= 3 or word in SINGULAR_KEEP or not word.isalpha() or word.endswith("us"):
        return word
    if re.search(r"(ses|xes|ches|shes)$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def singularize(text: str) -> str:
    """Plural English words to singular, keeping the text's length-independent meaning."""
    return re.sub(r"[a-z]+", lambda match: singular(match.group(0)), text)


@dataclass
class Term:
    text: str
    kind: str  # item | warehouse | customer | supplier
    # Added to in place while the vocabulary is built: a word shared by thousands of items
    # (喷嘴, nozzle) must not copy its set on every item.
    values: set[str]
    tier: int


@dataclass
class Mention:
    text: str
    kind: str
    values: list[str]
    start: int
    end: int
    others: dict[str, list[str]] = field(default_factory=dict)  # same span, other kinds

    @property
    def unique(self) -> str | None:
        return self.values[0] if len(self.values) == 1 else None


@dataclass
class Entities:
    text: str  # normalised, singularised
    rest: str  # the same text with every mention blanked out
    numbers: dict[str, list[str]] = field(default_factory=dict)  # SO/WO/PO/ST → numbers
    serials: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    quantities: list[tuple[Decimal, int]] = field(default_factory=list)  # (qty, position)

    def of(self, kind: str) -> list[Mention]:
        return [mention for mention in self.mentions if mention.kind == kind]

    def first(self, prefix: str) -> str | None:
        values = self.numbers.get(prefix)
        return values[0] if values else None


VOCABULARY_VERSION_KEY = "ai_assistant:vocabulary_version"
# Changes made without model signals (bulk updates, other tools) show up within this long.
VOCABULARY_MAX_AGE_SECONDS = 300
_cached_vocabulary: tuple[object, float, Vocabulary] | None = None


def current_vocabulary() -> Vocabulary:
    """The vocabulary, built once per process and rebuilt when items, warehouses, customers
    or suppliers change (a version in the shared cache, bumped on save and delete) or when
    it is older than VOCABULARY_MAX_AGE_SECONDS. Building it takes ~20 ms; a turn reuses it."""
    global _cached_vocabulary
    version = cache.get(VOCABULARY_VERSION_KEY)
    now = time.monotonic()
    if _cached_vocabulary is not None:
        cached_version, built_at, vocabulary = _cached_vocabulary
        if cached_version == version and now - built_at < VOCABULARY_MAX_AGE_SECONDS:
            return vocabulary
    vocabulary = Vocabulary()
    _cached_vocabulary = (version, now, vocabulary)
    return vocabulary


def vocabulary_changed(**_signal_arguments) -> None:
    """Signal receiver: every process rebuilds its vocabulary on its next turn."""
    global _cached_vocabulary
    _cached_vocabulary = None
    cache.set(VOCABULARY_VERSION_KEY, time.time_ns(), timeout=None)


class Vocabulary:
    """Every name of every active item, warehouse, customer and supplier, as terms."""

    def __init__(self) -> None:
        self.items = {item.sku: item for item in Item.objects.filter(active=True)}
        self.warehouses = {w.code: w for w in Warehouse.objects.filter(active=True)}
        self.customers = {c.code: c for c in Customer.objects.filter(active=True)}
        self.suppliers = {s.code: s for s in Supplier.objects.filter(active=True)}
        terms: dict[tuple[str, str], Term] = {}

        def add(text: str, kind: str, value: str, tier: int) -> None:
            text = singularize(normalize(text))
            if len(text) < 2 or (text.isascii() and len(text) < 2):
                return
            key = (text, kind)
            known = terms.get(key)
            if known is None or known.tier < tier:
                terms[key] = Term(text, kind, {value}, tier)
            elif known.tier == tier:
                known.values.add(value)

        for sku, item in self.items.items():
            for name in [sku, item.name, item.name_zh, *(item.aliases or [])]:
                if name:
                    add(name, "item", sku, EXACT)
            add(sku.replace("-", ""), "item", sku, EXACT)
            add(sku.replace("-", " "), "item", sku, EXACT)
            for name in [item.name_zh, *(item.aliases or [])]:
                for run in CJK_RUN.findall(name or ""):
                    for size in range(2, len(run) + 1):
                        for start in range(0, len(run) - size + 1):
                            add(run[start : start + size], "item", sku, DERIVED)
            words = [singular(w) for w in re.split(r"[\s,()]+", normalize(item.name)) if w]
            for size in (1, 2, 3):
                for start in range(0, len(words) - size + 1):
                    gram = words[start : start + size]
                    if gram[0] in EN_FUNCTION_WORDS or gram[-1] in EN_FUNCTION_WORDS:
                        continue
                    if size == 1 and (
                        len(gram[0]) < 4 or not gram[0].isalpha() or gram[0] in EN_GENERIC
                    ):
                        continue
                    add(" ".join(gram), "item", sku, DERIVED)
        for code, warehouse in self.warehouses.items():
            for name in [code, warehouse.name, warehouse.name_zh, *WAREHOUSE_WORDS.get(code, [])]:
                if name:
                    add(name, "warehouse", code, EXACT)
        for kind, parties in (("customer", self.customers), ("supplier", self.suppliers)):
            for code, party in parties.items():
                for name in party_names(party):
                    add(name, kind, code, EXACT)
        self.terms = sorted(terms.values(), key=lambda term: -len(term.text))
        self.by_text: dict[str, list[Term]] = {}
        for term in self.terms:
            self.by_text.setdefault(term.text, []).append(term)
        self.max_len = max((len(term.text) for term in self.terms), default=0)

    def item_label(self, sku: str) -> str:
        item = self.items[sku]
        return f"{sku} {item.display_name}"

    def extract(self, text: str) -> Entities:
        """All records the text names, with the text that is left once they are removed."""
        source = singularize(normalize(text))
        chars = list(source)
        numbers: dict[str, list[str]] = {}
        for match in DOC_NUMBER.finditer(source):
            prefix, year, seq = match.group(1).upper(), match.group(2), int(match.group(3))
            numbers.setdefault(prefix, []).append(f"{prefix}-{year}-{seq:04d}")
            blank(chars, match.start(), match.end())
        serials = []
        for match in SERIAL.finditer(source):
            serials.append(f"LX{match.group(1)}")
            blank(chars, match.start(), match.end())
        mentions = []
        for match in PARTY_CODE.finditer("".join(chars)):
            code = match.group(0).upper()
            kind = "customer" if code.startswith("C") else "supplier"
            known = self.customers if kind == "customer" else self.suppliers
            if code in known:
                mentions.append(Mention(match.group(0), kind, [code], match.start(), match.end()))
                blank(chars, match.start(), match.end())
        mentions.extend(self._scan(chars))
        mentions.sort(key=lambda mention: mention.start)
        rest = "".join(chars)
        return Entities(
            text=source,
            rest=rest,
            numbers=numbers,
            serials=serials,
            mentions=mentions,
            quantities=quantities(rest),
        )

    def _scan(self, chars: list[str]) -> list[Mention]:
        """Longest-first term matches; ASCII terms only on word boundaries."""
        text = "".join(chars)
        found = []
        position = 0
        while position < len(text):
            if text[position] == " ":
                position += 1
                continue
            hit = None
            for size in range(min(self.max_len, len(text) - position), 1, -1):
                piece = text[position : position + size]
                candidates = self.by_text.get(piece)
                if candidates and on_boundaries(text, position, position + size, piece):
                    hit = (piece, candidates)
                    break
            if hit is None:
                position += 1
                continue
            piece, candidates = hit
            kinds: dict[str, Term] = {}
            for term in candidates:
                kinds[term.kind] = term
            order = [k for k in ("item", "warehouse", "customer", "supplier") if k in kinds]
            main = kinds[order[0]]
            others = {k: sorted(kinds[k].values) for k in order[1:]}
            end = position + len(piece)
            found.append(Mention(piece, main.kind, sorted(main.values), position, end, others))
            blank(chars, position, end)
            position = end
        return found


def party_names(party) -> list[str]:
    """A customer's or supplier's names, including the short forms staff use ("恒通")."""
    names = [party.name, party.name_zh]
    english = re.sub(r",?\s*(co\.?,?\s*ltd\.?|inc\.?|ltd\.?)$", "", party.name, flags=re.I)
    names.append(english)
    words = english.split()
    if len(words) >= 2:
        names.append(words[1])
        names.append(" ".join(words[:2]))
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
    return [name for name in names if name and len(name) >= 2]


def blank(chars: list[str], start: int, end: int) -> None:
    for index in range(start, end):
        chars[index] = " "


def on_boundaries(text: str, start: int, end: int, piece: str) -> bool:
    """ASCII edges of a term must not cut through a word or number."""
    if piece[0].isascii() and piece[0].isalnum() and start > 0:
        before = text[start - 1]
        if before.isascii() and (before.isalnum() or before in "-."):
            return False
    if piece[-1].isascii() and piece[-1].isalnum() and end < len(text):
        after = text[end]
        if after.isascii() and after.isalnum():
            return False
        if after in ".-" and end + 1 < len(text) and text[end + 1].isalnum():
            return False
    return True


QTY_PATTERNS = [
    re.compile(rf"(?<![a-z0-9.\-])(\d+(?:\.\d+)?)\s*{UNITS}(?![a-z])"),
    re.compile(r"(?<![a-z0-9.\-])(\d+)\s*[x×*](?![a-z0-9])"),
    re.compile(r"(?<![a-z0-9])[x×*]\s*(\d+)(?![a-z0-9.])"),
    re.compile(r"(?:qty|数量)\s*[:：]?\s*(\d+)"),
]
CN_QTY = re.compile(rf"([一二两俩三四五六七八九十]+){UNITS}")
EN_QTY = re.compile(r"(?<![a-z])(one|two|three|four|five|six|seven|eight|nine|ten)\s+(?=\S)")


def quantities(text: str) -> list[tuple[Decimal, int]]:
    """Quantities in the text with where they stand, e.g. "2个", "3 pcs", "2 x", "两台"."""
    found: dict[int, Decimal] = {}
    for pattern in QTY_PATTERNS:
        for match in pattern.finditer(text):
            found.setdefault(match.start(), Decimal(match.group(1)))
    for match in CN_QTY.finditer(text):
        found.setdefault(match.start(), Decimal(chinese_number(match.group(1))))
    for match in EN_QTY.finditer(text):
        found.setdefault(match.start(), Decimal(EN_NUMBERS[match.group(1)]))
    return [(found[position], position) for position in sorted(found)]


def chinese_number(word: str) -> int:
    if word == "十":
        return 10
    if word.startswith("十"):
        return 10 + CN_DIGITS.get(word[1:], 0)
    if "十" in word:
        tens, _, ones = word.partition("十")
        return CN_DIGITS.get(tens, 1) * 10 + CN_DIGITS.get(ones, 0)
    return CN_DIGITS.get(word, 0)


def plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
