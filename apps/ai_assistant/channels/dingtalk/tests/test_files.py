"""DingTalk sends files as a legacy media upload (oapi /media/upload) and a robot OpenAPI
message with msgKey sampleFile, through the platforms' stand-in over real HTTP; what the chat
received is read back byte for byte."""

import json
import time

import httpx
import pytest

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import FILE_TOO_LARGE, PlatformError
from apps.ai_assistant.channels.dingtalk import testkit as dingtalk_kit
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


class DingTalkFilesCase(JsonChannelTestCase):
    channel = "dingtalk"

    @pytest.fixture(autouse=True)
    def _files_setup(self, _channel_setup):
        self.dingtalk = get_channel("dingtalk")
        self.bind_sender("sales1")

    def asked_in(self, fixture="text_message", session_ttl=5400):
        """The message and reply context of a real signed callback with a live (or, with
        session_ttl 0, an expired) sessionWebhook of the stand-in."""
        payload = self.fixture(fixture)
        session, expires_at = self.platforms.state.create_session(
            self.app.app_id,
            payload["conversationId"],
            payload["conversationType"],
            payload["senderStaffId"],
            ttl=session_ttl,
        )
        payload["sessionWebhook"] = (
            f"{self.platforms.base_url}/robot/sendBySession?session={session}"
        )
        payload["sessionWebhookExpiredTime"] = int(expires_at * 1000)
        payload["createAt"] = int(time.time() * 1000)
        assert self.send(dingtalk_kit.dingtalk_json(self.app, payload)).status_code == 200
        self.platforms.state.clear_sent()  # the answer to the question itself
        inbound = InboundMessage.objects.get(external_id=payload["msgId"])
        return IncomingMessage.from_dict(inbound.message_data), inbound.reply_context

    def send_file(self, document, fixture="text_message", **session):
        message, context = self.asked_in(fixture, **session)
        return self.dingtalk.send_file(self.app, message, document, context, "3:77:0")

    def uploads(self):
        return httpx.get(f"{self.platforms.base_url}/_control/files", timeout=5).json()


class TestDingTalkFiles(DingTalkFilesCase):
    def test_a_single_chat_gets_the_caption_then_the_file_as_a_robot_message(self):
        document = report()
        query_key = self.send_file(document)
        [caption] = text_entries(self.platforms, "dingtalk")
        [entry] = file_entries(self.platforms, "dingtalk")
        assert (caption["via"], caption["text"]) == ("session_webhook", document.caption)
        assert (entry["via"], entry["msgKey"], entry["recipient"]) == (
            "batchSend",
            "sampleFile",
            "wh1zhang",
        )
        assert (entry["file_name"], entry["file_type"]) == ("sales-2026-12.xlsx", "xlsx")
        assert received_bytes(self.platforms, entry) == document.content
        assert caption["message_id"] < entry["message_id"] and query_key

    def test_a_group_gets_the_file_in_the_group_and_the_caption_mentions_the_asker(self):
        self.send_file(report(), fixture="group_text_message")
        [caption] = text_entries(self.platforms, "dingtalk")
        [entry] = file_entries(self.platforms, "dingtalk")
        assert caption["at_user_ids"] == ["wh1zhang"]
        assert (entry["via"], entry["recipient"]) == ("groupMessages", "cidGroupWarehouse0001==")

    def test_after_the_session_expired_everything_goes_through_the_openapi(self):
        self.send_file(report(), session_ttl=0)
        vias = [entry["via"] for entry in self.platforms.state.sent_messages("dingtalk")]
        assert vias == ["batchSend", "batchSend"]

    def test_a_token_expired_during_the_upload_is_refreshed_once_and_the_upload_repeated(self):
        message, context = self.asked_in()
        self.dingtalk.send(self.app, message, "warm", {**context, "session_webhook": ""})
        fetched = self.platforms.state.token_request_count("dingtalk", self.app.app_id)
        self.platforms.state.add_fault("dingtalk", "expired_token", endpoint="api")
        self.dingtalk.send_file(self.app, message, report(), context)
        assert self.platforms.state.token_request_count("dingtalk", self.app.app_id) == fetched + 1
        assert len(self.uploads()) == 1
        assert len(file_entries(self.platforms, "dingtalk")) == 1

    def test_dingtalks_size_refusal_sends_the_link_instead(self):
        self.platforms.state.set_file_limit("dingtalk", 1000)  # answered with 40006 past it
        document = report()
        self.send_file(document)
        assert file_entries(self.platforms, "dingtalk") == [] and self.uploads() == []
        [text] = text_entries(self.platforms, "dingtalk")
        assert text["text"].startswith(document.caption)
        assert (
            "too large for DingTalk" in text["text"] and "无法通过DingTalk直接发送" in text["text"]
        )
        assert text["text"].endswith(f"sales-2026-12.xlsx: {DOWNLOAD_URL}")

    def test_a_file_over_20_mb_is_not_uploaded_and_goes_as_its_link(self, monkeypatch):
        monkeypatch.setattr(self.dingtalk, "max_file_bytes", 1024)
        self.send_file(report())
        assert self.uploads() == []
        [text] = text_entries(self.platforms, "dingtalk")
        assert "(1.7 KB, limit 1 KB)" in text["text"] and DOWNLOAD_URL in text["text"]

    def test_too_large_without_a_link_is_a_permanent_error(self):
        self.platforms.state.set_file_limit("dingtalk", 1000)
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(download_url=""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_LARGE, False)
        assert self.platforms.state.sent_messages("dingtalk") == []

    @pytest.mark.parametrize(("kind", "code"), [("rate_limit", 90018), ("server_error", 503)])
    def test_busy_answers_to_the_upload_are_retryable(self, kind, code):
        message, context = self.asked_in()
        self.platforms.state.add_fault("dingtalk", kind, endpoint="api")
        with pytest.raises(PlatformError) as raised:
            self.dingtalk.send_file(self.app, message, report(), context)
        assert (raised.value.code, raised.value.retryable) == (code, True)
        assert self.platforms.state.sent_messages("dingtalk") == []

    def test_a_file_type_dingtalk_refuses_is_a_permanent_error(self):
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(filename="sales.csv", content=b"order,amount\n1,2\n"))
        assert (raised.value.code, raised.value.retryable) == (40005, False)
        assert file_entries(self.platforms, "dingtalk") == []


