"""Calling a tool as a demo user, the way the tool tests do."""

from django.contrib.auth import get_user_model

from apps.ai_assistant.models import ToolExecutionLog
from apps.ai_assistant.tools.registry import ToolContext, ToolResult, execute_tool, get_tool


def call(
    username: str, tool: str, params: dict, *, confirmed=False, language="zh", channel="cli"
) -> ToolResult:
    """Run `tool` through the registry as the demo user `username`."""
    user = get_user_model().objects.get(username=username)
    context = ToolContext(user=user, channel=channel, language=language)
    return execute_tool(context, tool, params, confirmed=confirmed)


def render(result: ToolResult, language: str = "zh") -> str:
    return get_tool(result.tool).render(result.data, language)


def log_of(result: ToolResult) -> ToolExecutionLog:
    return ToolExecutionLog.objects.get(pk=result.log_id)
