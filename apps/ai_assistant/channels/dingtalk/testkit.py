"""Test kit of the DingTalk channel: build the robot callbacks DingTalk sends (signed), and
the test and demo apps. `app` is a ChannelApp or any object with `app_id` and `credentials`."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

from devtools.webhook_client import WebhookRequest, webhook_path

from .adapter import DingTalkCredentials, robot_sign

TEST_APP = {"app_id": "dingrobotkey0001", "app_secret": "dingtalk-app-secret-0001"}
DEMO_APP = {
    "app_id": "dingdemo0000000001",
    "name": "Demo DingTalk robot (dev only)",
    "app_secret": "demo-dingtalk-app-secret",
}
DEMO_SENDERS = {"wh1": "demo_wh1", "sales1": "demo_sales1"}


def demo_app() -> SimpleNamespace:
    return SimpleNamespace(
        app_id=DEMO_APP["app_id"],
        credentials=DingTalkCredentials(app_secret=DEMO_APP["app_secret"]),
    )


def platform_secret(app: Any) -> str:
    return app.credentials.app_secret


def conversation(sender: str) -> str:
    """The demo's single chat with `sender`."""
    return f"cidDemoSingleChat_{sender}"


def text_request(
    app: Any, sender: str, text: str, unique: int, session_webhook: str = "", **options: Any
) -> WebhookRequest:
    return dingtalk_text(
        app,
        sender,
        text,
        msg_id=f"msgdemo{unique}",
        conversation_id=conversation(sender),
        session_webhook=session_webhook,
    )


def recipient(sender: str) -> str:
    # The stand-in records a sessionWebhook reply under the conversation.
    return conversation(sender)


def reply_text(app: Any, response: Any) -> str | None:
    return None  # the reply always goes through the send API


def dingtalk_json(
    app: Any, payload: dict[str, Any], timestamp_ms: str | int | None = None
) -> WebhookRequest:
    """POST of a robot callback `payload`, signed with the app's secret (headers timestamp
    and sign, docs/channels.md §3.1)."""
    timestamp = str(timestamp_ms or int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "timestamp": timestamp,
        "sign": robot_sign(timestamp, app.credentials.app_secret),
    }
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return WebhookRequest("POST", webhook_path("dingtalk", app.app_id), {}, headers, body)


def dingtalk_text(
    app: Any,
    sender_staff_id: str,
    content: str,
    msg_id: str,
    conversation_type: str = "1",
    conversation_id: str = "cidSingleChat0001",
    session_webhook: str = "",
    session_webhook_expires_ms: int | None = None,
    **stamp: Any,
) -> WebhookRequest:
    """A text message to the robot; in a group ("2") the text carries the @-mention's space."""
    now_ms = int(time.time() * 1000)
    payload = {
        "conversationId": conversation_id,
        "chatbotCorpId": "dingcorp0001",
        "chatbotUserId": "$:LWCP_v1:$robot0001",
        "msgId": msg_id,
        "senderNick": sender_staff_id,
        "isAdmin": False,
        "senderStaffId": sender_staff_id,
        "sessionWebhookExpiredTime": session_webhook_expires_ms or now_ms + 90 * 60 * 1000,
        "createAt": now_ms,
        "senderCorpId": "dingcorp0001",
        "conversationType": conversation_type,
        "senderId": f"$:LWCP_v1:${sender_staff_id}",
        "sessionWebhook": session_webhook,
        "robotCode": app.app_id,
        "text": {"content": f" {content}" if conversation_type == "2" else content},
        "msgtype": "text",
    }
    if conversation_type == "2":
        payload["isInAtList"] = True
        payload["conversationTitle"] = "仓库群"
    return dingtalk_json(app, payload, **stamp)


def prepare_demo_message(platforms: str, app: Any, sender: str) -> dict[str, Any]:
    """A sessionWebhook from the stand-in, as DingTalk puts one in every callback."""
    import httpx

    response = httpx.post(
        f"{platforms}/_control/sessions",
        json={"app_id": app.app_id, "conversation_id": conversation(sender), "user_id": sender},
        timeout=5,
    )
    response.raise_for_status()
    return {"session_webhook": response.json()["url"]}
