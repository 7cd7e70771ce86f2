"""Feishu webhook end to end in sync mode: the Open API is the platforms' stand-in; signing and
encryption are checked against Feishu's own SDK (lark-oapi)."""

import json
import time

import pytest
from lark_oapi.core.model import RawRequest
from lark_oapi.core.utils.decryptor import AESCipher
from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import PlatformError
from apps.ai_assistant.channels.feishu import testkit
from apps.ai_assistant.channels.feishu.adapter import decrypt, encrypt, signature
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ChannelIdentity, ConversationTurn, InboundMessage
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase

SENDER = "ou_84aad35d084aa403a838cf73ee18467"


class FeishuCase(JsonChannelTestCase):
    channel = "feishu"

    def post_event(self, event, **options):
        return self.send(testkit.event_request(self.app, event, **options))

    def refused(self, response, status, reason):
        assert (response.status_code, response.content.decode()) == (status, reason)
        assert not InboundMessage.objects.exists()


class TestFeishuSigningAgainstTheSDK(FeishuCase):
    def test_the_sdk_decrypts_what_the_test_kit_encrypts_and_vice_versa(self):
        key = self.app.credentials.encrypt_key
        encrypted = encrypt(key, '{"text":"你好"}')
        assert AESCipher(key).decrypt_str(encrypted) == '{"text":"你好"}'
        assert decrypt(key, encrypted) == '{"text":"你好"}'

    def test_our_signature_is_the_one_the_sdk_checks(self):
        request = testkit.event_request(self.app, self.fixture("text_message"))
        raw = RawRequest()
        raw.headers = request.headers
        raw.body = request.body
        handler = EventDispatcherHandler()
        handler._verify_sign(raw, self.app.credentials.encrypt_key)  # raises when it differs
        timestamp, nonce = request.headers["X-Lark-Request-Timestamp"], "other-nonce"
        raw.headers = {**request.headers, "X-Lark-Request-Nonce": nonce}
        with pytest.raises(Exception, match="signature"):
            handler._verify_sign(raw, self.app.credentials.encrypt_key)
        assert request.headers["X-Lark-Signature"] == signature(
            timestamp,
            request.headers["X-Lark-Request-Nonce"],
            self.app.credentials.encrypt_key,
            request.body,
        )

    def test_the_sdks_dispatcher_accepts_the_test_kits_event(self):
        received = []
        handler = (
            EventDispatcherHandler.builder(
                self.app.credentials.encrypt_key, self.app.credentials.verification_token
            )
            .register_p2_im_message_receive_v1(received.append)
            .build()
        )
        request = testkit.event_request(self.app, self.fixture("text_message"))
        raw = RawRequest()
        raw.uri = request.path
        raw.headers = request.headers
        raw.body = request.body
        response = handler.do(raw)
        assert response.status_code == 200
        assert received[0].event.message.message_id == "om_5ce6d572455d361153b7cb51da133945"
        assert json.loads(received[0].event.message.content) == {"text": "NZ-S1.5 库存"}


class TestFeishuWebhook(FeishuCase):
    def test_url_verification_answers_the_challenge(self):
        response = self.send(testkit.url_verification(self.app, "chal-123"))
        assert response.status_code == 200
        assert response.json() == {"challenge": "chal-123"}
        assert not InboundMessage.objects.exists()

    def test_url_verification_with_a_wrong_token_is_refused(self):
        request = testkit.event_request(
            self.app,
            {"challenge": "c", "token": "guess", "type": "url_verification"},
            signed=False,
        )
        self.refused(self.send(request), 403, "bad verification token")

    def test_a_bound_user_gets_the_stock_figure_through_the_api(self):
        self.bind_sender("wh1", SENDER)
        response = self.post_event(self.fixture("text_message"))
        assert response.status_code == 200
        assert response.json() == {}
        sent = self.sent()
        assert len(sent) == 1
        assert sent[0]["recipient"] == "oc_5ce6d572455d361153b7cb5p2p00001"
        assert "NZ-S1.5" in sent[0]["text"] and "110" in sent[0]["text"]
        inbound = InboundMessage.objects.get()
        assert inbound.external_id == "om_5ce6d572455d361153b7cb51da133945"
        assert inbound.status == InboundMessage.Status.DONE
        assert inbound.message_data["external_user_id"] == SENDER

    def test_in_a_group_the_mention_is_dropped_and_the_answer_is_a_reply(self):
        self.bind_sender("wh1", SENDER)
        self.post_event(self.fixture("group_text_message"))
        turn = ConversationTurn.objects.get()
        assert turn.user_text == "NZ-S1.5 库存"
        sent = self.sent()
        assert sent[0]["reply_to"] == "om_a81e2b7d0f7b4d9c8e1f2a3b4c5d6e7f"
        assert "NZ-S1.5" in sent[0]["text"]

    def test_an_unbound_user_gets_binding_instructions_only(self):
        self.post_event(self.fixture("text_message"))
        text = self.sent()[0]["text"]
        assert "/bind" in text and "110" not in text
        assert not ChannelIdentity.objects.exists()

    def test_a_platform_retry_is_answered_once(self):
        self.bind_sender("wh1", SENDER)
        request = testkit.event_request(self.app, self.fixture("text_message"))
        assert self.send(request).status_code == 200
        assert self.send(request).status_code == 200
        assert InboundMessage.objects.count() == 1
        assert len(self.sent()) == 1

    def test_an_image_gets_the_text_only_note(self):
        self.bind_sender("wh1", SENDER)
        self.post_event(self.fixture("image_message"))
        assert InboundMessage.objects.get().message_data["message_type"] == "image"
        assert len(self.sent()) == 1

    def test_other_events_are_acknowledged_and_not_stored(self):
        response = self.post_event(self.fixture("bot_added_event"))
        assert response.status_code == 200
        assert not InboundMessage.objects.exists()
        assert self.sent() == []

    def test_a_long_reply_is_sent_in_parts_within_feishus_limit(self, monkeypatch):
        from apps.ai_assistant import webhook_views
        from apps.ai_assistant.messages import OutgoingMessage

        monkeypatch.setattr(
            webhook_views,
            "_process_message_sync",
            lambda user, message: OutgoingMessage(content="行\n" * 3000),
        )
        self.post_event(self.fixture("text_message"))
        parts = [sent["text"] for sent in self.sent()]
        assert len(parts) == 2
        assert all(len(part) <= 3500 for part in parts)
        assert parts[0].startswith("(1/2) ")


