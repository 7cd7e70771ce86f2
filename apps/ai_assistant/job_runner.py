"""A reports worker's side of a job: make the report as its user, say how far it is, and hand
the file (or why there is none) to the chat that asked.

The tasks (tasks.py) are thin: `run` makes a whole report in one task; `start_parts`,
`make_part` and `finish_parts` are the steps of a report made piece by piece in parallel (a
Celery chord: one task per warehouse, then the merge). Either way the outcome goes back to
the asking message as one more reply part (inbox.attach_job_result), so the file is
delivered by the same exactly-once path as every reply: retried by time, fenced, in order.

Progress: the job row always says how far it is (/jobs, the console). A job still running
after AI_ASSISTANT_REPORT_PROGRESS_AFTER_SECONDS also tells the chat, at most
AI_ASSISTANT_REPORT_PROGRESS_NOTICES times, by editing one notice where the platform can
(Telegram) or by a few short messages elsewhere; notices are best effort, never retried.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings

from apps.reporting.report import Report, ReportError

from . import inbox, jobs
from .channels.base import PlatformError, get_channel
from .messages import IncomingMessage
from .models import ReportJob
from .texts import text
from .tools.registry import STATUS, ToolContext, get_tool, log_run, may_use

logger = logging.getLogger(__name__)

JOB = ReportJob.Status


class Outcome:
    """What became of a job: `job` (None when there was nothing to run) and the message to
    hand to a worker so it delivers the new part (None when nothing is to be sent now)."""

    def __init__(self, job: ReportJob | None = None, deliver: Any = None, retry: bool = False):
        self.job = job
        self.deliver = deliver
        # The file is made but the asking message is still being delivered: attach it later.
        self.retry_attach = retry


def run(job_id: int, worker: str = "") -> Outcome:
    """Make a queued job's report, once; cancelled or taken jobs are left alone."""
    job = jobs.start(job_id, worker)
    if job is None:
        return Outcome()
    tool = _usable_tool(job)
    if tool is None:
        return _failed(job, "permission denied", text("job_denied", job.language))
    notices = Notices(job)
    started = time.monotonic()
    try:
        job = jobs.build(job, tool, progress=notices.progress)
    except jobs.JobCancelled:
        return _cancelled(job)
    except ReportError as error:
        return _failed(job, str(error), text("job_failed", job.language, reason=str(error)))
    except Exception as error:
        logger.exception("%s failed", job.reference)
        return _failed(job, f"{type(error).__name__}: {error}", _internal_error(job))
    return _succeeded(job, started, notices)


def start_parts(job_id: int, worker: str = "") -> tuple[ReportJob, list[str]] | None:
    """Take a queued job made piece by piece: (the job, its parts), or None."""
    job = jobs.start(job_id, worker)
    if job is None:
        return None
    tool = _usable_tool(job)
    if tool is None:
        _failed(job, "permission denied", text("job_denied", job.language))
        return None
    try:
        parts = tool.parts(job.parameters)
    except ReportError as error:
        _failed(job, str(error), text("job_failed", job.language, reason=str(error)))
        return None
    jobs.record_progress(job, 5, f"{len(parts)} parts to make")
    return job, parts


def make_part(job_id: int, part: str) -> dict[str, Any] | None:
    """One piece of a running job (JSON, for the chord's merge); None when it was stopped,
    {"error": …} when it failed (the merge then ends the job)."""
    job = ReportJob.objects.filter(pk=job_id, status=JOB.RUNNING).first()
    if job is None or job.cancel_requested_at is not None:
        return None
    try:
        return get_tool(job.report).build_part(job.parameters, part)
    except Exception as error:
        logger.exception("%s: part %s failed", job.reference, part)
        return {"error": f"part {part}: {type(error).__name__}: {error}"}


def finish_parts(job_id: int, parts: list[dict[str, Any] | None]) -> Outcome:
    """Merge the pieces into the report, write it and hand it over."""
    job = ReportJob.objects.select_related("user", "inbound__app").filter(pk=job_id).first()
    if job is None or job.status != JOB.RUNNING:
        return Outcome(job)
    if job.cancel_requested_at is not None or any(part is None for part in parts):
        return _cancelled(job)
    errors = [part["error"] for part in parts if "error" in part]
    if errors:
        return _failed(job, "; ".join(errors), _internal_error(job))
    tool = get_tool(job.report)
    started = time.monotonic()
    notices = Notices(job)
    try:
        jobs.record_progress(job, 80, "merging the parts")
        merged = tool.merge(job.parameters, parts)
        job = jobs.build(job, _Merged(tool, merged), progress=notices.progress)
    except jobs.JobCancelled:
        return _cancelled(job)
    except Exception as error:
        logger.exception("%s failed while merging", job.reference)
        return _failed(job, f"{type(error).__name__}: {error}", _internal_error(job))
    return _succeeded(job, started, notices)


def attach_again(job_id: int) -> Outcome:
    """Try again to hand a finished job's outcome to its message (it was still being
    delivered the first time)."""
    job = ReportJob.objects.select_related("inbound").filter(pk=job_id).first()
    if job is None or job.status not in (JOB.SUCCEEDED, JOB.FAILED):
        return Outcome(job)
    return attach(job, job.summary_text if job.status == JOB.FAILED else "")


