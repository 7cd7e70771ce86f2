"""Every state change of a received message and of its reply parts, in sync and async mode.

The webhook view verifies, parses and hands a message over here; the Celery tasks call these
functions; nothing else writes InboundMessage.status or OutboundMessage.status.

    received ─▶ queued ─▶ processing ─▶ replied ─▶ done          (async: a worker's turn)
                  ▲           │
                  └─ waiting ◀┘   (an earlier message of its chat is not done yet)
          sync: processing ─▶ done | replied ─▶ done             (parts after the response)
          any unfinished state ─▶ dead (a permanent error, or too many attempts)
          done ─▶ replied   (a report job of this message finished: its file is one more part)

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
import os
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from . import circuits, jobs, metrics, turns
from .brain.base import detect_language
from .channels.base import ParsedWebhook, PlatformError, get_channel
from .handler import MessageHandler
from .heartbeats import heartbeats
from .identity import user_for
from .insert import insert_row
from .messages import IncomingMessage, OutgoingMessage
from .models import (
    ChannelApp,
    ChannelIdentity,
    InboundMessage,
    MessageEvent,
    OutboundMessage,
    ReportJob,
)
from .storable import storable_message
from .texts import text

logger = logging.getLogger(__name__)

INBOUND = InboundMessage.Status
PART = OutboundMessage.Status
EVENT = MessageEvent.Kind
HOSTNAME = socket.gethostname()
UNFINISHED = [
    INBOUND.RECEIVED,
    INBOUND.QUEUED,
    INBOUND.WAITING,
    INBOUND.PROCESSING,
    INBOUND.REPLIED,
]
WAITING_FOR_A_WORKER = [INBOUND.RECEIVED, INBOUND.QUEUED, INBOUND.WAITING]


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
            received_at=now,
            queued_at=now if queue else None,
            claimed_at=None if queue else now,
            claimed_by="" if queue else f"web {process_name()}",
            started_at=None if queue else now,
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
    InboundMessage.objects.filter(pk__in=inbound_ids, status__in=WAITING_FOR_A_WORKER).update(
        status=INBOUND.QUEUED, queued_at=timezone.now()
    )


def stored_reply(inbound_id: int) -> dict[str, Any] | None:
    return InboundMessage.objects.filter(pk=inbound_id).values_list("reply", flat=True).first()


# --- the webhook's own answer (sync mode) --------------------------------------------------


def replied_in_webhook(inbound: InboundMessage, reply: OutgoingMessage, rest: list[str]) -> bool:
    """Record the reply answered in the HTTP response; the parts beyond the passive one
    (`rest`) and the reply's files become parts to send right after it. True when there
    are such parts."""
    with transaction.atomic():
        # Index 0 is the passive answer's part (empty where only send() can answer).
        later = store_parts(inbound, rest, first_index=1)
        later += store_files(inbound, reply, first_index=1 + len(rest))
        inbound.reply = reply.to_dict()
        inbound.status = INBOUND.REPLIED if later else INBOUND.DONE
        inbound.claimed_at = None
        inbound.finished_at = None if later else timezone.now()
        inbound.save(update_fields=["reply", "status", "claimed_at", "finished_at"])
    return bool(later)


def failed_in_webhook(app: ChannelApp, channel: str, external_id: str) -> None:
    """Keep a message the webhook failed on, as a dead letter for an operator to look at."""
    try:
        InboundMessage.objects.filter(
            channel=channel, app=app, external_id=external_id, reply__isnull=True
        ).update(status=INBOUND.DEAD, error="failed in the webhook; see the log")
    except Exception:
        logger.exception("webhook %s: could not mark message failed", channel)


# --- a worker's turn ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of a turn's delivery: sent in full (and the chat's next waiting message,
    which may go now), waiting for a retry in `retry_in` seconds, or given up."""

    delivered: bool = False
    retry_in: float | None = None
    next_in_chat: InboundMessage | None = None
    # Report jobs the turn queued: published once it is committed.
    queued_jobs: list[int] = field(default_factory=list)


