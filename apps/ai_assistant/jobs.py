"""Report jobs: long-running requests from chat, their records, cache, progress and cancellation.

    request()   a report tool asks for a report: the finished file of an identical earlier job
                (same report, parameters, language and data versions: nothing to run) or a
                new job, queued
    build()     make the report (the builder, then the XLSX) and keep the file: a worker does
                it (job_runner.py), or sync mode does it inline within a time budget
    cancel(), cancel_latest(), recent_for(), record_progress(), download links

Every state change of a ReportJob is a conditional UPDATE, so a job is run once, cancelled
once, and never both cancelled and delivered. The report tools (tools/reports.py) describe
each report: the data areas it reads, how to build it and how to word its caption.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.reporting.models import versions
from apps.reporting.xlsx import render_xlsx

from . import metrics, turns
from .messages import OutgoingFile
from .models import ReportJob
from .modes import async_mode

logger = logging.getLogger(__name__)

JOB = ReportJob.Status
UNFINISHED = [JOB.QUEUED, JOB.RUNNING]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK_SALT = "ai_assistant.report-link"


class JobCancelled(Exception):
    """The job was cancelled: whatever it was doing stops, and nothing is sent."""


class TooLongToWait(Exception):
    """Sync mode: the report takes longer than the platform waits for an answer."""


# --- asking for a report ----------------------------------------------------------------------


def cache_key(
    report: str, parameters: dict[str, Any], data_versions: dict[str, int], language: str
) -> str:
    """The same report, parameters, language and data gives the same bytes (render_xlsx)."""
    material = json.dumps(
        [report, parameters, data_versions, language], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(material.encode()).hexdigest()


def request(ctx: Any, tool: Any, parameters: dict[str, Any]) -> ReportJob:
    """A job for this report: a finished one repeated from the cache when the data has not
    changed since an identical request (counted as a hit), otherwise a new, queued one."""
    data_versions = versions(tool.areas)
    key = cache_key(tool.name, parameters, data_versions, ctx.language)
    fields = {
        "user": ctx.user,
        "inbound_id": turns.current_inbound_id.get(),
        "channel": ctx.channel,
        "report": tool.name,
        "parameters": parameters,
        "language": ctx.language,
        "cache_key": key,
        "data_versions": data_versions,
    }
    earlier = _cached(key)
    if earlier is not None:
        metrics.REPORT_CACHE.labels(tool.name, "hit").inc()
        now = timezone.now()
        return ReportJob.objects.create(
            **fields,
            status=JOB.SUCCEEDED,
            from_cache=True,
            repeats=earlier,
            file=earlier.file.name,
            filename=earlier.filename,
            size=earlier.size,
            summary=earlier.summary,
            summary_text=earlier.summary_text,
            percent=100,
            stage="cached",
            started_at=now,
            finished_at=now,
        )
    metrics.REPORT_CACHE.labels(tool.name, "miss").inc()
    # A task id of our own, so a cancel can revoke the task (none without a broker).
    task_id = str(uuid.uuid4()) if async_mode() else ""
    job = ReportJob.objects.create(**fields, celery_task_id=task_id, queue="reports")
    turns.job_queued(job.pk)
    return job


def _cached(key: str) -> ReportJob | None:
    earlier = (
        ReportJob.objects.filter(cache_key=key, status=JOB.SUCCEEDED, from_cache=False)
        .exclude(file="")
        .order_by("-finished_at")
        .first()
    )
    if earlier is None or not earlier.file.storage.exists(earlier.file.name):
        return None
    return earlier


# --- making it --------------------------------------------------------------------------------


def start(job_id: int, worker: str = "") -> ReportJob | None:
    """Take a queued job to run it (once: a conditional UPDATE); None when it was cancelled,
    already taken or finished. The data versions are read again: the file says what the
    data was when it was made."""
    now = timezone.now()
    taken = ReportJob.objects.filter(pk=job_id, status=JOB.QUEUED).update(
        status=JOB.RUNNING,
        started_at=now,
        renewed_at=now,
        stage="started",
        queue=worker or "reports",
    )
    if not taken:
        return None
    job = ReportJob.objects.select_related("user", "inbound", "inbound__app").get(pk=job_id)
    job.data_versions = versions(job.data_versions.keys())
    job.cache_key = cache_key(job.report, job.parameters, job.data_versions, job.language)
    job.attempts += 1
    job.save(update_fields=["data_versions", "cache_key", "attempts"])
    return job


def record_progress(job: ReportJob, percent: int, stage: str) -> None:
    """How far the job is (for /jobs and the console); JobCancelled when a cancel was asked."""
    still_running = ReportJob.objects.filter(
        pk=job.pk, status=JOB.RUNNING, cancel_requested_at__isnull=True
    ).update(percent=max(0, min(int(percent), 100)), stage=stage[:120])
    if not still_running:
        raise JobCancelled(job.reference)
    job.percent, job.stage = percent, stage


def build(
    job: ReportJob,
    tool: Any,
    progress: Callable[[int, str], None] | None = None,
    budget_seconds: float | None = None,
) -> ReportJob:
    """Make the running job's report and keep its file; the job succeeded. JobCancelled when
    it was cancelled meanwhile (its file is removed), TooLongToWait past `budget_seconds`;
    the builder's own ReportError propagates."""
    give_up_at = time.monotonic() + budget_seconds if budget_seconds else None

    def step(percent: int, stage: str) -> None:
        if give_up_at is not None and time.monotonic() > give_up_at:
            raise TooLongToWait(job.reference)
        (progress or (lambda percent, stage: record_progress(job, percent, stage)))(percent, stage)

    report = tool.build(job.parameters, step)
    step(95, "writing the spreadsheet")
    content = render_xlsx(report, job.language)
    return _keep(job, report, content, tool.caption(report.summary, job.language))


