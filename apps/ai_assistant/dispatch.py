"""Async mode's bookkeeping: hand stored messages to Celery, claim them once, answer them once
and deliver every reply part once.

Celery delivers at least once; these functions make the effect exactly once (docs/design.md §5):
- a message is stored (InboundMessage, status `queued`) before it goes to the broker, and goes
  there only after commit; the sweeper sends again what the broker never got or lost;
- a worker claims it with a conditional UPDATE; a claim expires after a lease, so a message
  whose worker died is taken over, never run by two live workers;
- the handler's work and the reply parts are committed in one transaction (status `replied`),
  so a crash before that commit leaves nothing behind and a crash after it never re-runs
  the handler (or a confirmed write tool);
- each reply part has an idempotency key and is marked sent right after the platform took
  it; a redelivered task sends only the parts not yet sent.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .channels.base import get_channel
from .handler import MessageHandler
from .identity import user_for
from .messages import IncomingMessage
from .models import ChannelApp, InboundMessage, OutboundMessage
from .storable import storable_message

logger = logging.getLogger(__name__)

INBOUND = InboundMessage.Status
PART = OutboundMessage.Status


# Publishing happens beside the request, not in it: a slow or dead broker (redis-py retries
# a refused connection for seconds) must never hold up the webhook's answer.
_publisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish")


def enqueue(inbound: InboundMessage) -> None:
    """Queue the message for a worker once the current transaction commits."""
    transaction.on_commit(lambda: _publisher.submit(_publish_beside_request, inbound))


def _publish_beside_request(inbound: InboundMessage) -> None:
    try:
        if not publish(inbound):
            # Stored as queued (see the webhook): the sweeper looks sooner at `received`.
            InboundMessage.objects.filter(pk=inbound.pk, status=INBOUND.QUEUED).update(
                status=INBOUND.RECEIVED
            )
    except Exception:
        logger.exception("publishing message %s failed; the sweeper will retry", inbound.pk)
    finally:
        # Keep this thread's connection for the next message, unless it is stale or broken.
        close_old_connections()


def publish(inbound: InboundMessage, waited: int = 0, countdown: float | None = None) -> bool:
    """Send the task to the broker (after `countdown` seconds, if given; `waited` counts the
    looks at an earlier turn of the chat so far); False (logged) if the broker is unreachable
    — the message stays stored and the sweeper queues it again later."""
    from .tasks import process_message_async

    try:
        # Nobody waits on this task's result (the reply is stored with the message), and a
        # tracked result would subscribe this process to a result channel per message.
        # The short reprs keep what users wrote out of the task headers that monitoring
        # shows and logs, and spare the ack path Celery's repr of the whole message.
        process_message_async.apply_async(
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


def intake_direct(message_data: dict[str, Any], user_id: int | None) -> InboundMessage | None:
    """Store a message handed straight to the task (the seed's `.delay(message_data, ...)`),
    so it is answered and delivered once too. None when no enabled app of its channel exists:
    then there is nothing to deliver through, and the caller only computes the reply."""
    message = storable_message(IncomingMessage.from_dict(message_data))
    app = ChannelApp.objects.filter(channel=message.channel, enabled=True).order_by("pk").first()
    if app is None:
        return None
    inbound, _ = InboundMessage.objects.get_or_create(
        channel=message.channel,
        app=app,
        external_id=message.message_id,
        defaults={
            "conversation_key": message.conversation_key,
            "message_data": message.to_dict(),
            "user_id": user_id,
        },
    )
    return inbound


def _lease_start():
    return timezone.now() - timedelta(seconds=settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS)


def claim(inbound_id: int) -> InboundMessage | None:
    """Take the message for this worker, or None if it is done, dead or owned by a live
    worker. A message over its delivery cap becomes a dead letter instead.

    One conditional UPDATE decides, so a status change made meanwhile (the sweeper marking
    the message queued) can never make two workers, or none, win it."""
    cap = settings.AI_ASSISTANT_MAX_DELIVERY_ATTEMPTS
    claimable = InboundMessage.objects.filter(_claimable(), pk=inbound_id)
    won = claimable.filter(attempts__lt=cap).update(
        status=Case(
            When(status=INBOUND.REPLIED, then=Value(INBOUND.REPLIED)),
            default=Value(INBOUND.PROCESSING),
        ),
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if won:
        return InboundMessage.objects.select_related("app").get(pk=inbound_id)
    over_cap = claimable.filter(attempts__gte=cap).select_related("app").first()
    if over_cap is not None:
        dead_letter(over_cap, f"gave up after {over_cap.attempts} attempts")
    return None


def _claimable() -> Q:
    """Waiting messages, and taken ones whose worker gave them back or let the lease lapse."""
    released_or_lapsed = Q(claimed_at__isnull=True) | Q(claimed_at__lt=_lease_start())
    return Q(status__in=[INBOUND.RECEIVED, INBOUND.QUEUED]) | (
        Q(status__in=[INBOUND.PROCESSING, INBOUND.REPLIED]) & released_or_lapsed
    )


def earlier_unfinished(inbound: InboundMessage) -> InboundMessage | None:
    """The first message of the same chat sent before this one and not finished yet."""
    if not inbound.conversation_key:
        return None
    return (
        InboundMessage.objects.filter(
            app_id=inbound.app_id,
            conversation_key=inbound.conversation_key,
            status__in=[INBOUND.RECEIVED, INBOUND.QUEUED, INBOUND.PROCESSING, INBOUND.REPLIED],
            pk__lt=inbound.pk,
        )
        .order_by("pk")
        .first()
    )


def catch_up(inbound: InboundMessage) -> bool:
    """Answer and deliver the chat's earlier messages first, in order, taking each one no
    live worker holds, so one user's turns run and arrive in the order they were sent.
    False when an earlier one is in another worker's hands or cannot be delivered yet:
    then this message has to wait."""
    from .channels.base import PlatformError

    while (earlier := earlier_unfinished(inbound)) is not None:
        taken = claim(earlier.pk)
        if taken is None:
            return False
        try:
            answer_and_deliver(taken)
        except PlatformError as error:
            if error.retryable:
                release(taken)  # its own task, or the sweeper, tries again
                return False
            dead_letter(taken, f"send failed: {error}")
        except Exception:
            logger.exception("catching up on inbound %s failed", taken.pk)
            release(taken)
            return False
    return True


def answer_and_deliver(inbound: InboundMessage) -> None:
    if inbound.status != INBOUND.REPLIED:
        answer(inbound)
    deliver(inbound)


def release(inbound: InboundMessage) -> None:
    """Give the claim back, so this task's own retry can take the message again."""
    InboundMessage.objects.filter(pk=inbound.pk, claimed_at=inbound.claimed_at).update(
        claimed_at=None
    )


def answer(inbound: InboundMessage) -> None:
    """Run the handler and store its reply as parts to send, all in one transaction."""
    message = IncomingMessage.from_dict(inbound.message_data)
    with transaction.atomic():
        if inbound.user_id is not None:
            inbound.user = get_user_model().objects.filter(pk=inbound.user_id).first()
        else:
            # The async webhook leaves finding the bound user to the worker.
            inbound.user = user_for(inbound.channel, message.external_user_id)
        reply = MessageHandler(inbound.user).handle_message(message)
        store_parts(inbound, get_channel(inbound.channel).split(reply.content))
        inbound.reply = reply.to_dict()
        inbound.status = INBOUND.REPLIED
        inbound.save(update_fields=["user", "reply", "status"])


def store_parts(inbound: InboundMessage, parts: list[str], first_index: int = 0) -> None:
    """Reply parts to send, each with its idempotency key ("<inbound>:<part index>")."""
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            inbound=inbound,
            app_id=inbound.app_id,
            idempotency_key=f"{inbound.pk}:{index}",
            recipient=inbound.conversation_key,
            part_index=index,
            content=part,
        )
        for index, part in enumerate(parts, start=first_index)
    )


