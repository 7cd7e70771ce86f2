"""The tool registry: what the assistant may do, and the one path every tool call takes.

`execute_tool` validates parameters, checks the user's permission, runs the tool, times it
and writes a ToolExecutionLog row whatever happens. Write tools are never run by a first
request: `stage_tool` resolves their references into a preview that the user confirms, and
only then `execute_tool(..., confirmed=True)` runs them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from apps.ai_assistant import metrics, turns
from apps.ai_assistant.models import ToolExecutionLog

logger = logging.getLogger(__name__)

STATUS = ToolExecutionLog.Status


class ToolInputError(Exception):
    """The request names something that does not exist or is ambiguous; the text says what."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.candidates = candidates or []


class ToolError(Exception):
    """The ERP refused the action (e.g. not enough stock); the text is safe to show."""


@dataclass
class ToolContext:
    """Who calls a tool, from where. Tools see only what this user may see."""

    user: Any
    channel: str = ""
    conversation: Any = None
    language: str = "zh"


@dataclass
class Preview:
    """A write tool's resolved arguments and a one-line description of what it will do."""

    resolved_args: dict[str, Any]
    target_repr: str


@dataclass
class ToolResult:
    tool: str
    status: str
    data: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    candidates: list[str] = field(default_factory=list)
    log_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == STATUS.SUCCESS

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "status": self.status,
            "data": self.data,
            "message": self.message,
            "candidates": self.candidates,
            "log_id": self.log_id,
        }


class Tool:
    """Base class: a subclass declares its contract and implements `run` (and for writes
    `preview`), plus `render` to turn its result into a reply in zh or en.

    A tool describes itself, and everything else reads the description from the registry:
    the LLM brain its JSON schema (name, descriptions, Params), /help and greetings its
    `topic` and `examples`, refusals its `topic`, the rule brain its `slots` (which
    parameters name which kind of record, for follow-ups) and, for a tool it has no rule of
    its own for, the words of its `examples` that name no record.
    """

    name: ClassVar[str]
    description_en: ClassVar[str]
    description_zh: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    permission: ClassVar[str]  # "app_label.codename"
    write: ClassVar[bool] = False
    # What the tool lets a user see or do, as a verb phrase ("查询库存" / "check stock").
    topic: ClassVar[dict[str, str]] = {}
    # Requests staff would send for it, per language, for /help (and the rule brain).
    examples: ClassVar[dict[str, list[str]]] = {}
    # Parameter → the kind of record it names: item, warehouse, customer, supplier, serial,
    # sales_order, purchase_order, work_order, service_ticket.
    slots: ClassVar[dict[str, str]] = {}
    # Place in /help; lower first.
    help_rank: ClassVar[int] = 100

    def run(self, ctx: ToolContext, params: BaseModel) -> dict[str, Any]:
        raise NotImplementedError

    def preview(self, ctx: ToolContext, params: BaseModel) -> Preview:
        raise NotImplementedError(f"{self.name} is not a write tool")

    def render(self, data: dict[str, Any], language: str) -> str:
        raise NotImplementedError

    def summarize(self, data: dict[str, Any]) -> str:
        """A short line for the execution log."""
        return json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder)[:500]

    def json_schema(self) -> dict[str, Any]:
        """The OpenAI tool-calling definition of this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": f"{self.description_en} / {self.description_zh}",
                "parameters": self.Params.model_json_schema(),
            },
        }


REGISTRY: dict[str, Tool] = {}


def register(tool_class: type[Tool]) -> type[Tool]:
    """Class decorator adding a tool to the registry under its name."""
    if tool_class.name in REGISTRY:
        raise ValueError(f"tool {tool_class.name} registered twice")
    REGISTRY[tool_class.name] = tool_class()
    return tool_class


def get_tool(name: str) -> Tool | None:
    load_tools()
    return REGISTRY.get(name)


def may_use(user: Any, tool: Tool) -> bool:
    return bool(user and user.is_active and user.has_perm(tool.permission))


def tools_for(user: Any) -> list[Tool]:
    """The tools this user may use, in a stable order; others are not even offered."""
    load_tools()
    return [tool for name, tool in sorted(REGISTRY.items()) if may_use(user, tool)]


def unregister(name: str) -> None:
    """Remove a tool from the registry (a test's throwaway tool)."""
    REGISTRY.pop(name, None)


def load_tools() -> None:
    """Import the tool modules so their @register lines run (idempotent)."""
    from apps.ai_assistant import tools  # noqa: F401  (the package imports every tool module)


def number(value: Decimal | int | float | None) -> str | None:
    """A quantity or amount as a plain string without trailing zeros ("8", "1.5")."""
    if value is None:
        return None
    normalized = Decimal(value).normalize()
    return f"{normalized:f}"


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


def _finish(
    ctx: ToolContext,
    tool_name: str,
    params: dict[str, Any],
    result: ToolResult,
    started: float,
    summary: str = "",
) -> ToolResult:
    log = ToolExecutionLog.objects.create(
        tool=tool_name[:60],
        user=ctx.user if getattr(ctx.user, "pk", None) else None,
        channel=ctx.channel,
        conversation=ctx.conversation,
        inbound_id=turns.current_inbound_id.get(),
        parameters=_json_safe(params) if isinstance(params, dict) else {"raw": str(params)},
        result_summary=summary or result.message,
        status=result.status,
        error="" if result.ok else result.message,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    result.log_id = log.pk
    metrics.TOOL_CALLS.labels(metrics.known(tool_name, REGISTRY), result.status).inc()
    return result


def log_run(
    ctx: ToolContext,
    tool_name: str,
    params: dict[str, Any],
    status: str,
    message: str,
    started: float,
    summary: str = "",
) -> ToolResult:
    """Log work a tool does outside `execute_tool` (a report job made by a worker) the same
    way: one ToolExecutionLog row, counted."""
    return _finish(
        ctx, tool_name, params, ToolResult(tool_name, status, message=message), started, summary
    )


def _prepare(
    ctx: ToolContext, tool_name: str, params: dict[str, Any]
) -> tuple[Tool | None, BaseModel | None, ToolResult | None]:
    """Look the tool up, check the permission and validate the parameters."""
    tool = get_tool(tool_name)
    if tool is None:
        return (
            None,
            None,
            ToolResult(tool_name, STATUS.INVALID, message=f"Unknown tool {tool_name}"),
        )
    if not may_use(ctx.user, tool):
        return tool, None, ToolResult(tool_name, STATUS.DENIED, message="permission denied")
    if not isinstance(params, dict):
        return (
            tool,
            None,
            ToolResult(tool_name, STATUS.INVALID, message="parameters must be an object"),
        )
    try:
        validated = tool.Params.model_validate(params)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'parameters'}: {problem['msg']}"
            for problem in error.errors()
        )
        return tool, None, ToolResult(tool_name, STATUS.INVALID, message=problems)
    return tool, validated, None


