"""Telegram webhook, end to end in sync mode; the Bot API is the platforms' stand-in."""

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import PlatformError
from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import (
    BindingCode,
    ChannelApp,
    ChannelIdentity,
    ConversationTurn,
    InboundMessage,
)
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase
from devtools import webhook_client


class TelegramCase(JsonChannelTestCase):
    channel = "telegram"

    def post_update(self, update, secret_token=None):
        return self.send(telegram_kit.telegram_update(self.app, update, secret_token))

    def post_fixture(self, name, **changes):
        update = self.fixture(name)
        update.update(changes)
        return self.post_update(update)

    def answer(self, response):
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        payload = response.json()
        assert payload["method"] == "sendMessage"
        return payload


class TestTelegramWebhook(TelegramCase):
    def test_a_bound_user_gets_the_real_stock_figure_in_the_webhook_answer(self):
        self.bind_sender("wh1")
        payload = self.answer(self.post_fixture("text_message"))
        assert payload["chat_id"] == 5012345678
        assert "NZ-S1.5" in payload["text"]
        assert "110" in payload["text"]  # available in main, from the seeded stock
        assert "reply_parameters" not in payload
        inbound = InboundMessage.objects.get()
        assert inbound.external_id == "812345001"
        assert inbound.message_data["external_user_id"] == "5012345678"
        assert inbound.message_data["conversation_id"] == "5012345678"
        assert inbound.status == InboundMessage.Status.DONE
        assert self.sent() == []

    def test_an_unbound_user_gets_binding_instructions_only(self):
        payload = self.answer(self.post_fixture("text_message"))
        assert "/bind" in payload["text"]
        assert "NZ-S1.5" not in payload["text"] and "110" not in payload["text"]
        assert not ConversationTurn.objects.exists()

    def test_start_tells_an_unbound_user_how_to_bind(self):
        payload = self.answer(self.post_fixture("start_command"))
        assert "/bind" in payload["text"]

    def test_start_gives_a_bound_user_the_help(self):
        self.bind_sender("wh1")
        payload = self.answer(self.post_fixture("start_command"))
        assert "ERP" in payload["text"]
        assert "Commands:" in payload["text"] or "命令：" in payload["text"]

    def test_a_start_deep_link_binds_the_account(self):
        wh1 = get_user_model().objects.get(username="wh1")
        code = BindingCode.objects.create(user=wh1)
        update = self.fixture("start_command")
        update["message"]["text"] = f"/start {code.code}"
        payload = self.answer(self.post_update(update))
        assert "绑定成功" in payload["text"] or "Linked" in payload["text"]
        assert ChannelIdentity.objects.get(channel="telegram").user == wh1

    def test_a_group_command_with_the_bot_name_is_understood_and_answered_as_a_reply(self):
        self.bind_sender("wh1")
        payload = self.answer(self.post_fixture("group_help_command"))
        assert payload["chat_id"] == -1001987654321
        assert payload["reply_parameters"]["message_id"] == 88
        inbound = InboundMessage.objects.get()
        assert inbound.message_data["content"] == "/help"
        assert inbound.message_data["conversation_id"] == "-1001987654321"
        assert "Commands:" in payload["text"] or "命令：" in payload["text"]

    def test_an_edited_message_is_a_new_message_with_its_own_key(self):
        self.bind_sender("wh1")
        self.answer(self.post_fixture("text_message"))
        payload = self.answer(self.post_fixture("edited_message"))
        assert "110" in payload["text"]
        assert sorted(InboundMessage.objects.values_list("external_id", flat=True)) == [
            "812345001",
            "812345004",
        ]
        assert ConversationTurn.objects.count() == 2

    def test_a_photo_gets_a_text_only_note(self):
        self.bind_sender("wh1")
        payload = self.answer(self.post_fixture("photo_message"))
        assert "文字" in payload["text"] or "text" in payload["text"].lower()
        assert InboundMessage.objects.get().message_data["message_type"] == "photo"

    def test_an_update_without_a_message_gets_an_empty_200_and_stores_nothing(self):
        response = self.post_fixture("my_chat_member")
        assert response.status_code == 200
        assert response.content == b""
        assert not InboundMessage.objects.exists()

    def test_a_message_from_a_bot_is_not_answered(self):
        update = self.fixture("text_message")
        update["message"]["from"]["is_bot"] = True
        response = self.post_update(update)
        assert response.status_code == 200 and response.content == b""
        assert not InboundMessage.objects.exists()

    def test_a_replayed_update_runs_the_handler_once_and_gets_the_same_answer(self):
        self.bind_sender("wh1")
        first = self.answer(self.post_fixture("text_message"))
        second = self.answer(self.post_fixture("text_message"))
        assert first == second
        assert ConversationTurn.objects.count() == 1
        assert InboundMessage.objects.count() == 1

    def test_a_long_reply_carries_part_one_and_sends_the_rest(self, monkeypatch):
        from apps.ai_assistant import webhook_views
        from apps.ai_assistant.messages import OutgoingMessage

        long_text = "\n".join(f"第{i}行：保护镜 PW-D37-T7 主仓库 库存 12 件 😀" for i in range(300))
        monkeypatch.setattr(
            webhook_views, "_process_message_sync", lambda u, m: OutgoingMessage(long_text)
        )
        payload = self.answer(self.post_fixture("text_message"))
        assert payload["text"].startswith("(1/")
        assert len(payload["text"].encode("utf-16-le")) // 2 <= 4096
        rest = self.sent()
        assert rest and all(s["text"].startswith(f"({i}/") for i, s in enumerate(rest, 2))
        assert all(s["recipient"] == "5012345678" for s in rest)
        assert InboundMessage.objects.get().status == InboundMessage.Status.DONE

    # --- bad input --------------------------------------------------------------------------

    def assert_refused(self, response, status, reason):
        assert response.status_code == status
        assert response.content.decode() == reason
        assert not InboundMessage.objects.exists()

    def test_it_rejects_a_missing_secret_header(self):
        request = telegram_kit.telegram_update(self.app, self.fixture("text_message"))
        del request.headers["X-Telegram-Bot-Api-Secret-Token"]
        self.assert_refused(self.send(request), 403, "missing secret token")

    def test_it_rejects_a_wrong_secret(self):
        response = self.post_update(self.fixture("text_message"), secret_token="guess")
        self.assert_refused(response, 403, "bad secret token")

    def test_an_app_without_a_secret_accepts_nothing(self):
        self.app.configure(webhook_secret="")
        self.app.save()
        response = self.post_update(self.fixture("text_message"), secret_token="")
        self.assert_refused(response, 403, "webhook secret not configured")

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"{not json", "malformed JSON"),
            (b'"update"', "body must be a JSON object"),
            (b'{"message": {}}', "update_id must be an integer"),
            (b'{"update_id": "1"}', "update_id must be an integer"),
            (b'{"update_id": 1, "message": []}', "message must be an object"),
            (b'{"update_id": 1, "message": {"text": "hi"}}', "missing chat"),
        ],
    )
    def test_it_rejects_malformed_updates(self, body, reason):
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.app.credentials.webhook_secret}
        self.assert_refused(self.post_raw(body, headers), 400, reason)

    def test_it_rejects_a_text_that_is_not_a_string(self):
        update = self.fixture("text_message")
        update["message"]["text"] = ["NZ-S1.5"]
        self.assert_refused(self.post_update(update), 400, "text must be a string")

    def test_it_rejects_a_one_megabyte_body(self):
        update = self.fixture("text_message")
        update["message"]["text"] = "x" * (1024 * 1024)
        self.assert_refused(self.post_update(update), 413, "body too large")

    def test_an_unknown_app_is_404(self):
        request = telegram_kit.telegram_update(self.app, self.fixture("text_message"))
        request = request._replace(path=webhook_client.webhook_path("telegram", "other_bot"))
        self.assert_refused(self.send(request), 404, "unknown app")

    def test_a_disabled_app_is_404(self):
        self.app.enabled = False
        self.app.save()
        self.assert_refused(self.post_fixture("text_message"), 404, "app disabled")