def _lease_start():
    return timezone.now() - timedelta(seconds=settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS)


def claim(inbound_id: int) -> InboundMessage | None:
    """Take the message for this worker, or None if it is done, dead, not due yet (a retry's
    backoff) or owned by a live worker.

    One conditional UPDATE decides, so a status change made meanwhile (the sweeper marking
    the message queued) can never make two workers, or none, win it. The message taken says
    whether an earlier message of its chat is still unfinished (`has_earlier`: only then
    does `catch_up` look for it) and whether a later one waits behind it for a handover
    (`has_waiting`: only then does `deliver` look for it; one that starts to wait during
    this claim looks again by itself, see tasks._wait_behind)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), _claim_params(inbound_id, now))
        won = cursor.rowcount
    if not won:
        return None
    inbound = InboundMessage.objects.select_related("app").get(pk=inbound_id)
    inbound.has_earlier, inbound.has_waiting = _neighbours(inbound)
    inbound.renewed_at = time.monotonic()
    if inbound.attempts > 1:
        record(inbound, EVENT.CLAIMED_AGAIN, f"attempt {inbound.attempts} by {process_name()}")
    return inbound


# The claim's two statements are written out in SQL: built with the ORM (a Case, a Q of
# states, two Exists over the chat) their compilation was a seventh of a worker's turn.


def _claim_sql() -> str:
    """Due messages that wait, and taken ones whose worker gave them back or whose lease
    lapsed, become this worker's: processing (or still replied: only delivery is left)."""
    table = connection.ops.quote_name(InboundMessage._meta.db_table)
    waiting = ", ".join(["%s"] * len(WAITING_FOR_A_WORKER))
    # Only the model's table name and placeholders go into the text; values are parameters.
    return (
        f"UPDATE {table} SET status = CASE WHEN status = %s THEN %s ELSE %s END,"  # noqa: S608
        " claimed_at = %s, claimed_by = %s, started_at = %s, attempts = attempts + 1"
        " WHERE id = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s)"
        f" AND (status IN ({waiting})"
        " OR (status IN (%s, %s) AND (claimed_at IS NULL OR claimed_at < %s)))"
    )


def _claim_params(inbound_id: int, now) -> list[Any]:
    at = connection.ops.adapt_datetimefield_value
    return [
        INBOUND.REPLIED,
        INBOUND.REPLIED,
        INBOUND.PROCESSING,
        at(now),
        process_name(),
        at(now),
        inbound_id,
        at(now),
        *WAITING_FOR_A_WORKER,
        INBOUND.PROCESSING,
        INBOUND.REPLIED,
        at(_lease_start()),
    ]


