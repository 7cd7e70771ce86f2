"""Readings of the running system, shared by /metrics, /readyz, the alerts and the console:
messages by status, the oldest unanswered one, report jobs by status, broker queue depths,
the workers' last answer."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from kombu.exceptions import ChannelError

from apps.ai_assistant.models import InboundMessage, ReportJob

from .models import Heartbeat

logger = logging.getLogger(__name__)

UNFINISHED = ["received", "queued", "waiting", "processing", "replied"]
QUEUES = ("messages", "tools", "maintenance", "reports")


def async_mode() -> bool:
    from apps.ai_assistant.modes import async_mode as assistant_async_mode

    return assistant_async_mode()


def message_counts() -> dict[str, int]:
    """Unfinished messages and dead letters, by status (every status present, zero or not)."""
    counts = dict(
        InboundMessage.objects.filter(status__in=[*UNFINISHED, "dead"])
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {status: counts.get(status, 0) for status in [*UNFINISHED, "dead"]}


def oldest_unanswered() -> datetime | None:
    """When the oldest message not yet answered and delivered arrived."""
    return InboundMessage.objects.filter(status__in=UNFINISHED).aggregate(first=Min("received_at"))[
        "first"
    ]


def report_job_counts() -> dict[str, int]:
    """Report jobs by status (every status present, zero or not)."""
    counts = dict(ReportJob.objects.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in ReportJob.Status.values}


def report_jobs_failed_since(since: datetime) -> int:
    return ReportJob.objects.filter(status=ReportJob.Status.FAILED, finished_at__gte=since).count()


def report_jobs_at_a_glance(now: datetime) -> dict[str, int]:
    """What the console's overview shows of report jobs: queued and running now, and
    failed in the last 24 hours."""
    counts = report_job_counts()
    return {
        "queued": counts[ReportJob.Status.QUEUED],
        "running": counts[ReportJob.Status.RUNNING],
        "failed_24h": report_jobs_failed_since(now - timedelta(hours=24)),
    }


def queue_depths() -> dict[str, int]:
    """Tasks waiting per Celery queue; nothing when there is no broker or it does not answer."""
    if not settings.CELERY_BROKER_URL:
        return {}
    from better_laser_erp.celery import app

    depths = {}
    try:
        with app.connection_for_read() as connection:
            for queue in app.conf.task_queues:
                if queue.name in QUEUES:
                    depths[queue.name] = _depth(connection, queue)
    except Exception as error:  # the broker is down: the other readings still matter
        logger.warning("could not read the broker queues: %s", type(error).__name__)
    return depths


def _depth(connection, queue) -> int:
    try:
        return queue.bind(connection.channel()).queue_declare(passive=True).message_count
    except ChannelError:  # never declared: nobody has sent to it yet
        return 0


CHAT_QUEUE, REPORTS_QUEUE = "messages", "reports"


def ping_workers(timeout: float = 1.0) -> list[str]:
    """The workers that answer now and take chat turns (consume the `messages` queue). Each
    answer is remembered for the processes that only read it: Heartbeat "worker" when a
    chat worker answered, "reports-worker" when one consumes the reports queue — a live
    reports worker never hides a dead chat worker, nor the other way round."""
    from better_laser_erp.celery import app

    answers = app.control.inspect(timeout=timeout).active_queues() or {}
    consumers = {
        queue: sorted(
            name for name, queues in answers.items() if any(q["name"] == queue for q in queues)
        )
        for queue in (CHAT_QUEUE, REPORTS_QUEUE)
    }
    for heartbeat, queue in (("worker", CHAT_QUEUE), ("reports-worker", REPORTS_QUEUE)):
        if consumers[queue]:
            names = consumers[queue]
            Heartbeat.touch(heartbeat, f"{len(names)} answered: {', '.join(names)}")
    return consumers[CHAT_QUEUE]