class TestTelegramSend(TelegramCase):
    def message(self):
        return IncomingMessage(
            message_id="1",
            channel="telegram",
            external_user_id="5012345678",
            content="hi",
            timestamp=datetime.now(UTC),
            conversation_id="5012345678",
        )

    def send_text(self, text="你好"):
        return get_channel("telegram").send(self.app, self.message(), text, {"chat_id": 5012345678})

    def test_it_sends_and_returns_the_message_id(self):
        message_id = self.send_text()
        [sent] = self.sent()
        assert (sent["recipient"], sent["text"]) == ("5012345678", "你好")
        assert message_id == str(sent["message_id"])

    def test_429_is_retryable_with_retry_after(self):
        self.platforms.state.add_fault("telegram", "rate_limit", retry_after=7)
        with pytest.raises(PlatformError) as raised:
            self.send_text()
        assert (raised.value.code, raised.value.retryable, raised.value.retry_after) == (
            429,
            True,
            7.0,
        )

    def test_a_server_error_is_retryable(self):
        self.platforms.state.add_fault("telegram", "server_error")
        with pytest.raises(PlatformError) as raised:
            self.send_text()
        assert raised.value.retryable is True

    def test_a_timeout_is_retryable(self):
        self.settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS = 0.3
        self.platforms.state.add_fault("telegram", "timeout", seconds=1.5)
        with pytest.raises(PlatformError) as raised:
            self.send_text()
        assert raised.value.retryable is True

    def test_a_bad_request_is_permanent(self):
        with pytest.raises(PlatformError) as raised:
            self.send_text("x" * 4097)
        assert (raised.value.code, raised.value.retryable) == (400, False)

    def test_a_wrong_bot_token_is_permanent_and_never_logged(self, caplog):
        self.app.configure(bot_token="7000000001:WRONG")
        with pytest.raises(PlatformError) as raised:
            self.send_text()
        assert (raised.value.code, raised.value.retryable) == (401, False)
        assert "WRONG" not in caplog.text and "WRONG" not in str(raised.value)


