"""Cutting a long reply into platform-sized parts, at line boundaries, numbered "(1/3) ".

Limits, each measured the way its platform counts:
- WeChat / WeCom: 2048 UTF-8 bytes per text (docs/channels.md §1.3, §2; longer text is cut off).
- Telegram: 4096 UTF-16 code units (entity offsets are UTF-16, so count that way to be safe).
- DingTalk: 4000 characters. The platform documents no exact text limit; 4000 characters
  keeps even all-CJK text (3 bytes each) at 12000 bytes, well inside the 20000-byte message
  body limit quoted for robots, and stays readable on a phone.

A measure must be additive (measure(a + b) == measure(a) + measure(b)); all three are.
"""

from __future__ import annotations

from collections.abc import Callable

WECHAT_TEXT_BYTES = 2048
WECOM_TEXT_BYTES = 2048
TELEGRAM_TEXT_UNITS = 4096
DINGTALK_TEXT_CHARS = 4000


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    # Characters outside the BMP take a surrogate pair: two code units.
    return len(text.encode("utf-16-le")) // 2


def char_length(text: str) -> int:
    return len(text)


def part_prefix(index: int, total: int) -> str:
    return f"({index}/{total}) "


def split_text(text: str, limit: int, measure: Callable[[str], int] = utf8_length) -> list[str]:
    """`text` as one part if it fits `limit`, else numbered parts that each fit, in order.

    Breaks fall between lines; a line longer than a whole part is cut between characters
    (a Python character is a code point, so UTF-8 sequences and surrogate pairs stay whole).
    A blank text is no part at all: there is nothing to send.
    """
    if not text.strip():
        return []
    if measure(text) <= limit:
        return [text]
    total_guess = 2
    while True:
        budget = limit - measure(part_prefix(total_guess, total_guess))
        if budget < 8:
            raise ValueError(f"limit {limit} is too small to number parts")
        pieces = _pack_lines(text, budget, measure)
        if len(str(len(pieces))) <= len(str(total_guess)):
            break
        # More parts than the prefix width allowed for: re-pack with wider numbers.
        total_guess = len(pieces)
    total = len(pieces)
    return [part_prefix(index, total) + piece for index, piece in enumerate(pieces, start=1)]


def _pack_lines(text: str, budget: int, measure: Callable[[str], int]) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    current_size = 0

    def flush() -> None:
        nonlocal current, current_size
        piece = "".join(current).rstrip("\n")
        if piece.strip():
            pieces.append(piece)
        current, current_size = [], 0

    for line in text.splitlines(keepends=True):
        size = measure(line)
        if current_size + size <= budget:
            current.append(line)
            current_size += size
            continue
        flush()
        if size <= budget:
            current, current_size = [line], size
            continue
        for fragment in _hard_split(line, budget, measure):
            flush()
            current, current_size = [fragment], measure(fragment)
    flush()
    return pieces


def _hard_split(line: str, budget: int, measure: Callable[[str], int]) -> list[str]:
    fragments: list[str] = []
    start = 0
    size = 0
    for position, char in enumerate(line):
        char_size = measure(char)
        if size + char_size > budget:
            fragments.append(line[start:position])
            start, size = position, 0
        size += char_size
    fragments.append(line[start:])
    return fragments
