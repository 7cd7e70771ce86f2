"""How the rule brain compares text: full-width folded, lower case, English singular."""

from __future__ import annotations

import re
import unicodedata

SINGULAR_KEEP = {
    "lens", "focus", "status", "raycus", "this", "has", "is", "was", "its", "gas", "plus",
    "yes", "less", "process", "us", "does", "pcs", "always", "series", "bus",
}  # fmt: skip


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
