"""Report jobs in each state, made the way the system makes them (jobs.py and the report
tools), for the tests of the pages that show them."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.ai_assistant import jobs
from apps.ai_assistant.models import ReportJob
from apps.ai_assistant.tools.registry import ToolContext, get_tool

from .tool_helpers import call

THIS_MONTH = {"period": "this_month"}


def made_in_sync_mode(username: str, tool: str = "sales_report", params=None) -> ReportJob:
    """Ask for a report through the registry with no worker: made while the chat waits
    (succeeded, or answered from the cache), or failed when it takes too long."""
    result = call(username, tool, THIS_MONTH if params is None else params)
    return ReportJob.objects.get(pk=result.data["job"])


def queued(username: str, tool: str = "reorder_plan", parameters=None) -> ReportJob:
    """A job as a report tool leaves it in async mode: queued for a worker."""
    report_tool = get_tool(tool)
    context = ToolContext(user=get_user_model().objects.get(username=username), channel="cli")
    if parameters is None:
        parameters = report_tool.job_parameters(report_tool.Params())
    return jobs.request(context, report_tool, parameters)


def running(username: str, tool: str = "reorder_plan", parameters=None) -> ReportJob:
    """A queued job a worker has taken."""
    return jobs.start(queued(username, tool, parameters).pk, worker="test-worker")
