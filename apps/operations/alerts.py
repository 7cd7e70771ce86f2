"""Backlog and failure alerts inside the product, for a company without Prometheus.

Every minute `evaluate()` reads five conditions against thresholds from settings:

    backlog       too many messages unanswered, or the oldest waiting too long
    dead_letters  messages given up on that no operator has replayed or discarded
    worker        (async mode) no Celery worker has answered a ping for a while
    sends         a chat app's sends are paused (circuit open) or many parts wait for a retry
    report_jobs   report jobs failed within OPERATIONS_ALERT_FAILED_JOBS_WINDOW_SECONDS (a
                  failed job is the dead letter of a request: nothing makes it again)

Each condition has at most one firing incident (Alert). Crossing a threshold raises one and
tells the operators once; staying over it only updates the incident's figures; it resolves
after staying clear for OPERATIONS_ALERT_CLEAR_SECONDS (no flapping), which tells them once
more. The operators are the active users of the "Operators" group, told on their bound chat
accounts (inbox.notify, each account exactly once per notice) and by mail_admins when e-mail
is configured. A notice that did not reach everyone is tried again at the next evaluation.

Beat runs this in its own process (beat.py): it must notice that no worker is left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.ai_assistant import inbox
from apps.ai_assistant.models import InboundMessage, OutboundMessage, ReportJob, SendCircuit

from . import state
from .models import Alert, Heartbeat

logger = logging.getLogger(__name__)

OPERATORS_GROUP = "Operators"
# A notice is tried at most this many times (once a minute), then left to the console.
NOTICE_TRIES = 10
DEAD_LETTERS_LISTED = 5
# An incident remembers this many of its dead letters (for "replay all" in the console).
DEAD_LETTERS_KEPT = 500
FAILED_JOBS_LISTED = 5
FAILED_JOBS_KEPT = 500
CONDITION_NAMES = {
    "backlog": "消息积压",
    "dead_letters": "死信",
    "worker": "Celery worker 无响应",
    "reports_worker": "报表 worker 无响应",
    "sends": "平台发送失败",
    "report_jobs": "报表任务失败",
}


@dataclass
class Finding:
    """One condition's reading: over its threshold or not, what to say, the figures."""

    firing: bool
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)


# --- the conditions ----------------------------------------------------------------------


def backlog(now: datetime) -> Finding:
    counts = state.message_counts()
    waiting = sum(counts[status] for status in state.UNFINISHED)
    oldest = state.oldest_unanswered()
    oldest_seconds = int((now - oldest).total_seconds()) if oldest else 0
    depths = state.queue_depths()
    limit_count = settings.OPERATIONS_ALERT_BACKLOG_MESSAGES
    limit_age = settings.OPERATIONS_ALERT_OLDEST_WAITING_SECONDS
    summary = (
        f"消息积压：{waiting} 条未答复，最早一条已等待 {oldest_seconds} 秒"
        f"（阈值 {limit_count} 条 / {limit_age} 秒）；队列 {depths or '无'}"
    )
    details = {"waiting": waiting, "oldest_seconds": oldest_seconds, "queues": depths}
    return Finding(waiting > limit_count or oldest_seconds > limit_age, summary, details)


def dead_letters(now: datetime) -> Finding:
    dead = list(
        InboundMessage.objects.filter(status=InboundMessage.Status.DEAD)
        .select_related("user")
        .order_by("-pk")[:DEAD_LETTERS_KEPT]
    )
    if not dead:
        return Finding(False)
    lines = [dead_letter_line(message) for message in dead[:DEAD_LETTERS_LISTED]]
    hidden = len(dead) - DEAD_LETTERS_LISTED
    more = f"\n…另有 {hidden} 条" if hidden > 0 else ""
    summary = f"死信 {len(dead)} 条（未能答复的消息）：\n" + "\n".join(lines) + more
    return Finding(True, summary, {"messages": [message.pk for message in dead]})


def dead_letter_line(message: InboundMessage) -> str:
    user = message.user.get_username() if message.user else "未绑定用户"
    link = settings.SITE_URL.rstrip("/") + reverse("operations:message", args=[message.pk])
    return f"· {message.channel} · {user} · {message.error[:120] or '无错误信息'} · {link}"


