"""Splitting long replies to each platform's limit."""

import pytest

from apps.ai_assistant.channels.chunking import (
    TELEGRAM_TEXT_UNITS,
    WECHAT_TEXT_BYTES,
    char_length,
    split_text,
    utf8_length,
    utf16_length,
)


def stock_lines(count: int) -> str:
    return "\n".join(f"第{i}行：NZ-S1.5 单层喷嘴 主仓库 可用 110" for i in range(count))


def test_short_text_is_one_part_without_a_number():
    assert split_text("NZ-S1.5 库存 110", WECHAT_TEXT_BYTES) == ["NZ-S1.5 库存 110"]


def test_text_exactly_at_the_limit_is_one_part():
    text = "库" * (WECHAT_TEXT_BYTES // 3) + "ab"
    assert utf8_length(text) == WECHAT_TEXT_BYTES
    assert split_text(text, WECHAT_TEXT_BYTES) == [text]


def test_long_text_splits_at_line_boundaries_within_the_byte_limit():
    text = stock_lines(200)
    parts = split_text(text, WECHAT_TEXT_BYTES)
    assert len(parts) > 1
    assert all(utf8_length(part) <= WECHAT_TEXT_BYTES for part in parts)
    total = len(parts)
    bodies = []
    for index, part in enumerate(parts, start=1):
        prefix = f"({index}/{total}) "
        assert part.startswith(prefix)
        bodies.append(part[len(prefix) :])
    # Nothing lost, nothing reordered, every line whole.
    assert "\n".join(bodies) == text


def test_the_number_prefix_counts_toward_the_limit():
    line = "x" * 90
    parts = split_text("\n".join([line] * 30), 100, char_length)
    assert all(len(part) <= 100 for part in parts)


def test_ten_or_more_parts_are_numbered_with_room_for_two_digits():
    parts = split_text(stock_lines(2000), 300, utf8_length)
    assert len(parts) >= 10
    assert parts[0].startswith(f"(1/{len(parts)}) ")
    assert all(utf8_length(part) <= 300 for part in parts)


def test_an_overlong_line_is_hard_split_without_breaking_characters():
    text = "库存" * 3000  # one line, 18000 bytes
    parts = split_text(text, WECHAT_TEXT_BYTES)
    assert all(utf8_length(part) <= WECHAT_TEXT_BYTES for part in parts)
    assert "".join(part.split(") ", 1)[1] for part in parts) == text
    for part in parts:
        part.encode("utf-8").decode("utf-8")


def test_telegram_counts_utf16_units_and_keeps_surrogate_pairs_whole():
    text = "😀" * 5000  # 10000 UTF-16 code units
    parts = split_text(text, TELEGRAM_TEXT_UNITS, utf16_length)
    assert all(utf16_length(part) <= TELEGRAM_TEXT_UNITS for part in parts)
    assert "".join(part.split(") ", 1)[1] for part in parts) == text
    assert utf16_length("😀") == 2


def test_blank_line_runs_do_not_make_empty_parts():
    text = ("a" * 50 + "\n" + "\n" * 60) * 5
    parts = split_text(text, 80, char_length)
    assert all(part.split(") ", 1)[1].strip() for part in parts)


def test_a_limit_too_small_to_number_parts_is_an_error():
    with pytest.raises(ValueError):
        split_text("x" * 100, 8, char_length)