def _keep(job: ReportJob, report: Any, content: bytes, caption: str) -> ReportJob:
    job.file.save(f"{job.pk}-{report.filename}", ContentFile(content), save=False)
    now = timezone.now()
    succeeded = ReportJob.objects.filter(
        pk=job.pk, status=JOB.RUNNING, cancel_requested_at__isnull=True
    ).update(
        status=JOB.SUCCEEDED,
        file=job.file.name,
        filename=report.filename,
        size=len(content),
        summary=json.loads(json.dumps(report.summary, default=str)),
        summary_text=caption,
        percent=100,
        stage="done",
        finished_at=now,
    )
    if not succeeded:
        job.file.delete(save=False)  # cancelled while it was being written: keep nothing
        raise JobCancelled(job.reference)
    job.refresh_from_db()
    metrics.REPORT_JOBS.labels(job.report, JOB.SUCCEEDED).inc()
    if job.started_at:
        metrics.REPORT_SECONDS.labels(job.report).observe(
            (job.finished_at - job.started_at).total_seconds()
        )
    return job


def failed(job: ReportJob, error: str, note: str = "") -> bool:
    """The job could not be made (`error` for the operators, `note` what the user is told,
    kept as the job's summary text); False when it had been cancelled meanwhile."""
    ended = ReportJob.objects.filter(pk=job.pk, status__in=UNFINISHED).update(
        status=JOB.FAILED, error=error[:2000], summary_text=note, finished_at=timezone.now()
    )
    if ended:
        metrics.REPORT_JOBS.labels(job.report, JOB.FAILED).inc()
    return bool(ended)


# A running job's tasks renew it this often; one not renewed for three times this is stuck.
RENEW_SECONDS = 10


def renew(job_id: int) -> bool:
    """A task of the job is running (its heartbeat); False once the job is no longer running."""
    return bool(
        ReportJob.objects.filter(pk=job_id, status=JOB.RUNNING).update(renewed_at=timezone.now())
    )


def stuck() -> list[ReportJob]:
    """Running jobs none of whose tasks has renewed them lately: their worker died (the
    caller checks that the reports queue is empty: parts waiting there renew nothing)."""
    since = timezone.now() - timedelta(seconds=3 * RENEW_SECONDS)
    return list(
        ReportJob.objects.filter(status=JOB.RUNNING, cancel_requested_at=None).filter(
            Q(renewed_at__lt=since) | Q(renewed_at__isnull=True, started_at__lt=since)
        )
    )


def queue_again(job: ReportJob) -> bool:
    """A stuck job goes back to the queue (its file, if any, is made anew)."""
    return bool(
        ReportJob.objects.filter(pk=job.pk, status=JOB.RUNNING).update(
            status=JOB.QUEUED, stage="queued again", percent=0, started_at=None
        )
    )


def lost_in_queue(after_seconds: float) -> list[ReportJob]:
    """Queued jobs no worker has taken for a while (the broker was down or lost them)."""
    since = timezone.now() - timedelta(seconds=after_seconds)
    return list(ReportJob.objects.filter(status=JOB.QUEUED, created_at__lt=since))


def cancelled(job: ReportJob) -> None:
    """A running job stopped because it was asked to; any partial file is removed."""
    if job.file:
        job.file.delete(save=False)
    if ReportJob.objects.filter(pk=job.pk, status=JOB.RUNNING).update(
        status=JOB.CANCELLED, file="", stage="cancelled", finished_at=timezone.now()
    ):
        metrics.REPORT_JOBS.labels(job.report, JOB.CANCELLED).inc()


# --- the user's hands -------------------------------------------------------------------------


def cancel_latest(user: Any) -> ReportJob | None:
    """Cancel the user's newest unfinished job (see cancel); the job as it is now, or None
    when the user has nothing to cancel."""
    job = ReportJob.objects.filter(user=user, status__in=UNFINISHED).order_by("-created_at").first()
    if job is None:
        return None
    cancel(job.pk, user)
    job.refresh_from_db()
    return job


