"""The broker side of async mode: hand stored messages to Celery, and sweep up the ones the
broker never got or lost. Message state itself is inbox.py's.

Tasks are sent by name, so this module (used by the webhook) never imports tasks.py (which
uses it): no import cycle.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

from . import inbox, jobs
from .models import InboundMessage, ReportJob

logger = logging.getLogger(__name__)

PROCESS_MESSAGE_TASK = "apps.ai_assistant.tasks.process_message_async"
RUN_REPORT_TASK = "apps.ai_assistant.tasks.run_report_job"

# Publishing happens beside the request, not in it: a slow or dead broker (redis-py retries
# a refused connection for seconds) must never hold up the webhook's answer.
_publisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish")


def enqueue(inbound: InboundMessage) -> None:
    """Queue the message for a worker once the current transaction commits."""
    transaction.on_commit(lambda: _publisher.submit(_publish_beside_request, inbound))


def _publish_beside_request(inbound: InboundMessage) -> None:
    try:
        if not publish(inbound):
            inbox.not_queued(inbound)
    except Exception:
        logger.exception("publishing message %s failed; the sweeper will retry", inbound.pk)
    finally:
        # Keep this thread's connection for the next message, unless it is stale or broken.
        close_old_connections()


def publish(inbound: InboundMessage, waited: int = 0, countdown: float | None = None) -> bool:
    """Send the task to the broker (after `countdown` seconds, if given; `waited` counts the
    looks at an earlier turn of the chat so far); False (logged) if the broker is unreachable
    — the message stays stored and the sweeper queues it again later."""
    from better_laser_erp.celery import app

    try:
        # Nobody waits on this task's result (the reply is stored with the message), and a
        # tracked result would subscribe this process to a result channel per message.
        # The short reprs keep what users wrote out of the task headers that monitoring
        # shows and logs, and spare the ack path Celery's repr of the whole message.
        app.send_task(
            PROCESS_MESSAGE_TASK,
            args=(inbound.message_data, inbound.user_id),
            kwargs={"inbound_id": inbound.pk, "waited": waited},
            countdown=countdown,
            ignore_result=True,
            argsrepr=f"(<message of inbound {inbound.pk}>, {inbound.user_id})",
            kwargsrepr=f"{{'inbound_id': {inbound.pk}, 'waited': {waited}}}",
        )
    except Exception as error:  # any broker failure: the message must not be lost
        logger.warning(
            "broker unavailable, message %s kept for the sweeper: %s",
            inbound.pk,
            type(error).__name__,
        )
        return False
    return True


def publish_job(job: ReportJob) -> bool:
    """Send a queued report job to the reports queue (with its own task id, so a cancel can
    revoke it); False (logged) when the broker is unreachable: the job sweeper tries again."""
    from better_laser_erp.celery import app

    try:
        app.send_task(
            RUN_REPORT_TASK,
            args=(job.pk,),
            task_id=job.celery_task_id or None,
            ignore_result=True,
        )
    except Exception as error:  # the job stays queued; sweep_report_jobs finds it
        logger.warning(
            "broker unavailable, %s kept queued: %s", job.reference, type(error).__name__
        )
        return False
    return True


def publish_jobs(job_ids: list[int]) -> int:
    """Publish these report jobs (the ones a turn queued) if they are still queued."""
    queued = ReportJob.objects.filter(pk__in=job_ids, status=ReportJob.Status.QUEUED)
    return sum(publish_job(job) for job in queued)


def send_direct(message_data: dict, user_id: int | None) -> None:
    """Hand a message that is not stored yet straight to the task (the seed's two-argument
    `_process_message_async(user, message)`); the worker stores it (inbox.receive_direct)."""
    from better_laser_erp.celery import app

    app.send_task(PROCESS_MESSAGE_TASK, args=(message_data, user_id))


def requeue_stale(limit: int = 500) -> int:
    """Queue again the messages the broker never got, lost, or a dead worker left behind."""
    published = [
        inbound.pk for inbound in inbox.stale(_broker_queue_is_empty(), limit) if publish(inbound)
    ]
    inbox.queued(published)
    return len(published)


def _broker_queue_is_empty(task: str = PROCESS_MESSAGE_TASK) -> bool:
    """True when the broker answers and holds nothing in the queue of `task` (by default
    the chat turns') waiting for a worker."""
    from better_laser_erp.celery import app

    queue_name = settings.CELERY_TASK_ROUTES[task]["queue"]
    queue = next(q for q in app.conf.task_queues if q.name == queue_name)
    try:
        with app.connection_for_write() as connection:
            return queue.bind(connection.default_channel).queue_declare().message_count == 0
    except Exception as error:  # broker down: the rules that need no broker still apply
        logger.warning("sweeper could not read the broker queue: %s", type(error).__name__)
        return False


def reports_queue_is_empty() -> bool:
    """True when the broker answers and no report task waits in its queue."""
    return _broker_queue_is_empty(RUN_REPORT_TASK)


def requeue_lost_jobs(after_seconds: float = 60) -> int:
    """Queued report jobs no worker took for a while, published again once the reports
    queue is empty (the broker never got them, or lost them): never a second copy of a
    job still waiting its turn there. Running twice is harmless: jobs.start decides."""
    lost = jobs.lost_in_queue(after_seconds)
    if not lost or not reports_queue_is_empty():
        return 0
    return sum(publish_job(job) for job in lost)
