"""Test kit of the Feishu channel: build the events Feishu posts (encrypted and signed), and
the test and demo apps. Shared by the tests, devtools/ (demo, stand-in) and bench/. `app` is a
ChannelApp or any object with `app_id` and `credentials`."""

from __future__ import annotations

import json
import secrets
import time
from types import SimpleNamespace
from typing import Any

from devtools.webhook_client import WebhookRequest, webhook_path

from .adapter import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    FeishuCredentials,
    encrypt,
    signature,
)

TEST_APP = {
    "app_id": "cli_a1b2c3d4e5f60001",
    "app_secret": "feishu-app-secret-0001",
    "verification_token": "feishu-verification-token-0001",
    "encrypt_key": "feishu-encrypt-key-0001",
}
DEMO_APP = {
    "app_id": "cli_demo000000000001",
    "name": "Demo Feishu bot (dev only)",
    "app_secret": "demo-feishu-app-secret",
    "verification_token": "demo-feishu-verification-token",
    "encrypt_key": "demo-feishu-encrypt-key",
}
DEMO_SENDERS = {"wh1": "ou_demo_wh1", "sales1": "ou_demo_sales1"}
TENANT_KEY = "tenant0001"


def demo_app() -> SimpleNamespace:
    fields = {k: v for k, v in DEMO_APP.items() if k not in ("app_id", "name")}
    return SimpleNamespace(app_id=DEMO_APP["app_id"], credentials=FeishuCredentials(**fields))


def platform_secret(app: Any) -> str:
    return app.credentials.app_secret


def direct_chat(open_id: str) -> str:
    """The demo's direct chat with a user."""
    return f"oc_p2p_{open_id}"


def event_request(
    app: Any,
    event: dict[str, Any],
    timestamp: str | int | None = None,
    nonce: str | None = None,
    signed: bool = True,
) -> WebhookRequest:
    """A POST of `event`, encrypted with the app's Encrypt Key and signed like Feishu does."""
    plaintext = json.dumps(event, ensure_ascii=False)
    body = json.dumps({"encrypt": encrypt(app.credentials.encrypt_key, plaintext)}).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        timestamp = str(timestamp or int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        headers[TIMESTAMP_HEADER] = timestamp
        headers[NONCE_HEADER] = nonce
        headers[SIGNATURE_HEADER] = signature(timestamp, nonce, app.credentials.encrypt_key, body)
    return WebhookRequest("POST", webhook_path("feishu", app.app_id), {}, headers, body)


def url_verification(app: Any, challenge: str = "ajls384kdjx98XX") -> WebhookRequest:
    """The request Feishu sends when the request URL is saved: no signature headers."""
    event = {
        "challenge": challenge,
        "token": app.credentials.verification_token,
        "type": "url_verification",
    }
    return event_request(app, event, signed=False)


def text_event(
    app: Any,
    open_id: str,
    text: str,
    message_id: str,
    chat_type: str = "p2p",
    chat_id: str = "",
    mentions: list[dict[str, Any]] | None = None,
    event_id: str = "",
) -> dict[str, Any]:
    """An im.message.receive_v1 event (schema 2.0) of a text message."""
    now_ms = str(int(time.time() * 1000))
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id or f"ev_{message_id}",
            "event_type": "im.message.receive_v1",
            "create_time": now_ms,
            "token": app.credentials.verification_token,
            "app_id": app.app_id,
            "tenant_key": TENANT_KEY,
        },
        "event": {
            "sender": {
                "sender_id": {"union_id": f"on_{open_id}", "user_id": "", "open_id": open_id},
                "sender_type": "user",
                "tenant_key": TENANT_KEY,
            },
            "message": {
                "message_id": message_id,
                "root_id": "",
                "parent_id": "",
                "create_time": now_ms,
                "chat_id": chat_id or direct_chat(open_id),
                "chat_type": chat_type,
                "message_type": "text",
                "content": json.dumps({"text": text}, ensure_ascii=False),
                "mentions": mentions or [],
            },
        },
    }


def text_request(app: Any, sender: str, text: str, unique: int, **options: Any) -> WebhookRequest:
    return event_request(app, text_event(app, sender, text, message_id=f"om_demo{unique}"))


def recipient(sender: str) -> str:
    # A direct-chat reply is recorded by the stand-in under the chat.
    return direct_chat(sender)


def reply_text(app: Any, response: Any) -> str | None:
    return None  # the reply always goes through the API
