"""WeCom sends files as temporary media (media/upload) and a file message (message/send),
through the platforms' stand-in over real HTTP; what the chat received is read back byte for
byte."""

import httpx
import pytest
from django.core.cache import cache

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import FILE_TOO_LARGE, FILE_TOO_SMALL, PlatformError
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import InboundMessage
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase
from apps.ai_assistant.tests.file_helpers import (
    DOWNLOAD_URL,
    file_entries,
    received_bytes,
    report,
    text_entries,
)


class WeComFilesCase(ChannelTestCase):
    channel = "wecom"

    @pytest.fixture(autouse=True)
    def _files_setup(self, _channel_setup, platforms):
        cache.clear()
        self.platforms = platforms
        credentials = self.app.credentials
        platforms.state.register_app(
            "wecom", self.app.app_id, credentials.secret, agent_id=credentials.agent_id
        )
        self.wecom = get_channel("wecom")
        self.bind_sender("wh1")
        yield
        cache.clear()

    def asked(self):
        """The message and reply context a real (encrypted) webhook request stores."""
        self.reply_text(self.post_fixture("text_message"))
        inbound = InboundMessage.objects.get()
        return IncomingMessage.from_dict(inbound.message_data), inbound.reply_context

    def send_file(self, document):
        message, context = self.asked()
        return self.wecom.send_file(self.app, message, document, context, "5:12:0")

    def uploads(self):
        return httpx.get(f"{self.platforms.base_url}/_control/files", timeout=5).json()

    def token(self):
        answer = httpx.get(
            f"{self.platforms.base_url}/cgi-bin/gettoken",
            params={"corpid": self.app.app_id, "corpsecret": self.app.credentials.secret},
            timeout=5,
        )
        return answer.json()["access_token"]


class TestWeComFiles(WeComFilesCase):
    def test_the_asker_gets_the_caption_then_the_file_from_the_agent_byte_for_byte(self):
        document = report()
        msgid = self.send_file(document)
        (caption,) = text_entries(self.platforms, "wecom")
        (entry,) = file_entries(self.platforms, "wecom")
        assert (caption["recipient"], caption["text"]) == ("wh1.zhang", document.caption)
        assert caption["message_id"] < entry["message_id"]
        assert (entry["recipient"], entry["agentid"], entry["via"]) == (
            "wh1.zhang",
            "1000002",
            "message_send",
        )
        assert entry["filename"] == "sales-2026-12.xlsx"
        assert received_bytes(self.platforms, entry) == document.content
        assert len(msgid) == 32

    def test_without_a_caption_only_the_file_is_sent(self):
        self.send_file(report(caption=""))
        assert text_entries(self.platforms, "wecom") == []
        assert len(file_entries(self.platforms, "wecom")) == 1

    def test_a_chinese_filename_reaches_the_chat_unchanged(self):
        self.send_file(report(filename="销售报表-2026年12月.xlsx"))
        [entry] = file_entries(self.platforms, "wecom")
        assert entry["filename"] == "销售报表-2026年12月.xlsx"

    def test_a_token_expired_during_the_upload_is_refreshed_once_and_the_upload_repeated(self):
        message, context = self.asked()
        self.wecom.send(self.app, message, "warm", context)  # the token is cached now
        fetched = self.platforms.state.token_request_count("wecom", self.app.app_id)
        self.platforms.state.add_fault("wecom", "expired_token")
        self.wecom.send_file(self.app, message, report(), context)
        assert self.platforms.state.token_request_count("wecom", self.app.app_id) == fetched + 1
        assert len(self.uploads()) == 1
        assert len(file_entries(self.platforms, "wecom")) == 1

    def test_wecoms_size_refusal_sends_the_link_instead(self):
        self.platforms.state.set_file_limit("wecom", 1000)  # WeCom answers 45001 past it
        document = report()
        self.send_file(document)
        assert file_entries(self.platforms, "wecom") == [] and self.uploads() == []
        [text] = text_entries(self.platforms, "wecom")
        assert text["text"].startswith(document.caption)
        assert "too large for WeCom" in text["text"] and "无法通过WeCom直接发送" in text["text"]
        assert text["text"].endswith(f"sales-2026-12.xlsx: {DOWNLOAD_URL}")

    def test_a_file_over_20_mb_is_not_uploaded_and_goes_as_its_link(self, monkeypatch):
        monkeypatch.setattr(self.wecom, "max_file_bytes", 1024)
        self.send_file(report())
        assert self.uploads() == []
        [text] = text_entries(self.platforms, "wecom")
        assert "(1.7 KB, limit 1 KB)" in text["text"] and DOWNLOAD_URL in text["text"]

    def test_too_large_without_a_link_is_a_permanent_error(self):
        self.platforms.state.set_file_limit("wecom", 1000)
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(download_url=""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_LARGE, False)
        assert "WeCom" in raised.value.message
        assert self.platforms.state.sent_messages("wecom") == []

    def test_a_file_under_5_bytes_is_refused_before_any_call(self):
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(content=b"PK\x03\x04"))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_SMALL, False)
        assert self.uploads() == []

    @pytest.mark.parametrize(("kind", "errcode"), [("rate_limit", 45009), ("server_error", -1)])
    def test_busy_answers_to_the_upload_are_retryable(self, kind, errcode):
        message, context = self.asked()
        self.platforms.state.add_fault("wecom", kind)
        with pytest.raises(PlatformError) as raised:
            self.wecom.send_file(self.app, message, report(), context)
        assert raised.value.retryable is True
        if kind == "rate_limit":
            assert raised.value.code == errcode
        assert self.platforms.state.sent_messages("wecom") == []


