"""Test kit of the WeChat Official Account channel: build the requests WeChat sends (signed,
in plain, compatible or safe mode), read its passive replies, and the test and demo apps.
Shared by the tests, devtools/ (demo, stand-in) and bench/. `app` is a ChannelApp or any
object with `app_id` and `credentials`."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from apps.ai_assistant.channels.tencent import reply_fields
from apps.ai_assistant.channels.tencent_crypto import WeChatCrypto, signature
from devtools.webhook_client import WebhookRequest, fields_xml, stamp, webhook_path

from .adapter import WeChatCredentials

WECHAT_MODES = ("plain", "compatible", "safe")

# The test app reuses the official sample's key and AppID (docs/channels.md §6, V2/V3).
TEST_APP = {
    "app_id": "wx2c2769f8efd9abc2",
    "token": "spamtest",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "app_secret": "wechat-app-secret",
}
# The demo's public, fake app (`manage.py demo_channels`, `make run-async`). Never for real use.
DEMO_APP = {
    "app_id": "wxdemo0000000001",
    "name": "Demo WeChat Official Account (dev only)",
    "token": "demowechattoken",
    "encoding_aes_key": "DemoOnlyWeChatAesKeyNotForProduction0000000",
    "app_secret": "demo-wechat-app-secret",
}
DEMO_SENDERS = {"wh1": "o_demo_wh1", "sales1": "o_demo_sales1"}


def demo_app() -> SimpleNamespace:
    fields = {k: v for k, v in DEMO_APP.items() if k not in ("app_id", "name")}
    return SimpleNamespace(app_id=DEMO_APP["app_id"], credentials=WeChatCredentials(**fields))


def platform_secret(app: Any) -> str:
    """What the platform knows the app by, besides its id (the stand-in checks it)."""
    return app.credentials.app_secret


def text_request(app: Any, sender: str, text: str, unique: int, **options: Any) -> WebhookRequest:
    """A text message from `sender`, in safe mode."""
    return wechat_text(app, sender, text, msg_id=unique, mode="safe")


def recipient(sender: str) -> str:
    return sender


def reply_text(app: Any, response: Any) -> str | None:
    """The text of a passive reply; None when the answer carries none."""
    if response.content.strip() in (b"", b"success"):
        return None
    return reply_fields(app, response.content).get("Content")


def wechat_url_verification(
    app: Any, echostr: str = "echo-1234567890", timestamp=None, nonce=None
) -> WebhookRequest:
    timestamp, nonce = stamp(timestamp, nonce)
    query = {
        "signature": signature(app.credentials.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    return WebhookRequest("GET", webhook_path("wechat", app.app_id), query, {}, b"")


def wechat_xml(
    app: Any,
    plaintext: str,
    mode: str = "safe",
    timestamp=None,
    nonce=None,
    random_prefix: bytes | None = None,
) -> WebhookRequest:
    """POST of `plaintext` XML in plain, compatible (fields + Encrypt) or safe mode."""
    if mode not in WECHAT_MODES:
        raise ValueError(f"mode must be one of {WECHAT_MODES}")
    timestamp, nonce = stamp(timestamp, nonce)
    query = {
        "signature": signature(app.credentials.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    if mode == "plain":
        body = plaintext
    else:
        crypto = WeChatCrypto(app.credentials.token, app.credentials.encoding_aes_key, app.app_id)
        encrypted = crypto.encrypt(plaintext, random_prefix)
        query["encrypt_type"] = "aes"
        query["msg_signature"] = signature(app.credentials.token, timestamp, nonce, encrypted)
        account = _field(plaintext, "ToUserName") or "gh_account"
        envelope = f"<ToUserName><![CDATA[{account}]]></ToUserName>"
        if mode == "compatible":
            envelope = plaintext.strip()[len("<xml>") : -len("</xml>")]
        body = f"<xml>{envelope}<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return WebhookRequest(
        "POST",
        webhook_path("wechat", app.app_id),
        query,
        {"Content-Type": "text/xml"},
        body.encode("utf-8"),
    )


def wechat_text(
    app: Any,
    from_user: str,
    content: str,
    msg_id: str | int,
    mode: str = "safe",
    to_user: str = "gh_account",
    **stamp: Any,
) -> WebhookRequest:
    plaintext = fields_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": str(msg_id),
        }
    )
    return wechat_xml(app, plaintext, mode=mode, **stamp)


def wechat_event(
    app: Any,
    from_user: str,
    event: str = "subscribe",
    mode: str = "safe",
    to_user: str = "gh_account",
    create_time: int | None = None,
    **stamp: Any,
) -> WebhookRequest:
    plaintext = fields_xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": create_time or int(time.time()),
            "MsgType": "event",
            "Event": event,
        }
    )
    return wechat_xml(app, plaintext, mode=mode, **stamp)


def _field(xml: str, name: str) -> str:
    start = xml.find(f"<{name}>")
    end = xml.find(f"</{name}>")
    if start < 0 or end < 0:
        return ""
    value = xml[start + len(name) + 2 : end]
    return value.removeprefix("<![CDATA[").removesuffix("]]>")