class TestDingTalkStandInMedia(DingTalkFilesCase):
    """The stand-in's legacy upload and sampleFile messages answer as DingTalk does."""

    def token(self):
        return httpx.post(
            f"{self.platforms.base_url}/v1.0/oauth2/accessToken",
            json={"appKey": self.app.app_id, "appSecret": self.app.credentials.app_secret},
            timeout=5,
        ).json()["accessToken"]

    def upload(self, token, files=None, media_type="file"):
        return httpx.post(
            f"{self.platforms.base_url}/media/upload",
            params={"access_token": token, "type": media_type},
            files=files if files is not None else {"media": ("a.xlsx", b"PK\x03\x04", "")},
            timeout=5,
        ).json()

    def test_the_openapi_token_uploads_and_the_answer_has_a_media_id(self):
        answer = self.upload(self.token())
        assert (answer["errcode"], answer["type"]) == (0, "file")
        assert answer["media_id"].startswith("@") and isinstance(answer["created_at"], int)

    @pytest.mark.parametrize(
        ("files", "media_type", "errcode"),
        [
            (None, "sheet", 40004),
            ({"other": ("a.xlsx", b"x", "")}, "file", 41005),
            ({"media": ("a.xlsx", b"", "")}, "file", 44001),
            ({"media": ("a.exe", b"MZ", "")}, "file", 40005),
        ],
    )
    def test_it_refuses_uploads_as_dingtalk_does(self, files, media_type, errcode):
        assert self.upload(self.token(), files, media_type)["errcode"] == errcode

    def test_an_upload_needs_a_valid_token(self):
        assert self.upload("")["errcode"] == 41001
        assert self.upload("not-a-token")["errcode"] == 40014

    def test_a_sample_file_needs_a_media_id_of_the_robot(self):
        token = self.token()
        media_id = self.upload(token)["media_id"]
        for param in (
            {"mediaId": "@unknown", "fileName": "a.xlsx", "fileType": "xlsx"},
            {"mediaId": media_id, "fileName": "", "fileType": "xlsx"},
        ):
            response = httpx.post(
                f"{self.platforms.base_url}/v1.0/robot/oToMessages/batchSend",
                headers={"x-acs-dingtalk-access-token": token},
                json={
                    "robotCode": self.app.app_id,
                    "userIds": ["wh1zhang"],
                    "msgKey": "sampleFile",
                    "msgParam": json.dumps(param),
                },
                timeout=5,
            )
            assert response.status_code == 400
            assert response.json()["code"] == "invalidParameter.msgParam"
        assert file_entries(self.platforms, "dingtalk") == []