def deliver(inbound: InboundMessage) -> None:
    """Send every part not sent yet, in order; a PlatformError stops at the failing part."""
    from .channels.base import PlatformError

    channel = get_channel(inbound.channel)
    message = IncomingMessage.from_dict(inbound.message_data)
    unsent = inbound.outbound.filter(status__in=[PART.PENDING, PART.FAILED]).order_by("part_index")
    for part in unsent:
        try:
            platform_message_id = channel.send(
                inbound.app, message, part.content, inbound.reply_context
            )
        except PlatformError as error:
            part.status = PART.FAILED
            part.attempts += 1
            part.error = str(error)[:1000]
            part.save(update_fields=["status", "attempts", "error"])
            raise
        part.status = PART.SENT
        part.attempts += 1
        part.sent_at = timezone.now()
        part.platform_message_id = str(platform_message_id or "")[:128]
        part.save(update_fields=["status", "attempts", "sent_at", "platform_message_id"])
    inbound.status = INBOUND.DONE
    inbound.finished_at = timezone.now()
    inbound.save(update_fields=["status", "finished_at"])


def dead_letter(inbound: InboundMessage, error: str) -> None:
    """Stop trying: keep the message and its unsent parts with the reason, and alert."""
    InboundMessage.objects.filter(pk=inbound.pk).update(
        status=INBOUND.DEAD, error=error[:2000], finished_at=timezone.now()
    )
    inbound.outbound.filter(status__in=[PART.PENDING, PART.FAILED]).update(status=PART.DEAD)
    logger.error(
        "dead letter: %s message %s (inbound %s): %s",
        inbound.channel,
        inbound.external_id,
        inbound.pk,
        error[:200],
    )


