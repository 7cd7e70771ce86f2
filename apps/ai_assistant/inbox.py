"""Every state change of a received message and of its reply parts, in sync and async mode.

The webhook view verifies, parses and hands a message over here; the Celery tasks call these
functions; nothing else writes InboundMessage.status or OutboundMessage.status.

    received ─▶ queued ─▶ processing ─▶ replied ─▶ done          (async: a worker's turn)
          sync: processing ─▶ done | replied ─▶ done             (parts after the response)
          any unfinished state ─▶ dead (a permanent error, or too many attempts)

Celery delivers at least once; these functions make the effect exactly once (docs/design.md §5):
- a message is stored before it goes to the broker (the unique key makes a platform retry a
  no-op), and only after commit;
- a worker claims it with one conditional UPDATE; a claim expires after a lease, so a message
  whose worker died is taken over, never run by two live workers;
- the handler's work and the reply parts are committed in one transaction (status `replied`),
  so a crash before that commit leaves nothing behind and a crash after it never re-runs
  the handler (or a confirmed write tool);
- each reply part has an idempotency key and is marked sent right after the platform took
  it; a redelivered task sends only the parts not yet sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .channels.base import ParsedWebhook, PlatformError, get_channel
from .handler import MessageHandler
from .identity import user_for
from .insert import insert_row
from .messages import IncomingMessage, OutgoingMessage
from .models import ChannelApp, InboundMessage, OutboundMessage
from .storable import storable_message

logger = logging.getLogger(__name__)

INBOUND = InboundMessage.Status
PART = OutboundMessage.Status
UNFINISHED = [INBOUND.RECEIVED, INBOUND.QUEUED, INBOUND.PROCESSING, INBOUND.REPLIED]


# --- intake -----------------------------------------------------------------------------


def receive(
    app: ChannelApp, parsed: ParsedWebhook, user: Any, queue: bool
) -> tuple[InboundMessage, bool]:
    """Store a verified webhook message: (the row, True) — or (the first row, False) when
    the platform sent it before. `queue`: async mode, the message is stored as queued (the
    publisher marks it back if the broker refuses it, the sweeper finds one a crash kept from
    the broker); otherwise the webhook itself is processing it. A DatabaseError other than
    the duplicate key propagates: nothing was stored."""
    message = parsed.message
    now = timezone.now()
    try:
        # Insert first: the unique key turns a platform retry into an IntegrityError.
        inbound = insert_row(
            InboundMessage,
            channel=message.channel,
            app=app,
            external_id=parsed.external_id,
            user=user,
            conversation_key=message.conversation_key,
            message_data=message.to_dict(),
            reply_context=parsed.reply_context,
            status=INBOUND.QUEUED if queue else INBOUND.PROCESSING,
            queued_at=now if queue else None,
            claimed_at=None if queue else now,
            attempts=0 if queue else 1,
        )
    except IntegrityError:
        first = InboundMessage.objects.get(
            channel=message.channel, app=app, external_id=parsed.external_id
        )
        return first, False
    return inbound, True


def receive_direct(message_data: dict[str, Any], user_id: int | None) -> InboundMessage | None:
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


def not_queued(inbound: InboundMessage) -> None:
    """The broker refused the message stored as queued: the sweeper looks sooner at `received`."""
    InboundMessage.objects.filter(pk=inbound.pk, status=INBOUND.QUEUED).update(
        status=INBOUND.RECEIVED
    )


def queued(inbound_ids: list[int]) -> None:
    """The sweeper handed these messages to the broker again."""
    InboundMessage.objects.filter(
        pk__in=inbound_ids, status__in=[INBOUND.RECEIVED, INBOUND.QUEUED]
    ).update(status=INBOUND.QUEUED, queued_at=timezone.now())


def waiting(inbound_id: int) -> InboundMessage | None:
    """The message if it still waits for a worker (received or queued)."""
    return InboundMessage.objects.filter(
        pk=inbound_id, status__in=[INBOUND.RECEIVED, INBOUND.QUEUED]
    ).first()


def stored_reply(inbound_id: int) -> dict[str, Any] | None:
    return InboundMessage.objects.filter(pk=inbound_id).values_list("reply", flat=True).first()


# --- the webhook's own answer (sync mode) --------------------------------------------------


def replied_in_webhook(inbound: InboundMessage, reply: OutgoingMessage, rest: list[str]) -> None:
    """Record the reply answered in the HTTP response; the parts beyond the passive one
    (`rest`) become reply parts to send right after it."""
    with transaction.atomic():
        # Index 0 is the passive answer's part (empty where only send() can answer).
        store_parts(inbound, rest, first_index=1)
        inbound.reply = reply.to_dict()
        inbound.status = INBOUND.REPLIED if rest else INBOUND.DONE
        inbound.claimed_at = None
        inbound.finished_at = None if rest else timezone.now()
        inbound.save(update_fields=["reply", "status", "claimed_at", "finished_at"])


def failed_in_webhook(app: ChannelApp, channel: str, external_id: str) -> None:
    """Keep a message the webhook failed on, as a dead letter for an operator to look at."""
    try:
        InboundMessage.objects.filter(
            channel=channel, app=app, external_id=external_id, reply__isnull=True
        ).update(status=INBOUND.DEAD, error="failed in the webhook; see the log")
    except Exception:
        logger.exception("webhook %s: could not mark message failed", channel)


# --- a worker's turn ----------------------------------------------------------------------


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


def release(inbound: InboundMessage) -> None:
    """Give the claim back, so this task's own retry can take the message again."""
    InboundMessage.objects.filter(pk=inbound.pk, claimed_at=inbound.claimed_at).update(
        claimed_at=None
    )


def earlier_unfinished(inbound: InboundMessage) -> InboundMessage | None:
    """The first message of the same chat sent before this one and not finished yet."""
    if not inbound.conversation_key:
        return None
    return (
        InboundMessage.objects.filter(
            app_id=inbound.app_id,
            conversation_key=inbound.conversation_key,
            status__in=UNFINISHED,
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


# --- the sweeper's view ---------------------------------------------------------------------


def stale(broker_queue_empty: bool, limit: int = 500) -> list[InboundMessage]:
    """Messages the broker never got, lost, or a dead worker left behind, oldest first."""
    now = timezone.now()
    not_queued_since = now - timedelta(seconds=settings.AI_ASSISTANT_REQUEUE_AFTER_SECONDS)
    lost_in_queue = now - timedelta(seconds=settings.CELERY_BROKER_VISIBILITY_TIMEOUT)
    if broker_queue_empty:
        # Nothing waits in the broker, so a message queued a while ago is not there: its web
        # process died before publishing, or the broker lost its data. (One a worker holds
        # meanwhile is queued twice; the claim makes that harmless.)
        lost_in_queue = not_queued_since
    found = InboundMessage.objects.filter(
        Q(status=INBOUND.RECEIVED, received_at__lt=not_queued_since)
        | Q(status=INBOUND.QUEUED, queued_at__lt=lost_in_queue)
        | Q(status__in=[INBOUND.PROCESSING, INBOUND.REPLIED], claimed_at__lt=_lease_start())
        | Q(status=INBOUND.REPLIED, claimed_at__isnull=True, received_at__lt=not_queued_since)
    ).order_by("received_at")
    return list(found.only("pk", "message_data", "user_id")[:limit])