class TestFeishuRefusals(FeishuCase):
    def test_a_bad_signature_is_refused(self):
        request = testkit.event_request(self.app, self.fixture("text_message"))
        headers = {**request.headers, "X-Lark-Signature": "0" * 64}
        self.refused(self.send(request._replace(headers=headers)), 403, "bad signature")

    def test_a_signed_event_with_another_body_is_refused(self):
        first = testkit.event_request(self.app, self.fixture("text_message"))
        other = testkit.event_request(self.app, self.fixture("group_text_message"))
        response = self.send(first._replace(body=other.body))
        self.refused(response, 403, "bad signature")

    def test_an_event_without_a_signature_is_refused(self):
        request = testkit.event_request(self.app, self.fixture("text_message"), signed=False)
        self.refused(self.send(request), 403, "missing signature")

    def test_a_stale_timestamp_is_refused(self):
        stale = int(time.time()) - 8 * 3600
        request = testkit.event_request(self.app, self.fixture("text_message"), timestamp=stale)
        self.refused(self.send(request), 403, "stale timestamp")

    def test_a_wrong_verification_token_is_refused(self):
        event = self.fixture("text_message")
        event["header"]["token"] = "guess"
        self.refused(self.post_event(event), 403, "bad verification token")

    def test_a_plaintext_body_is_refused(self):
        request = testkit.event_request(self.app, self.fixture("text_message"))
        body = json.dumps(self.fixture("text_message")).encode()
        headers = {
            **request.headers,
            "X-Lark-Signature": signature(
                request.headers["X-Lark-Request-Timestamp"],
                request.headers["X-Lark-Request-Nonce"],
                self.app.credentials.encrypt_key,
                body,
            ),
        }
        response = self.send(request._replace(body=body, headers=headers))
        self.refused(response, 403, "unencrypted event refused")

    def test_an_event_encrypted_with_another_key_is_refused(self):
        other = type(self.app)(channel="feishu", app_id=self.app.app_id)
        other.configure(**{**self.app.secrets, "encrypt_key": "another-key"})
        request = testkit.event_request(other, self.fixture("text_message"))
        self.refused(self.send(request), 403, "bad signature")

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            (lambda e: e["event"]["message"].pop("chat_id"), "missing chat_id"),
            (lambda e: e["event"].pop("sender"), "sender must be an object"),
            (lambda e: e["event"]["message"].update(content="{not json"), "message content"),
            (lambda e: e["event"]["message"].update(create_time="9" * 30), "create_time"),
        ],
    )
    def test_malformed_events_are_400(self, change, reason):
        event = self.fixture("text_message")
        change(event)
        response = self.post_event(event)
        assert response.status_code == 400
        assert reason in response.content.decode()
        assert not InboundMessage.objects.exists()


class TestFeishuSend(FeishuCase):
    def message(self, chat_type="p2p"):
        return IncomingMessage(
            message_id="om_1",
            channel="feishu",
            external_user_id=SENDER,
            content="x",
            timestamp=__import__("datetime").datetime.now(__import__("datetime").UTC),
            conversation_id="oc_chat_1",
        )

    def test_an_expired_tenant_token_is_refreshed_once_and_the_send_repeated(self):
        channel = get_channel("feishu")
        context = {"chat_id": "oc_chat_1", "chat_type": "p2p", "message_id": "om_1"}
        channel.send(self.app, self.message(), "one", context)
        self.platforms.state.expire_tokens("feishu", self.app.app_id)
        channel.send(self.app, self.message(), "two", context)
        assert [sent["text"] for sent in self.sent()] == ["one", "two"]
        assert self.platforms.state.token_request_count("feishu", self.app.app_id) == 2

    def test_a_wrong_app_secret_is_a_permanent_error(self):
        self.app.configure(app_secret="wrong")
        with pytest.raises(PlatformError) as raised:
            get_channel("feishu").send(self.app, self.message(), "x", {"chat_id": "oc_1"})
        assert raised.value.retryable is False


class TestFeishuIdempotency(FeishuCase):
    def test_a_part_sent_again_after_a_crash_is_shown_once(self):
        channel = get_channel("feishu")
        context = {"chat_id": "oc_chat_1", "chat_type": "p2p", "message_id": "om_1"}
        message = TestFeishuSend.message(self)
        first = channel.send(self.app, message, "one", context, idempotency_key="7:0")
        again = channel.send(self.app, message, "one", context, idempotency_key="7:0")
        assert first == again
        assert [sent["text"] for sent in self.sent()] == ["one"]