def requeue_stale(limit: int = 500) -> int:
    """Queue again the messages the broker never got, lost, or a dead worker left behind."""
    now = timezone.now()
    not_queued = now - timedelta(seconds=settings.AI_ASSISTANT_REQUEUE_AFTER_SECONDS)
    lost_in_queue = now - timedelta(seconds=settings.CELERY_BROKER_VISIBILITY_TIMEOUT)
    if _broker_queue_is_empty():
        # Nothing waits in the broker, so a message queued a while ago is not there: its web
        # process died before publishing, or the broker lost its data. (One a worker holds
        # meanwhile is queued twice; the claim makes that harmless.)
        lost_in_queue = not_queued
    stale = InboundMessage.objects.filter(
        Q(status=INBOUND.RECEIVED, received_at__lt=not_queued)
        | Q(status=INBOUND.QUEUED, queued_at__lt=lost_in_queue)
        | Q(status__in=[INBOUND.PROCESSING, INBOUND.REPLIED], claimed_at__lt=_lease_start())
        | Q(status=INBOUND.REPLIED, claimed_at__isnull=True, received_at__lt=not_queued)
    ).order_by("received_at")
    published = [
        inbound.pk
        for inbound in stale.only("pk", "message_data", "user_id")[:limit]
        if publish(inbound)
    ]
    InboundMessage.objects.filter(
        pk__in=published, status__in=[INBOUND.RECEIVED, INBOUND.QUEUED]
    ).update(status=INBOUND.QUEUED, queued_at=timezone.now())
    return len(published)


def _broker_queue_is_empty() -> bool:
    """True when the broker answers and holds no chat turn waiting for a worker."""
    from better_laser_erp.celery import app

    queue_name = settings.CELERY_TASK_ROUTES["apps.ai_assistant.tasks.process_message_async"]
    queue = next(q for q in app.conf.task_queues if q.name == queue_name["queue"])
    try:
        with app.connection_for_write() as connection:
            return queue.bind(connection.default_channel).queue_declare().message_count == 0
    except Exception as error:  # broker down: the rules that need no broker still apply
        logger.warning("sweeper could not read the broker queue: %s", type(error).__name__)
        return False