def made_in_parts(job_id: int) -> bool:
    """Whether the job's report is made piece by piece (a chord of tasks)."""
    report = ReportJob.objects.filter(pk=job_id).values_list("report", flat=True).first()
    tool = get_tool(report) if report else None
    return bool(tool is not None and getattr(tool, "parallel", False))


def attach(job: ReportJob, note: str = "") -> Outcome:
    """Hand the job's file (or `note`) to the message that asked for it, with what the
    report offers to do next (a reorder plan: draft purchase orders, for a yes)."""
    if job.inbound_id is None or inbox.request_is_closed(job):
        return Outcome(job)
    then = "" if note else _follow_up(job)
    message = inbox.attach_job_result(job, note, then)
    return Outcome(job, deliver=message, retry=message is None)


class _Merged:
    """The merged report of a chord, in the shape jobs.build takes (a tool that builds)."""

    def __init__(self, tool: Any, report: Report) -> None:
        self.tool, self.report = tool, report

    def build(self, parameters: dict[str, Any], progress: Any) -> Report:
        return self.report

    def caption(self, summary: dict[str, Any], language: str) -> str:
        return self.tool.caption(summary, language)


def _usable_tool(job: ReportJob) -> Any:
    """The job's report tool, if its user may still use it (checked again: a permission
    taken away after the request stops the job)."""
    tool = get_tool(job.report)
    if tool is None or not may_use(job.user, tool):
        return None
    return tool


def _succeeded(job: ReportJob, started: float, notices: Notices) -> Outcome:
    seconds = time.monotonic() - started
    _log(job, STATUS.SUCCESS, job.summary_text, started)
    notices.done()
    logger.info("%s made in %.1f s (%d bytes)", job.reference, seconds, job.size)
    return attach(job)


def _failed(job: ReportJob, error: str, note: str) -> Outcome:
    if not jobs.failed(job, error, note):
        return Outcome(job)  # cancelled meanwhile: nothing to say
    _log(job, STATUS.ERROR, error, time.monotonic())
    job.refresh_from_db()
    return attach(job, note)


def _cancelled(job: ReportJob) -> Outcome:
    jobs.cancelled(job)
    logger.info("%s stopped: cancelled", job.reference)
    return Outcome(job)


def gave_up_note(job: ReportJob) -> str:
    return _internal_error(job)


def _internal_error(job: ReportJob) -> str:
    return text("job_failed", job.language, reason=text("job_internal", job.language))


def _log(job: ReportJob, status: str, message: str, started: float) -> None:
    context = ToolContext(user=job.user, channel=job.channel, language=job.language)
    params = {"job": job.reference, **job.parameters}
    log_run(context, job.report, params, status, message[:500], started, summary=message[:500])


def _follow_up(job: ReportJob) -> str:
    """A report that leads to an action stages it in the asker's conversation, for a yes;
    the question to ask ("" when there is none)."""
    follow_up = getattr(get_tool(job.report), "follow_up", None)
    return follow_up(job) if follow_up is not None else ""


class Notices:
    """How far a running job is: recorded on the job at every step, and told to the chat
    now and then (see the module's docstring)."""

    def __init__(self, job: ReportJob) -> None:
        self.job = job
        self.started = time.monotonic()
        self.last_told = 0.0

    def progress(self, percent: int, stage: str) -> None:
        jobs.record_progress(self.job, percent, stage)
        if self._time_to_tell():
            self._tell(text("job_progress", self.job.language, reference=self.job.reference,
                            percent=str(percent), stage=stage))  # fmt: skip

    def done(self) -> None:
        """The file is on its way: an edited notice says so (a sent one needs no more)."""
        if self.job.progress_message_id and self._channel().can_edit:
            self._tell(text("job_progress_done", self.job.language, reference=self.job.reference))

    def _time_to_tell(self) -> bool:
        now = time.monotonic()
        if self.job.inbound_id is None or now - self.started < (
            settings.AI_ASSISTANT_REPORT_PROGRESS_AFTER_SECONDS
        ):
            return False
        if self.job.progress_notices >= settings.AI_ASSISTANT_REPORT_PROGRESS_NOTICES:
            return False
        # Notices at least a third of the waiting time apart, so a few cover a long job.
        spacing = max(settings.AI_ASSISTANT_REPORT_PROGRESS_AFTER_SECONDS, 1.0)
        return now - self.last_told >= spacing

    def _channel(self) -> Any:
        return get_channel(self.job.inbound.channel)

    def _tell(self, notice: str) -> None:
        inbound = self.job.inbound
        channel = self._channel()
        message = IncomingMessage.from_dict(inbound.message_data)
        self.last_told = time.monotonic()
        try:
            if self.job.progress_message_id and channel.can_edit:
                channel.edit(
                    inbound.app,
                    message,
                    self.job.progress_message_id,
                    notice,
                    inbound.reply_context,
                )
            else:
                key = f"{inbound.app_id}:job:{self.job.pk}:progress:{self.job.progress_notices}"
                self.job.progress_message_id = str(
                    channel.send(inbound.app, message, notice, inbound.reply_context, key) or ""
                )[:128]
        except PlatformError as error:
            logger.info("%s: progress notice not sent: %s", self.job.reference, error)
            return
        self.job.progress_notices += 1
        ReportJob.objects.filter(pk=self.job.pk).update(
            progress_notices=self.job.progress_notices,
            progress_message_id=self.job.progress_message_id,
        )
