"""How the rule brain compares text: full-width folded, lower case, English singular."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from rapidfuzz.distance import OSA

SINGULAR_KEEP = {
    "lens", "focus", "status", "raycus", "this", "has", "is", "was", "its", "gas", "plus",
    "yes", "less", "process", "us", "does", "pcs", "always", "series", "bus",
}  # fmt: skip


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, one space between words, spoken decimals in
    digits, powers in kW."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = SPOKEN_DECIMAL.sub(_spoken_decimal, re.sub(r"\s+", " ", text).strip())
    return normalize_power(text)


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


CN_NUMERALS = dict(zip("一二两三四五六七八九", [1, 2, 2, 3, 4, 5, 6, 7, 8, 9], strict=True))
CN_DIGITS = {**CN_NUMERALS, "零": 0, "〇": 0}
# "一点五" (1.5), "十二点五" (12.5), as voice input writes a size.
SPOKEN_DECIMAL = re.compile(r"(十?[零〇一二两三四五六七八九]?十?)点([零〇一二三四五六七八九]+)")


def _spoken_decimal(match: re.Match) -> str:
    whole, fraction = match.group(1), match.group(2)
    if not whole:
        return match.group(0)
    tens, _, ones = whole.partition("十")
    if "十" in whole:
        number = CN_DIGITS.get(tens, 1) * 10 + CN_DIGITS.get(ones, 0)
    else:
        number = CN_DIGITS[whole]
    return f"{number}." + "".join(str(CN_DIGITS[char]) for char in fraction)


CN_POWER = re.compile(r"(?:([一二两三四五六七八九]?)万)?(?:([一二两三四五六七八九])千)?瓦")
POWER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(kw|千瓦|w|瓦)(?![a-z])")


def _kilowatts(watts: float) -> str:
    kilowatts = watts / 1000
    return f"{kilowatts:g}kw" if kilowatts >= 1 else f"{watts:g}w"


def _chinese_power(match: re.Match) -> str:
    """一万二千瓦 → 12kw, 六千瓦 → 6kw. A bare 瓦 belongs to the digits before it (6000瓦);
    万瓦 alone is a class of machines, not a power."""
    if match.group(0) in ("瓦", "万瓦"):
        return match.group(0)
    watts = 0
    if "万" in match.group(0):
        watts += CN_NUMERALS.get(match.group(1), 1) * 10000
    if match.group(2):
        watts += CN_NUMERALS[match.group(2)] * 1000
    return _kilowatts(watts)


# Powers as staff say them, the unit left out: "一万二的" (12,000 W), "一千五那台" (1,500 W).
CN_SPOKEN_POWER = re.compile(
    r"([一二两三四五六七八九])([万千])([一二两三四五六七八九])?(?![千百十万瓦])"
    r"(?=的|那|这|激光|光源|切割|焊|打标|源|[\s,，])"
)


def _spoken_chinese_power(match: re.Match) -> str:
    first, place, second = match.groups()
    unit = 10000 if place == "万" else 1000
    watts = CN_NUMERALS[first] * unit + (CN_NUMERALS[second] * unit // 10 if second else 0)
    return _kilowatts(watts)


def _power(match: re.Match) -> str:
    number, unit = float(match.group(1)), match.group(2)
    return _kilowatts(number * 1000 if unit in ("kw", "千瓦") else number)


EN_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
SPOKEN_KILOWATTS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                              r"twelve|\d+(?:\.\d+)?) ?(?:kilo ?watts?|kw)\b")  # fmt: skip


def _spoken(match: re.Match) -> str:
    word = match.group(1)
    return f"{EN_NUMBER_WORDS.get(word, word)}kw"


def normalize_power(text: str) -> str:
    """Powers written any way one way: 3000W, 3000瓦, 3 kW, 3千瓦, 三千瓦, three kilowatts →
    3kw; 500w stays."""
    text = SPOKEN_KILOWATTS.sub(_spoken, text)
    text = CN_POWER.sub(_chinese_power, text)
    text = CN_SPOKEN_POWER.sub(_spoken_chinese_power, text)
    return POWER.sub(_power, text)


LATIN_WORD = re.compile(r"(?<![A-Za-z0-9.-])[A-Za-z]{4,}(?![A-Za-z0-9-])")


def respelled(text: str, words: Collection[str]) -> str:
    """The text with each word one letter off exactly one of `words` spelt as that word
    ("stokc" → "stock", "staus" → "status"); another form of one ("reserved") is left."""

    def respell(match: re.Match) -> str:
        typed = match.group(0).lower()
        if any(typed.startswith(word) or word.startswith(typed) for word in words):
            return match.group(0)
        close = [word for word in words if OSA.distance(typed, word) == 1]
        return close[0] if len(close) == 1 else match.group(0)

    return LATIN_WORD.sub(respell, text)
