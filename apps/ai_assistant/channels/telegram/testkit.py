"""Test kit of the Telegram channel: build the Updates Telegram posts (with the secret
header), read the webhook's answer, and the test and demo apps. `app` is a ChannelApp or any
object with `app_id` and `credentials`."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

from devtools.webhook_client import WebhookRequest, webhook_path

from .adapter import TelegramCredentials

TEST_APP = {
    "app_id": "better_laser_erp_bot",
    "bot_token": "7000000001:AAH-test-bot-token",
    "webhook_secret": "webhook-secret_0001",
}
DEMO_APP = {
    "app_id": "ble_demo_bot",
    "name": "Demo Telegram bot (dev only)",
    "webhook_secret": "demo-telegram-webhook-secret",
    "bot_token": "100000001:DEMO-only-bot-token-not-real",
}
# admin is in the demo's Operators group: alerts reach this account.
DEMO_SENDERS = {"wh1": "700000001", "sales1": "700000002", "admin": "700000009"}


def demo_app() -> SimpleNamespace:
    fields = {k: v for k, v in DEMO_APP.items() if k not in ("app_id", "name")}
    return SimpleNamespace(app_id=DEMO_APP["app_id"], credentials=TelegramCredentials(**fields))


def platform_secret(app: Any) -> str:
    return app.credentials.bot_token


def text_request(app: Any, sender: str, text: str, unique: int, **options: Any) -> WebhookRequest:
    return telegram_text(app, int(sender), text, update_id=unique // 1000)


def recipient(sender: str) -> str:
    return sender


def reply_text(app: Any, response: Any) -> str | None:
    data = response.json() if response.content else {}
    return data.get("text") if isinstance(data, dict) else None


def telegram_update(
    app: Any, update: dict[str, Any], secret_token: str | None = None
) -> WebhookRequest:
    """POST of an Update with the X-Telegram-Bot-Api-Secret-Token header (the app's token)."""
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": app.credentials.webhook_secret
        if secret_token is None
        else secret_token,
    }
    body = json.dumps(update, ensure_ascii=False).encode("utf-8")
    return WebhookRequest("POST", webhook_path("telegram", app.app_id), {}, headers, body)


def telegram_text(
    app: Any,
    user_id: int,
    text: str,
    update_id: int,
    chat_id: int | None = None,
    chat_type: str = "private",
    message_id: int = 1,
    **options: Any,
) -> WebhookRequest:
    """A text message update from user `user_id` (private chat unless chat_id/chat_type say)."""
    chat: dict[str, Any] = {"id": user_id if chat_id is None else chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Test"
    else:
        chat["title"] = "Warehouse"
    update = {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Test",
                "language_code": "zh-hans",
            },
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        },
    }
    return telegram_update(app, update, **options)
