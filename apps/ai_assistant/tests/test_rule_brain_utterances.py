"""The rule brain against a set of real-sounding staff requests (fixtures/utterances.json).

Each utterance names what it should be understood as: a kind, and for tools the tool and its
exact canonical parameters. The brain must get at least 95 % of them exactly right; every miss
is printed so a regression shows what it broke.
"""

import json
from pathlib import Path

import pytest

from apps.ai_assistant.brain.base import detect_language
from apps.ai_assistant.brain.rules import RuleBrain

UTTERANCES = json.loads(
    (Path(__file__).parent / "fixtures" / "utterances.json").read_text(encoding="utf-8")
)
REQUIRED_ACCURACY = 0.95


def matches(understanding, expected) -> bool:
    if understanding.kind != expected["kind"]:
        return False
    if expected["kind"] == "tool":
        return understanding.tool == expected["tool"] and understanding.params == expected["params"]
    wanted = expected.get("candidates_include", [])
    return all(any(c.startswith(sku + " ") for c in understanding.candidates) for sku in wanted)


def describe(understanding) -> str:
    if understanding.kind == "tool":
        return f"tool {understanding.tool} {json.dumps(understanding.params, ensure_ascii=False)}"
    return f"{understanding.kind} {understanding.candidates or ''}"


@pytest.mark.django_db
def test_the_set_is_large_and_bilingual():
    chinese = [row for row in UTTERANCES if detect_language(row["text"]) == "zh"]
    assert len(UTTERANCES) >= 160
    assert 0.4 <= len(chinese) / len(UTTERANCES) <= 0.75


@pytest.mark.django_db
def test_the_rule_brain_understands_at_least_95_percent_of_the_utterances():
    brain = RuleBrain()
    misses = []
    for row in UTTERANCES:
        language = detect_language(row["text"])
        understanding = brain.understand(row["text"], language, row.get("context") or {})
        if not matches(understanding, row["expected"]):
            misses.append(
                f"{row['text']!r}\n   got {describe(understanding)}\n   want {row['expected']}"
            )
    accuracy = 1 - len(misses) / len(UTTERANCES)
    print(
        f"\nrule brain accuracy: {accuracy:.1%} ({len(UTTERANCES) - len(misses)}/{len(UTTERANCES)})"
    )
    for miss in misses:
        print(" MISS", miss)
    assert accuracy >= REQUIRED_ACCURACY
