"""Property-based hostile suite: generated requests at every channel's webhook.

For validly signed bodies with arbitrary text and boundary values, malformed structures,
reused signatures, oversized and deeply nested bodies, each channel must hold:

- never a 5xx;
- accepted (200) with a message ⇒ exactly one stored message; refused (4xx) ⇒ no rows;
- no raw CR, LF or NUL in any log record;
- a reply to an unbound or permission-less user names no ERP record the user did not type.

Each example runs in its own rolled-back transaction, so examples never see each other's rows.
HYPOTHESIS_MAX_EXAMPLES sets the budget (40 per property by default).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from apps.ai_assistant.channels.dingtalk import testkit as dingtalk_kit
from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.channels.wechat import testkit as wechat_kit
from apps.ai_assistant.channels.wecom import testkit as wecom_kit
from apps.ai_assistant.models import (
    ConversationTurn,
    InboundMessage,
    OutboundMessage,
    ToolExecutionLog,
    WebhookProof,
)
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase
from apps.ai_assistant.tests.erp_records import record_tokens, tokens_in
from apps.ai_assistant.tests.json_channel_helpers import JsonChannelTestCase
from devtools import webhook_client

RAW_CONTROLS = ("\r", "\n", "\x00")
STORED_MODELS = (InboundMessage, WebhookProof, ConversationTurn, ToolExecutionLog, OutboundMessage)

# Words staff use and ERP names, mixed with arbitrary text below.
WORDS = [
    "库存", "stock", "reserve 2", "find", "保修", "warranty", "/bind 12345678", "/help", "/",
    "yes", "是", "PW-D37-T7", "NZ-S1.5", "LX20260001", "SO-2026-0001", "PO-2026-0001",
    "WO-2026-0001", "ST-2026-0001", "C001", "恒通", "喷嘴", "nozzle", "切割头", "main", "sz",
    "供应商", "报修", "\r\n", "\x00", "\u2028", "\ud800", "]]>", "<xml>", "&amp;", "%00",
]  # fmt: skip
hostile_text = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=30)), max_size=8).map(
    "".join
)
# Text an XML document can carry (XML 1.0 characters, no CDATA terminator).
xml_text = (
    st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
            "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff",
        ),
        max_size=200,
    )
    .filter(lambda text: "]]>" not in text)
    .map(lambda text: text.replace("\r", ""))
)
boundary_ints = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**17, 10**20, -(10**14), 10**200]),
)
any_body = st.one_of(
    st.binary(max_size=400), hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass"))
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), boundary_ints, st.floats(), hostile_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=20,
)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def one_example():
    """A rolled-back transaction and the log records written meanwhile."""
    records = Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        with transaction.atomic():
            yield records
            transaction.set_rollback(True)
    finally:
        root.removeHandler(records)
        root.setLevel(level)


def stored_rows() -> int:
    return sum(model.objects.count() for model in STORED_MODELS)


def check_door(response, records: Records, message_expected: bool = False) -> None:
    """The properties every request must hold."""
    assert response.status_code < 500, response.content
    messages = [record.getMessage() for record in records.records]
    assert [message for message in messages if any(c in message for c in RAW_CONTROLS)] == []
    if response.status_code >= 400:
        assert stored_rows() == 0
    elif message_expected:
        assert InboundMessage.objects.count() == 1


def check_no_record_leak(typed: str, tokens: set[str]) -> None:
    """The stored reply (all that was or will be sent) names only records the user typed."""
    for inbound in InboundMessage.objects.exclude(reply=None):
        reply = inbound.reply["content"]
        assert not (tokens_in(reply, tokens) - tokens_in(typed, tokens)), reply


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return record_tokens()


# --- Telegram ----------------------------------------------------------------------------


class TestTelegramHostile(JsonChannelTestCase):
    channel = "telegram"

    def post(self, body: bytes):
        return self.post_raw(
            body, {"X-Telegram-Bot-Api-Secret-Token": self.app.credentials.webhook_secret}
        )

    def update(self, text, update_id=1, date=None, user_id=5012345678, chat_id=None):
        request = telegram_kit.telegram_text(self.app, user_id, "x", update_id, chat_id)
        update = json.loads(request.body)
        update["message"]["text"] = text
        if date is not None:
            update["message"]["date"] = date
        return update

    @given(text=hostile_text, update_id=boundary_ints, date=boundary_ints, chat=boundary_ints)
    def test_signed_updates_with_any_text_and_numbers(self, text, update_id, date, chat):
        update = self.update(text, update_id, date, chat_id=chat)
        with one_example() as records:
            response = self.post(json.dumps(update).encode())
            in_range = 0 <= date < 253402214400 and abs(update_id) < 10**4000
            check_door(response, records, message_expected=in_range)

    @given(text=hostile_text)
    def test_an_unbound_or_guest_sender_never_sees_a_record(self, text, tokens):
        for user_id in (5099999999, 5012345678):
            with one_example() as records:
                if user_id == 5012345678:
                    self.bind_sender("guest1")
                response = self.post(json.dumps(self.update(text, user_id=user_id)).encode())
                check_door(response, records, message_expected=True)
                check_no_record_leak(text, tokens)

    @given(body=json_values)
    def test_any_json_structure(self, body):
        with one_example() as records:
            check_door(self.post(json.dumps(body).encode()), records)

    @given(raw=st.binary(max_size=300), depth=st.integers(0, 5000))
    def test_any_bytes_and_deep_nesting(self, raw, depth):
        with one_example() as records:
            check_door(self.post(raw), records)
        with one_example() as records:
            check_door(self.post(b"[" * depth + b"]" * depth), records)

    @given(secret=hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")[:200]))
    def test_a_wrong_secret_stores_nothing(self, secret):
        request = telegram_kit.telegram_text(self.app, 5012345678, "NZ-S1.5 库存", 1)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret.decode("latin-1")}
        with one_example() as records:
            response = self.post_raw(request.body, headers)
            if secret != self.app.credentials.webhook_secret.encode():
                assert response.status_code == 403
            check_door(response, records)


# --- DingTalk ----------------------------------------------------------------------------


class TestDingTalkHostile(JsonChannelTestCase):
    channel = "dingtalk"

    def signed(self, payload):
        """Signed headers (they cover no body) with `payload` as JSON, lone surrogates too."""
        request = dingtalk_kit.dingtalk_json(self.app, {})
        return request._replace(body=json.dumps(payload).encode())

    def payload(self, text, **changes):
        request = dingtalk_kit.dingtalk_text(self.app, "wh1zhang", "x", msg_id="msg1")
        payload = json.loads(request.body)
        payload["text"]["content"] = text
        payload.update(changes)
        return payload

    @given(
        text=hostile_text,
        conversation_id=hostile_text,
        msg_id=hostile_text,
        created=boundary_ints,
    )
    def test_signed_messages_with_any_text_ids_and_times(
        self, text, conversation_id, msg_id, created
    ):
        payload = self.payload(text, conversationId=conversation_id, msgId=msg_id, createAt=created)
        with one_example() as records:
            response = self.send(self.signed(payload))
            valid = bool(conversation_id) and bool(msg_id) and 0 <= created < 253402214400000
            check_door(response, records, message_expected=valid)

    @given(body=json_values)
    def test_any_signed_json_structure(self, body):
        signed = dingtalk_kit.dingtalk_json(self.app, {})
        with one_example() as records:
            check_door(self.send(signed._replace(body=json.dumps(body).encode())), records)

    @given(first=hostile_text, second=hostile_text)
    def test_reused_headers_never_sign_another_body(self, first, second):
        original = self.signed(self.payload(first or "x"))
        forged_body = json.dumps(self.payload(second or "y", msgId="forged")).encode()
        with one_example() as records:
            check_door(self.send(original), records, message_expected=True)
            kept = stored_rows()
            response = self.send(original._replace(body=forged_body))
            assert response.status_code == 403
            assert stored_rows() == kept

    @given(text=hostile_text)
    def test_an_unbound_or_guest_sender_never_sees_a_record(self, text, tokens):
        for guest in (False, True):
            with one_example() as records:
                if guest:
                    self.bind_sender("guest1")
                response = self.send(self.signed(self.payload(text)))
                check_door(response, records, message_expected=True)
                check_no_record_leak(text, tokens)


# --- WeChat and WeCom --------------------------------------------------------------------


def text_xml(to_user: str, content: str, msg_id: str, create_time: int | str = 0) -> str:
    return webhook_client.fields_xml(
        {
            "ToUserName": to_user,
            "FromUserName": "oWh1_stock_keeper_openid",
            "CreateTime": create_time or int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id,
        }
    )


class TestWeChatHostile(ChannelTestCase):
    channel = "wechat"

    @given(content=xml_text, msg_id=xml_text.filter(bool), mode=st.sampled_from(["safe", "plain"]))
    def test_signed_messages_with_any_text_in_either_mode(self, content, msg_id, mode):
        with one_example() as records:
            self.use_security_mode(mode)
            request = wechat_kit.wechat_xml(
                self.app, text_xml("gh_account", content, msg_id), mode=mode
            )
            check_door(self.send(request), records, message_expected=msg_id.strip() != "")

    @given(body=any_body)
    def test_any_body_under_a_valid_signature(self, body):
        request = self.build("text_message", mode="plain")
        with one_example() as records:
            check_door(self.send(request._replace(body=body)), records)

    @given(content=xml_text)
    def test_a_captured_query_never_signs_another_body(self, content):
        with one_example() as records:
            for mode in ("safe", "plain"):
                self.use_security_mode(mode)
                captured = self.build("text_message", mode=mode)
                check_door(self.send(captured), records, message_expected=True)
                kept = stored_rows()
                forged = wechat_kit.wechat_xml(
                    self.app, text_xml("gh_account", content + "!", "forged"), mode=mode
                )
                for body in (forged.body, text_xml("gh_account", content, "f2").encode()):
                    response = self.send(captured._replace(body=body))
                    assert response.status_code == 403
                    assert stored_rows() == kept
                InboundMessage.objects.all().delete()
                WebhookProof.objects.all().delete()

    @given(content=xml_text)
    def test_an_unbound_or_guest_sender_never_sees_a_record(self, content, tokens):
        for guest in (False, True):
            with one_example() as records:
                if guest:
                    self.bind_sender("guest1")
                request = wechat_kit.wechat_xml(self.app, text_xml("gh_account", content, "m1"))
                check_door(self.send(request), records, message_expected=True)
                check_no_record_leak(content, tokens)


class TestWeComHostile(ChannelTestCase):
    channel = "wecom"

    @given(content=xml_text, msg_id=xml_text.filter(lambda t: t.strip() != ""))
    def test_signed_messages_with_any_text(self, content, msg_id):
        with one_example() as records:
            request = wecom_kit.wecom_xml(self.app, text_xml(self.app.app_id, content, msg_id))
            check_door(self.send(request), records, message_expected=True)

    @given(body=any_body)
    def test_any_body_under_a_valid_signature(self, body):
        request = self.build("text_message")
        with one_example() as records:
            check_door(self.send(request._replace(body=body)), records)
