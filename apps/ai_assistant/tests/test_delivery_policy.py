"""Delivery by time (inbox.py) and the circuit breaker per app (circuits.py), one rule at a
time, with a recording stand-in for the channel's send (no broker, no platform needed)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ai_assistant import circuits, inbox
from apps.ai_assistant.channels.telegram.adapter import TelegramChannel
from apps.ai_assistant.errors import PlatformError
from apps.ai_assistant.models import ChannelApp, InboundMessage, OutboundMessage, SendCircuit

pytestmark = pytest.mark.django_db


class Sends:
    """What the (patched) Telegram send was asked to do, and what it answers next."""

    def __init__(self):
        self.texts: list[str] = []
        self.errors: list[PlatformError] = []

    def __call__(self, app, message, text, context, idempotency_key=""):
        if self.errors:
            raise self.errors.pop(0)
        self.texts.append(text)
        return str(len(self.texts))


@pytest.fixture
def sends(monkeypatch):
    recorded = Sends()
    monkeypatch.setattr(TelegramChannel, "send", recorded)
    return recorded


@pytest.fixture
def app():
    return ChannelApp.objects.create_app("telegram", "bot", bot_token="1:x", webhook_secret="s")


def replied(app, external_id="m1", parts=("hello",), chat="chat-1", **fields):
    inbound = InboundMessage.objects.create(
        channel="telegram",
        app=app,
        external_id=external_id,
        conversation_key=chat,
        message_data={
            "message_id": external_id,
            "channel": "telegram",
            "external_user_id": chat,
            "content": "hi",
            "timestamp": "2026-12-01T10:00:00+00:00",
            "message_type": "text",
            "conversation_id": chat,
            "raw_data": {},
        },
        **{
            "status": "replied",
            "reply": {"content": "\n".join(parts)},
            "attempts": 1,
            "claimed_at": timezone.now(),  # this worker's claim
            **fields,
        },
    )
    inbox.store_parts(inbound, list(parts))
    return InboundMessage.objects.select_related("app").get(pk=inbound.pk)


def busy(retry_after=None, code=503):
    return PlatformError(code, f"HTTP {code}", retryable=True, retry_after=retry_after)


def test_a_delivered_message_is_done_and_hands_over_to_the_chats_next(app, sends):
    first = replied(app, "m1")
    waiting = replied(app, "m2")
    InboundMessage.objects.filter(pk=waiting.pk).update(status="waiting", reply=None)

    outcome = inbox.deliver(first)

    assert outcome.delivered and outcome.next_in_chat.pk == waiting.pk
    assert InboundMessage.objects.get(pk=first.pk).status == "done"
    assert sends.texts == ["hello"]


def test_a_message_merely_queued_behind_is_not_handed_over_again(app, sends):
    # Its task is in the broker already: publishing it again would only cost a worker a look.
    first = replied(app, "m1")
    queued = replied(app, "m2")
    InboundMessage.objects.filter(pk=queued.pk).update(status="queued", reply=None)

    outcome = inbox.deliver(first)

    assert outcome.delivered and outcome.next_in_chat is None


def test_a_transient_failure_waits_for_a_backoff_and_counts(app, sends, settings):
    settings.AI_ASSISTANT_RETRY_BASE_SECONDS = 4
    sends.errors = [busy()]
    inbound = replied(app)

    outcome = inbox.deliver(inbound)

    inbound.refresh_from_db()
    assert not outcome.delivered and 3.2 <= outcome.retry_in <= 4.8
    assert inbound.failures == 1 and inbound.claimed_at is None
    assert inbound.status == "replied"
    assert OutboundMessage.objects.get().status == "failed"


def test_retry_after_wins_and_a_rate_limit_is_not_a_failure(app, sends):
    sends.errors = [busy(retry_after=7, code=429)]
    inbound = replied(app, failures=2)

    outcome = inbox.deliver(inbound)

    inbound.refresh_from_db()
    assert 6.5 <= outcome.retry_in <= 7
    assert inbound.failures == 2


def test_an_expired_token_is_not_a_failure(app, sends, monkeypatch):
    monkeypatch.setattr(TelegramChannel, "is_token_error", lambda self, error: True)
    sends.errors = [busy(code=401)]
    inbound = replied(app)

    inbox.deliver(inbound)

    assert InboundMessage.objects.get(pk=inbound.pk).failures == 0


def test_the_backoff_doubles_up_to_the_cap(settings):
    settings.AI_ASSISTANT_RETRY_BASE_SECONDS = 2
    settings.AI_ASSISTANT_RETRY_MAX_SECONDS = 60
    assert 1.6 <= inbox.backoff(1) <= 2.4
    assert 12.8 <= inbox.backoff(4) <= 19.2
    assert 48 <= inbox.backoff(30) <= 72


def test_a_permanent_error_is_a_dead_letter_in_one_step(
    app, sends, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.ERROR)
    sends.errors = [PlatformError(403, "bot was blocked by the user")]
    inbound = replied(app, parts=("one", "two"))

    with django_capture_on_commit_callbacks(execute=True):
        inbox.deliver(inbound)

    inbound.refresh_from_db()
    assert inbound.status == "dead" and "blocked" in inbound.error
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"dead"}
    assert len([r for r in caplog.records if "dead letter" in r.getMessage()]) == 1


def test_no_retry_after_the_deadline(app, sends, settings):
    settings.AI_ASSISTANT_DELIVERY_DEADLINE_HOURS = 1
    sends.errors = [busy()]
    inbound = replied(app, received_at=timezone.now() - timedelta(minutes=59, seconds=59))

    inbox.deliver(inbound)

    inbound.refresh_from_db()
    assert inbound.status == "dead" and "deadline" in inbound.error


def test_a_failing_turn_gets_an_apology_with_a_reference(app, sends, monkeypatch):
    from apps.ai_assistant import handler

    def broken(self, message):
        raise RuntimeError("bug")

    monkeypatch.setattr(handler.MessageHandler, "handle_message", broken)
    inbound = replied(app)
    InboundMessage.objects.filter(pk=inbound.pk).update(status="processing", reply=None)
    OutboundMessage.objects.all().delete()
    inbound.refresh_from_db()

    inbox.answer_and_deliver(inbound)

    inbound.refresh_from_db()
    assert inbound.status == "done"
    assert f"E{inbound.pk}" in sends.texts[0]
    assert "RuntimeError" in inbound.error


def test_a_turn_started_too_often_is_not_run_again(app, sends, settings, monkeypatch):
    from apps.ai_assistant import handler

    settings.AI_ASSISTANT_MAX_DELIVERY_ATTEMPTS = 3
    monkeypatch.setattr(handler.MessageHandler, "handle_message", pytest.fail)
    inbound = replied(app, attempts=4)
    InboundMessage.objects.filter(pk=inbound.pk).update(status="processing", reply=None)
    OutboundMessage.objects.all().delete()
    inbound.refresh_from_db()

    inbox.answer_and_deliver(inbound)

    assert f"E{inbound.pk}" in sends.texts[0]


def test_the_heartbeat_keeps_a_long_turn_claimed(app, settings, transactional_db):
    settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS = 3
    inbound = replied(app, claimed_at=timezone.now() - timedelta(seconds=2))
    before = inbound.claimed_at

    with inbox.heartbeat(inbound):
        time.sleep(1.5)

    assert InboundMessage.objects.get(pk=inbound.pk).claimed_at > before


def test_a_turn_hung_past_the_time_limit_lets_its_claim_lapse(app, settings, transactional_db):
    # A thread pool cannot kill a hung turn: its heartbeat stops, another worker takes over.
    settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS = 1.5
    settings.CELERY_TASK_TIME_LIMIT = 1
    inbound = replied(app, claimed_at=timezone.now())

    with inbox.heartbeat(inbound):
        time.sleep(3)
        hung_claim = InboundMessage.objects.get(pk=inbound.pk).claimed_at

    assert hung_claim < timezone.now() - timedelta(seconds=1.5)
    assert inbox.claim(inbound.pk) is not None


# --- the circuit breaker ------------------------------------------------------------------


def test_the_circuit_opens_after_repeated_outage_errors(app, sends, settings):
    settings.AI_ASSISTANT_CIRCUIT_FAILURES = 3
    settings.AI_ASSISTANT_CIRCUIT_COOLDOWN_SECONDS = 20
    messages = [replied(app, f"m{i}", chat=f"chat-{i}") for i in range(4)]
    sends.errors = [busy(), busy(), busy()]

    for inbound in messages[:3]:
        inbox.deliver(inbound)

    circuit = SendCircuit.objects.get(app=app)
    assert circuit.state == "open" and circuit.consecutive_failures == 3
    # The next message does not even try: it waits for the cool-down, uncounted.
    outcome = inbox.deliver(messages[3])
    assert sends.texts == [] and 19 <= outcome.retry_in <= 20
    assert InboundMessage.objects.get(pk=messages[3].pk).failures == 0


def test_rate_limits_do_not_open_the_circuit(app, sends, settings):
    settings.AI_ASSISTANT_CIRCUIT_FAILURES = 2
    sends.errors = [busy(code=429), busy(code=429), busy(code=429)]
    for i in range(3):
        inbox.deliver(replied(app, f"m{i}", chat=f"chat-{i}"))
    assert not SendCircuit.objects.filter(app=app, state="open").exists()


def test_after_the_cool_down_one_probe_closes_it_and_the_backlog_resumes(app, sends, settings):
    settings.AI_ASSISTANT_CIRCUIT_FAILURES = 1
    sends.errors = [busy()]
    first = replied(app, "m1", chat="chat-1")
    inbox.deliver(first)
    held = replied(app, "m2", chat="chat-2")
    inbox.deliver(held)
    assert InboundMessage.objects.get(pk=held.pk).next_attempt_at is not None
    SendCircuit.objects.update(retry_at=timezone.now() - timedelta(seconds=1))

    InboundMessage.objects.filter(pk=first.pk).update(next_attempt_at=None)
    probe = inbox.deliver(inbox.claim(first.pk))

    assert probe.delivered
    assert SendCircuit.objects.get(app=app).state == "closed"
    assert InboundMessage.objects.get(pk=held.pk).next_attempt_at is None


def test_a_failed_probe_opens_it_again_for_longer(app, sends, settings):
    settings.AI_ASSISTANT_CIRCUIT_FAILURES = 1
    settings.AI_ASSISTANT_CIRCUIT_COOLDOWN_SECONDS = 10
    sends.errors = [busy(), busy()]
    inbound = replied(app)
    inbox.deliver(inbound)
    SendCircuit.objects.update(retry_at=timezone.now() - timedelta(seconds=1))

    InboundMessage.objects.filter(pk=inbound.pk).update(next_attempt_at=None)
    outcome = inbox.deliver(inbox.claim(inbound.pk))

    circuit = SendCircuit.objects.get(app=app)
    assert circuit.state == "open" and circuit.trips == 2
    assert 19 <= outcome.retry_in <= 20


def test_only_one_sender_probes_a_half_open_circuit(app):
    SendCircuit.objects.create(
        app=app, state="open", retry_at=timezone.now() - timedelta(seconds=1)
    )
    assert circuits.blocked_until(app)[0] is None
    assert circuits.blocked_until(app)[0] is not None


def test_a_probe_the_platform_answers_with_a_rate_limit_closes_the_circuit(app, sends):
    SendCircuit.objects.create(
        app=app, state="open", consecutive_failures=5, retry_at=timezone.now() - timedelta(1)
    )
    held = replied(app, "m2", chat="chat-2", error="circuit open: 503",
                   next_attempt_at=timezone.now() + timedelta(seconds=30))  # fmt: skip
    sends.errors = [busy(retry_after=2, code=429)]

    inbox.deliver(replied(app, "m1"))

    assert SendCircuit.objects.get(app=app).state == "closed"
    assert InboundMessage.objects.get(pk=held.pk).next_attempt_at is None


def test_a_worker_that_lost_its_claim_sends_nothing(app, sends):
    inbound = replied(app, parts=("one", "two"))
    # Another worker took the message over (a new claim counts another attempt).
    InboundMessage.objects.filter(pk=inbound.pk).update(attempts=2, claimed_at=timezone.now())

    outcome = inbox.deliver(inbound)

    assert not outcome.delivered and sends.texts == []
    assert InboundMessage.objects.get(pk=inbound.pk).status == "replied"
