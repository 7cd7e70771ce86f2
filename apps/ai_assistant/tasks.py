"""The assistant's Celery tasks: the seed's five, plus the sweeper and the token scheduler.

Tasks are thin: they call the plain functions of inbox.py (message state), dispatch.py (the
broker), tokens.py and the tool registry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import chord, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.utils import timezone

from . import dispatch, inbox, job_runner, jobs, retention, turns
from .channels import CHANNELS
from .errors import PlatformError
from .handler import MessageHandler
from .heartbeats import heartbeats
from .messages import IncomingMessage
from .models import ChannelApp, InboundMessage
from .tools.registry import ToolContext, execute_tool

logger = logging.getLogger(__name__)


def _user(user_id: int | None):
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id).first()


# Waits for an earlier turn of the same chat (held by a live worker) back off up to this long.
MAX_TURN_WAIT_SECONDS = 30
# A retry this soon is published with a countdown; a later one is left to the sweeper.
COUNTDOWN_LIMIT_SECONDS = 60


@shared_task(bind=True, max_retries=3, default_retry_delay=60)
def process_message_async(
    self, message_data: dict, user_id: int, inbound_id: int | None = None, waited: int = 0
) -> dict[str, Any]:
    """Process a message asynchronously.
    - at most 3 retries
    - retry 60 seconds after a failure
    - logs automatically

    Answers the message once, delivers the reply through the platform's send API once, and
    returns the reply (OutgoingMessage.to_dict()). The seed's retries are for database
    errors; a failed send is retried by time, as inbox.py decides.
    """
    if inbound_id is None:
        inbound = inbox.receive_direct(message_data, user_id)
        if inbound is None:
            message = IncomingMessage.from_dict(message_data)
            return MessageHandler(_user(user_id)).handle_message(message).to_dict()
        inbound_id = inbound.pk
    inbound = inbox.claim(inbound_id)
    if inbound is None:
        # Done already, dead, not due yet, or another live worker has it: nothing to do now.
        return inbox.stored_reply(inbound_id)
    if inbound.status != InboundMessage.Status.REPLIED:
        # A chat's turns run in order: the earlier ones first.
        blocker = inbox.catch_up(inbound)
        if blocker is not None:
            _wait_behind(inbound, blocker, waited)
            return None
    try:
        with inbox.heartbeat(inbound):
            outcome = inbox.answer_and_deliver(inbound)
    except DatabaseError as error:
        inbox.release(inbound)
        if self.request.retries < self.max_retries:
            raise self.retry(
                exc=error, countdown=settings.AI_ASSISTANT_RETRY_DELAY_SECONDS
            ) from error
        logger.error("database error on inbound %s; the sweeper retries it: %s", inbound.pk, error)
        return None
    _follow_up(outcome, inbound)
    queued_jobs = [*getattr(inbound, "caught_up_jobs", []), *outcome.queued_jobs]
    if queued_jobs:
        dispatch.publish_jobs(queued_jobs)
    return inbound.reply


def _wait_behind(waiting: InboundMessage, blocker: InboundMessage, waited: int) -> None:
    """An earlier message of the chat is not done: wait for it, claim given back. One waiting
    for its retry hands over when it is delivered; one in a live worker's hands is looked at
    again."""
    inbox.wait_behind(waiting, blocker)
    if blocker.next_attempt_at is None:
        dispatch.publish(
            waiting, waited=waited + 1, countdown=min(0.2 * 2**waited, MAX_TURN_WAIT_SECONDS)
        )


def _follow_up(outcome: inbox.Outcome, inbound: InboundMessage) -> None:
    """Publish what the delivery asks for: a soon retry, or the chat's next message."""
    if outcome.retry_in is not None and outcome.retry_in <= COUNTDOWN_LIMIT_SECONDS:
        dispatch.publish(inbound, countdown=outcome.retry_in)
    if outcome.next_in_chat is not None:
        dispatch.publish(outcome.next_in_chat)


# Reports may take minutes: their own time limits, not the chat turns' 120 s.
REPORT_LIMITS = {
    "soft_time_limit": settings.AI_ASSISTANT_REPORT_TIME_LIMIT_SECONDS,
    "time_limit": settings.AI_ASSISTANT_REPORT_TIME_LIMIT_SECONDS + 30,
}


@shared_task(**REPORT_LIMITS)
def run_report_job(job_id: int) -> dict[str, Any] | None:
    """Make a report job (on the reports queue): in this task, or, for a report made piece
    by piece, as a chord of one task per piece and a merge (job_runner.py)."""
    if job_runner.made_in_parts(job_id):
        started = job_runner.start_parts(job_id, inbox.process_name())
        if started is None:
            return None
        job, parts = started
        chord(report_part.s(job.pk, part) for part in parts)(merge_report_parts.s(job.pk))
        return {"job": job.pk, "parts": len(parts)}
    with _renewing(job_id):
        return _hand_over(job_runner.run(job_id, inbox.process_name()))


@shared_task(**REPORT_LIMITS)
def report_part(job_id: int, part: str) -> dict[str, Any] | None:
    """One piece of a report made in parallel (a chord's header)."""
    with _renewing(job_id):
        return job_runner.make_part(job_id, part)


@shared_task(**REPORT_LIMITS)
def merge_report_parts(parts: list[dict[str, Any] | None], job_id: int) -> dict[str, Any] | None:
    """The chord's body: merge the pieces, write the file, hand it to the chat."""
    with _renewing(job_id):
        return _hand_over(job_runner.finish_parts(job_id, parts))


