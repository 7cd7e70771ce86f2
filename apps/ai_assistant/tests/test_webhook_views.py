"""The webhook view's shared behaviour: routing, limits, error mapping, sync/async switch."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ai_assistant import channel_apps, webhook_views
from apps.ai_assistant.messages import OutgoingMessage
from apps.ai_assistant.models import ChannelApp, ConversationTurn, InboundMessage
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase, make_test_app


class TestWebhookView(ChannelTestCase):
    channel = "wechat"

    def test_an_unknown_channel_is_404(self):
        response = self.client.post("/webhooks/myspace/x/", b"", content_type="text/xml")
        assert response.status_code == 404
        assert response.content == b"unknown channel"

    def test_an_unknown_app_is_404_and_stores_nothing(self):
        request = self.build("text_message")
        response = self.send(request._replace(path="/webhooks/wechat/wx_nope/"))
        assert response.status_code == 404
        assert response.content == b"unknown app"
        assert not InboundMessage.objects.exists()

    def test_a_disabled_app_is_404(self):
        self.app.enabled = False
        self.app.save()
        response = self.post_fixture("text_message")
        assert response.status_code == 404
        assert response.content == b"app disabled"

    def test_a_1_mb_body_is_413(self):
        response = self.post_raw(b"<xml>" + b"a" * (1024 * 1024) + b"</xml>")
        assert response.status_code == 413
        assert response.content == b"body too large"

    def test_a_body_larger_than_its_content_length_is_still_413(self, settings):
        settings.AI_ASSISTANT_MAX_WEBHOOK_BYTES = 100
        request = self.build("text_message")
        response = self.client.generic(
            "POST", request.url, data=request.body, content_type="text/xml", CONTENT_LENGTH="10"
        )
        assert response.status_code in (400, 413)
        assert not InboundMessage.objects.exists()

    def test_other_methods_are_405(self):
        response = self.client.put(f"/webhooks/wechat/{self.app.app_id}/", b"")
        assert response.status_code == 405

    def test_rejections_are_short_plain_text(self):
        response = self.post_fixture("text_message", signed=False)
        assert response["Content-Type"].startswith("text/plain")
        assert len(response.content) < 100

    def test_an_unexpected_error_answers_success_and_keeps_the_message(self, monkeypatch):
        def broken(user, message):
            raise RuntimeError("bug")

        monkeypatch.setattr(webhook_views, "_process_message_sync", broken)
        response = self.post_fixture("text_message")
        assert response.status_code == 200
        assert response.content == b"success"
        inbound = InboundMessage.objects.get()
        assert inbound.status == InboundMessage.Status.DEAD
        # A retry of a dead message is acknowledged, not run into the same bug again.
        assert self.post_fixture("text_message").content == b"success"

    def test_the_handler_gets_the_bound_user_and_the_message(self, monkeypatch):
        user = self.bind_sender("wh1")
        seen = {}

        def fake(u, message):
            seen.update(user=u, message=message)
            return OutgoingMessage(content="ok")

        monkeypatch.setattr(webhook_views, "_process_message_sync", fake)
        assert self.reply_text(self.post_fixture("text_message")) == "ok"
        assert seen["user"] == user
        assert seen["message"].content == "NZ-S1.5 库存"
        assert seen["message"].conversation_id == "oWh1_stock_keeper_openid"
        inbound = InboundMessage.objects.get()
        assert inbound.user == user
        assert inbound.reply == {"content": "ok", "parts": [], "language": "zh"}

    def test_async_mode_stores_enqueues_and_acknowledges(self, monkeypatch, settings):
        from apps.ai_assistant import dispatch

        settings.AI_ASSISTANT_USE_ASYNC = True
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        queued = []
        monkeypatch.setattr(dispatch, "enqueue", queued.append)
        text = self.reply_text(self.post_fixture("text_message"))
        assert text == settings.AI_ASSISTANT_ASYNC_ACK_TEXT
        inbound = InboundMessage.objects.get()
        assert queued == [inbound]
        # Stored as queued (the publisher marks it back if the broker refuses it); the worker
        # finds the bound user.
        assert inbound.status == InboundMessage.Status.QUEUED and inbound.queued_at
        assert inbound.user is None
        assert not ConversationTurn.objects.exists()
        # A platform retry gets the same notice and queues nothing more.
        assert self.reply_text(self.post_fixture("text_message")) == text
        assert len(queued) == 1

    def test_the_seed_switch_needs_a_broker(self, settings):
        settings.AI_ASSISTANT_USE_ASYNC = True
        settings.CELERY_BROKER_URL = ""
        assert not webhook_views.use_async_processing()
        settings.CELERY_BROKER_URL = "redis://localhost:6379/0"
        assert webhook_views.use_async_processing()
        assert isinstance(webhook_views.USE_ASYNC_PROCESSING, bool)


@pytest.mark.django_db
class TestChannelAppCache(ChannelTestCase):
    """Each web process keeps a webhook's app for a few seconds (channel_apps.py)."""

    channel = "wechat"

    def app_reads(self, name: str, **stamp) -> tuple[int, int]:
        """(status, queries reading ChannelApp) of one webhook request."""
        with CaptureQueriesContext(connection) as queries:
            response = self.post_fixture(name, **stamp)
        reads = [q for q in queries if 'FROM "ai_assistant_channelapp"' in q["sql"]]
        return response.status_code, len(reads)

    def test_the_app_is_read_once_while_it_is_cached(self):
        assert self.app_reads("text_message") == (200, 1)
        assert self.app_reads("text_message") == (200, 0)

    def test_a_change_saved_in_this_process_is_seen_at_once(self):
        self.post_fixture("text_message")
        self.app.enabled = False
        self.app.save()
        assert self.app_reads("text_message") == (404, 1)

    def test_a_secret_rotated_by_another_process_works_at_once(self):
        self.post_fixture("text_message")
        # Another process saves a new token: no signal reaches this one.
        old_token = self.app.credentials.token
        self.app.configure(token="rotated-token-0123")  # the platform now signs with it
        ChannelApp.objects.filter(pk=self.app.pk).update(secrets=self.app.secrets)
        assert self.app_reads("text_message") == (200, 1)
        # The old token is refused once the fresh read has replaced the cached app.
        self.app.configure(token=old_token)
        assert self.post_fixture("text_message").status_code == 403

    def test_another_processs_change_is_seen_after_the_cache_time(self, settings):
        settings.AI_ASSISTANT_CHANNEL_APP_CACHE_SECONDS = 0
        self.post_fixture("text_message")
        ChannelApp.objects.filter(pk=self.app.pk).update(enabled=False)
        assert self.app_reads("text_message") == (404, 1)

    def test_unknown_app_ids_are_remembered_but_not_without_bound(self, monkeypatch):
        monkeypatch.setattr(channel_apps, "MAX_ENTRIES", 3)
        for n in range(10):
            channel_apps.channel_app("wechat", f"wx_scan_{n}")
        assert len(channel_apps._apps) <= 3


