"""Telegram sends files with sendDocument (multipart/form-data), through the platforms'
stand-in over real HTTP; what the chat received is read back byte for byte."""

import httpx
import pytest

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import FILE_TOO_LARGE, FILE_TOO_SMALL, PlatformError
from apps.ai_assistant.channels.telegram import testkit as telegram_kit
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


class TestTelegramFiles(JsonChannelTestCase):
    channel = "telegram"

    @pytest.fixture(autouse=True)
    def _files_setup(self, _channel_setup):
        self.telegram = get_channel("telegram")
        self.bind_sender("sales1")

    def asked_in(self, fixture):
        """The message and reply context a real webhook request of `fixture` stores."""
        response = self.send(telegram_kit.telegram_update(self.app, self.fixture(fixture)))
        assert response.status_code == 200
        inbound = InboundMessage.objects.get(external_id=str(self.fixture(fixture)["update_id"]))
        return IncomingMessage.from_dict(inbound.message_data), inbound.reply_context

    def send_file(self, document, fixture="text_message", key="7:31:0"):
        message, context = self.asked_in(fixture)
        return self.telegram.send_file(self.app, message, document, context, key)

    def test_a_private_chat_receives_the_report_as_a_document_byte_for_byte(self):
        document = report()
        message_id = self.send_file(document)
        [entry] = file_entries(self.platforms, "telegram")
        assert entry["via"] == "sendDocument"
        assert entry["recipient"] == "5012345678"
        assert (entry["filename"], entry["content_type"]) == (
            "sales-2026-12.xlsx",
            document.content_type,
        )
        assert entry["text"] == document.caption
        assert received_bytes(self.platforms, entry) == document.content
        assert entry["size"] == len(document.content)
        assert entry["reply_to"] is None and entry["message_thread_id"] is None
        assert message_id == str(entry["message_id"])

    def test_in_a_group_the_document_quotes_the_question(self):
        self.send_file(report(), fixture="group_help_command")
        [entry] = file_entries(self.platforms, "telegram")
        assert (entry["recipient"], entry["reply_to"]) == ("-1001987654321", 88)

    def test_in_a_forum_topic_the_document_goes_to_that_topic(self):
        self.send_file(report(), fixture="topic_message")
        # The topic's question asks for a report: the webhook sends that one too.
        [entry] = [
            entry
            for entry in file_entries(self.platforms, "telegram")
            if entry["filename"] == "sales-2026-12.xlsx"
        ]
        assert (entry["recipient"], entry["reply_to"], entry["message_thread_id"]) == (
            "-1001555000111",
            204,
            17,
        )

    def test_text_replies_in_a_forum_topic_go_to_that_topic_too(self):
        message, context = self.asked_in("topic_message")
        self.telegram.send(self.app, message, "报表已生成", context)
        [text] = text_entries(self.platforms, "telegram")
        assert (text["reply_to"], text["message_thread_id"]) == (204, 17)

    def test_a_caption_over_1024_characters_goes_first_as_text(self):
        caption = "12月销售明细：" + "SO-2026-0001 ¥386,000；" * 60
        self.send_file(report(caption=caption))
        [text] = text_entries(self.platforms, "telegram")
        [entry] = file_entries(self.platforms, "telegram")
        assert text["text"] == caption
        assert entry["text"] == "" and text["message_id"] < entry["message_id"]

    def test_a_file_over_the_bots_limit_goes_as_its_link_with_a_note(self, monkeypatch):
        monkeypatch.setattr(self.telegram, "max_file_bytes", 1024)
        document = report()
        self.send_file(document)
        assert file_entries(self.platforms, "telegram") == []
        [text] = text_entries(self.platforms, "telegram")
        assert text["text"].startswith(document.caption)
        assert "文件太大，无法通过Telegram直接发送（1.7 KB，上限 1 KB）" in text["text"]
        assert "too large for Telegram (1.7 KB, limit 1 KB)" in text["text"]
        assert text["text"].endswith(f"sales-2026-12.xlsx: {DOWNLOAD_URL}")

    def test_a_file_over_the_limit_without_a_link_is_a_permanent_error(self, monkeypatch):
        monkeypatch.setattr(self.telegram, "max_file_bytes", 1024)
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(download_url=""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_LARGE, False)
        assert "sales-2026-12.xlsx" in raised.value.message and "Telegram" in raised.value.message
        assert self.sent() == []

    def test_telegrams_413_sends_the_link_instead(self):
        httpx.post(
            f"{self.platforms.base_url}/_control/limits",
            json={"platform": "telegram", "max_file_bytes": 1000},
        ).raise_for_status()
        self.send_file(report())
        assert file_entries(self.platforms, "telegram") == []
        [text] = text_entries(self.platforms, "telegram")
        assert DOWNLOAD_URL in text["text"] and "Telegram" in text["text"]

    def test_telegrams_413_without_a_link_is_a_permanent_error(self):
        self.platforms.state.set_file_limit("telegram", 1000)
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(download_url=""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_LARGE, False)

    def test_an_empty_file_is_refused_before_any_call(self):
        with pytest.raises(PlatformError) as raised:
            self.send_file(report(content=b""))
        assert (raised.value.code, raised.value.retryable) == (FILE_TOO_SMALL, False)
        assert self.platforms.state.stats()["send_requests"] == {}

    def test_rate_limit_and_server_errors_are_retryable(self):
        self.platforms.state.add_fault("telegram", "rate_limit", retry_after=9)
        with pytest.raises(PlatformError) as raised:
            self.send_file(report())
        assert (raised.value.code, raised.value.retryable, raised.value.retry_after) == (
            429,
            True,
            9.0,
        )
        self.platforms.state.add_fault("telegram", "server_error")
        with pytest.raises(PlatformError) as raised:
            self.send_file(report())
        assert (raised.value.code, raised.value.retryable) == (500, True)
        assert file_entries(self.platforms, "telegram") == []

    def test_a_wrong_bot_token_is_permanent_and_never_logged(self, caplog):
        message, context = self.asked_in("text_message")
        self.app.configure(bot_token="7000000001:WRONG")
        with pytest.raises(PlatformError) as raised:
            self.telegram.send_file(self.app, message, report(), context)
        assert (raised.value.code, raised.value.retryable) == (401, False)
        assert "WRONG" not in caplog.text and "WRONG" not in str(raised.value)


