"""Feishu sends files as an upload (im/v1/files) and a message of msg_type "file", through the
platforms' stand-in over real HTTP; what the chat received is read back byte for byte. Feishu's
own SDK (lark-oapi) uploads to the stand-in too, so the stand-in reads Feishu's real client."""

import io
import json

import httpx
import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import (
    CreateFileRequest,
    CreateFileRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
)

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import FILE_TOO_LARGE, FILE_TOO_SMALL, PlatformError
from apps.ai_assistant.channels.feishu import testkit
from apps.ai_assistant.channels.feishu.adapter import feishu_file_type
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import InboundMessage
from apps.ai_assistant.tests.file_helpers import (
    DOWNLOAD_URL,
    file_entries,
    received_bytes,
    report,
    text_entries,
)
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase

SENDER = "ou_84aad35d084aa403a838cf73ee18467"


class FeishuFilesCase(JsonChannelTestCase):
    channel = "feishu"

    @pytest.fixture(autouse=True)
    def _files_setup(self, _channel_setup):
        self.feishu = get_channel("feishu")
        self.bind_sender("sales1", SENDER)

    def asked_in(self, fixture="text_message"):
        """The message and reply context of a real encrypted, signed event."""
        event = self.fixture(fixture)
        assert self.send(testkit.event_request(self.app, event)).status_code == 200
        self.platforms.state.clear_sent()  # the answer to the question itself
        inbound = InboundMessage.objects.get(external_id=event["event"]["message"]["message_id"])
        return IncomingMessage.from_dict(inbound.message_data), inbound.reply_context

    def send_file(self, document, fixture="text_message", key="9:41:0"):
        message, context = self.asked_in(fixture)
        return self.feishu.send_file(self.app, message, document, context, key)

    def uploads(self):
        return httpx.get(f"{self.platforms.base_url}/_control/files", timeout=5).json()


class TestFeishuFiles(FeishuFilesCase):
    def test_a_direct_chat_gets_the_caption_then_the_file_byte_for_byte(self):
        document = report()
        message_id = self.send_file(document)
        [caption] = text_entries(self.platforms, "feishu")
        [entry] = file_entries(self.platforms, "feishu")
        assert (caption["via"], caption["recipient"], caption["text"]) == (
            "create",
            "oc_5ce6d572455d361153b7cb5p2p00001",
            document.caption,
        )
        assert (entry["via"], entry["recipient"]) == (
            "create",
            "oc_5ce6d572455d361153b7cb5p2p00001",
        )
        assert (entry["filename"], entry["media_type"]) == ("sales-2026-12.xlsx", "xls")
        assert received_bytes(self.platforms, entry) == document.content
        assert message_id == f"om_standin{entry['message_id']}"

    def test_in_a_group_caption_and_file_answer_the_askers_message(self):
        self.send_file(report(), fixture="group_text_message")
        sent = self.platforms.state.sent_messages("feishu")
        assert [(e["kind"], e["via"], e["reply_to"]) for e in sent] == [
            ("text", "reply", "om_a81e2b7d0f7b4d9c8e1f2a3b4c5d6e7f"),
            ("file", "reply", "om_a81e2b7d0f7b4d9c8e1f2a3b4c5d6e7f"),
        ]

    def test_a_resend_with_the_same_key_is_not_shown_twice(self):
        message, context = self.asked_in()
        first = self.feishu.send_file(self.app, message, report(), context, "9:41:0")
        again = self.feishu.send_file(self.app, message, report(), context, "9:41:0")
        assert first == again
        assert len(text_entries(self.platforms, "feishu")) == 1
        assert len(file_entries(self.platforms, "feishu")) == 1

    def test_a_long_key_keeps_the_caption_and_the_file_apart(self):
        self.send_file(report(), key="notice:report-ready:" + "x" * 60)
        assert len(text_entries(self.platforms, "feishu")) == 1
        assert len(file_entries(self.platforms, "feishu")) == 1

    def test_a_csv_is_uploaded_as_a_stream(self):
        self.send_file(report(filename="sales-2026-12.csv", content=b"order,amount\n1,2\n"))
        [entry] = file_entries(self.platforms, "feishu")
        assert entry["media_type"] == "stream" and feishu_file_type("a.PDF") == "pdf"

    def test_a_token_expired_during_the_upload_is_refreshed_once_and_the_upload_repeated(self):
        message, context = self.asked_in()
        self.feishu.send(self.app, message, "warm", context)
        fetched = self.platforms.state.token_request_count("feishu", self.app.app_id)
        self.platforms.state.add_fault("feishu", "expired_token", endpoint="api")
        self.feishu.send_file(self.app, message, report(), context, "9:41:0")
        assert self.platforms.state.token_request_count("feishu", self.app.app_id) == fetched + 1
        assert len(self.uploads()) == 1
        assert len(file_entries(self.platforms, "feishu")) == 1

    def test_feishus_size_refusal_sends_the_link_instead(self):
        self.platforms.state.set_file_limit("feishu", 1000)  # answered with 234006 past it
        document = report()
        self.send_file(document)
        assert file_entries(self.platforms, "feishu") == [] and self.uploads() == []
        [text] = text_entries(self.platforms, "feishu")
        assert text["text"].startswith(document.caption)
        assert "too large for Feishu (Lark)" in text["text"]
        assert text["text"].endswith(f"sales-2026-12.xlsx: {DOWNLOAD_URL}")

    def test_a_file_over_30_mb_is_not_uploaded_and_goes_as_its_link(self, monkeypatch):
        monkeypatch.setattr(self.feishu, "max_file_bytes", 1024)
        self.send_file(report())
        assert self.uploads() == []
        [text] = text_entries(self.platforms, "feishu")
        assert "(1.7 KB, limit 1 KB)" in text["text"] and DOWNLOAD_URL in text["text"]

    def test_too_large_without_a_link_is_a_permanent_error(self):
        self.platforms.state.set_file_limit("feishu", 1000)
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(download_url=""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_LARGE, False)
        assert self.platforms.state.sent_messages("feishu") == []

    def test_an_empty_file_is_refused_before_any_call(self):
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(content=b""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_SMALL, False)
        assert self.uploads() == []

    @pytest.mark.parametrize(("kind", "code"), [("rate_limit", 99991400), ("server_error", 1500)])
    def test_busy_answers_to_the_upload_are_retryable(self, kind, code):
        message, context = self.asked_in()
        self.platforms.state.add_fault("feishu", kind, endpoint="api")
        with pytest.raises(PlatformError) as raised:
            self.feishu.send_file(self.app, message, report(), context)
        assert (raised.value.code, raised.value.retryable) == (code, True)
        assert self.platforms.state.sent_messages("feishu") == []


