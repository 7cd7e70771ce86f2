"""`JsonChannelTestCase`: post DingTalk/Telegram fixture payloads to their webhook, signed like
the platform, in sync mode, with the platforms' stand-in in place of the real APIs.

    class TestTelegramWebhook(JsonChannelTestCase):
        channel = "telegram"

        def test_it_answers_text(self):
            response = self.post_payload(self.fixture("text_message"))

Fixtures live in apps/ai_assistant/channels/<channel>/fixtures/<name>.json as the platform
sends them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from apps.ai_assistant.models import ChannelIdentity
from apps.ai_assistant.tests.channel_helpers import make_test_app
from devtools import webhook_client

CHANNELS_DIR = Path(__file__).resolve().parents[1] / "channels"

# The sender of the text fixtures, bound to the demo warehouse keeper wh1 by `bind_sender`.
FIXTURE_SENDER = {"dingtalk": "wh1zhang", "telegram": "5012345678"}


def load_fixture(channel: str, name: str) -> dict[str, Any]:
    return json.loads(
        (CHANNELS_DIR / channel / "fixtures" / f"{name}.json").read_text(encoding="utf-8")
    )


class JsonChannelTestCase:
    channel = ""

    @pytest.fixture(autouse=True)
    def _channel_setup(self, db, client, settings, platforms):
        settings.AI_ASSISTANT_USE_ASYNC = False
        settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS = 2
        cache.clear()
        self.client = client
        self.settings = settings
        self.platforms = platforms
        self.app = make_test_app(self.channel)
        secret = webhook_client.testkit(self.channel).platform_secret(self.app)
        platforms.state.register_app(self.channel, self.app.app_id, secret, expires_in=7200)
        yield
        cache.clear()

    def fixture(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(load_fixture(self.channel, name))

    def send(self, request: webhook_client.WebhookRequest):
        return webhook_client.with_test_client(self.client, request)

    def post_raw(self, body: bytes, headers: dict[str, str], app_id: str = ""):
        path = webhook_client.webhook_path(self.channel, app_id or self.app.app_id)
        request = webhook_client.WebhookRequest(
            "POST", path, {}, {"Content-Type": "application/json", **headers}, body
        )
        return self.send(request)

    def bind_sender(self, username: str = "wh1", external_user_id: str = ""):
        user = get_user_model().objects.get(username=username)
        ChannelIdentity.objects.create(
            channel=self.channel,
            external_user_id=external_user_id or FIXTURE_SENDER[self.channel],
            user=user,
        )
        return user

    def sent(self) -> list[dict[str, Any]]:
        return self.platforms.state.sent_messages(self.channel)
