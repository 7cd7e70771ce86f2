"""What one hostile message may cost: bounded reading, no unbounded echo, a rate per sender."""

import logging
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.handler import MessageHandler
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ConversationTurn, InboundMessage, ToolExecutionLog
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase


def message(content: str, sender: str = "cost-1") -> IncomingMessage:
    return IncomingMessage(
        message_id="m1",
        channel="cli",
        external_user_id=sender,
        content=content,
        timestamp=datetime.now(UTC),
    )


@pytest.fixture
def wh1(db):
    return get_user_model().objects.get(username="wh1")


def test_a_100k_character_message_is_answered_at_once_without_the_brain(wh1):
    reply = MessageHandler(wh1).handle_message(message("保护镜" * 33_334))
    assert "100002" in reply.content and "1000" in reply.content
    assert len(reply.content) < 200
    assert not ToolExecutionLog.objects.exists()
    assert not ConversationTurn.objects.exists()


def test_an_unknown_command_echoes_only_a_short_piece_of_itself(wh1):
    reply = MessageHandler(wh1).handle_message(message("/" + "a" * 900))
    assert "a" * 20 + "…" in reply.content
    assert "a" * 21 not in reply.content
    assert len(reply.content) < 120


def test_a_message_at_the_limit_is_read(wh1, settings):
    settings.AI_ASSISTANT_MAX_MESSAGE_CHARS = 40
    reply = MessageHandler(wh1).handle_message(message("NZ-S1.5 库存".ljust(40)))
    assert "NZ-S1.5" in reply.content


class TestRatePerSender(JsonChannelTestCase):
    channel = "telegram"

    @pytest.fixture(autouse=True)
    def _limit(self, settings):
        settings.AI_ASSISTANT_RATE_LIMIT_PER_MINUTE = 3
        cache.clear()

    def post(self, update_id: int, user_id: int = 5012345678):
        request = telegram_kit.telegram_text(self.app, user_id, "NZ-S1.5 库存", update_id)
        return self.send(request)

    def test_over_the_limit_one_polite_answer_then_silence_and_every_message_kept(self, caplog):
        caplog.set_level(logging.WARNING)
        self.bind_sender("wh1")
        answers = [self.post(update_id) for update_id in range(1, 7)]
        assert all(answer.status_code == 200 for answer in answers)
        texts = [answer.json()["text"] if answer.content else "" for answer in answers]
        assert all("NZ-S1.5" in text for text in texts[:3])
        assert "too fast" in texts[3] or "太快" in texts[3]
        assert texts[4:] == ["", ""]
        assert InboundMessage.objects.count() == 6
        assert set(InboundMessage.objects.values_list("status", flat=True)) == {"done"}
        assert ConversationTurn.objects.count() == 3
        assert self.sent() == []
        assert len([r for r in caplog.records if "rate limit" in r.getMessage()]) == 3

    def test_another_sender_is_not_held_back(self):
        for update_id in range(1, 5):
            self.post(update_id)
        answer = self.post(100, user_id=5099999999)
        assert "/bind" in answer.json()["text"]
