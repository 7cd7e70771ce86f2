"""What every brain takes and returns: one turn in, one reply out, as plain data.

A brain decides which tool answers a message and with which parameters; it never invents
figures. It runs tools only through `BrainTurn.call_tool`, which goes through the registry
as the user, so permissions, logging and write confirmation stay in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from apps.ai_assistant.tools.registry import Tool, ToolResult

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@dataclass
class Understanding:
    """What the rule brain made of one message."""

    kind: str  # "tool" | "clarify" | "help" | "greeting" | "thanks" | "unknown"
    tool: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    question: str = ""  # for clarify: the question to ask back, in the user's language
    candidates: list[str] = field(default_factory=list)
    # A question in several parts ("保护镜和陶瓷环主仓各多少", "恒通的订单和服务单"): the
    # further calls (tool, parameters), in the order asked after `tool`'s.
    more: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # What the brain took for what the request left out, said before the answer ("没说仓库：
    # 只有 spare 备件仓有足够的可用库存"): a default is never silent.
    notes: list[str] = field(default_factory=list)


@dataclass
class BrainTurn:
    """One user message with everything a brain may use to answer it."""

    text: str
    language: str  # "zh" | "en"
    user: Any
    # Conversation memory, e.g. {"item": "PW-D37-T7", "warehouse": "main", "order_no": ...}.
    context: dict[str, Any]
    # Runs a tool through the registry as the user; write tools come back "staged".
    call_tool: Callable[[str, dict[str, Any]], ToolResult]
    available_tools: list[Tool]


@dataclass
class BrainReply:
    text: str
    tool_results: list[ToolResult] = field(default_factory=list)
    context_updates: dict[str, Any] = field(default_factory=dict)
    parts: list[dict[str, Any]] = field(default_factory=list)
    # What the reply is: "tool" (it carries tool results), "clarify" (an ask-back), "help",
    # "greeting", "thanks", "unknown" (not understood) or "text" (a brain that cannot tell).
    kind: str = "text"


class Brain(Protocol):
    name: str

    def respond(self, turn: BrainTurn) -> BrainReply: ...


def detect_language(text: str) -> str:
    """ "zh" if the text has any CJK character, else "en"."""
    return "zh" if CJK.search(text or "") else "en"