class TestFeishuStandInFiles(FeishuFilesCase):
    """The stand-in's im/v1/files and file messages, also as Feishu's own SDK calls them."""

    def sdk(self):
        return (
            lark.Client.builder()
            .app_id(self.app.app_id)
            .app_secret(self.app.credentials.app_secret)
            .domain(self.platforms.base_url)
            .log_level(lark.LogLevel.ERROR)
            .build()
        )

    def test_feishus_sdk_uploads_and_sends_a_file_the_stand_in_keeps_byte_for_byte(self):
        document = report()
        client = self.sdk()
        uploaded = client.im.v1.file.create(
            CreateFileRequest.builder()
            .request_body(
                CreateFileRequestBody.builder()
                .file_type("xls")
                .file_name("销售报表.xlsx")
                .file(io.BytesIO(document.content))
                .build()
            )
            .build()
        )
        assert uploaded.success(), uploaded.msg
        sent = client.im.v1.message.create(
            CreateMessageRequest.builder()
            .receive_id_type("chat_id")
            .request_body(
                CreateMessageRequestBody.builder()
                .receive_id("oc_5ce6d572455d361153b7cb5p2p00001")
                .msg_type("file")
                .content(json.dumps({"file_key": uploaded.data.file_key}))
                .build()
            )
            .build()
        )
        assert sent.success(), sent.msg
        [entry] = file_entries(self.platforms, "feishu")
        assert (entry["filename"], entry["media_type"]) == ("销售报表.xlsx", "xls")
        assert received_bytes(self.platforms, entry) == document.content

    def upload(self, token, data=None, files=None):
        return httpx.post(
            f"{self.platforms.base_url}/open-apis/im/v1/files",
            headers={"Authorization": f"Bearer {token}"},
            data=data if data is not None else {"file_type": "xls", "file_name": "a.xlsx"},
            files=files if files is not None else {"file": ("a.xlsx", b"PK\x03\x04", "")},
            timeout=5,
        ).json()

    def token(self):
        return httpx.post(
            f"{self.platforms.base_url}/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": self.app.app_id, "app_secret": self.app.credentials.app_secret},
            timeout=5,
        ).json()["tenant_access_token"]

    @pytest.mark.parametrize(
        ("data", "files", "code"),
        [
            ({"file_type": "xlsx", "file_name": "a.xlsx"}, None, 234001),
            ({"file_type": "xls"}, None, 234001),
            (None, {"other": ("a.xlsx", b"x", "")}, 234001),
            (None, {"file": ("a.xlsx", b"", "")}, 234010),
        ],
    )
    def test_it_refuses_uploads_as_feishu_does(self, data, files, code):
        assert self.upload(self.token(), data, files)["code"] == code

    def test_an_upload_needs_a_valid_token(self):
        assert self.upload("not-a-token")["code"] == 99991663

    def test_a_file_message_needs_a_file_key_of_the_app(self):
        token = self.token()
        self.platforms.state.register_app("feishu", "cli_other_app_0001", "other")
        other = httpx.post(
            f"{self.platforms.base_url}/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": "cli_other_app_0001", "app_secret": "other"},
            timeout=5,
        ).json()["tenant_access_token"]
        foreign_key = self.upload(other)["data"]["file_key"]
        for file_key in ("file_v3_unknown", foreign_key):
            answer = httpx.post(
                f"{self.platforms.base_url}/open-apis/im/v1/messages",
                params={"receive_id_type": "chat_id"},
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "receive_id": "oc_1",
                    "msg_type": "file",
                    "content": json.dumps({"file_key": file_key}),
                },
                timeout=5,
            ).json()
            assert answer["code"] == 230001
        assert file_entries(self.platforms, "feishu") == []
