"""Test kit of the WeCom channel: build the requests WeCom sends (always encrypted), read its
passive replies, and the test and demo apps. `app` is a ChannelApp or any object with `app_id`
and `credentials`."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from apps.ai_assistant.channels.tencent import reply_fields
from apps.ai_assistant.channels.tencent_crypto import WeChatCrypto, signature
from devtools.webhook_client import WebhookRequest, fields_xml, stamp, webhook_path

from .adapter import WeComCredentials

TEST_APP = {
    "app_id": "ww8a2b9c0d1e2f3a4b",
    "agent_id": "1000002",
    "token": "QDG6eK",
    "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "secret": "wecom-app-secret",
}
DEMO_APP = {
    "app_id": "wwdemo0000000001",
    "name": "Demo WeCom app (dev only)",
    "agent_id": "1000002",
    "token": "demowecomtoken",
    "encoding_aes_key": "DemoOnlyWeComAesKeyNotForProduction00000000",
    "secret": "demo-wecom-app-secret",
}
DEMO_SENDERS = {"wh1": "demo.wh1", "sales1": "demo.sales1"}


def demo_app() -> SimpleNamespace:
    fields = {k: v for k, v in DEMO_APP.items() if k not in ("app_id", "name")}
    return SimpleNamespace(app_id=DEMO_APP["app_id"], credentials=WeComCredentials(**fields))


def platform_secret(app: Any) -> str:
    return app.credentials.secret


def text_request(app: Any, sender: str, text: str, unique: int, **options: Any) -> WebhookRequest:
    return wecom_text(app, sender, text, msg_id=unique)


def recipient(sender: str) -> str:
    return sender


def reply_text(app: Any, response: Any) -> str | None:
    if not response.content.strip():
        return None
    return reply_fields(app, response.content).get("Content")


def wecom_url_verification(
    app: Any, echo: str = "1616140317555161061", timestamp=None, nonce=None
) -> WebhookRequest:
    timestamp, nonce = stamp(timestamp, nonce)
    crypto = WeChatCrypto(app.credentials.token, app.credentials.encoding_aes_key, app.app_id)
    echostr = crypto.encrypt(echo)
    query = {
        "msg_signature": signature(app.credentials.token, timestamp, nonce, echostr),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    return WebhookRequest("GET", webhook_path("wecom", app.app_id), query, {}, b"")


def wecom_xml(
    app: Any, plaintext: str, timestamp=None, nonce=None, receive_id: str | None = None
) -> WebhookRequest:
    """POST of `plaintext` XML, encrypted for the app's CorpID (or `receive_id`)."""
    timestamp, nonce = stamp(timestamp, nonce)
    crypto = WeChatCrypto(
        app.credentials.token,
        app.credentials.encoding_aes_key,
        app.app_id if receive_id is None else receive_id,
    )
    encrypted = crypto.encrypt(plaintext)
    query = {
        "msg_signature": signature(app.credentials.token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    body = (
        f"<xml><ToUserName><![CDATA[{app.app_id}]]></ToUserName>"
        f"<AgentID><![CDATA[{app.credentials.agent_id}]]></AgentID>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    return WebhookRequest(
        "POST",
        webhook_path("wecom", app.app_id),
        query,
        {"Content-Type": "text/xml"},
        body.encode("utf-8"),
    )


def wecom_text(
    app: Any, from_user: str, content: str, msg_id: str | int, **stamp: Any
) -> WebhookRequest:
    plaintext = fields_xml(
        {
            "ToUserName": app.app_id,
            "FromUserName": from_user,
            "CreateTime": int(time.time()),
            "MsgType": "text",
            "Content": content,
            "MsgId": str(msg_id),
            "AgentID": app.credentials.agent_id or "1000002",
        }
    )
    return wecom_xml(app, plaintext, **stamp)


def wecom_event(app: Any, from_user: str, event: str = "subscribe", **stamp) -> WebhookRequest:
    plaintext = fields_xml(
        {
            "ToUserName": app.app_id,
            "FromUserName": from_user,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": event,
            "AgentID": app.credentials.agent_id or "1000002",
        }
    )
    return wecom_xml(app, plaintext, **stamp)
