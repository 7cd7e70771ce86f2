"""`ChannelTestCase`: post a channel's fixture payloads to its webhook, signed like the platform.

    class TestWeChatWebhook(ChannelTestCase):
        channel = "wechat"

        def test_it_answers_text(self):
            response = self.post_fixture("text_message")
            assert "库存" in self.reply_text(response)

Fixtures live in apps/ai_assistant/channels/<channel>/fixtures/<name>.xml as the platform
sends them (decrypted); the helpers sign and encrypt them with the test app's secrets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from apps.ai_assistant.channels.tencent import reply_fields
from apps.ai_assistant.models import ChannelApp, ChannelIdentity
from devtools import webhook_client

CHANNELS_DIR = Path(__file__).resolve().parents[1] / "channels"

# The sender of the text fixtures, bound to the demo warehouse keeper wh1 by `bind_sender`.
FIXTURE_SENDER = {"wechat": "oWh1_stock_keeper_openid", "wecom": "wh1.zhang"}


def make_test_app(channel: str) -> ChannelApp:
    """The channel's test app (its test kit's TEST_APP), saved."""
    fields = dict(webhook_client.testkit(channel).TEST_APP)
    return ChannelApp.objects.create_app(channel, fields.pop("app_id"), **fields)


def fixture_text(channel: str, name: str) -> str:
    return (CHANNELS_DIR / channel / "fixtures" / f"{name}.xml").read_text(encoding="utf-8")


class ChannelTestCase:
    """Base class of the webhook tests of one XML channel (`channel` = "wechat" | "wecom")."""

    channel = ""

    @pytest.fixture(autouse=True)
    def _channel_setup(self, db, client, settings):
        settings.AI_ASSISTANT_USE_ASYNC = False
        self.client = client
        self.settings = settings
        self.kit = webhook_client.testkit(self.channel)
        self.app = make_test_app(self.channel)

    def use_security_mode(self, mode: str) -> None:
        """Set the app as the platform's console would for requests of `mode`
        (webhook_client's "plain" | "compatible" | "safe")."""
        self.app.configure(security_mode="plaintext" if mode == "plain" else mode)
        self.app.save()

    # --- requests ---------------------------------------------------------------------------

    def build(self, name: str, mode: str = "safe", **stamp) -> webhook_client.WebhookRequest:
        plaintext = fixture_text(self.channel, name)
        if self.channel == "wechat":
            return self.kit.wechat_xml(self.app, plaintext, mode=mode, **stamp)
        return self.kit.wecom_xml(self.app, plaintext, **stamp)

    def post_fixture(self, name: str, signed: bool = True, mode: str = "safe", **stamp):
        """POST the fixture as the platform would; signed=False drops every signature."""
        request = self.build(name, mode=mode, **stamp)
        if not signed:
            query = {
                key: value
                for key, value in request.query.items()
                if key not in ("signature", "msg_signature")
            }
            request = request._replace(query=query)
        return self.send(request)

    def send(self, request: webhook_client.WebhookRequest):
        return webhook_client.with_test_client(self.client, request)

    def post_raw(self, body: bytes, query: dict[str, str] | None = None, app_id: str = ""):
        path = webhook_client.webhook_path(self.channel, app_id or self.app.app_id)
        request = webhook_client.WebhookRequest(
            "POST", path, query or {}, {"Content-Type": "text/xml"}, body
        )
        return self.send(request)

    # --- identities -------------------------------------------------------------------------

    def bind_sender(self, username: str = "wh1", external_user_id: str = ""):
        user = get_user_model().objects.get(username=username)
        ChannelIdentity.objects.create(
            channel=self.channel,
            external_user_id=external_user_id or FIXTURE_SENDER[self.channel],
            user=user,
        )
        return user

    # --- replies ----------------------------------------------------------------------------

    def reply_fields(self, response) -> dict[str, str]:
        """The passive reply's fields, decrypted when the reply is encrypted."""
        assert response.status_code == 200, response.content
        return reply_fields(self.app, response.content)

    def reply_text(self, response) -> str:
        return self.reply_fields(response)["Content"]


def first_number_after(text: str, label: str) -> str:
    match = re.search(re.escape(label) + r"\D*(\d+)", text)
    return match.group(1) if match else ""
