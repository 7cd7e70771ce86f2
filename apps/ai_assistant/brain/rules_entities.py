"""Finding ERP records in a sentence: document numbers, serials, items, warehouses, customers,
suppliers and quantities, in Chinese, English or both.

Names come from the indexed NameTerm table (names.py): the sentence's pieces are looked up in
one query, then the sentence is scanned longest term first, so "单层喷嘴1.5" wins over "喷嘴"
and "深圳创新精密钣金" (a customer) over "深圳" (a warehouse). A term that names several
records is kept as an ambiguous mention for the caller to ask back, never guessed. Only the
few warehouses, customers and suppliers are held in memory (codes and labels), rebuilt when
one of them changes; items are read when a turn needs them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone
from rapidfuzz.distance import OSA

from apps.inventory.models import Item, SerialNumber, StockLevel, Warehouse
from apps.purchasing.models import Supplier
from apps.sales.models import Customer

from . import names
from .text import normalize, singular, singularize

__all__ = ["normalize", "singular", "singularize"]

# Spelled out by voice too: "S O 2026 0005", "L X 2026 0001".
DOC_NUMBER = re.compile(
    r"(?<![a-z0-9])(s ?o|q ?t|w ?o|p ?o|s ?t)\s*[-_ ]?\s*(20\d\d)\s*[-_ ]?\s*(\d{1,6})(?!\d)",
    re.I,
)
# A number without its year, typed in a hurry ("po8", "so 12", "wo3", "st-6"): this year's.
LOOSE_NUMBER = re.compile(
    r"(?<![a-z0-9])(so|qt|wo|po|st)\s*[-_ ]?\s*(\d{1,4})(?![\d.]|\s*(?:pcs|个|台|件|套|片))", re.I
)
# A machine's serial without its letters ("20250007" of LX20250007).
BARE_SERIAL = re.compile(r"(?<![\d.-])(20\d{6})(?![\d.])")
# A quote is a sales document like an order: its number is asked about as an order's is.
NUMBER_KEY = {"QT": "SO"}
SERIAL = re.compile(r"(?<![a-z0-9])l ?x\s*-?\s*(\d{4})\s?(\d{4})(?!\d)", re.I)
SERIAL_DIGITS = 7
# A run of letters and digits with separators, holding a digit: what a SKU looks like.
CODE_TOKEN = re.compile(r"(?<![a-z0-9])[a-z][a-z0-9]*(?:[-.,_][a-z0-9]+)*(?![a-z0-9])")
PARTY_CODE = re.compile(r"(?<![a-z0-9])([cs])(\d{3})(?![\d.])", re.I)
# An English unit ends its word ("5 pcs", not "5 pcsx"); a Chinese one may touch a code
# ("锁5个D37聚焦镜").
UNITS = r"(?:[个件台套片只支把盒]|(?:pcs|pc|pieces|piece|units|unit|sets|set|nos)(?![a-z]))"
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
    numbers: dict[str, list[str]] = field(default_factory=dict)  # SO (and QT)/WO/PO/ST → numbers
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
# A change made in another process shows up within this long (the version is not read from
# the shared cache for every turn of a busy worker).
VOCABULARY_VERSION_CHECK_SECONDS = 1.0
# (version, built at, version last read at, vocabulary), monotonic times.
_cached_vocabulary: tuple[object, float, float, Vocabulary] | None = None
KIND_ORDER = ("item", "warehouse", "customer", "supplier")
# An English word that may be a misspelt word of an item's name ("protectve", "nozle").
UNKNOWN_WORD = re.compile(r"(?<![a-z0-9.-])[a-z]{5,}(?![a-z0-9-])")
RESPELT_AT_MOST = 3


def current_vocabulary() -> Vocabulary:
    """The warehouses, customers and suppliers, read once per process and again when one of
    them changes (a version in the shared cache, bumped on save and delete, read at most
    once a second) or when they are older than VOCABULARY_MAX_AGE_SECONDS. Items are not
    held: they are many."""
    global _cached_vocabulary
    now = time.monotonic()
    if _cached_vocabulary is not None:
        cached_version, built_at, checked_at, vocabulary = _cached_vocabulary
        if now - built_at < VOCABULARY_MAX_AGE_SECONDS:
            if now - checked_at < VOCABULARY_VERSION_CHECK_SECONDS:
                return vocabulary
            if cache.get(VOCABULARY_VERSION_KEY) == cached_version:
                _cached_vocabulary = (cached_version, built_at, now, vocabulary)
                return vocabulary
    version = cache.get(VOCABULARY_VERSION_KEY)
    vocabulary = Vocabulary()
    _cached_vocabulary = (version, now, now, vocabulary)
    return vocabulary


def vocabulary_changed(**_signal_arguments) -> None:
    """Signal receiver: every process reads the parties and warehouses again next turn."""
    global _cached_vocabulary
    _cached_vocabulary = None
    cache.set(VOCABULARY_VERSION_KEY, time.time_ns(), timeout=None)


class Vocabulary:
    """The active warehouses, customers and suppliers by code; items on demand; the names
    of all of them in the NameTerm table."""

    def __init__(self) -> None:
        self.warehouses = {w.code: w for w in Warehouse.objects.filter(active=True)}
        self.customers = {c.code: c for c in Customer.objects.filter(active=True)}
        self.suppliers = {s.code: s for s in Supplier.objects.filter(active=True)}

    def items(self, skus: list[str]) -> dict[str, Item]:
        """The active items of these SKUs."""
        return Item.objects.filter(active=True).in_bulk(skus, field_name="sku")

    def item(self, sku: str) -> Item:
        return self.items([sku])[sku]

    def most_stocked(self, skus: list[str], count: int) -> list[str]:
        """`count` of these items, those with the most stock first (then by SKU)."""
        totals = (
            StockLevel.objects.filter(item__sku__in=skus, item__active=True)
            .filter(warehouse__active=True)
            .values("item__sku")
            .annotate(total=Sum("actual_qty"))
            .order_by("-total", "item__sku")[:count]
        )
        ranked = [row["item__sku"] for row in totals]
        return (ranked + [sku for sku in skus if sku not in ranked])[:count]

    def warehouses_with(self, sku: str, qty: float) -> list[str]:
        """The codes of the active warehouses with `qty` of the item available."""
        levels = StockLevel.objects.filter(item__sku=sku, warehouse__active=True)
        return [
            level.warehouse.code
            for level in levels.select_related("warehouse").order_by("warehouse__code")
            if level.available_qty >= Decimal(str(qty))
        ]

    def only_warehouse_with(self, sku: str, qty: float) -> str | None:
        """The code of the one active warehouse with `qty` of the item available, or None."""
        enough = self.warehouses_with(sku, qty)
        return enough[0] if len(enough) == 1 else None

    def respelled(self, entities: Entities, known: Callable[[str], bool]) -> str | None:
        """The text with each word that names nothing and is one letter off exactly one
        word of the items' names spelt as that word ("protectve window" → "protective
        window"); None when no word is. Words the caller knows are left alone."""
        text = entities.text
        changed = False
        for match in list(UNKNOWN_WORD.finditer(entities.rest))[::-1][:RESPELT_AT_MOST]:
            word = match.group(0)
            if known(word):
                continue
            candidates = names.words_like(word)
            if word in candidates:
                continue
            close = [candidate for candidate in candidates if OSA.distance(word, candidate) == 1]
            if len(close) == 1:
                text = text[: match.start()] + close[0] + text[match.end() :]
                changed = True
        # Also where the words found name several items ("陶瓷还": 陶瓷 is two rings); not
        # for a message about a document or a machine by its number (no read for those).
        by_number = entities.numbers or entities.serials
        if not by_number and all(len(m.values) > 1 for m in entities.of("item")):
            chars = list(entities.text)
            for mention in entities.mentions:
                if mention.kind != "item":  # a customer's or warehouse's name is no typo
                    blank(chars, mention.start, mention.end)
            respelt = chinese_respelled(text, "".join(chars))
            if respelt is not None:
                text, changed = respelt, True
        return text if changed else None

    def item_labels(self, skus: list[str], language: str = "zh") -> list[str]:
        """ "SKU name" of each item, named in the language asked in."""
        found = self.items(skus)
        return [
            f"{sku} {found[sku].display_name if language == 'zh' else found[sku].name}"
            for sku in skus
            if sku in found
        ]

    def extract(self, text: str) -> Entities:
        """All records the text names, with the text that is left once they are removed."""
        source = singularize(normalize(text))
        chars = list(source)
        numbers: dict[str, list[str]] = {}
        for match in DOC_NUMBER.finditer(source):
            prefix = match.group(1).replace(" ", "").upper()
            year, seq = match.group(2), int(match.group(3))
            key = NUMBER_KEY.get(prefix, prefix)
            numbers.setdefault(key, []).append(f"{prefix}-{year}-{seq:04d}")
            blank(chars, match.start(), match.end())
        serials = []
        year = timezone.localdate().year
        for match in LOOSE_NUMBER.finditer("".join(chars)):
            prefix = match.group(1).upper()
            key = NUMBER_KEY.get(prefix, prefix)
            numbers.setdefault(key, []).append(f"{prefix}-{year}-{int(match.group(2)):04d}")
            blank(chars, match.start(), match.end())
        for match in SERIAL.finditer(source):
            serials.append(f"LX{match.group(1)}{match.group(2)}")
            blank(chars, match.start(), match.end())
        for start, end, serial in known_serials("".join(chars)):
            serials.append(serial)
            blank(chars, start, end)
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
        # A code typed loosely ("PW-D37T7", "nz-s15") is also looked up without separators.
        codes = {
            match.start(): (match.end(), names.compact_code(match.group(0)))
            for match in CODE_TOKEN.finditer(text)
            if any(char.isdigit() for char in match.group(0))
        }
        terms = names.lookup(pieces(text) | {code for _end, code in codes.values()})
        longest = terms.longest()
        hits: list[tuple[str, int, int]] = []  # (term, start, end)
        position = 0
        while position < len(text):
            if text[position] == " ":
                position += 1
                continue
            hit = None
            for size in range(min(longest, len(text) - position), 1, -1):
                piece = text[position : position + size]
                if piece in terms and on_boundaries(text, position, position + size, piece):
                    hit = (piece, position, position + size)
                    break
            end, code = codes.get(position, (0, ""))
            if code in terms and (hit is None or hit[2] < end):
                hit = (code, position, end)
            if hit is None:
                position += 1
                continue
            hits.append(hit)
            blank(chars, hit[1], hit[2])
            position = hit[2]
        kinds_of = terms.kinds([term for term, _start, _end in hits])
        found = []
        for term, start, end in hits:
            kinds = kinds_of[term]
            if not kinds:  # its record went away between the two reads
                continue
            order = [kind for kind in KIND_ORDER if kind in kinds]
            others = {kind: kinds[kind] for kind in order[1:]}
            found.append(Mention(text[start:end], order[0], kinds[order[0]], start, end, others))
        return found