def worker(now: datetime) -> Finding:
    if not state.async_mode():
        return Finding(False)
    try:
        names = state.ping_workers()
    except Exception as error:  # the broker is down: no worker can be reached either
        logger.warning("alerts could not ping the workers: %s", type(error).__name__)
        names = []
    # Count the silence from the first look when no worker was ever seen.
    last, _ = Heartbeat.objects.get_or_create(
        name="worker", defaults={"beat_at": now, "detail": "not seen yet"}
    )
    silent = 0 if names else int((now - last.beat_at).total_seconds())
    limit = settings.OPERATIONS_ALERT_WORKER_SILENT_SECONDS
    summary = f"没有 Celery worker 响应：已 {silent} 秒无应答（阈值 {limit} 秒），新消息无人处理"
    return Finding(silent > limit, summary, {"silent_seconds": silent, "workers": names})


def sends(now: datetime) -> Finding:
    paused = list(
        SendCircuit.objects.exclude(state=SendCircuit.State.CLOSED).values_list(
            "app__channel", "app__app_id", "last_error"
        )
    )
    failing = OutboundMessage.objects.filter(status=OutboundMessage.Status.FAILED).count()
    limit = settings.OPERATIONS_ALERT_FAILED_SENDS
    lines = [f"· {channel} {app_id} 暂停发送：{error[:120]}" for channel, app_id, error in paused]
    summary = "\n".join(
        [f"平台发送失败：{len(paused)} 个应用暂停发送，{failing} 条回复等待重试（阈值 {limit}）"]
        + lines
    )
    details = {"paused": [app_id for _, app_id, _ in paused], "failing_parts": failing}
    return Finding(bool(paused) or failing >= limit, summary, details)


def report_jobs(now: datetime) -> Finding:
    """Firing while a job failed within the window; the incident names every job that
    failed since it was raised, so it clears once no new failure came for a while."""
    window = timedelta(seconds=settings.OPERATIONS_ALERT_FAILED_JOBS_WINDOW_SECONDS)
    failed = ReportJob.objects.filter(status=ReportJob.Status.FAILED)
    if not failed.filter(finished_at__gt=now - window).exists():
        return Finding(False)
    incident = Alert.objects.filter(condition="report_jobs", state=Alert.State.FIRING).first()
    since = min(now, incident.raised_at) - window if incident else now - window
    jobs = list(
        failed.filter(finished_at__gt=since)
        .select_related("user")
        .order_by("-pk")[:FAILED_JOBS_KEPT]
    )
    lines = [failed_job_line(job) for job in jobs[:FAILED_JOBS_LISTED]]
    hidden = len(jobs) - FAILED_JOBS_LISTED
    more = f"\n…另有 {hidden} 个" if hidden > 0 else ""
    summary = f"报表任务失败 {len(jobs)} 个：\n" + "\n".join(lines) + more
    return Finding(True, summary, {"jobs": [job.pk for job in jobs]})


def failed_job_line(job: ReportJob) -> str:
    link = settings.SITE_URL.rstrip("/") + reverse("operations:job", args=[job.pk])
    error = job.error[:120] or "无错误信息"
    return f"· {job.reference} · {job.report} · {job.user.get_username()} · {error} · {link}"


def reports_worker(now: datetime) -> Finding:
    """Report jobs wait and no worker has consumed the reports queue for the silence limit
    (the chat worker's ping, in `worker`, remembers the reports worker's answers too)."""
    if not state.async_mode():
        return Finding(False)
    limit = settings.OPERATIONS_ALERT_WORKER_SILENT_SECONDS
    waiting = ReportJob.objects.filter(
        status=ReportJob.Status.QUEUED, created_at__lt=now - timedelta(seconds=limit)
    ).count()
    last = Heartbeat.objects.filter(name="reports-worker").first()
    silent = int((now - last.beat_at).total_seconds()) if last else None
    if not waiting or (silent is not None and silent <= limit):
        return Finding(False)
    since = f"已 {silent} 秒无应答" if silent is not None else "从未应答"
    summary = (
        f"没有报表 worker（-Q reports）：{since}（阈值 {limit} 秒），{waiting} 个报表任务在排队"
    )
    return Finding(True, summary, {"silent_seconds": silent, "waiting_jobs": waiting})


