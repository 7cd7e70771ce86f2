"""Hostile requests at the webhook door: every refusal a 4xx with one log line and nothing
stored, every accepted message stored exactly once (normalised), no forged log lines."""

import json
import logging

import pytest
from django.db import DatabaseError

from apps.ai_assistant import inbox
from apps.ai_assistant.channels.dingtalk import testkit as dingtalk_kit
from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.channels.wechat import testkit as wechat_kit
from apps.ai_assistant.models import InboundMessage
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase
from devtools import webhook_client

RAW_CONTROLS = ("\r", "\n", "\x00", "\u2028")


def records_with_raw_controls(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if any(char in record.getMessage() for char in RAW_CONTROLS)
    ]


def deeply_nested(depth: int = 1000) -> bytes:
    return ("[" * depth + "]" * depth).encode()


class TestThePath(ChannelTestCase):
    channel = "wechat"

    def test_a_post_without_the_trailing_slash_is_served_not_redirected(self):
        self.bind_sender("wh1")
        request = self.build("text_message")
        response = self.send(request._replace(path=request.path.rstrip("/")))
        assert response.status_code == 200
        assert "NZ-S1.5" in self.reply_text(response)
        assert InboundMessage.objects.count() == 1

    def test_a_nul_in_the_app_id_is_404_with_one_log_line(self, caplog):
        caplog.set_level(logging.DEBUG)
        response = self.client.post("/webhooks/wechat/%00/", b"", content_type="text/xml")
        assert response.status_code == 404
        assert response.content == b"unknown app"
        assert len([r for r in caplog.records if r.levelno >= logging.INFO]) == 1
        assert records_with_raw_controls(caplog) == []

    def test_a_crlf_in_the_path_cannot_forge_a_log_line(self, caplog):
        caplog.set_level(logging.DEBUG)
        response = self.client.post(
            "/webhooks/wechat/x%0d%0aX-Injected:%201/", b"", content_type="text/xml"
        )
        assert response.status_code == 404
        assert records_with_raw_controls(caplog) == []
        assert any("\\x0d\\x0a" in record.getMessage() for record in caplog.records)

    def test_a_refused_signature_is_403_with_one_log_line(self, caplog):
        caplog.set_level(logging.DEBUG)
        response = self.post_fixture("text_message", signed=False)
        assert response.status_code == 403
        lines = [r for r in caplog.records if r.levelno >= logging.INFO]
        assert [r.getMessage() for r in lines] == [
            f"webhook wechat/{self.app.app_id} refused: 403 missing signature"
        ]

    def test_a_timestamp_too_large_for_a_float_is_403(self):
        request = self.build("text_message")
        query = {**request.query, "timestamp": "9" * 400}
        response = self.send(request._replace(query=query))
        assert response.status_code == 403
        assert not InboundMessage.objects.exists()

    def test_a_createtime_out_of_range_is_400(self):
        self.bind_sender("wh1")
        plaintext = webhook_client.fields_xml(
            {
                "ToUserName": "gh_account",
                "FromUserName": "oWh1_stock_keeper_openid",
                "CreateTime": "99999999999999",
                "MsgType": "text",
                "Content": "hi",
                "MsgId": "1",
            }
        )
        response = self.send(wechat_kit.wechat_xml(self.app, plaintext))
        assert response.status_code == 400
        assert not InboundMessage.objects.exists()

    def test_a_database_that_cannot_store_the_message_gets_503_not_200(self, monkeypatch):
        def broken(model, **fields):
            raise DatabaseError("disk full")

        monkeypatch.setattr(inbox, "insert_row", broken)
        response = self.post_fixture("text_message")
        assert response.status_code == 503


class TestTelegramDoor(JsonChannelTestCase):
    channel = "telegram"

    def post_update(self, update):
        return self.send(telegram_kit.telegram_update(self.app, update))

    def text_update(self, text="NZ-S1.5 库存", **changes):
        update = self.fixture("text_message")
        update["message"]["text"] = text
        update.update(changes)
        return update

    def test_json_nested_a_thousand_levels_is_400(self, caplog):
        response = self.post_raw(
            deeply_nested(),
            {"X-Telegram-Bot-Api-Secret-Token": self.app.credentials.webhook_secret},
        )
        assert response.status_code == 400
        assert not any(record.levelno >= logging.ERROR for record in caplog.records)

    @pytest.mark.parametrize("date", [10**20, -(10**14)])
    def test_a_date_out_of_range_is_400_and_stores_nothing(self, date):
        update = self.text_update()
        update["message"]["date"] = date
        response = self.post_update(update)
        assert response.status_code == 400
        assert not InboundMessage.objects.exists()

    def test_a_nul_in_the_text_is_stored_once_without_it(self):
        self.bind_sender("wh1")
        response = self.post_update(self.text_update("NZ-S1.5\u0000 库存"))
        assert response.status_code == 200
        inbound = InboundMessage.objects.get()
        assert inbound.message_data["content"] == "NZ-S1.5 库存"
        assert "NZ-S1.5" in response.json()["text"]
        # The platform's retry of the same update is the same stored message.
        assert self.post_update(self.text_update("NZ-S1.5\u0000 库存")).status_code == 200
        assert InboundMessage.objects.count() == 1

    def test_a_lone_surrogate_is_stored_as_a_replacement_character(self):
        body = json.dumps(self.text_update("库存 \ud800 x")).encode()
        response = self.post_raw(
            body, {"X-Telegram-Bot-Api-Secret-Token": self.app.credentials.webhook_secret}
        )
        assert response.status_code == 200
        assert InboundMessage.objects.get().message_data["content"] == "库存 \ufffd x"

    def test_an_update_id_of_200_digits_is_stored_under_a_fitted_id(self):
        huge = int("7" * 200)
        response = self.post_update(self.text_update(update_id=huge))
        assert response.status_code == 200
        inbound = InboundMessage.objects.get()
        assert len(inbound.external_id) <= 190
        assert inbound.external_id.startswith("777")
        assert self.post_update(self.text_update(update_id=huge + 1)).status_code == 200
        assert InboundMessage.objects.count() == 2


class TestDingTalkDoor(JsonChannelTestCase):
    channel = "dingtalk"

    def post_payload(self, payload):
        return self.send(dingtalk_kit.dingtalk_json(self.app, payload))

    def test_json_nested_a_thousand_levels_is_400(self):
        signed = dingtalk_kit.dingtalk_json(self.app, {})
        response = self.send(signed._replace(body=b'{"a":' + deeply_nested() + b"}"))
        assert response.status_code == 400
        assert not InboundMessage.objects.exists()

    def test_a_createat_out_of_range_is_400(self):
        payload = self.fixture("text_message")
        payload["createAt"] = 10**17
        response = self.post_payload(payload)
        assert response.status_code == 400
        assert not InboundMessage.objects.exists()

    def test_a_conversation_id_longer_than_its_column_is_stored(self):
        payload = self.fixture("text_message")
        payload["conversationId"] = "cid" + "x" * 400
        response = self.post_payload(payload)
        assert response.status_code == 200
        inbound = InboundMessage.objects.get()
        assert len(inbound.conversation_key) <= 190
        assert len(inbound.message_data["conversation_id"]) <= 128
