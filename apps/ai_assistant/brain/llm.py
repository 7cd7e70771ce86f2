"""LLMBrain: any OpenAI-compatible chat-completions endpoint with tool calling.

The model sees only the tools this user may use, gets a bounded number of tool rounds and a
time budget, and its final text is accepted only if every number in it comes from a tool
result (or the user's own message). Anything else — an error, a timeout, an invented
figure — falls back to a reply rendered from the tool results, or to the rule brain.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from django.conf import settings
from openai import OpenAI, OpenAIError

from apps.ai_assistant.replies import render_result
from apps.ai_assistant.tools.registry import STATUS, ToolResult

from .base import BrainReply, BrainTurn

logger = logging.getLogger(__name__)

NUMBER = re.compile(r"\d+(?:\.\d+)?")

SYSTEM_PROMPT = (
    "You are the ERP assistant of a company that builds, sells and services laser cutting, "
    "welding and marking machines. Staff ask you about stock, products, orders, production, "
    "purchasing, warranties and service tickets. Answer in the user's language ({language}). "
    "Use the tools for every fact; quote quantities, dates and amounts exactly as the tools "
    "return them, with their units; never estimate, round or compute figures yourself. "
    "If a tool reports that something is ambiguous, ask the user which one they mean. "
    "Write tools only stage an action for the user to confirm; tell them to reply yes or no. "
    "Be brief."
)


def _numbers(text: str) -> set[str]:
    return {
        match.rstrip("0").rstrip(".") if "." in match else match for match in NUMBER.findall(text)
    }


class LLMBrain:
    name = "llm"
    # Tool calls run from one model message; more get an error answer instead of running.
    max_calls_per_round = 5

    def __init__(self, fallback: Any, client: OpenAI | None = None) -> None:
        self.fallback = fallback
        self.client = client or OpenAI(
            base_url=settings.AI_ASSISTANT_LLM_BASE_URL,
            api_key=settings.AI_ASSISTANT_LLM_API_KEY or "not-needed",
            timeout=settings.AI_ASSISTANT_LLM_TIMEOUT_SECONDS,
            max_retries=0,
        )
        self.model = settings.AI_ASSISTANT_LLM_MODEL
        self.max_rounds = settings.AI_ASSISTANT_LLM_MAX_TOOL_ROUNDS
        self.time_budget = settings.AI_ASSISTANT_LLM_TIMEOUT_SECONDS

    def respond(self, turn: BrainTurn) -> BrainReply:
        results: list[ToolResult] = []
        try:
            return self._converse(turn, results)
        except (OpenAIError, ValueError, KeyError, TypeError) as error:
            logger.warning("LLM brain failed (%s); answering without it", type(error).__name__)
            return self._without_model(turn, results)

    def _converse(self, turn: BrainTurn, results: list[ToolResult]) -> BrainReply:
        deadline = time.monotonic() + self.time_budget
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(language=turn.language)},
            {"role": "user", "content": turn.text},
        ]
        tools = [tool.json_schema() for tool in turn.available_tools]
        for _round in range(self.max_rounds + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ValueError("LLM time budget used up")
            request: dict[str, Any] = {
                "model": self.model,
                "messages": messages,
                "timeout": remaining,
            }
            if tools and _round < self.max_rounds:
                request["tools"] = tools
            completion = self.client.chat.completions.create(**request)
            if not completion.choices:
                raise ValueError("LLM answered without choices")
            choice = completion.choices[0].message
            if not choice.tool_calls:
                return self._final(turn, choice.content or "", results)
            if _round == self.max_rounds:
                # Asked for an answer, it still wants tools: their results could not be used.
                break
            messages.append(choice.model_dump(exclude_none=True))
            for index, call in enumerate(choice.tool_calls):
                # Not every endpoint sends well-formed function calls (or only those).
                function = getattr(call, "function", None)
                name = getattr(function, "name", None) or ""
                if index >= self.max_calls_per_round:
                    # Every call needs a tool message, but a runaway list must not run.
                    result = ToolResult(name, STATUS.INVALID, message="too many tool calls at once")
                else:
                    result = self._call(turn, name, getattr(function, "arguments", None))
                    results.append(result)
                if result.status == STATUS.STAGED:
                    # A write waits for the user's yes; nothing more to ask the model.
                    return self._from_results(turn, [result])
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": json.dumps(result.to_dict(), ensure_ascii=False),
                    }
                )
        raise ValueError("LLM kept calling tools past the round limit")

    def _call(self, turn: BrainTurn, name: str, raw_arguments: str | None) -> ToolResult:
        try:
            arguments = json.loads(raw_arguments or "{}")
        except json.JSONDecodeError:
            return ToolResult(name, STATUS.INVALID, message="arguments are not valid JSON")
        if not isinstance(arguments, dict):
            return ToolResult(name, STATUS.INVALID, message="arguments must be a JSON object")
        return turn.call_tool(name, arguments)

    def _final(self, turn: BrainTurn, text: str, results: list[ToolResult]) -> BrainReply:
        if not text.strip():
            return self._without_model(turn, results)
        sources = turn.text + json.dumps([r.to_dict() for r in results], ensure_ascii=False)
        invented = _numbers(text) - _numbers(sources)
        if invented:
            logger.warning("LLM reply had figures no tool returned: %s", sorted(invented)[:5])
            return self._without_model(turn, results)
        return BrainReply(
            text=text.strip(), tool_results=results, kind="tool" if results else "text"
        )

    def _without_model(self, turn: BrainTurn, results: list[ToolResult]) -> BrainReply:
        """The tool results worth saying, else the rule brain's answer.

        A refusal of the model's own mistakes (unknown tool, bad arguments) tells the user
        nothing; a denial, a staged write, data or a "which one?" with candidates does.
        """
        useful = [r for r in results if r.status != STATUS.INVALID or r.candidates]
        if useful:
            return self._from_results(turn, useful)
        return self.fallback.respond(turn)

    def _from_results(self, turn: BrainTurn, results: list[ToolResult]) -> BrainReply:
        # The same call made in several rounds is said once.
        texts = dict.fromkeys(render_result(result, turn.language) for result in results)
        text = "\n\n".join(texts)
        return BrainReply(text=text, tool_results=results, kind="tool" if results else "text")
