"""A captured signature cannot sign another message: security modes and proofs bound to
their first body."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.ai_assistant import webhook_proofs
from apps.ai_assistant.channels.dingtalk import testkit as dingtalk_kit
from apps.ai_assistant.channels.wechat import testkit as wechat_kit
from apps.ai_assistant.models import ChannelApp, InboundMessage, PendingAction, WebhookProof
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase, fixture_text
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase
from devtools import webhook_client

STRANGER_TEXT = webhook_client.fields_xml(
    {
        "ToUserName": "gh_account",
        "FromUserName": "oWh1_stock_keeper_openid",
        "CreateTime": 1700000000,
        "MsgType": "text",
        "Content": "reserve 2 PW-D37-T7 in main for SO-2026-0001",
        "MsgId": "666",
    }
)


class TestWeChatSafeMode(ChannelTestCase):
    channel = "wechat"

    def test_a_plaintext_body_is_refused_in_safe_mode(self):
        self.bind_sender("wh1")
        response = self.send(wechat_kit.wechat_xml(self.app, STRANGER_TEXT, mode="plain"))
        assert response.status_code == 403
        assert response.content == b"plaintext message refused in safe mode"
        assert not InboundMessage.objects.exists()

    def test_a_plaintext_body_is_refused_in_compatible_mode(self):
        self.use_security_mode("compatible")
        response = self.send(wechat_kit.wechat_xml(self.app, STRANGER_TEXT, mode="plain"))
        assert response.status_code == 403
        assert not InboundMessage.objects.exists()

    def test_compatible_mode_trusts_only_the_encrypted_part(self):
        self.use_security_mode("compatible")
        self.bind_sender("wh1")
        request = self.build("text_message", mode="compatible")
        forged = request.body.replace(b"NZ-S1.5", b"PW-D37-T7", 1)
        assert forged != request.body
        response = self.send(request._replace(body=forged))
        assert "NZ-S1.5" in self.reply_text(response)
        assert InboundMessage.objects.get().message_data["content"].startswith("NZ-S1.5")

    def test_a_captured_query_with_another_encrypted_body_is_403(self):
        captured = self.build("text_message")
        other = wechat_kit.wechat_xml(self.app, STRANGER_TEXT)
        assert self.send(captured).status_code == 200
        response = self.send(captured._replace(body=other.body))
        assert response.status_code == 403
        assert InboundMessage.objects.count() == 1

    def test_the_same_request_again_is_the_stored_reply_once(self):
        self.bind_sender("wh1")
        request = self.build("text_message")
        first = self.reply_text(self.send(request))
        again = self.reply_text(self.send(request))
        assert first == again and "NZ-S1.5" in first
        assert InboundMessage.objects.count() == 1


class TestWeChatPlaintextMode(ChannelTestCase):
    channel = "wechat"

    @pytest.fixture(autouse=True)
    def _plaintext(self):
        self.use_security_mode("plain")
        self.user = self.bind_sender("wh1")

    def test_a_captured_query_with_another_body_is_403_and_stores_nothing_more(self):
        captured = self.build("text_message", mode="plain")
        assert self.send(captured).status_code == 200
        forged = captured._replace(body=STRANGER_TEXT.encode())
        response = self.send(forged)
        assert response.status_code == 403
        assert response.content == b"signature already used with another body"
        assert InboundMessage.objects.count() == 1
        assert not PendingAction.objects.exists()

    def test_the_same_request_again_is_a_retry_with_the_stored_reply(self):
        captured = self.build("text_message", mode="plain")
        first = self.send(captured)
        again = self.send(captured)
        assert self.reply_text(first) == self.reply_text(again)
        assert InboundMessage.objects.count() == 1

    def test_a_url_verification_signature_cannot_sign_a_message(self):
        verification = wechat_kit.wechat_url_verification(self.app)
        assert self.send(verification).status_code == 200
        forged = webhook_client.WebhookRequest(
            "POST",
            verification.path,
            {k: v for k, v in verification.query.items() if k != "echostr"},
            {"Content-Type": "text/xml"},
            STRANGER_TEXT.encode(),
        )
        assert self.send(forged).status_code == 403
        assert not InboundMessage.objects.exists()

    def test_a_proof_past_its_window_may_be_used_again(self, settings):
        captured = self.build("text_message", mode="plain")
        assert self.send(captured).status_code == 200
        WebhookProof.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        other = fixture_text("wechat", "text_message").replace("NZ-S1.5", "PW-D37-T7")
        assert self.send(captured._replace(body=other.encode())).status_code == 200

    def test_the_admin_warns_about_the_plaintext_app(self, client, django_user_model):
        root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
        client.force_login(root)
        page = client.get("/admin/ai_assistant/channelapp/").content.decode()
        assert "is in plaintext mode" in page
        assert "⚠ " in page


class TestDingTalkHeaderReuse(JsonChannelTestCase):
    channel = "dingtalk"

    def test_the_timestamp_and_sign_of_one_message_cannot_sign_another(self):
        self.bind_sender("wh1")
        first = dingtalk_kit.dingtalk_json(self.app, self.fixture("text_message"))
        assert self.send(first).status_code == 200
        for n in range(5):
            payload = self.fixture("text_message")
            payload["msgId"] = f"forged-{n}"
            payload["text"]["content"] = f"reserve {n + 1} PW-D37-T7 in main for SO-2026-0001"
            forged = first._replace(body=json.dumps(payload).encode())
            response = self.send(forged)
            assert response.status_code == 403
        assert InboundMessage.objects.count() == 1

    def test_a_byte_identical_retry_is_accepted_and_not_answered_twice(self):
        self.bind_sender("wh1")
        first = dingtalk_kit.dingtalk_json(self.app, self.fixture("text_message"))
        assert self.send(first).status_code == 200
        assert self.send(first).status_code == 200
        assert InboundMessage.objects.count() == 1
        assert len(self.sent()) == 1


def test_expired_proofs_are_deleted(db):
    app = ChannelApp.objects.create_app("dingtalk", "ding1", app_secret="s")
    webhook_proofs.bind_to_body(app, "1:a", b"x")
    webhook_proofs.bind_to_body(app, "2:b", b"y")
    WebhookProof.objects.filter(proof_digest__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    webhook_proofs.bind_to_body(app, "3:c", b"z")
    assert webhook_proofs.forget_expired() == 2
    assert WebhookProof.objects.count() == 1


@pytest.mark.parametrize(
    ("channel", "credentials", "problem"),
    [
        ("wechat", {"token": "t", "security_mode": "safe"}, "EncodingAESKey"),
        ("wecom", {"encoding_aes_key": "k" * 43}, "Token"),
        ("wechat", {"token": "t", "security_mode": "open"}, "plaintext"),
    ],
)
def test_credentials_the_app_cannot_work_with_are_refused(db, channel, credentials, problem):
    app = ChannelApp(channel=channel, app_id="wx1")
    app.configure(**credentials)
    with pytest.raises(ValidationError) as refused:
        app.full_clean()
    assert problem in str(refused.value)
