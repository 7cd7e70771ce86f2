"""How the rule brain understands a tool it has no rule of its own for: from the tool's own
declared examples.

The words of a tool's examples that name no record (the records are blanked out by the
vocabulary) and that the rule brain's own grammar does not already use are the tool's
trigger words: Chinese two-character words, English words of three letters or more. A
message containing one of them asks for that tool; the tool's `slots` say which records to
fill its parameters with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apps.ai_assistant.tools.registry import Tool

from .rules_entities import Vocabulary

# Characters of Chinese function words: a two-character word with one of them is no trigger.
ZH_FUNCTION_CHARS = set("的是了吗呢吧啊有个在和与多少几么什请帮我查一下看这那它哪还给要")
EN_FUNCTION_WORDS = {
    "the", "and", "for", "what", "whats", "what's", "how", "much", "many", "does", "with",
    "show", "tell", "please", "about", "this", "that", "which", "are", "is", "of", "in",
}  # fmt: skip
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
EN_WORD = re.compile(r"[a-z][a-z'-]{2,}")

_triggers: dict[tuple[int, str], frozenset[str]] = {}


def trigger_words(tool: Tool, vocabulary: Vocabulary, grammar: Iterable[re.Pattern]) -> frozenset:
    """The distinctive words of the tool's examples (cached per tool and examples)."""
    key = (id(tool), repr(tool.examples))
    if key not in _triggers:
        words: set[str] = set()
        for examples in tool.examples.values():
            for example in examples:
                words |= _words(vocabulary.extract(example).rest)
        patterns = list(grammar)
        _triggers[key] = frozenset(
            word for word in words if not any(pattern.search(word) for pattern in patterns)
        )
    return _triggers[key]


def _words(text: str) -> set[str]:
    words = set()
    for run in CJK_RUN.findall(text):
        for start in range(len(run) - 1):
            pair = run[start : start + 2]
            if not set(pair) & ZH_FUNCTION_CHARS:
                words.add(pair)
    words.update(word for word in EN_WORD.findall(text) if word not in EN_FUNCTION_WORDS)
    return words