def execute_tool(
    ctx: ToolContext, tool_name: str, params: dict[str, Any], *, confirmed: bool = False
) -> ToolResult:
    """Run a tool as ctx.user and log it. An unconfirmed write tool is staged, not run."""
    started = time.monotonic()
    tool, validated, refusal = _prepare(ctx, tool_name, params)
    if refusal:
        return _finish(ctx, tool_name, params, refusal, started)
    if tool.write and not confirmed:
        return stage_tool(ctx, tool_name, params, _started=started)
    try:
        # A savepoint: a failing tool rolls back its own writes and the log row still lands.
        with transaction.atomic():
            data = tool.run(ctx, validated)
    except ToolInputError as error:
        result = ToolResult(tool_name, STATUS.INVALID, message=error.message)
        result.candidates = error.candidates
        return _finish(ctx, tool_name, params, result, started)
    except ToolError as error:
        return _finish(
            ctx, tool_name, params, ToolResult(tool_name, STATUS.ERROR, message=str(error)), started
        )
    except Exception as error:
        logger.exception("tool %s failed", tool_name)
        failure = ToolResult(tool_name, STATUS.ERROR, message="internal error")
        return _finish(
            ctx,
            tool_name,
            params,
            failure,
            started,
            summary=f"{type(error).__name__}: {error}"[:500],
        )
    data.setdefault("as_of", timezone.now().isoformat())
    data = _json_safe(data)
    result = ToolResult(tool_name, STATUS.SUCCESS, data=data)
    return _finish(ctx, tool_name, params, result, started, summary=tool.summarize(data))


def stage_tool(
    ctx: ToolContext, tool_name: str, params: dict[str, Any], *, _started: float | None = None
) -> ToolResult:
    """Resolve a write tool's references into a preview for the user to confirm."""
    started = _started or time.monotonic()
    tool, validated, refusal = _prepare(ctx, tool_name, params)
    if refusal:
        return _finish(ctx, tool_name, params, refusal, started)
    try:
        with transaction.atomic():
            preview = tool.preview(ctx, validated)
    except ToolInputError as error:
        result = ToolResult(
            tool_name, STATUS.INVALID, message=error.message, candidates=error.candidates
        )
        return _finish(ctx, tool_name, params, result, started)
    except ToolError as error:
        return _finish(
            ctx, tool_name, params, ToolResult(tool_name, STATUS.ERROR, message=str(error)), started
        )
    data = _json_safe({"resolved_args": preview.resolved_args, "target_repr": preview.target_repr})
    result = ToolResult(tool_name, STATUS.STAGED, data=data)
    return _finish(ctx, tool_name, params, result, started, summary=preview.target_repr)
