"""DingTalk robot webhook, end to end in sync mode; replies recorded by the platforms' stand-in."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.ai_assistant.channels import base, get_channel
from apps.ai_assistant.channels.base import PlatformError
from apps.ai_assistant.channels.dingtalk import testkit as dingtalk_kit
from apps.ai_assistant.channels.dingtalk.adapter import robot_sign
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ConversationTurn, InboundMessage, OutboundMessage
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase
from devtools import webhook_client

VECTORS = json.loads((Path(__file__).parents[2] / "fixtures" / "channel_vectors.json").read_text())


def test_the_published_sign_vector():
    vector = VECTORS["dingtalk_robot_sign"]
    assert robot_sign(vector["timestamp_ms"], vector["app_secret"]) == vector["sign"]


class DingTalkCase(JsonChannelTestCase):
    channel = "dingtalk"

    def payload(self, name: str = "text_message", session_ttl: float = 5400, **changes):
        """The fixture with a fresh createAt and a live sessionWebhook of the stand-in."""
        payload = self.fixture(name)
        session, expires_at = self.platforms.state.create_session(
            self.app.app_id,
            payload["conversationId"],
            payload["conversationType"],
            payload.get("senderStaffId", ""),
            ttl=session_ttl,
        )
        payload["sessionWebhook"] = (
            f"{self.platforms.base_url}/robot/sendBySession?session={session}"
        )
        payload["sessionWebhookExpiredTime"] = int(expires_at * 1000)
        payload["createAt"] = int(time.time() * 1000)
        payload.update(changes)
        return payload

    def post_payload(self, payload, **stamp):
        return self.send(dingtalk_kit.dingtalk_json(self.app, payload, **stamp))


class TestDingTalkWebhook(DingTalkCase):
    def test_a_bound_user_gets_the_real_stock_figure_through_the_session_webhook(self):
        self.bind_sender("wh1")
        response = self.post_payload(self.payload())
        assert response.status_code == 200
        assert response.json() == {}
        [sent] = self.sent()
        assert sent["via"] == "session_webhook"
        assert sent["recipient"] == "cidSingleChatWh1Zhang0001=="
        assert "NZ-S1.5" in sent["text"]
        assert "110" in sent["text"]  # available in main, from the seeded stock
        assert sent["at_user_ids"] == []
        inbound = InboundMessage.objects.get()
        assert inbound.external_id == "msgBpOQfJ5x0hXgk5s4v0E2Vw=="
        assert inbound.status == InboundMessage.Status.DONE
        assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT

    def test_the_published_vector_is_accepted(self, monkeypatch):
        vector = VECTORS["dingtalk_robot_sign"]
        monkeypatch.setattr(base, "current_time", lambda: int(vector["timestamp_ms"]) / 1000 + 5)
        self.app.configure(app_secret=vector["app_secret"])
        self.app.save()
        headers = {"timestamp": vector["timestamp_ms"], "sign": vector["sign"]}
        body = json.dumps(self.payload()).encode()
        response = self.post_raw(body, headers)
        assert response.status_code == 200
        assert InboundMessage.objects.get().message_data["content"] == "NZ-S1.5 库存"

    def test_a_group_message_loses_the_mention_space_and_the_answer_mentions_the_sender(self):
        self.bind_sender("wh1")
        response = self.post_payload(self.payload("group_text_message"))
        assert response.status_code == 200
        inbound = InboundMessage.objects.get()
        assert inbound.message_data["content"] == "NZ-S1.5 库存"
        assert inbound.message_data["conversation_id"] == "cidGroupWarehouse0001=="
        assert inbound.reply_context["conversation_type"] == "2"
        [sent] = self.sent()
        assert sent["recipient"] == "cidGroupWarehouse0001=="
        assert sent["at_user_ids"] == ["wh1zhang"]
        assert sent["text"].startswith("@wh1zhang ")
        assert "110" in sent["text"]

    def test_an_unbound_user_gets_binding_instructions_only(self):
        self.post_payload(self.payload())
        [sent] = self.sent()
        assert "/bind" in sent["text"]
        assert "NZ-S1.5" not in sent["text"] and "110" not in sent["text"]
        assert not ConversationTurn.objects.exists()

    def test_a_picture_gets_a_text_only_note(self):
        self.bind_sender("wh1")
        self.post_payload(self.payload("picture_message"))
        [sent] = self.sent()
        assert "文字" in sent["text"] or "text" in sent["text"].lower()
        assert InboundMessage.objects.get().message_data["message_type"] == "picture"

    def test_a_replayed_message_runs_the_handler_once_and_answers_once(self):
        self.bind_sender("wh1")
        payload = self.payload()
        first = self.post_payload(payload)
        second = self.post_payload(payload)
        assert first.status_code == second.status_code == 200
        assert ConversationTurn.objects.count() == 1
        assert InboundMessage.objects.count() == 1
        assert len(self.sent()) == 1

    def test_after_the_session_webhook_expired_the_openapi_answers(self):
        self.bind_sender("wh1")
        payload = self.payload(sessionWebhookExpiredTime=int(time.time() * 1000) - 1000)
        self.post_payload(payload)
        [sent] = self.sent()
        assert sent["via"] == "batchSend"
        assert sent["recipient"] == "wh1zhang"
        assert "110" in sent["text"]
        assert self.platforms.state.token_request_count("dingtalk", self.app.app_id) == 1

    def test_a_group_after_the_session_expired_gets_a_group_message(self):
        self.bind_sender("wh1")
        payload = self.payload("group_text_message", session_ttl=0)
        self.post_payload(payload)
        [sent] = self.sent()
        assert (sent["via"], sent["recipient"]) == ("groupMessages", "cidGroupWarehouse0001==")

    def test_a_session_webhook_on_a_foreign_host_is_never_called(self):
        payload = self.payload(
            sessionWebhook="https://attacker.example/robot/sendBySession?session=x"
        )
        self.post_payload(payload)
        assert InboundMessage.objects.get().reply_context["session_webhook"] == ""
        [sent] = self.sent()
        assert sent["via"] == "batchSend"

    def test_a_long_reply_goes_out_in_order_through_the_session_webhook(self, monkeypatch):
        from apps.ai_assistant import webhook_views
        from apps.ai_assistant.messages import OutgoingMessage

        long_text = "\n".join(f"第{i}行：保护镜 PW-D37-T7 主仓库 库存 12 件" for i in range(300))
        monkeypatch.setattr(
            webhook_views, "_process_message_sync", lambda u, m: OutgoingMessage(long_text)
        )
        response = self.post_payload(self.payload())
        assert response.json() == {}
        sent = self.sent()
        assert len(sent) >= 2
        assert all(s["text"].startswith(f"({i}/{len(sent)})") for i, s in enumerate(sent, 1))
        assert all(len(s["text"]) <= 4000 for s in sent)

    # --- bad input --------------------------------------------------------------------------

    def assert_refused(self, response, status, reason):
        assert response.status_code == status
        assert response.content.decode() == reason
        assert not InboundMessage.objects.exists()
        assert self.sent() == []

    def test_it_rejects_a_bad_sign(self):
        request = dingtalk_kit.dingtalk_json(self.app, self.payload())
        request.headers["sign"] = robot_sign(request.headers["timestamp"], "another-secret")
        self.assert_refused(self.send(request), 403, "bad signature")

    @pytest.mark.parametrize("header", ["sign", "timestamp"])
    def test_it_rejects_a_missing_header(self, header):
        request = dingtalk_kit.dingtalk_json(self.app, self.payload())
        del request.headers[header]
        self.assert_refused(self.send(request), 403, "missing signature")

    @pytest.mark.parametrize("offset_ms", [-2 * 3600 * 1000, 2 * 3600 * 1000])
    def test_it_rejects_a_stale_or_future_timestamp(self, offset_ms):
        timestamp = int(time.time() * 1000) + offset_ms
        response = self.post_payload(self.payload(), timestamp_ms=timestamp)
        self.assert_refused(response, 403, "stale timestamp")

    def test_it_rejects_a_sign_over_another_timestamp(self):
        request = dingtalk_kit.dingtalk_json(self.app, self.payload())
        request.headers["timestamp"] = str(int(request.headers["timestamp"]) + 1)
        self.assert_refused(self.send(request), 403, "bad signature")

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"{not json", "malformed JSON"),
            (b"[1, 2]", "body must be a JSON object"),
            (b"\xff\xfe", "malformed JSON"),
        ],
    )
    def test_it_rejects_malformed_json(self, body, reason):
        timestamp = str(int(time.time() * 1000))
        headers = {
            "timestamp": timestamp,
            "sign": robot_sign(timestamp, self.app.credentials.app_secret),
        }
        self.assert_refused(self.post_raw(body, headers), 400, reason)

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"msgId": 12345}, "msgId must be a string"),
            ({"msgId": ""}, "missing msgId"),
            ({"conversationType": "3"}, "unknown conversationType"),
            ({"text": "NZ-S1.5"}, "text.content must be a string"),
            ({"senderStaffId": "", "senderId": ""}, "missing senderStaffId and senderId"),
            ({"createAt": "yesterday"}, "createAt must be a timestamp in milliseconds"),
        ],
    )
    def test_it_rejects_fields_of_the_wrong_type(self, changes, reason):
        self.assert_refused(self.post_payload(self.payload(**changes)), 400, reason)

    def test_it_rejects_a_one_megabyte_body(self):
        payload = self.payload()
        payload["text"]["content"] = "库" * (1024 * 1024 // 3 + 1)
        self.assert_refused(self.post_payload(payload), 413, "body too large")

    def test_an_unknown_app_is_404(self):
        request = dingtalk_kit.dingtalk_json(self.app, self.payload())
        request = request._replace(path=webhook_client.webhook_path("dingtalk", "no-such-app"))
        self.assert_refused(self.send(request), 404, "unknown app")

    def test_a_disabled_app_is_404(self):
        self.app.enabled = False
        self.app.save()
        self.assert_refused(self.post_payload(self.payload()), 404, "app disabled")

    def test_get_is_not_allowed(self):
        response = self.client.get(webhook_client.webhook_path("dingtalk", self.app.app_id))
        assert response.status_code == 405


class TestDingTalkSend(DingTalkCase):
    def message(self, conversation_type="1"):
        return IncomingMessage(
            message_id="msg-1",
            channel="dingtalk",
            external_user_id="wh1zhang",
            content="hi",
            timestamp=datetime.now(UTC),
            conversation_id="cid-1",
        )

    def openapi_context(self, conversation_type="1"):
        return {
            "conversation_type": conversation_type,
            "open_conversation_id": "cid-1",
            "sender_staff_id": "wh1zhang",
            "robot_code": self.app.app_id,
            "session_webhook": "",
            "session_webhook_expires_ms": 0,
        }

    def test_an_expired_token_is_refreshed_once(self):
        channel = get_channel("dingtalk")
        channel.send(self.app, self.message(), "one", self.openapi_context())
        self.platforms.state.add_fault("dingtalk", "expired_token")
        channel.send(self.app, self.message(), "two", self.openapi_context())
        assert [s["text"] for s in self.sent()] == ["one", "two"]
        assert self.platforms.state.token_request_count("dingtalk", self.app.app_id) == 2

    def test_a_rate_limit_is_retryable(self):
        self.platforms.state.add_fault("dingtalk", "rate_limit", endpoint="api")
        with pytest.raises(PlatformError) as raised:
            get_channel("dingtalk").send(self.app, self.message(), "x", self.openapi_context())
        assert raised.value.retryable is True

    def test_a_session_server_error_is_retryable_and_not_sent_twice(self):
        payload = self.payload()
        context = {
            **self.openapi_context(),
            "session_webhook": payload["sessionWebhook"],
            "session_webhook_expires_ms": payload["sessionWebhookExpiredTime"],
        }
        self.platforms.state.add_fault("dingtalk", "server_error", endpoint="api")
        with pytest.raises(PlatformError) as raised:
            get_channel("dingtalk").send(self.app, self.message(), "x", context)
        assert raised.value.retryable is True
        assert self.sent() == []

    def test_a_refused_session_falls_back_to_the_openapi(self):
        payload = self.payload()
        context = {
            **self.openapi_context(),
            "session_webhook": payload["sessionWebhook"] + "-unknown",
            "session_webhook_expires_ms": payload["sessionWebhookExpiredTime"],
        }
        get_channel("dingtalk").send(self.app, self.message(), "好的", context)
        [sent] = self.sent()
        assert sent["via"] == "batchSend"

    def test_a_wrong_app_secret_is_a_permanent_error(self):
        self.app.configure(app_secret="wrong")
        with pytest.raises(PlatformError) as raised:
            get_channel("dingtalk").send(self.app, self.message(), "x", self.openapi_context())
        assert raised.value.retryable is False
