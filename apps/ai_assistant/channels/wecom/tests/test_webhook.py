"""WeCom webhook end to end in sync mode, and its send API against the platforms' stand-in."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.ai_assistant.channels import base, get_channel
from apps.ai_assistant.channels.base import PlatformError
from apps.ai_assistant.channels.wecom import testkit as wecom_kit
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ChannelApp, ConversationTurn, InboundMessage
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase, fixture_text

VECTORS = json.loads((Path(__file__).parents[2] / "fixtures" / "channel_vectors.json").read_text())


def vector_app(name: str) -> ChannelApp:
    vector = VECTORS[name]
    return ChannelApp.objects.create_app(
        "wecom",
        vector["corp_id"],
        token=vector["token"],
        encoding_aes_key=vector["encoding_aes_key"],
        agent_id="218",
    )


class TestWeComWebhook(ChannelTestCase):
    channel = "wecom"

    # --- URL verification ---------------------------------------------------------------------

    def test_the_url_verification_vector_returns_exactly_the_plaintext(self):
        vector = VECTORS["wecom_url_verification"]
        app = vector_app("wecom_url_verification")
        query = {key: vector[key] for key in ("msg_signature", "timestamp", "nonce", "echostr")}
        response = self.client.get(f"/webhooks/wecom/{app.app_id}/", query)
        assert response.status_code == 200
        assert response.content == b"1616140317555161061"
        assert response["Content-Type"].startswith("text/plain")

    def test_url_verification_with_a_fresh_echostr(self):
        request = wecom_kit.wecom_url_verification(self.app, echo="8231647812301")
        assert self.send(request).content == b"8231647812301"

    def test_url_verification_rejects_a_bad_signature(self):
        request = wecom_kit.wecom_url_verification(self.app)
        request.query["msg_signature"] = "0" * 40
        response = self.send(request)
        assert response.status_code == 403
        assert response.content == b"bad msg_signature"

    def test_url_verification_rejects_garbled_echostr(self):
        request = wecom_kit.wecom_url_verification(self.app)
        from apps.ai_assistant.channels.tencent_crypto import signature

        garbled = "AAAA" + request.query["echostr"][4:]
        request.query["echostr"] = garbled
        request.query["msg_signature"] = signature(
            self.app.credentials.token, request.query["timestamp"], request.query["nonce"], garbled
        )
        response = self.send(request)
        assert response.status_code in (400, 403)

    # --- messages -----------------------------------------------------------------------------

    def test_the_message_vector_is_accepted_and_answered(self, monkeypatch):
        vector = VECTORS["wecom_message"]
        app = vector_app("wecom_message")
        monkeypatch.setattr(base, "current_time", lambda: int(vector["timestamp"]))
        query = {key: vector[key] for key in ("msg_signature", "timestamp", "nonce")}
        body = (
            f"<xml><ToUserName><![CDATA[{app.app_id}]]></ToUserName><AgentID>218</AgentID>"
            f"<Encrypt><![CDATA[{vector['encrypt']}]]></Encrypt></xml>"
        ).encode()
        self.app = app
        response = self.post_raw(body, query, app_id=app.app_id)
        fields = self.reply_fields(response)
        assert fields["ToUserName"] == "mycreate"
        assert fields["FromUserName"] == app.app_id
        assert "/bind" in fields["Content"]
        assert InboundMessage.objects.get().external_id == "4561255354251345929"

    def test_a_bound_user_gets_the_real_stock_figure(self):
        self.bind_sender("wh1")
        response = self.post_fixture("text_message")
        assert b"<Encrypt>" in response.content
        text = self.reply_text(response)
        assert "NZ-S1.5" in text and "110" in text

    def test_an_unbound_user_gets_binding_instructions_only(self):
        text = self.reply_text(self.post_fixture("text_message"))
        assert "/bind" in text and "110" not in text

    def test_a_replayed_message_runs_the_handler_once(self):
        self.bind_sender("wh1")
        first = self.reply_text(self.post_fixture("text_message"))
        second = self.reply_text(self.post_fixture("text_message"))
        assert first == second
        assert ConversationTurn.objects.count() == 1

    def test_subscribe_gets_a_welcome_and_enter_agent_nothing(self):
        self.bind_sender("wh1", "new.colleague")
        assert self.reply_text(self.post_fixture("subscribe_event"))
        response = self.post_fixture("enter_agent_event")
        assert response.status_code == 200 and response.content == b""
        assert InboundMessage.objects.count() == 1

    def test_an_image_gets_a_text_only_note(self):
        self.bind_sender("wh1")
        assert self.reply_text(self.post_fixture("image_message"))

    # --- bad input ----------------------------------------------------------------------------

    def test_it_rejects_a_missing_signature(self):
        response = self.post_fixture("text_message", signed=False)
        assert response.status_code == 403
        assert not InboundMessage.objects.exists()

    def test_it_rejects_a_stale_timestamp(self):
        response = self.post_fixture("text_message", timestamp=int(time.time()) - 4000)
        assert response.status_code == 403
        assert response.content == b"stale timestamp"

    def test_it_rejects_a_message_for_another_corp(self):
        response = self.post_fixture("other_corp_text_message")
        assert response.status_code == 403
        assert response.content == b"message is for another corp"
        assert not InboundMessage.objects.exists()

    def test_it_rejects_a_message_encrypted_with_another_receive_id(self):
        request = wecom_kit.wecom_xml(
            self.app, fixture_text("wecom", "text_message"), receive_id="ww0000000000000000"
        )
        response = self.send(request)
        assert response.status_code == 403
        assert response.content == b"message is for another app"

    def test_it_rejects_a_message_for_another_agent(self):
        self.app.configure(agent_id="1000099")
        self.app.save()
        response = self.post_fixture("text_message")
        assert response.status_code == 403
        assert response.content == b"message is for another agent"

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("malformed", b"malformed XML"),
            ("doctype_entity", b"XML with DOCTYPE or entities is not accepted"),
        ],
    )
    def test_it_rejects_bad_xml_inside_the_encryption(self, name, reason):
        response = self.post_fixture(name)
        assert response.status_code == 400
        assert response.content == reason

    def test_it_rejects_a_doctype_in_the_outer_envelope(self):
        request = self.build("text_message")
        body = b'<!DOCTYPE xml [<!ENTITY x "y">]>' + request.body
        response = self.post_raw(body, request.query)
        assert response.status_code == 400


class TestWeComSend:
    @pytest.fixture
    def app(self, db, platforms):
        platforms.state.register_app("wecom", "ww8a2b9c0d1e2f3a4b", "s3cret", agent_id="1000002")
        return ChannelApp.objects.create_app(
            "wecom", "ww8a2b9c0d1e2f3a4b", agent_id="1000002", secret="s3cret"
        )

    def message(self) -> IncomingMessage:
        return IncomingMessage(
            message_id="1",
            channel="wecom",
            external_user_id="wh1.zhang",
            content="hi",
            timestamp=datetime.now(UTC),
        )

    def test_it_sends_text_as_the_agent(self, app, platforms):
        get_channel("wecom").send(app, self.message(), "你好", {})
        (sent,) = platforms.state.sent_messages("wecom")
        assert sent["recipient"] == "wh1.zhang"
        assert sent["text"] == "你好"

    def test_it_retries_once_with_a_fresh_token(self, app, platforms):
        get_channel("wecom").send(app, self.message(), "one", {})
        platforms.state.expire_tokens("wecom")
        get_channel("wecom").send(app, self.message(), "two", {})
        assert [s["text"] for s in platforms.state.sent_messages("wecom")] == ["one", "two"]

    def test_an_unknown_app_is_a_platform_error(self, db, platforms):
        app = ChannelApp.objects.create_app("wecom", "ww_unknown", secret="x")
        with pytest.raises(PlatformError):
            get_channel("wecom").send(app, self.message(), "x", {})


class TestWeChatSend:
    def test_it_sends_a_customer_service_message(self, db, platforms):
        platforms.state.register_app("wechat", "wx2c2769f8efd9abc2", "s3cret")
        app = ChannelApp.objects.create_app("wechat", "wx2c2769f8efd9abc2", app_secret="s3cret")
        message = IncomingMessage(
            message_id="1",
            channel="wechat",
            external_user_id="oWh1_stock_keeper_openid",
            content="hi",
            timestamp=datetime.now(UTC),
        )
        get_channel("wechat").send(app, message, "第二部分", {})
        (sent,) = platforms.state.sent_messages("wechat")
        assert sent["recipient"] == "oWh1_stock_keeper_openid"
        assert sent["text"] == "第二部分"