class TestWeComStandInMedia(WeComFilesCase):
    """The stand-in's media/upload and file messages answer as WeCom does."""

    def upload(self, token, files=None, media_type="file"):
        return httpx.post(
            f"{self.platforms.base_url}/cgi-bin/media/upload",
            params={"access_token": token, "type": media_type},
            files=files if files is not None else {"media": ("a.xlsx", b"12345", "")},
            timeout=5,
        ).json()

    def test_an_upload_answers_a_media_id_of_type_file(self):
        answer = self.upload(self.token())
        assert (answer["errcode"], answer["type"]) == (0, "file")
        assert answer["media_id"] and answer["created_at"].isdigit()

    @pytest.mark.parametrize(
        ("files", "media_type", "errcode"),
        [
            (None, "pdf", 40005),
            ({"other": ("a.xlsx", b"12345", "")}, "file", 44001),
            ({"media": ("a.xlsx", b"1234", "")}, "file", 40006),
        ],
    )
    def test_it_refuses_uploads_as_wecom_does(self, files, media_type, errcode):
        assert self.upload(self.token(), files, media_type)["errcode"] == errcode

    def test_an_upload_needs_a_valid_token(self):
        assert self.upload("")["errcode"] == 41001
        assert self.upload("not-a-token")["errcode"] == 40014

    def test_a_file_message_needs_a_media_id_of_the_corp(self):
        token = self.token()
        self.platforms.state.register_app("wecom", "wwothercorp00001", "other", agent_id="9")
        other = httpx.get(
            f"{self.platforms.base_url}/cgi-bin/gettoken",
            params={"corpid": "wwothercorp00001", "corpsecret": "other"},
            timeout=5,
        ).json()["access_token"]
        foreign_media = self.upload(other)["media_id"]
        for media_id, errcode in (("", 41006), ("3nope", 40007), (foreign_media, 40007)):
            answer = httpx.post(
                f"{self.platforms.base_url}/cgi-bin/message/send",
                params={"access_token": token},
                json={
                    "touser": "wh1.zhang",
                    "agentid": 1000002,
                    "msgtype": "file",
                    "file": {"media_id": media_id},
                },
                timeout=5,
            ).json()
            assert answer["errcode"] == errcode
        assert file_entries(self.platforms, "wecom") == []

    def test_the_adapter_maps_an_invalid_media_id_as_permanent(self):
        from apps.ai_assistant.channels.tencent import check_errcode

        with pytest.raises(PlatformError) as raised:
            check_errcode({"errcode": 40007, "errmsg": "invalid media_id"})
        assert (raised.value.code, raised.value.retryable) == (40007, False)