def test_process_message_sync_is_the_seed_function(django_user_model):
    from datetime import UTC, datetime

    from apps.ai_assistant.messages import IncomingMessage

    message = IncomingMessage(
        message_id="m1",
        channel="wechat",
        external_user_id="o1",
        content="/help",
        timestamp=datetime.now(UTC),
    )
    reply = webhook_views._process_message_sync(None, message)
    assert isinstance(reply, OutgoingMessage)
    assert "/bind" in reply.content


def test_webhook_client_talks_to_a_live_server(live_server, reseed_after_flush, transactional_db):
    from apps.ai_assistant.channels.wecom import testkit as wecom_kit
    from devtools import webhook_client

    app = make_test_app("wecom")
    response = webhook_client.send(live_server.url, wecom_kit.wecom_url_verification(app))
    assert response.status_code == 200
    assert response.text == "1616140317555161061"
    response = webhook_client.send(
        live_server.url, wecom_kit.wecom_text(app, "someone", "你好", msg_id=77)
    )
    assert response.status_code == 200
    assert b"<Encrypt>" in response.content
    assert InboundMessage.objects.get().external_id == "77"


class TestLongReplyDeliveryFailure(ChannelTestCase):
    channel = "wechat"

    def send_long_reply_refused_by(self, monkeypatch, error):
        from apps.ai_assistant.channels.wechat.adapter import WeChatChannel

        long_text = "\n".join(f"第{i}行 保护镜 库存" for i in range(400))
        monkeypatch.setattr(
            webhook_views, "_process_message_sync", lambda u, m: OutgoingMessage(long_text)
        )

        def refuse(self, app, message, text, ctx, idempotency_key=""):
            raise error

        monkeypatch.setattr(WeChatChannel, "send", refuse)
        response = self.post_fixture("text_message")
        assert self.reply_text(response).startswith("(1/")
        return InboundMessage.objects.get()

    def test_a_part_refused_for_good_is_kept_as_a_dead_letter(self, monkeypatch):
        from apps.ai_assistant.channels.base import PlatformError
        from apps.ai_assistant.models import OutboundMessage

        inbound = self.send_long_reply_refused_by(
            monkeypatch, PlatformError(45015, "response out of time limit")
        )
        assert inbound.status == InboundMessage.Status.DEAD
        assert "45015" in inbound.error
        assert OutboundMessage.objects.filter(status="dead").count() >= 1
        assert not OutboundMessage.objects.filter(status__in=["pending", "failed"]).exists()

    def test_a_part_refused_for_now_waits_for_its_retry_time(self, monkeypatch):
        from apps.ai_assistant.channels.base import PlatformError

        inbound = self.send_long_reply_refused_by(
            monkeypatch, PlatformError(-1, "system busy", retryable=True)
        )
        assert inbound.status == InboundMessage.Status.REPLIED
        assert inbound.next_attempt_at is not None and inbound.failures == 1