def cancel(job_id: int, by: Any) -> ReportJob | None:
    """Cancel one job, for `by` (its user, or an operator): a queued one at once (and revoked
    from the broker after commit), a running one at its next step (JobCancelled in the
    worker; terminated after AI_ASSISTANT_REPORT_CANCEL_GRACE_SECONDS). The job when this
    call cancelled it or asked it to stop; None when it was finished, already asked to stop
    or does not exist, so two clicks cancel once."""
    now = timezone.now()
    if ReportJob.objects.filter(pk=job_id, status=JOB.QUEUED).update(
        status=JOB.CANCELLED, stage="cancelled", cancel_requested_at=now, finished_at=now
    ):
        job = ReportJob.objects.get(pk=job_id)
        transaction.on_commit(lambda: revoke(job))
        metrics.REPORT_JOBS.labels(job.report, JOB.CANCELLED).inc()
        logger.info("%s cancelled by %s (queued)", job.reference, _name(by))
        return job
    if ReportJob.objects.filter(
        pk=job_id, status=JOB.RUNNING, cancel_requested_at__isnull=True
    ).update(cancel_requested_at=now):
        job = ReportJob.objects.get(pk=job_id)
        logger.info(
            "%s cancelled by %s (running: stops at its next step)", job.reference, _name(by)
        )
        return job
    return None


def _name(user: Any) -> str:
    return user.get_username() if hasattr(user, "get_username") else str(user)


def revoke(job: ReportJob, terminate: bool = False) -> None:
    """Take the job's task off the broker (terminate: and kill the process running it)."""
    if not async_mode() or not job.celery_task_id:
        return
    from better_laser_erp.celery import app

    try:
        app.control.revoke(job.celery_task_id, terminate=terminate, signal="SIGTERM")
    except Exception as error:  # the status decides anyway: a revoked task is only faster
        logger.warning("could not revoke %s: %s", job.reference, type(error).__name__)


def recent_for(user: Any, limit: int = 8) -> list[ReportJob]:
    return list(ReportJob.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def overdue_cancellations() -> list[ReportJob]:
    """Running jobs asked to cancel longer ago than the grace period: to be terminated."""
    grace = timedelta(seconds=settings.AI_ASSISTANT_REPORT_CANCEL_GRACE_SECONDS)
    return list(
        ReportJob.objects.filter(status=JOB.RUNNING, cancel_requested_at__lt=timezone.now() - grace)
    )


def terminated(job: ReportJob) -> bool:
    """Mark a job cancelled after its worker was told to stop; nothing more is sent for it."""
    if job.file:
        job.file.delete(save=False)
    ended = ReportJob.objects.filter(pk=job.pk, status=JOB.RUNNING).update(
        status=JOB.CANCELLED, file="", stage="terminated", finished_at=timezone.now()
    )
    if ended:
        metrics.REPORT_JOBS.labels(job.report, JOB.CANCELLED).inc()
    return bool(ended)


# --- the file, as the chat gets it ------------------------------------------------------------


def download_url(job: ReportJob) -> str:
    """A signed link to the job's file on the ERP (AI_ASSISTANT_PUBLIC_BASE_URL), valid
    AI_ASSISTANT_REPORT_LINK_HOURS; "" when no public address is set."""
    base = settings.AI_ASSISTANT_PUBLIC_BASE_URL.rstrip("/")
    if not base:
        return ""
    from django.urls import reverse

    token = signing.TimestampSigner(salt=LINK_SALT).sign(str(job.pk))
    return f"{base}{reverse('ai_assistant:report-file', args=[token])}"


def job_for_link(token: str) -> ReportJob | None:
    """The succeeded job a download link names, while the link is valid; None otherwise."""
    max_age = timedelta(hours=settings.AI_ASSISTANT_REPORT_LINK_HOURS)
    try:
        job_id = int(signing.TimestampSigner(salt=LINK_SALT).unsign(token, max_age=max_age))
    except (signing.BadSignature, ValueError):
        return None
    return ReportJob.objects.filter(pk=job_id, status=JOB.SUCCEEDED).exclude(file="").first()


def link_text(job: ReportJob) -> str:
    """What a chat without file messages shows for the job's file (and the part's text)."""
    from .channels.base import file_link_text

    described = OutgoingFile(
        filename=job.filename, content=b"", content_type=XLSX,
        download_url=download_url(job), caption=job.summary_text,
    )  # fmt: skip
    return file_link_text(described)


def outgoing_file(job: ReportJob) -> OutgoingFile:
    """The job's file as a channel sends it: the bytes, its name, the caption and the link."""
    with job.file.open("rb") as stored:
        content = stored.read()
    return OutgoingFile(
        filename=job.filename,
        content=content,
        content_type=XLSX,
        download_url=download_url(job),
        caption=job.summary_text,
    )