CJK_WORD = re.compile(r"[\u4e00-\u9fff]{3,}")
CJK_NAME = re.compile(r"[\u4e00-\u9fff]+")
RESPELT_CJK_LONGEST = 6


def chinese_respelled(text: str, rest: str) -> str | None:
    """The text with a Chinese word that names nothing, one character off exactly one
    item's Chinese name, spelt as that name ("陶磁环28" → "陶瓷环28", as a voice input or a
    pinyin keyboard writes it); None when there is none."""
    windows = [
        run[start : start + size]
        for run in CJK_WORD.findall(rest)
        for size in range(min(len(run), RESPELT_CJK_LONGEST), 2, -1)
        for start in range(0, len(run) - size + 1)
    ]
    known = names.names_starting({(window[0], len(window)) for window in windows})
    for window in windows:  # longest first
        close = sorted(
            name
            for name in known
            if len(name) == len(window)
            and CJK_NAME.fullmatch(name)
            and sum(a != b for a, b in zip(window, name, strict=True)) == 1
        )
        # Two names of the same items ("陶瓷环", "陶瓷体": both CR-32) are one reading.
        if close and all(known[name] == known[close[0]] for name in close):
            return text.replace(window, close[0], 1)
    return None


def known_serials(text: str) -> list[tuple[int, int, str]]:
    """Serial numbers of other formats than LX…, or with an O typed for a 0
    ("RC3K2026011", "LX2026O001"): code-like words with many digits that are serials in the
    ERP. (Fewer digits are SKUs: no query for those.)"""
    candidates: dict[str, tuple[int, int]] = {}
    for match in BARE_SERIAL.finditer(text):
        candidates[f"LX{match.group(1)}"] = (match.start(), match.end())
    for match in CODE_TOKEN.finditer(text):
        word = match.group(0).upper()
        digits_read = re.sub(r"(?<=\d)O|O(?=\d)", "0", word)
        if sum(char.isdigit() for char in digits_read) >= SERIAL_DIGITS:
            for spelling in (word, digits_read):
                candidates[spelling] = (match.start(), match.end())
    if not candidates:
        return []
    found = SerialNumber.objects.filter(serial__in=candidates).values_list("serial", flat=True)
    return sorted((*candidates[serial], serial) for serial in set(found))