class TestTelegramStandInDocuments(JsonChannelTestCase):
    """The stand-in's sendDocument answers as the Bot API does."""

    channel = "telegram"

    def call(self, **request):
        url = f"{self.platforms.base_url}/bot{self.app.credentials.bot_token}/sendDocument"
        return httpx.post(url, timeout=5, **request)

    def test_it_answers_the_sent_message_with_its_document(self):
        document = report()
        response = self.call(
            data={"chat_id": "5012345678", "caption": "报表"},
            files={"document": (document.filename, document.content, document.content_type)},
        )
        result = response.json()["result"]
        assert result["caption"] == "报表" and result["chat"]["id"] == 5012345678
        assert result["document"]["file_name"] == "sales-2026-12.xlsx"
        assert result["document"]["file_size"] == len(document.content)
        again = self.call(data={"chat_id": "5012345678", "document": result["document"]["file_id"]})
        assert again.json()["ok"] is True
        first, second = file_entries(self.platforms, "telegram")
        assert first["file_id"] == second["file_id"]

    @pytest.mark.parametrize(
        ("request_fields", "status", "description"),
        [
            ({"data": {"chat_id": "1"}}, 400, "Bad Request: there is no document in the request"),
            (
                {"data": {"chat_id": "1", "document": "BQAC-unknown"}},
                400,
                "Bad Request: wrong file identifier/HTTP URL specified",
            ),
            (
                {"data": {}, "files": {"document": ("a.xlsx", b"x", "")}},
                400,
                "Bad Request: chat_id is empty",
            ),
            (
                {"data": {"chat_id": "1"}, "files": {"document": ("a.xlsx", b"", "")}},
                400,
                "Bad Request: file must be non-empty",
            ),
            (
                {
                    "data": {"chat_id": "1", "caption": "长" * 1025},
                    "files": {"document": ("a.xlsx", b"x", "")},
                },
                400,
                "Bad Request: message caption is too long",
            ),
            (
                {
                    "data": {"chat_id": "1", "reply_parameters": "{"},
                    "files": {"document": ("a.xlsx", b"x", "")},
                },
                400,
                "Bad Request: can't parse reply parameters JSON object",
            ),
        ],
    )
    def test_it_refuses_what_the_bot_api_refuses(self, request_fields, status, description):
        response = self.call(**request_fields)
        assert response.status_code == status
        assert response.json() == {"ok": False, "error_code": status, "description": description}
        assert file_entries(self.platforms, "telegram") == []
