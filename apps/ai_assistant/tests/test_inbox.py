"""inbox.py: the exactly-once bookkeeping of async mode, one rule at a time (no broker)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ai_assistant import inbox
from apps.ai_assistant.models import ChannelApp, InboundMessage

pytestmark = pytest.mark.django_db


def stored_message(external_id="m1", conversation_key="o_user", **fields) -> InboundMessage:
    app = ChannelApp.objects.filter(channel="telegram", app_id="bot").first()
    app = app or ChannelApp.objects.create_app("telegram", "bot", bot_token="x:y")
    message_data = {
        "message_id": external_id,
        "channel": "telegram",
        "external_user_id": conversation_key,
        "content": "/help",
        "timestamp": "2026-11-27T10:00:00+08:00",
        "message_type": "text",
        "conversation_id": conversation_key,
        "raw_data": {},
    }
    return InboundMessage.objects.create(
        channel="telegram",
        app=app,
        external_id=external_id,
        conversation_key=conversation_key,
        message_data=message_data,
        **fields,
    )


def test_a_waiting_message_is_claimed_once():
    inbound = stored_message(status="queued")

    first = inbox.claim(inbound.pk)
    second = inbox.claim(inbound.pk)

    assert first is not None and first.status == "processing" and first.attempts == 1
    assert second is None


def test_a_claim_survives_the_publisher_marking_the_message_queued_afterwards():
    inbound = stored_message(status="received")
    claimed = inbox.claim(inbound.pk)

    InboundMessage.objects.filter(pk=inbound.pk, status__in=["received", "queued"]).update(
        status="queued"
    )

    assert claimed is not None
    assert InboundMessage.objects.get(pk=inbound.pk).status == "processing"


def test_a_message_whose_worker_died_is_taken_over_after_the_lease(settings):
    settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS = 60
    long_ago = timezone.now() - timedelta(seconds=61)
    inbound = stored_message(status="processing", claimed_at=long_ago, attempts=1)

    taken = inbox.claim(inbound.pk)

    assert taken is not None and taken.attempts == 2


def test_a_message_held_by_a_live_worker_is_not_taken():
    inbound = stored_message(status="processing", claimed_at=timezone.now(), attempts=1)

    assert inbox.claim(inbound.pk) is None


def test_a_replied_message_stays_replied_when_claimed_for_delivery():
    inbound = stored_message(status="replied", reply={"content": "hi"}, attempts=1)

    taken = inbox.claim(inbound.pk)

    assert taken.status == "replied"


def test_a_message_waiting_for_its_retry_is_not_claimed_before_it_is_due():
    later = timezone.now() + timedelta(seconds=30)
    waiting = stored_message("m1", status="replied", next_attempt_at=later)
    due = stored_message("m2", status="replied", next_attempt_at=timezone.now())

    assert inbox.claim(waiting.pk) is None
    assert inbox.claim(due.pk) is not None


@pytest.mark.parametrize("status", ["done", "dead"])
def test_a_finished_message_is_never_claimed(status):
    inbound = stored_message(status=status)

    assert inbox.claim(inbound.pk) is None


def test_an_earlier_unfinished_message_of_the_same_chat_is_found_first():
    earlier = stored_message("m1", status="queued")
    stored_message("m2", status="done")
    later = stored_message("m3", status="queued")
    stored_message("other", conversation_key="someone_else", status="queued")

    assert inbox.earlier_unfinished(later) == earlier
    assert inbox.earlier_unfinished(earlier) is None


def test_a_claim_says_whether_an_earlier_message_of_its_chat_is_unfinished():
    stored_message("m1", status="done")
    first_done = inbox.claim(stored_message("m2", status="queued").pk)
    stored_message("m3", status="queued")
    behind_an_open_one = inbox.claim(stored_message("m4", status="queued").pk)
    alone = inbox.claim(stored_message("m5", conversation_key="", status="queued").pk)

    assert not first_done.has_earlier
    assert behind_an_open_one.has_earlier
    assert not alone.has_earlier


def test_a_claim_says_whether_a_later_message_waits_behind_it():
    earlier = stored_message("m1", status="queued")
    stored_message("m2", status="queued")  # on its way to a worker: no handover needed
    assert not inbox.claim(earlier.pk).has_waiting

    inbox.release(earlier)
    stored_message("m3", status="waiting")
    InboundMessage.objects.filter(pk=earlier.pk).update(status="queued")
    assert inbox.claim(earlier.pk).has_waiting