def pieces(text: str) -> set[str]:
    """Every part of the text that could be a term: 2 to TERM_MAX_LENGTH characters, not
    starting or ending in a space, ASCII edges on word boundaries."""
    found = set()
    for start in range(len(text)):
        if text[start] == " ":
            continue
        for end in range(start + 2, min(len(text), start + names.TERM_MAX_LENGTH) + 1):
            piece = text[start:end]
            if piece[-1] != " " and on_boundaries(text, start, end, piece):
                found.add(piece)
    return found


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
    re.compile(rf"(?<![a-z0-9.\-])(\d+(?:\.\d+)?)\s*{UNITS}"),
    re.compile(r"(?<![a-z0-9.\-])(\d+)\s*[x×*](?![a-z0-9])"),
    re.compile(r"(?<![a-z0-9])[x×*]\s*(\d+)(?![a-z0-9.])"),
    re.compile(r"(?:qty|数量)\s*[:：]?\s*(\d+)"),
    re.compile(r"(?<![a-z0-9.\-])(\d+)\s+of (?:them|those|these|it)\b"),
]
CN_QTY = re.compile(rf"([一二两俩三四五六七八九十百千]+){UNITS}")
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
    """一 … 九十九, and hundreds and thousands ("两百", "一千五", "三百二十")."""
    for place, size in (("千", 1000), ("百", 100)):
        if place in word:
            high, _, low = word.partition(place)
            value = CN_DIGITS.get(high, 1) * size
            if low and len(low) == 1 and low in CN_DIGITS:
                return value + CN_DIGITS[low] * size // 10  # "一千五": 1,500
            return value + (chinese_number(low.lstrip("零")) if low else 0)
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