@contextmanager
def _renewing(job_id: int) -> Iterator[None]:
    """The job is renewed while this task runs (the sweeper takes a job nobody renews for
    one whose worker died)."""
    jobs.renew(job_id)
    key = heartbeats.start(
        f"report job J-{job_id}",
        lambda: jobs.renew(job_id),
        every=jobs.RENEW_SECONDS,
        for_at_most=settings.AI_ASSISTANT_REPORT_TIME_LIMIT_SECONDS + 30,
    )
    try:
        yield
    finally:
        heartbeats.stop(key)


@shared_task
def attach_report_job(job_id: int, tries: int = 0) -> dict[str, Any] | None:
    """Hand a finished job's file to its message, which was still being delivered before."""
    return _hand_over(job_runner.attach_again(job_id), tries)


# A finished job's message still being delivered is looked at again this often, this long.
ATTACH_AGAIN_SECONDS = 2
ATTACH_TRIES = 150


def _hand_over(outcome: job_runner.Outcome, tries: int = 0) -> dict[str, Any] | None:
    if outcome.deliver is not None:
        dispatch.publish(outcome.deliver)
    elif outcome.retry_attach and tries < ATTACH_TRIES:
        attach_report_job.apply_async((outcome.job.pk, tries + 1), countdown=ATTACH_AGAIN_SECONDS)
    if outcome.job is None:
        return None
    return {"job": outcome.job.pk, "status": outcome.job.status}


@shared_task
def sweep_report_jobs() -> dict[str, int]:
    """Jobs no worker will finish by itself: cancelled past their grace period (terminated),
    stuck with a dead worker (queued again, three tries), lost by the broker (published)."""
    terminated = 0
    for job in jobs.overdue_cancellations():
        jobs.revoke(job, terminate=True)
        terminated += jobs.terminated(job)
    again = 0
    # A running job's parts may wait in the reports queue, renewing nothing: only once the
    # queue is empty is a job nobody renews one whose worker died.
    for job in jobs.stuck() if dispatch.reports_queue_is_empty() else []:
        if job.attempts < 3 and jobs.queue_again(job):
            again += dispatch.publish_job(job)
        elif jobs.failed(job, "its worker stopped three times", job_runner.gave_up_note(job)):
            _hand_over(job_runner.attach_again(job.pk))  # the user is told
    return {"terminated": terminated, "queued_again": again, "lost": dispatch.requeue_lost_jobs()}


@shared_task(bind=True, max_retries=2)
def execute_tool_async(self, tool_name: str, user_id: int, parameters: dict) -> dict[str, Any]:
    """Execute a tool asynchronously.
    - for long-running tools
    - so they do not block the main thread

    Runs through the registry as the user (permission check, logging); a write tool is only
    staged, never executed, since no one has confirmed it. A report tool queues its job for
    the reports worker (no chat to send the file to: /jobs and the console show it).
    Returns ToolResult.to_dict().
    """
    user = _user(user_id)
    context = ToolContext(user=user, channel="celery")
    try:
        with turns.answering(None) as queued_jobs:
            result = execute_tool(context, tool_name, parameters)
    except DatabaseError as error:
        raise self.retry(exc=error, countdown=settings.AI_ASSISTANT_RETRY_DELAY_SECONDS) from error
    if queued_jobs:  # a report tool: its job goes to the reports queue (see /jobs, the console)
        dispatch.publish_jobs(queued_jobs)
    return result.to_dict()


@shared_task
def cleanup_expired_conversations() -> int:
    """Delete conversations inactive for 30 days. Runs every hour."""
    cutoff = timezone.now() - timedelta(days=settings.AI_ASSISTANT_CONVERSATION_TTL_DAYS)
    deleted = retention.delete_conversations_before(cutoff)
    logger.info("deleted %d conversations inactive since %s", deleted, cutoff.date())
    return deleted


@shared_task
def cleanup_old_logs() -> int:
    """Delete tool-execution logs older than 90 days. Runs every day at 02:00."""
    cutoff = timezone.now() - timedelta(days=settings.AI_ASSISTANT_TOOL_LOG_RETENTION_DAYS)
    deleted = retention.delete_tool_logs_before(cutoff)
    logger.info("deleted %d tool execution logs older than %s", deleted, cutoff.date())
    return deleted


@shared_task(autoretry_for=(PlatformError,), max_retries=3, retry_backoff=True)
def refresh_access_token(channel: str, app_id: str) -> dict[str, Any]:
    """Refresh an Access Token before it expires,
    so that an expired token never interrupts the service."""
    from .channels.tokens import refresh_for

    return refresh_for(channel, app_id)


@shared_task
def refresh_expiring_access_tokens() -> int:
    """Queue a refresh for every enabled app whose token expires before the next run."""
    horizon = timezone.now() + timedelta(
        seconds=getattr(settings, "AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS", 300) + 300
    )
    fetching = [name for name, channel in CHANNELS.items() if channel.fetches_access_tokens]
    apps = ChannelApp.objects.filter(enabled=True, channel__in=fetching)
    due = [
        app
        for app in apps.select_related("access_token")
        if not hasattr(app, "access_token") or app.access_token.expires_at < horizon
    ]
    for app in due:
        refresh_access_token.delay(app.channel, app.app_id)
    return len(due)


@worker_ready.connect
def sweep_when_a_worker_starts(**_signal_arguments: Any) -> None:
    """A worker that (re)starts looks for chats a dead worker left: now, and once more when
    a claim its predecessor renewed just before dying has lapsed (beat sweeps too)."""
    sweep_inbound_messages.delay()
    sweep_inbound_messages.apply_async(countdown=settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS + 1)


@shared_task
def sweep_inbound_messages() -> int:
    """Queue again messages the broker never got (it was down) or a dead worker left."""
    return dispatch.requeue_stale()
