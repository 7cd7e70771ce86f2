"""The assistant's quality report: a labelled set of staff requests (cases.json) through the
real MessageHandler, each case in a transaction rolled back afterwards.

A case is a conversation (`turns`, as one demo user); its last turn is judged:

    {"tool": T, "params": P}       exactly one call of T with P (both made canonical by T's
                                   Params: defaults dropped, SKUs and codes as the tools take)
    {"calls": [{tool, params}...]} these calls, in this order (a question in several parts)
    {"ask": true, "candidates_include": [...]}
                                   an ask-back naming at least these records, no tool run
    {"denied": T}                  T refused for the user's role, no data shown
    {"kind": "help" | "greeting" | "thanks" | "unsupported"}

The figures: accuracy overall, per class, per expected tool, a confusion table (expected tool
→ tool called) and every miss with what the assistant did instead.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.ai_assistant.brain.base import BrainReply
from apps.ai_assistant.handler import MessageHandler
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ToolExecutionLog
from apps.ai_assistant.tools.registry import get_tool

CASES = Path(__file__).with_name("cases.json")
NOT_A_CALL = {"denied", "invalid"}


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


class Recording:
    """A brain that remembers its last reply (the judged turn's)."""

    def __init__(self, brain: Any) -> None:
        self.brain = brain
        self.name = getattr(brain, "name", "")
        self.last: BrainReply | None = None

    def respond(self, turn: Any) -> BrainReply:
        self.last = self.brain.respond(turn)
        return self.last


@dataclass
class Outcome:
    case: dict[str, Any]
    reply: str
    kind: str
    calls: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    right: bool = False

    @property
    def called(self) -> str:
        real = [tool for tool, _params, status in self.calls if status not in NOT_A_CALL]
        return ",".join(real) or f"({self.kind})"


def canonical(tool: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the tool takes them, its defaults left out; unknown or invalid
    parameters are kept as given (so they never match by accident)."""
    try:
        model = get_tool(tool).Params(**params)
    except Exception:
        return {"invalid": params}
    return model.model_dump(mode="json", exclude_defaults=True)


def run_case(case: dict[str, Any], brain: Any) -> Outcome:
    user = get_user_model().objects.get(username=case["user"])
    recording = Recording(brain)
    handler = MessageHandler(user, brain=recording)
    conversation = f"eval-{uuid.uuid4().hex}"
    with transaction.atomic():
        for text in case["turns"][:-1]:
            handler.handle_message(_message(user, conversation, text))
        recording.last = None
        reply = handler.handle_message(_message(user, conversation, case["turns"][-1])).content
        last = recording.last
        calls = []
        for result in last.tool_results if last else []:
            log = ToolExecutionLog.objects.filter(pk=result.log_id).first()
            params = log.parameters if log else {}
            calls.append((result.tool, canonical(result.tool, params), result.status))
        transaction.set_rollback(True)
    # No brain reply: the handler answered a command itself (/help, /new, /cancel, ...).
    kind = last.kind if last else _command(case["turns"][-1])
    outcome = Outcome(case, reply, kind, calls)
    outcome.right = judge(case["expect"], outcome)
    return outcome


def _command(text: str) -> str:
    word = text.strip().split()[0].lstrip("/").lower() if text.strip() else ""
    return "help" if word == "help" else f"command {word}"


def _message(user: Any, conversation: str, text: str) -> IncomingMessage:
    return IncomingMessage(
        message_id=uuid.uuid4().hex,
        channel="cli",
        external_user_id=f"eval-{user.pk}",
        content=text,
        timestamp=timezone.now(),
        conversation_id=conversation,
    )


def judge(expect: dict[str, Any], outcome: Outcome) -> bool:
    made = [(tool, params) for tool, params, status in outcome.calls if status not in NOT_A_CALL]
    if "tool" in expect:
        return made == [(expect["tool"], canonical(expect["tool"], expect.get("params", {})))]
    if "calls" in expect:
        wanted = [(c["tool"], canonical(c["tool"], c.get("params", {}))) for c in expect["calls"]]
        return made == wanted
    if expect.get("ask"):
        named = all(code in outcome.reply for code in expect.get("candidates_include", []))
        # A tool that finds no such record ("鸿达" is no customer) says so: that is the ask.
        refused = any(status == "invalid" for _tool, _params, status in outcome.calls)
        return not made and (outcome.kind in ("clarify", "text") or refused) and named
    if "denied" in expect:
        denied = [tool for tool, _params, status in outcome.calls if status == "denied"]
        return not made and expect["denied"] in denied
    wanted_kind = {"unsupported": "unknown"}.get(expect["kind"], expect["kind"])
    return not made and outcome.kind in (wanted_kind, "text")


@dataclass
class Report:
    outcomes: list[Outcome]

    @property
    def accuracy(self) -> float:
        return sum(o.right for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def lines(self, show_misses: bool = True) -> list[str]:
        right = sum(o.right for o in self.outcomes)
        out = [f"accuracy: {self.accuracy:.1%} ({right}/{len(self.outcomes)})", ""]
        out += self._table("class", lambda o: o.case.get("class", "?"))
        out += self._table("expected tool", _expected_tool)
        out += self._table("user", lambda o: o.case["user"])
        out += self._confusion()
        if show_misses:
            misses = [o for o in self.outcomes if not o.right]
            out.append(f"misses ({len(misses)}):")
            for o in misses:
                got = [(tool, params, status) for tool, params, status in o.calls]
                out.append(f"  {o.case['id']} [{o.case['user']}] {' ⏎ '.join(o.case['turns'])}")
                out.append(f"     want {json.dumps(o.case['expect'], ensure_ascii=False)}")
                out.append(f"     got  {o.kind} {json.dumps(got, ensure_ascii=False)}")
                out.append(f"     said {o.reply[:120]!r}")
        return out

    def _table(self, title: str, key) -> list[str]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            groups[key(outcome)].append(outcome)
        out = [f"by {title}:"]
        for name in sorted(groups):
            group = groups[name]
            right = sum(o.right for o in group)
            out.append(f"  {name:<28} {right:>4}/{len(group):<4} {right / len(group):>7.1%}")
        return [*out, ""]

    def _confusion(self) -> list[str]:
        pairs = Counter((_expected_tool(o), o.called) for o in self.outcomes if not o.right)
        out = ["confusion (expected → what was done, misses only):"]
        for (expected, called), count in pairs.most_common():
            out.append(f"  {expected:<28} → {called:<40} {count}")
        return [*out, ""]


def _expected_tool(outcome: Outcome) -> str:
    expect = outcome.case["expect"]
    if "tool" in expect:
        return expect["tool"]
    if "calls" in expect:
        return "+".join(call["tool"] for call in expect["calls"])
    if expect.get("ask"):
        return "(ask back)"
    if "denied" in expect:
        return f"(denied {expect['denied']})"
    return f"({expect['kind']})"


def evaluate(cases: list[dict[str, Any]], brain_factory) -> Report:
    return Report([run_case(case, brain_factory()) for case in cases])