class TestTelegramSetWebhook:
    @pytest.fixture
    def app(self, db, platforms):
        platforms.state.register_app("telegram", "better_laser_erp_bot", "7000000001:AAH-x")
        return ChannelApp.objects.create_app(
            "telegram", "better_laser_erp_bot", bot_token="7000000001:AAH-x"
        )

    def test_it_sets_the_webhook_with_a_generated_secret_and_prints_the_info(self, app, platforms):
        out = StringIO()
        url = "https://erp.example.com/webhooks/telegram/better_laser_erp_bot/"
        call_command(
            "telegram_set_webhook",
            "--app",
            app.app_id,
            "--url",
            url,
            "--drop-pending-updates",
            stdout=out,
        )
        app.refresh_from_db()
        secret_token = app.credentials.webhook_secret
        assert 1 <= len(secret_token) <= 256
        webhook = platforms.state.telegram_webhooks[app.app_id]
        assert webhook["url"] == url
        assert webhook["secret_token"] == secret_token
        assert webhook["allowed_updates"] == ["message", "edited_message"]
        assert webhook["drop_pending_updates"] is True
        output = out.getvalue()
        assert json.loads(output[output.index("{") :])["url"] == url
        assert app.credentials.bot_token not in output and secret_token not in output

    def test_it_keeps_an_existing_secret(self, app, platforms):
        app.configure(webhook_secret="kept_secret-1")
        app.save()
        call_command(
            "telegram_set_webhook",
            "--app",
            app.app_id,
            "--url",
            "https://e.example/h/",
            stdout=StringIO(),
        )
        app.refresh_from_db()
        assert app.credentials.webhook_secret == "kept_secret-1"
        assert platforms.state.telegram_webhooks[app.app_id]["secret_token"] == "kept_secret-1"

    @pytest.mark.parametrize(
        "url", ["http://erp.example.com/hook/", "https://erp.example.com:8000/hook/", "erp"]
    )
    def test_it_refuses_urls_telegram_would_refuse(self, app, url):
        with pytest.raises(CommandError):
            call_command("telegram_set_webhook", "--app", app.app_id, "--url", url)

    def test_it_refuses_an_unknown_app(self, db, platforms):
        with pytest.raises(CommandError):
            call_command("telegram_set_webhook", "--app", "nope", "--url", "https://e.example/")

    def test_a_wrong_bot_token_is_reported(self, app, platforms):
        app.configure(bot_token="7000000001:WRONG")
        app.save()
        with pytest.raises(CommandError) as raised:
            call_command(
                "telegram_set_webhook", "--app", app.app_id, "--url", "https://e.example/h/"
            )
        assert "401" in str(raised.value) and "WRONG" not in str(raised.value)
