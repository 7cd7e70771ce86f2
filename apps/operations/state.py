"""Readings of the running system, shared by /metrics, /readyz, the alerts and the console:
messages by status, the oldest unanswered one, broker queue depths, the workers' last answer."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min
from kombu.exceptions import ChannelError

from apps.ai_assistant.models import InboundMessage

from .models import Heartbeat

logger = logging.getLogger(__name__)

UNFINISHED = ["received", "queued", "waiting", "processing", "replied"]
QUEUES = ("messages", "tools", "maintenance")


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


def ping_workers(timeout: float = 1.0) -> list[str]:
    """The names of the workers that answer a ping now; an answer is remembered (Heartbeat
    "worker") for the processes that only read it."""
    from better_laser_erp.celery import app

    answers = app.control.ping(timeout=timeout) or []
    names = sorted(name for answer in answers for name in answer)
    if names:
        Heartbeat.touch("worker", f"{len(names)} answered: {', '.join(names)}")
    return names
