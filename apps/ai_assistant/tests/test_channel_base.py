"""The channel interface: registry, XML parsing, timestamp window, platform HTTP helper."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

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


ANSWERS = {
    "/ok": (200, b'{"errcode": 0}', {}),
    "/limited": (429, b"{}", {"Retry-After": "7"}),
    "/refused": (400, b"{}", {}),
    "/html": (200, b"<html>", {}),
}


@pytest.fixture
def platform_api():
    """A real HTTP server answering each path as ANSWERS says."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body, headers = ANSWERS[urlsplit(self.path).path]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_post_json_maps_http_failures(platform_api):
    assert post_json(f"{platform_api}/ok", {}) == {"errcode": 0}
    with pytest.raises(PlatformError) as raised:
        post_json(f"{platform_api}/limited?access_token=SECRET", {})
    assert raised.value.retryable and raised.value.retry_after == 7
    assert "SECRET" not in str(raised.value)
    with pytest.raises(PlatformError) as raised:
        post_json(f"{platform_api}/refused", {})
    assert not raised.value.retryable
    with pytest.raises(PlatformError):
        post_json(f"{platform_api}/html", {})


def test_post_json_treats_an_unreachable_platform_as_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(PlatformError) as raised:
        post_json(f"http://127.0.0.1:{closed_port}/api", {})
    assert raised.value.retryable


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (20 * 1024 * 1024, "20 MB"),
        (int(25.3 * 1024 * 1024), "25.3 MB"),
        (1737, "1.7 KB"),
        (1024, "1 KB"),
        (0, "0 KB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size, shown):
    assert base.size_text(size) == shown


def test_the_link_text_has_the_caption_the_note_in_both_languages_and_the_link():
    from apps.ai_assistant.tests.file_helpers import DOWNLOAD_URL, report

    document = report(content=b"x" * (21 * 1024 * 1024))
    assert (
        base.file_link_text(report()) == f"{report().caption}\nsales-2026-12.xlsx: {DOWNLOAD_URL}"
    )
    lines = base.file_link_text(document, "WeCom", 20 * 1024 * 1024).split("\n")
    assert lines == [
        document.caption,
        "文件太大，无法通过WeCom直接发送（21 MB，上限 20 MB），请用链接下载：",
        "The file is too large for WeCom (21 MB, limit 20 MB); download it from the link:",
        f"sales-2026-12.xlsx: {DOWNLOAD_URL}",
    ]
    assert base.file_link_text(report(caption="  ")) == f"sales-2026-12.xlsx: {DOWNLOAD_URL}"


def test_part_keys_and_file_extensions():
    assert [base.part_key("7:1:0", i) for i in range(3)] == ["7:1:0", "7:1:0:1", "7:1:0:2"]
    assert base.part_key("", 2) == ""
    assert [base.file_extension(n) for n in ("a.XLSX", "report", ".env", "a.tar.gz")] == [
        "xlsx",
        "",
        "",
        "gz",
    ]


def test_every_channel_with_file_messages_implements_them():
    for channel in CHANNELS.values():
        overrides = type(channel).send_file_message is not Channel.send_file_message
        assert overrides == bool(channel.max_file_bytes), channel
