"""WeChat Official Account webhook, end to end in sync mode through the Django test client."""

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from apps.ai_assistant.channels import base
from apps.ai_assistant.channels.wechat import testkit as wechat_kit
from apps.ai_assistant.models import ConversationTurn, InboundMessage
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase, fixture_text
from devtools import webhook_client

VECTORS = json.loads((Path(__file__).parents[2] / "fixtures" / "channel_vectors.json").read_text())


class TestWeChatWebhook(ChannelTestCase):
    channel = "wechat"

    # --- URL verification ---------------------------------------------------------------------

    def test_it_echoes_echostr_on_url_verification(self):
        response = self.send(wechat_kit.wechat_url_verification(self.app, echostr="abc123+/"))
        assert response.status_code == 200
        assert response.content == b"abc123+/"
        assert response["Content-Type"].startswith("text/plain")

    def test_url_verification_accepts_the_published_signature_vector(self):
        vector = VECTORS["wechat_mp_plain_signature"]
        self.app.configure(token=vector["token"])
        self.app.save()
        query = {
            "signature": vector["signature"],
            "timestamp": vector["timestamp"],
            "nonce": vector["nonce"],
            "echostr": "hello",
        }
        response = self.client.get(f"/webhooks/wechat/{self.app.app_id}/", query)
        assert response.content == b"hello"
        query["signature"] = vector["wrong_signature"]
        response = self.client.get(f"/webhooks/wechat/{self.app.app_id}/", query)
        assert response.status_code == 403

    def test_url_verification_rejects_a_bad_signature(self):
        request = wechat_kit.wechat_url_verification(self.app)
        request.query["signature"] = "0" * 40
        response = self.send(request)
        assert response.status_code == 403
        assert response.content == b"bad signature"

    # --- text messages, three modes -----------------------------------------------------------

    @pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
    def test_a_bound_user_gets_the_real_stock_figure(self, mode):
        self.use_security_mode(mode)
        self.bind_sender("wh1")
        response = self.post_fixture("text_message", mode=mode)
        fields = self.reply_fields(response)
        assert fields["ToUserName"] == "oWh1_stock_keeper_openid"
        assert fields["FromUserName"] == "gh_10f6c3c3ac5a"
        assert fields["MsgType"] == "text"
        assert "NZ-S1.5" in fields["Content"]
        assert "110" in fields["Content"]  # available in main, from the seeded stock
        encrypted = b"<Encrypt>" in response.content
        assert encrypted == (mode != "plain")

    def test_an_unbound_user_gets_binding_instructions_only(self):
        response = self.post_fixture("text_message")
        text = self.reply_text(response)
        assert "/bind" in text
        assert "NZ-S1.5" not in text and "110" not in text
        assert not ConversationTurn.objects.exists()

    def test_the_safe_mode_vector_is_accepted_and_answered(self, monkeypatch):
        vector = VECTORS["wechat_mp_safe_mode"]
        monkeypatch.setattr(base, "current_time", lambda: int(vector["timestamp"]) + 5)
        query = {
            "signature": vector["signature"],
            "timestamp": vector["timestamp"],
            "nonce": vector["nonce"],
            "encrypt_type": "aes",
            "msg_signature": vector["msg_signature"],
        }
        body = (
            "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
            f"<Encrypt><![CDATA[{vector['encrypt']}]]></Encrypt></xml>"
        ).encode()
        response = self.post_raw(body, query)
        assert self.reply_fields(response)["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
        inbound = InboundMessage.objects.get()
        assert inbound.external_id == "6054768590064713728"
        assert inbound.message_data["content"] == "abcdteT"
        assert inbound.reply_context["encrypted"] is True

    def test_a_replayed_message_gets_the_same_reply_and_runs_the_handler_once(self):
        self.bind_sender("wh1")
        first = self.reply_text(self.post_fixture("text_message"))
        second = self.reply_text(self.post_fixture("text_message"))
        assert first == second
        assert ConversationTurn.objects.count() == 1
        assert InboundMessage.objects.get().status == InboundMessage.Status.DONE

    def test_a_retry_while_still_processing_gets_success(self):
        self.post_fixture("text_message")
        InboundMessage.objects.update(status=InboundMessage.Status.PROCESSING, reply=None)
        response = self.post_fixture("text_message")
        assert response.content == b"success"

    # --- events and other message types -------------------------------------------------------

    def test_subscribe_gets_a_welcome(self):
        self.bind_sender("wh1", "oNew_follower_openid_0001")
        text = self.reply_text(self.post_fixture("subscribe_event"))
        assert text
        inbound = InboundMessage.objects.get()
        assert inbound.external_id == "oNew_follower_openid_0001:1767760900:subscribe"
        assert inbound.message_data["message_type"] == "event"

    def test_unsubscribe_gets_success_and_stores_nothing(self):
        response = self.post_fixture("unsubscribe_event")
        assert response.content == b"success"
        assert not InboundMessage.objects.exists()

    @pytest.mark.parametrize("name", ["image_message"])
    def test_non_text_messages_get_a_text_only_note(self, name):
        self.bind_sender("wh1")
        text = self.reply_text(self.post_fixture(name))
        assert "文字" in text or "text" in text.lower()

    def test_a_voice_message_with_the_platforms_transcription_is_answered_and_heard(self):
        self.bind_sender("wh1")
        text = self.reply_text(self.post_fixture("voice_message_recognised"))
        assert text.startswith("（听到：主仓库保护镜还有多少）")
        assert "PW-D37-T7" in text and "可用 8 pcs" in text

    def test_a_voice_message_without_a_transcription_says_how_to_ask(self):
        self.bind_sender("wh1")
        text = self.reply_text(self.post_fixture("voice_message"))
        assert "语音" in text and "文字" in text

    # --- long replies -------------------------------------------------------------------------

    def test_a_long_reply_carries_part_one_passively_and_sends_the_rest(self, monkeypatch):
        from apps.ai_assistant import webhook_views
        from apps.ai_assistant.channels.wechat.adapter import WeChatChannel
        from apps.ai_assistant.messages import OutgoingMessage
        from apps.ai_assistant.models import OutboundMessage

        long_text = "\n".join(f"第{i}行：保护镜 PW-D37-T7 主仓库 库存 12 件" for i in range(150))
        monkeypatch.setattr(
            webhook_views, "_process_message_sync", lambda u, m: OutgoingMessage(long_text)
        )
        sent = []
        monkeypatch.setattr(
            WeChatChannel,
            "send",
            lambda self, app, message, text, ctx, **key: sent.append(text) or f"id{len(sent)}",
        )
        text = self.reply_text(self.post_fixture("text_message"))
        assert text.startswith("(1/")
        assert len(text.encode()) <= 2048
        assert sent and all(part.startswith(f"({i}/") for i, part in enumerate(sent, start=2))
        assert OutboundMessage.objects.filter(status="sent").count() == len(sent)
        assert InboundMessage.objects.get().status == InboundMessage.Status.DONE

    # --- bad input ----------------------------------------------------------------------------

    def test_it_rejects_a_missing_signature_and_stores_nothing(self):
        response = self.post_fixture("text_message", signed=False)
        assert response.status_code == 403
        assert not InboundMessage.objects.exists()

    def test_it_rejects_a_bad_plain_signature(self):
        self.use_security_mode("plain")
        request = self.build("text_message", mode="plain")
        request.query["signature"] = "f" * 40
        response = self.send(request)
        assert response.status_code == 403
        assert response.content == b"bad signature"
        assert not InboundMessage.objects.exists()

    def test_it_rejects_a_bad_msg_signature(self):
        request = self.build("text_message", mode="safe")
        request.query["msg_signature"] = "0" * 40
        response = self.send(request)
        assert response.status_code == 403
        assert response.content == b"bad msg_signature"

    @pytest.mark.parametrize("offset", [-7200, 7200])
    def test_it_rejects_a_stale_or_future_timestamp(self, offset):
        response = self.post_fixture("text_message", timestamp=int(time.time()) + offset)
        assert response.status_code == 403
        assert response.content == b"stale timestamp"
        assert not InboundMessage.objects.exists()

    def test_it_rejects_a_message_encrypted_for_another_app(self):
        other = SimpleNamespace(app_id="wx0000000000000000", credentials=self.app.credentials)
        request = wechat_kit.wechat_xml(other, fixture_text("wechat", "text_message"))
        request = request._replace(path=webhook_client.webhook_path("wechat", self.app.app_id))
        response = self.send(request)
        assert response.status_code == 403
        assert response.content == b"message is for another app"

    def test_it_rejects_truncated_ciphertext(self):
        request = self.build("text_message", mode="safe")
        body = request.body.decode()
        encrypted = body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        truncated = encrypted[:-8]
        query = dict(request.query)
        from apps.ai_assistant.channels.tencent_crypto import signature

        query["msg_signature"] = signature(
            self.app.credentials.token, query["timestamp"], query["nonce"], truncated
        )
        response = self.post_raw(body.replace(encrypted, truncated).encode(), query)
        assert response.status_code == 400
        assert not InboundMessage.objects.exists()

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("malformed", b"malformed XML"),
            ("doctype_entity", b"XML with DOCTYPE or entities is not accepted"),
            ("missing_msgtype", b"missing MsgType"),
        ],
    )
    @pytest.mark.parametrize("mode", ["plain", "safe"])
    def test_it_rejects_bad_xml(self, name, reason, mode):
        self.use_security_mode(mode)
        response = self.post_fixture(name, mode=mode)
        assert response.status_code == 400
        assert response.content == reason
        assert not InboundMessage.objects.exists()
