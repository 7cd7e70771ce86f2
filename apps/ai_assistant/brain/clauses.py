"""Where one message asks several things: its clauses, in the order written.

"保护镜在sz还有多少，另外PO-2026-0003什么时候到", "customer C007 and their orders",
"LS-RC-3000 是什么 主仓有几个": each clause is read as the next message of a conversation
would be (rules.py), so a later clause may point back to an earlier one's record ("their",
"for it", "主仓有几个" after an item). Splitting is only a proposal: the rule brain keeps the
reading of the whole message unless the clauses explain all of it and more.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Between clauses whatever the language: punctuation and the words that start another question.
CLAUSE_BREAK = re.compile(
    r"\s*(?:[,;?!。！？，；\n]+|另外|顺便|同时|然后|以及|并且|再帮我|再帮忙|再查一下|再看一下|"
    # "还有" starts a clause ("…，还有6千瓦激光器的采购"), unless it asks for what is left.
    r"还有(?![多少几没吗货库剩的个])|"
    # A question ends with 吗, 呢 or 是什么 even when the next one follows without a space.
    r"(?<=[吗呢])(?=\S)|(?<=是什么)(?=[^\s的?])|\s\+\s|\+|"
    # "和他们的订单": the second clause points back to the first one's record.
    r"(?:和|跟|还有)(?=他们|他家|它的|这家|那家|该客户)|"
    # Any "and" may join two questions; a list ("NZ-S1.5 and CR-32 in spare") stays one
    # because its clauses read alone explain no more than the whole.
    r"\balso\b|\bplus\b|\bthen\b|\band\b)\s*"
)
CJK = re.compile(r"[\u4e00-\u9fff]")
ASCII_WORD = re.compile(r"[a-z0-9]")
CHINESE_AND = re.compile(r"(?<=[\u4e00-\u9fff])(?:和|跟|以及)(?=[\u4e00-\u9fff])")
# What somebody said or reported ("客户说打标机有点问题"): context for the question, not one.
NARRATION = re.compile(
    r"^(?:客户|用户|对方|他们|他|她)?(?:那边|那里)?(?:说|反映|反馈|讲|提到)|"
    r"^(?:客户|用户|对方|他们|他|她)(?:那边|那里)?(?:在?问|在?催)|"
    # A guess said beside a request ("深圳那边应该还剩两台吧"), not a question.
    r"应该[^,，]{0,15}吧$|"
    r"^(?:the )?(?:customer|client|user|he|she|they) "
    r"(?:says|said|reports|reported|mentions|told)\b|"
    # What the asker states about their own side ("we're completely out").
    r"^(?:we're|we are|we've|we're now|i'm|i am)\b"
)


def split_clauses(
    plain: str,
    asks_something: Callable[[str], bool],
    names_something: Callable[[str], bool],
    asks_only: Callable[[str], bool],
) -> list[str]:
    """The clauses of a normalised message; one clause when it asks one thing.

    A piece that asks nothing of its own ("激光器不出光" after a ticket request) belongs to
    the clause before it, or to the first one when it leads; set apart by punctuation, a
    piece that names a record by its code is a question of its own ("CR-32 in main, and is
    PO-2026-0008 late"). Chinese staff also separate questions with a space only
    ("LS-RC-3000 是什么 主仓有几个"); there only words that ask something start a clause,
    and not words that only ask right after another ("LM-F30 多少 price" asks one thing).
    """
    pieces = [piece.strip() for piece in CLAUSE_BREAK.split(plain) if piece.strip()]
    pieces = [part for piece in pieces for part in _asked_together(piece, asks_something)]
    standalone = [
        not NARRATION.search(piece) and (asks_something(piece) or names_something(piece))
        for piece in pieces
    ]
    # A piece that only names a record, before a Chinese question with no code, number or
    # English word in it ("恒通那台3015 SO-2026-0001，生产计划几号完的"), is its subject.
    for index, piece in enumerate(pieces[:-1]):
        following = pieces[index + 1]
        if not asks_something(piece) and names_something(piece) and asks_something(following):
            standalone[index] = standalone[index] and bool(ASCII_WORD.search(following))
    clauses: list[str] = []
    leading = ""
    for piece, alone in zip(pieces, standalone, strict=True):
        if not alone:
            if clauses:
                clauses[-1] = f"{clauses[-1]}, {piece}"
            else:
                leading = f"{leading}{piece}, "
            continue
        words = piece.split(" ") if CJK.search(piece) else [piece]
        spaced = _joined(words, asks_something, names_something, asks_only)
        spaced[0] = leading + spaced[0]
        leading = ""
        clauses.extend(spaced)
    return clauses or [plain]


def _asked_together(piece: str, asks_something: Callable[[str], bool]) -> list[str]:
    """ "保修状态和没关的单": two questions joined by 和 when each side asks something of its
    own; "保护镜和陶瓷环" lists two items of one question, and "鑫和" is a name."""
    parts = [part.strip() for part in CHINESE_AND.split(piece)]
    if len(parts) > 1 and all(part and asks_something(part) for part in parts):
        return parts
    return [piece]


def _joined(
    words: list[str],
    asks_something: Callable[[str], bool],
    names_something: Callable[[str], bool],
    asks_only: Callable[[str], bool],
) -> list[str]:
    """Space-separated words: each that asks something starts a clause. The words between
    two such belong to the clause before, unless they name a record by its code: then they
    start the next one ("保修状态 以及 ST-2026-0005 的进度")."""
    clauses: list[str] = []
    pending: list[str] = []
    for word in (word for word in words if word):
        if not asks_something(word) or NARRATION.search(word):
            pending.append(word)
            continue
        if clauses and not pending and asks_only(word):
            clauses[-1] = f"{clauses[-1]} {word}"
            continue
        if clauses and " " not in clauses[-1] and asks_only(clauses[-1]):
            # "有没有 open PO 在补": a question word alone asks about what follows it.
            clauses[-1] = " ".join([clauses[-1], *pending, word])
            pending = []
            continue
        if clauses and pending and not names_something(" ".join(pending)):
            clauses[-1] = " ".join([clauses[-1], *pending])
            pending = []
        clauses.append(" ".join([*pending, word]))
        pending = []
    if pending:
        if clauses:
            clauses[-1] = " ".join([clauses[-1], *pending])
        else:
            clauses.append(" ".join(pending))
    return clauses
