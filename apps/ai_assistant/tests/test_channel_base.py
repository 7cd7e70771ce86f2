"""The channel interface: registry, XML parsing, timestamp window, platform HTTP helper."""

import httpx
import pytest

from apps.ai_assistant.channels import base
from apps.ai_assistant.channels.base import (
    CHANNELS,
    Channel,
    PlatformError,
    WebhookRejected,
    check_timestamp,
    get_channel,
    parse_xml,
    post_json,
    register,
    xml_text,
)


def test_every_channel_module_registers_itself():
    get_channel("wechat")
    assert {"wechat", "wecom"} <= set(CHANNELS)
    for name, channel in CHANNELS.items():
        assert channel.name == name
        assert isinstance(channel, Channel)


def test_an_unknown_channel_is_a_key_error():
    with pytest.raises(KeyError):
        get_channel("myspace")


def test_register_refuses_a_nameless_or_duplicate_channel():
    class Nameless(Channel):
        pass

    with pytest.raises(ValueError):
        register(Nameless)

    class AnotherWeChat(Channel):
        name = "wechat"

    with pytest.raises(ValueError):
        register(AnotherWeChat)


def test_default_passive_parts_are_the_first_part_and_the_rest():
    channel = get_channel("wechat")
    first, rest = channel.passive_parts("短")
    assert (first, rest) == ("短", [])
    first, rest = channel.passive_parts("\n".join(["库存" * 100] * 20))
    assert first.startswith("(1/") and rest and rest[0].startswith("(2/")


def test_parse_xml_returns_the_root_fields():
    assert parse_xml(b"<xml><A><![CDATA[x]]></A><B>2</B></xml>") == {"A": "x", "B": "2"}


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE xml [<!ENTITY a "b">]><xml><A>&a;</A></xml>',
        b'<!doctype xml SYSTEM "file:///etc/passwd"><xml><A>1</A></xml>',
        b'<xml><!ENTITY a "b"><A>1</A></xml>',
    ],
)
def test_parse_xml_refuses_doctype_and_entities(body):
    with pytest.raises(WebhookRejected) as raised:
        parse_xml(body)
    assert raised.value.status == 400


@pytest.mark.parametrize("body", [b"", b"<xml>", b"not xml", b"<other><A>1</A></other>", b"<xml/>"])
def test_parse_xml_refuses_malformed_or_foreign_documents(body):
    with pytest.raises(WebhookRejected):
        parse_xml(body)


def test_xml_text_requires_plain_text_fields():
    fields = parse_xml(b"<xml><A>1</A><B><C>2</C></B></xml>")
    assert xml_text(fields, "A") == "1"
    assert xml_text(fields, "Z", required=False) == ""
    with pytest.raises(WebhookRejected):
        xml_text(fields, "Z")
    with pytest.raises(WebhookRejected):
        xml_text(fields, "B")


def test_check_timestamp_window(monkeypatch, settings):
    settings.AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS = 300
    monkeypatch.setattr(base, "current_time", lambda: 1_700_000_000)
    check_timestamp("1700000100")
    check_timestamp(1_700_000_000_000 - 299_000, scale=1000)
    for bad in ("1699999000", "1700000400", "", None, "abc"):
        with pytest.raises(WebhookRejected) as raised:
            check_timestamp(bad)
        assert raised.value.status == 403


def test_post_json_maps_http_failures(monkeypatch):
    def answer(status, body=b"{}", headers=None):
        def fake_post(url, **kwargs):
            return httpx.Response(status, content=body, headers=headers or {})

        monkeypatch.setattr(httpx, "post", fake_post)

    answer(200, b'{"errcode": 0}')
    assert post_json("http://x/api", {}) == {"errcode": 0}
    answer(429, headers={"Retry-After": "7"})
    with pytest.raises(PlatformError) as raised:
        post_json("http://x/api?access_token=SECRET", {})
    assert raised.value.retryable and raised.value.retry_after == 7
    assert "SECRET" not in str(raised.value)
    answer(400)
    with pytest.raises(PlatformError) as raised:
        post_json("http://x/api", {})
    assert not raised.value.retryable
    answer(200, b"<html>")
    with pytest.raises(PlatformError):
        post_json("http://x/api", {})

    def timeout(url, **kwargs):
        raise httpx.ConnectTimeout("slow")

    monkeypatch.setattr(httpx, "post", timeout)
    with pytest.raises(PlatformError) as raised:
        post_json("http://x/api", {})
    assert raised.value.retryable