def _neighbours(inbound: InboundMessage) -> tuple[bool, bool]:
    """(an earlier message of the chat is unfinished, a later one waits behind this one)."""
    if not inbound.conversation_key:
        return False, False
    table = connection.ops.quote_name(InboundMessage._meta.db_table)
    chat = "app_id = %s AND conversation_key = %s"
    unfinished = ", ".join(["%s"] * len(UNFINISHED))
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {chat} AND id < %s"  # noqa: S608
        f" AND status IN ({unfinished})),"
        f" EXISTS (SELECT 1 FROM {table} WHERE {chat} AND id > %s AND status = %s)"
    )
    key = [inbound.app_id, inbound.conversation_key]
    params = [*key, inbound.pk, *UNFINISHED, *key, inbound.pk, INBOUND.WAITING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        earlier, waiting = cursor.fetchone()
    return bool(earlier), bool(waiting)


def process_name() -> str:
    """This process, as the console shows who worked on a message: "host/pid"."""
    return f"{HOSTNAME}/{os.getpid()}"


def record(inbound: InboundMessage, kind: str, detail: str = "", actor: Any = None) -> None:
    """A timeline event beyond the message's own timestamps (MessageEvent)."""
    MessageEvent.objects.create(inbound_id=inbound.pk, kind=kind, detail=detail[:2000], actor=actor)


@contextmanager
def heartbeat(inbound: InboundMessage) -> Iterator[None]:
    """Renew the claim while the turn runs, so the lease can be short: a worker that dies
    stops renewing and its chat is taken over within the lease. A turn still running after
    the task's hard time limit is hung (a thread pool cannot kill it): renewing stops, so
    another worker takes the chat over, and fencing keeps the hung one from sending."""
    key = heartbeats.start(
        f"the turn of inbound {inbound.pk}",
        lambda: still_owned(inbound),
        every=settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS / 3,
        for_at_most=settings.CELERY_TASK_TIME_LIMIT,
    )
    try:
        yield
    finally:
        heartbeats.stop(key)


def still_owned(inbound: InboundMessage) -> bool:
    """Renew this worker's claim; False when another worker has taken the message over (its
    claim counted another attempt), so this one must not send anything more."""
    renewing_at = time.monotonic()
    renewed = InboundMessage.objects.filter(
        pk=inbound.pk, attempts=inbound.attempts, claimed_at__isnull=False
    ).update(claimed_at=timezone.now())
    if renewed:
        inbound.renewed_at = renewing_at
    return bool(renewed)


def _owned(inbound: InboundMessage) -> bool:
    """still_owned(), unless this worker renewed its claim a moment ago: no other worker
    can take a message over before a whole lease has passed since the last renewal, so a
    renewal within the last fifth of one is as good as a new one."""
    renewed_at = getattr(inbound, "renewed_at", None)
    fresh_for = settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS / 5
    if renewed_at is not None and time.monotonic() - renewed_at < fresh_for:
        return True
    return still_owned(inbound)


def release(inbound: InboundMessage) -> None:
    """Give the claim back, so another attempt can take the message again."""
    InboundMessage.objects.filter(pk=inbound.pk).update(claimed_at=None)


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


def next_waiting_in_chat(inbound: InboundMessage) -> InboundMessage | None:
    """The chat's next message after this one that waits behind it (one merely queued is
    on its way to a worker already)."""
    if not inbound.conversation_key:
        return None
    return (
        InboundMessage.objects.filter(
            app_id=inbound.app_id,
            conversation_key=inbound.conversation_key,
            status=INBOUND.WAITING,
            pk__gt=inbound.pk,
        )
        .order_by("pk")
        .first()
    )


def catch_up(inbound: InboundMessage) -> InboundMessage | None:
    """Answer and deliver the chat's earlier messages first, in order, taking each one no
    live worker holds, so one user's turns run and arrive in the order they were sent.
    None when nothing earlier is left; otherwise the earlier message this one must wait for
    (in another worker's hands, or waiting for its retry)."""
    if not getattr(inbound, "has_earlier", True):
        return None
    inbound.caught_up_jobs = []
    while (earlier := earlier_unfinished(inbound)) is not None:
        taken = claim(earlier.pk)
        if taken is None:
            return earlier
        with heartbeat(taken):
            outcome = answer_and_deliver(taken)
        inbound.caught_up_jobs += outcome.queued_jobs  # for the task to publish
        if not outcome.delivered and taken.status != INBOUND.DEAD:
            return InboundMessage.objects.get(pk=taken.pk)
    return None


def wait_behind(inbound: InboundMessage, blocker: InboundMessage) -> None:
    """This message waits, unclaimed and uncounted, until the earlier one of its chat is
    delivered: not before that one's next attempt (delivering it hands over to this one,
    and the sweeper looks too)."""
    InboundMessage.objects.filter(pk=inbound.pk).update(
        status=INBOUND.WAITING,
        queued_at=timezone.now(),
        claimed_at=None,
        attempts=F("attempts") - 1,
        next_attempt_at=blocker.next_attempt_at,
    )


class TakenOver(Exception):
    """Another worker took the message over while this one was answering it."""


def answer_and_deliver(inbound: InboundMessage) -> Outcome:
    parts = None
    if inbound.status != INBOUND.REPLIED:
        try:
            parts = answer(inbound)
        except TakenOver:
            logger.warning("inbound %s was taken over mid-turn; this worker stops", inbound.pk)
            return Outcome()
    outcome = deliver(inbound, parts=parts)
    outcome.queued_jobs = getattr(inbound, "queued_jobs", [])
    return outcome


def answer(inbound: InboundMessage) -> list[OutboundMessage]:
    """Run the handler and store its reply as parts to send, all in one transaction; the
    parts, in order. A turn that fails (an error in the assistant, or workers dying in it
    again and again) gets a short apology with a reference instead of silence; a database
    error is raised for the task to retry, and TakenOver when the claim was lost meanwhile
    (nothing of this turn is kept: the new owner answers)."""
    message = IncomingMessage.from_dict(inbound.message_data)
    if inbound.attempts > settings.AI_ASSISTANT_MAX_DELIVERY_ATTEMPTS:
        return _apologise(inbound, message, f"the turn was started {inbound.attempts} times")
    try:
        with transaction.atomic():
            if inbound.user_id is not None:
                inbound.user = get_user_model().objects.filter(pk=inbound.user_id).first()
            else:
                # The async webhook leaves finding the bound user to the worker.
                inbound.user = user_for(inbound.channel, message.external_user_id)
            with turns.answering(inbound.pk) as queued_jobs:
                reply = MessageHandler(inbound.user).handle_message(message)
            inbound.queued_jobs = queued_jobs
            return _store_reply(inbound, reply)
    except (DatabaseError, TakenOver):
        raise
    except Exception as error:
        logger.exception("the turn of inbound %s failed", inbound.pk)
        return _apologise(inbound, message, f"{type(error).__name__}: {error}")


def _apologise(
    inbound: InboundMessage, message: IncomingMessage, error: str
) -> list[OutboundMessage]:
    language = detect_language(message.content[:200])
    reference = f"E{inbound.pk}"
    apology = OutgoingMessage(
        content=text("turn_failed", language, reference=reference), language=language
    )
    with transaction.atomic():
        inbound.error = f"turn failed ({reference}): {error}"[:2000]
        return _store_reply(inbound, apology, error=inbound.error)


def _store_reply(
    inbound: InboundMessage, reply: OutgoingMessage, **extra_fields: Any
) -> list[OutboundMessage]:
    """Store the reply and its parts, and renew the claim, if this worker still holds it
    (the claim's attempt number is unchanged); otherwise TakenOver."""
    now = timezone.now()
    kept = InboundMessage.objects.filter(pk=inbound.pk, attempts=inbound.attempts).update(
        user=inbound.user,
        reply=reply.to_dict(),
        status=INBOUND.REPLIED,
        claimed_at=now,
        **extra_fields,
    )
    if not kept:
        raise TakenOver(inbound.pk)
    inbound.reply, inbound.status, inbound.claimed_at = reply.to_dict(), INBOUND.REPLIED, now
    inbound.renewed_at = time.monotonic()
    texts = store_parts(inbound, get_channel(inbound.channel).split(reply.content))
    return texts + store_files(inbound, reply, first_index=len(texts))


def store_files(
    inbound: InboundMessage, reply: OutgoingMessage, first_index: int
) -> list[OutboundMessage]:
    """The reply's files (a report ready at once) as parts after its text, each sent as the
    platform's file message; the part's text is the caption and link the web chat shows."""
    job_ids = [part["job"] for part in reply.parts if part.get("type") == "file"]
    found = ReportJob.objects.in_bulk(job_ids)
    files = [found[job_id] for job_id in job_ids if job_id in found]
    return OutboundMessage.objects.bulk_create(
        _part(inbound, index, jobs.link_text(job), job)
        for index, job in enumerate(files, start=first_index)
    )


def attach_job_result(job: ReportJob, note: str = "", then: str = "") -> InboundMessage | None:
    """A finished job's file (or, with `note`, that text: why there is no file) becomes one
    more part of the message that asked for it (and `then`, a text after it), in one
    transaction with the message going back to `replied` — only once that message is done
    (a worker still delivering it would otherwise finish it without these parts). Returns
    the message to hand to a worker; None when it is not done yet (try again shortly)."""
    with transaction.atomic():
        reopened = InboundMessage.objects.filter(pk=job.inbound_id, status=INBOUND.DONE).update(
            status=INBOUND.REPLIED, finished_at=None, claimed_at=None, next_attempt_at=None
        )
        if not reopened:
            return None
        inbound = InboundMessage.objects.select_related("app").get(pk=job.inbound_id)
        last = inbound.outbound.order_by("-part_index").values_list("part_index", flat=True)
        first_index = (last.first() or 0) + 1
        contents = [(note or jobs.link_text(job), None if note else job)]
        if then:
            contents.append((then, None))
        OutboundMessage.objects.bulk_create(
            _part(inbound, first_index + number, content, file_of, key=f"job:{job.pk}:{number}")
            for number, (content, file_of) in enumerate(contents)
        )
    return inbound


def request_is_closed(job: ReportJob) -> bool:
    """The message that asked for the job can take no more parts (a dead letter, discarded):
    the job's outcome is in /jobs and the console only."""
    return not InboundMessage.objects.filter(
        pk=job.inbound_id, status__in=[*UNFINISHED, INBOUND.DONE]
    ).exists()


def store_parts(
    inbound: InboundMessage, parts: list[str], first_index: int = 0
) -> list[OutboundMessage]:
    """Reply parts to send, each with its idempotency key ("<inbound>:<part index>")."""
    return OutboundMessage.objects.bulk_create(
        _part(inbound, index, part) for index, part in enumerate(parts, start=first_index)
    )


def _part(
    inbound: InboundMessage,
    index: int,
    content: str,
    job: ReportJob | None = None,
    key: str | None = None,
) -> OutboundMessage:
    """One reply part of `inbound` at `index`; its idempotency key "<inbound>:<key or
    index>"; with `job`, that job's file."""
    return OutboundMessage(
        inbound=inbound,
        app_id=inbound.app_id,
        idempotency_key=f"{inbound.pk}:{index if key is None else key}",
        recipient=inbound.conversation_key,
        part_index=index,
        content=content,
        job=job,
    )


def deliver(
    inbound: InboundMessage, claimed: bool = True, parts: list[OutboundMessage] | None = None
) -> Outcome:
    """Send every part not sent yet, in order (`parts`: the ones the turn just stored, so
    they need not be read back). A failure stops at the failing part and decides by time
    what happens next (see `_after_failure`); an open circuit defers the whole message
    without counting it as a failure. A `claimed` message (a worker's) is fenced: before
    each part the claim is checked and renewed, so a worker that lost it (stalled past its
    lease, taken over) never sends a part the new owner sends too."""
    channel = get_channel(inbound.channel)
    paused_until, circuit_clean = circuits.blocked_until(inbound.app)
    if paused_until is not None:
        return _defer(inbound, paused_until, "circuit open: the platform is failing")
    message = IncomingMessage.from_dict(inbound.message_data)
    if parts is None:
        parts = inbound.outbound.filter(status__in=[PART.PENDING, PART.FAILED]).order_by(
            "part_index"
        )
    unsent = list(parts)
    for number, part in enumerate(unsent, start=1):
        if claimed and not _owned(inbound):
            logger.warning("inbound %s was taken over; this worker stops", inbound.pk)
            return Outcome()
        try:
            platform_message_id = _send_part(channel, inbound, message, part)
        except PlatformError as error:
            part.status = PART.FAILED
            part.attempts += 1
            part.error = str(error)[:1000]
            part.save(update_fields=["status", "attempts", "error"])
            return _after_failure(inbound, channel, error)
        part.status = PART.SENT
        part.attempts += 1
        part.sent_at = timezone.now()
        part.platform_message_id = str(platform_message_id or "")[:128]
        with transaction.atomic():
            part.save(update_fields=["status", "attempts", "sent_at", "platform_message_id"])
            if number == len(unsent):
                # The last part and the message's end in one commit.
                _done(inbound)
    if not unsent:
        _done(inbound)
    if not circuit_clean and circuits.record_success(inbound.app):
        resume_after_outage(inbound.app)
    waiting = next_waiting_in_chat(inbound) if getattr(inbound, "has_waiting", True) else None
    return Outcome(delivered=True, next_in_chat=waiting)


def _send_part(
    channel: Any, inbound: InboundMessage, message: IncomingMessage, part: OutboundMessage
) -> str:
    """One part through the platform's send API: text, or a report's file."""
    key = f"{inbound.app_id}:{part.idempotency_key}"
    if part.job_id is None:
        return channel.send(
            inbound.app, message, part.content, inbound.reply_context, idempotency_key=key
        )
    job = ReportJob.objects.filter(pk=part.job_id, status=ReportJob.Status.SUCCEEDED).first()
    if job is None or not job.file or not job.file.storage.exists(job.file.name):
        raise PlatformError("file_missing", f"the file of job J-{part.job_id} is gone", False)
    return channel.send_file(
        inbound.app, message, jobs.outgoing_file(job), inbound.reply_context, idempotency_key=key
    )


def _done(inbound: InboundMessage) -> None:
    InboundMessage.objects.filter(pk=inbound.pk).update(
        status=INBOUND.DONE, finished_at=timezone.now(), claimed_at=None, next_attempt_at=None
    )
    inbound.status = INBOUND.DONE


def _after_failure(inbound: InboundMessage, channel: Any, error: PlatformError) -> Outcome:
    """Retry by time: a permanent error, or no retry before the deadline, is a dead letter;
    otherwise the next attempt waits for Retry-After or an exponential backoff with jitter.
    A rate limit or an expired token says nothing about the message: it does not count."""
    metrics.SEND_ERRORS.labels(inbound.channel, str(error.code)[:40]).inc()
    if not circuits.is_outage(error) and circuits.record_success(inbound.app):
        # The platform answered (a refusal, a rate limit): it is up, the backlog may go.
        resume_after_outage(inbound.app)
    if not error.retryable:
        dead_letter(inbound, f"send failed permanently: {error}")
        return Outcome()
    opened_until = circuits.record_failure(inbound.app, error)
    if opened_until is not None:
        return _defer(inbound, opened_until, f"circuit open: {error}")
    counted = not (error.code in (429, "429") or channel.is_token_error(error))
    failures = inbound.failures + (1 if counted else 0)
    delay = error.retry_after if error.retry_after else backoff(max(failures, 1))
    return _defer(inbound, timezone.now() + timedelta(seconds=delay), str(error), failures)


def backoff(failures: int) -> float:
    """Seconds before the next try after `failures` failed ones: doubling from the base,
    capped, with ±20 % jitter so a platform that comes back is not hit all at once."""
    base = settings.AI_ASSISTANT_RETRY_BASE_SECONDS
    delay = min(base * 2 ** (failures - 1), settings.AI_ASSISTANT_RETRY_MAX_SECONDS)
    return delay * random.uniform(0.8, 1.2)


def deadline(inbound: InboundMessage):
    """Delivery is given up after this: hours after the message came, or after an
    operator's last replay of it."""
    replayed = (
        inbound.events.filter(kind=EVENT.REPLAYED).order_by("-at").values_list("at", flat=True)
    ).first()
    start = max(inbound.received_at, replayed) if replayed else inbound.received_at
    return start + timedelta(hours=settings.AI_ASSISTANT_DELIVERY_DEADLINE_HOURS)


def _defer(inbound: InboundMessage, until, reason: str, failures: int | None = None) -> Outcome:
    if until > deadline(inbound):
        dead_letter(inbound, f"not delivered by the deadline; last error: {reason}")
        return Outcome()
    fields = {"next_attempt_at": until, "claimed_at": None, "error": reason[:2000]}
    if failures is not None:
        fields["failures"] = failures
    InboundMessage.objects.filter(pk=inbound.pk).update(**fields)
    record(inbound, EVENT.RETRY, f"next attempt at {until:%Y-%m-%d %H:%M:%S}: {reason}")
    inbound.next_attempt_at = until
    logger.warning("inbound %s retried at %s: %s", inbound.pk, until.isoformat(), reason[:200])
    return Outcome(retry_in=max((until - timezone.now()).total_seconds(), 0.0))


def resume_after_outage(app: ChannelApp) -> int:
    """The circuit closed: messages it held back are due now, and are delivered in order."""
    return InboundMessage.objects.filter(
        app=app, status__in=UNFINISHED, error__startswith="circuit open"
    ).update(next_attempt_at=None)


def dead_letter(inbound: InboundMessage, error: str) -> None:
    """Stop trying, in one transaction: keep the message and its unsent parts with the
    reason; logged once, after the commit."""
    with transaction.atomic():
        InboundMessage.objects.filter(pk=inbound.pk).update(
            status=INBOUND.DEAD, error=error[:2000], finished_at=timezone.now(), claimed_at=None
        )
        inbound.outbound.filter(status__in=[PART.PENDING, PART.FAILED]).update(status=PART.DEAD)
        record(inbound, EVENT.DEAD, error)
        transaction.on_commit(metrics.DEAD_LETTERS.labels(inbound.channel).inc)
        transaction.on_commit(
            lambda: logger.error(
                "dead letter: %s message %s (inbound %s): %s",
                inbound.channel,
                inbound.external_id,
                inbound.pk,
                error[:200],
            )
        )
    inbound.status = INBOUND.DEAD


# --- an operator's hands (the console) --------------------------------------------------------


def replay(inbound_id: int, actor: Any) -> InboundMessage | None:
    """Give a dead letter one more go, once: one conditional UPDATE takes it out of `dead`,
    so two operators (or two clicks) replaying it together replay it once. Its parts not
    sent go back to pending; a message never answered is answered again. Returns the
    message, queued for the next step (the caller delivers it or hands it to a worker),
    or None when it was not a dead letter (any more)."""
    with transaction.atomic():
        won = InboundMessage.objects.filter(pk=inbound_id, status=INBOUND.DEAD).update(
            status=Case(
                When(reply__isnull=True, then=Value(INBOUND.QUEUED)),
                default=Value(INBOUND.REPLIED),
            ),
            attempts=0,
            failures=0,
            next_attempt_at=None,
            claimed_at=None,
            finished_at=None,
            queued_at=timezone.now(),
        )
        if not won:
            return None
        inbound = InboundMessage.objects.select_related("app").get(pk=inbound_id)
        inbound.outbound.filter(status=PART.DEAD).update(status=PART.PENDING)
        record(inbound, EVENT.REPLAYED, "replayed by an operator", actor=actor)
    logger.warning("inbound %s replayed by %s", inbound_id, getattr(actor, "username", actor))
    return inbound


def discard(inbound_id: int, actor: Any) -> bool:
    """Close a dead letter without sending anything; False when it was not one (any more)."""
    with transaction.atomic():
        won = InboundMessage.objects.filter(pk=inbound_id, status=INBOUND.DEAD).update(
            status=INBOUND.DISCARDED
        )
        if won:
            record(InboundMessage(pk=inbound_id), EVENT.DISCARDED, "discarded", actor=actor)
    return bool(won)


# --- the sweeper's view ---------------------------------------------------------------------


def stale(broker_queue_empty: bool, limit: int = 500) -> list[InboundMessage]:
    """Messages that are due and no worker will pick up by itself, oldest first: the broker
    never got them or lost them, a dead worker left them, or their retry time has come."""
    now = timezone.now()
    not_queued_since = now - timedelta(seconds=settings.AI_ASSISTANT_REQUEUE_AFTER_SECONDS)
    lost_in_queue = now - timedelta(seconds=settings.CELERY_BROKER_VISIBILITY_TIMEOUT)
    if broker_queue_empty:
        # Nothing waits in the broker, so a message queued a while ago is not there: its web
        # process died before publishing, or the broker lost its data. (One a worker holds
        # meanwhile is queued twice; the claim makes that harmless.)
        lost_in_queue = not_queued_since
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    retry_due = Q(next_attempt_at__lte=now, claimed_at__isnull=True, status__in=UNFINISHED)
    found = InboundMessage.objects.filter(
        retry_due
        | due
        & (
            Q(status=INBOUND.RECEIVED, received_at__lt=not_queued_since)
            | Q(status__in=[INBOUND.QUEUED, INBOUND.WAITING], queued_at__lt=lost_in_queue)
            | Q(status__in=[INBOUND.PROCESSING, INBOUND.REPLIED], claimed_at__lt=_lease_start())
            | Q(status=INBOUND.REPLIED, claimed_at__isnull=True, received_at__lt=not_queued_since)
        )
    ).order_by("received_at")
    return list(found.only("pk", "message_data", "user_id")[:limit])


# --- notices: messages the system starts (operator alerts) ---------------------------------


def notify(user: Any, content: str, key: str) -> list[str]:
    """Send `content` to every chat account bound to `user`, each account once: the part's
    idempotency key ("notice:<key>:<account>") makes another call with the same key a no-op
    for the accounts already reached, and a retry for the others. Returns one line per
    account not reached (empty when every account got it)."""
    problems = []
    for identity in ChannelIdentity.objects.filter(user=user).order_by("pk"):
        problem = _notify_account(identity, content, f"notice:{key}:{identity.pk}")
        if problem:
            problems.append(f"{identity.channel}:{identity.external_user_id}: {problem}")
    return problems


def _notify_account(identity: ChannelIdentity, content: str, key: str) -> str:
    address = _notice_address(identity)
    if address is None:
        return f"no enabled {identity.channel} app"
    app, message, reply_context = address
    paused_until, _ = circuits.blocked_until(app)
    if paused_until is not None:
        return f"sends to {app.app_id} are paused until {paused_until:%H:%M:%S}"
    part, _ = OutboundMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={"app": app, "recipient": identity.external_user_id[:190], "content": content},
    )
    if part.status == PART.SENT:
        return ""
    channel = get_channel(identity.channel)
    part.attempts += 1
    try:
        for number, piece in enumerate(channel.split(part.content)):
            part.platform_message_id = channel.send(
                app, message, piece, reply_context, idempotency_key=f"{key}:{number}"
            )[:128]
    except PlatformError as error:
        metrics.SEND_ERRORS.labels(identity.channel, str(error.code)[:40]).inc()
        part.status, part.error = PART.FAILED, str(error)[:1000]
        part.save(update_fields=["status", "attempts", "error"])
        return str(error)
    part.status, part.sent_at = PART.SENT, timezone.now()
    part.save(update_fields=["status", "attempts", "sent_at", "platform_message_id"])
    return ""


def _notice_address(
    identity: ChannelIdentity,
) -> tuple[ChannelApp, IncomingMessage, dict[str, Any]] | None:
    """Where to reach a chat account: where its user last spoke to the assistant (that
    chat's app and reply context), else its direct chat through the channel's first app.
    The fallback addresses the user id as the chat, which WeChat, WeCom, DingTalk and
    Telegram accept; Feishu needs a chat id, so a Feishu account is reached only after it
    has written to the assistant once."""
    last = (
        InboundMessage.objects.filter(
            channel=identity.channel,
            app__enabled=True,
            message_data__external_user_id=identity.external_user_id,
        )
        .select_related("app")
        .order_by("-pk")
        .first()
    )
    if last is not None:
        return last.app, IncomingMessage.from_dict(last.message_data), last.reply_context
    app = ChannelApp.objects.filter(channel=identity.channel, enabled=True).order_by("pk").first()
    if app is None:
        return None
    direct = IncomingMessage(
        message_id="notice",
        channel=identity.channel,
        external_user_id=identity.external_user_id,
        content="",
        timestamp=timezone.now(),
        conversation_id=identity.external_user_id,
    )
    return app, direct, {}