CONDITIONS: dict[str, Callable[[datetime], Finding]] = {
    "backlog": backlog,
    "dead_letters": dead_letters,
    "worker": worker,
    "reports_worker": reports_worker,
    "sends": sends,
    "report_jobs": report_jobs,
}


# --- incidents -----------------------------------------------------------------------------


def evaluate(now: datetime | None = None) -> list[str]:
    """Read every condition, move the incidents on, send the notices due; returns what
    changed ("raised backlog", "resolved worker")."""
    now = now or timezone.now()
    Heartbeat.touch("beat")
    changes = []
    for condition, read in CONDITIONS.items():
        try:
            finding = read(now)
        except Exception:
            logger.exception("alert condition %s could not be read", condition)
            continue
        change = step(condition, finding, now)
        if change:
            changes.append(f"{change} {condition}")
    send_pending_notices()
    return changes


def step(condition: str, finding: Finding, now: datetime) -> str:
    """Move `condition`'s incident on by one reading; returns "raised", "resolved" or ""."""
    incident = Alert.objects.filter(condition=condition, state=Alert.State.FIRING).first()
    if finding.firing:
        if incident is None:
            return raise_incident(condition, finding, now)
        incident.summary, incident.details, incident.clear_since = (
            finding.summary,
            finding.details,
            None,
        )
        incident.save(update_fields=["summary", "details", "clear_since"])
        return ""
    if incident is None:
        return ""
    if incident.clear_since is None:
        incident.clear_since = now
        incident.save(update_fields=["clear_since"])
        return ""
    if now - incident.clear_since < timedelta(seconds=settings.OPERATIONS_ALERT_CLEAR_SECONDS):
        return ""
    incident.state, incident.resolved_at = Alert.State.RESOLVED, now
    incident.notice_pending, incident.notice_tries, incident.notice_problems = True, 0, ""
    incident.save()
    logger.warning("alert resolved: %s (incident %s)", condition, incident.pk)
    return "resolved"


def raise_incident(condition: str, finding: Finding, now: datetime) -> str:
    try:
        with transaction.atomic():
            incident = Alert.objects.create(
                condition=condition, summary=finding.summary, details=finding.details, raised_at=now
            )
    except IntegrityError:  # another evaluation raised it a moment ago
        return ""
    logger.error("alert raised: %s (incident %s): %s", condition, incident.pk, finding.summary)
    return "raised"


def notice_text(incident: Alert) -> str:
    if incident.state == Alert.State.RESOLVED:
        lasted = int((incident.resolved_at - incident.raised_at).total_seconds() // 60)
        name = CONDITION_NAMES.get(incident.condition, incident.condition)
        return f"【恢复】{name}已恢复正常（持续约 {lasted} 分钟）。"
    link = settings.SITE_URL.rstrip("/") + reverse("operations:alert", args=[incident.pk])
    return f"【告警】{incident.summary}\n控制台：{link}"


def send_pending_notices() -> None:
    operators = list(
        get_user_model().objects.filter(groups__name=OPERATORS_GROUP, is_active=True).distinct()
    )
    for incident in Alert.objects.filter(notice_pending=True, notice_tries__lt=NOTICE_TRIES):
        text = notice_text(incident)
        key = f"alert:{incident.pk}:{incident.state}"
        problems = [problem for user in operators for problem in inbox.notify(user, text, key)]
        if incident.notice_tries == 0:
            subject = text.splitlines()[0][:120]
            mail_admins(subject, text, fail_silently=True)
        incident.notice_tries += 1
        incident.notice_pending = bool(problems)
        incident.notice_problems = "\n".join(problems)[:4000]
        incident.save(update_fields=["notice_tries", "notice_pending", "notice_problems"])
        if problems:
            logger.warning("alert %s did not reach: %s", incident.pk, "; ".join(problems))
