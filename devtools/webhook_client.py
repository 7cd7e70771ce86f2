"""Build real, signed (and encrypted) webhook requests as the chat platforms send them.

Each builder returns a `WebhookRequest` (method, path, query, headers, body), usable with
Django's test client (`with_test_client`) in tests or sent to a live server with `send`:

    request = wechat_text(app, "o_user_1", "NZ-S1.5 库存", msg_id="1001", mode="safe")
    response = send("http://127.0.0.1:8000", request)

`app` is a ChannelApp or any object with channel, app_id, token, encoding_aes_key, agent_id.
One function per platform and kind: wechat_url_verification, wechat_xml, wechat_text,
wechat_event; wecom_url_verification, wecom_xml, wecom_text, wecom_event; DingTalk and
Telegram builders follow the same shape.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any, NamedTuple
from urllib.parse import urlencode

from apps.ai_assistant.channels.tencent_crypto import WeChatCrypto, signature

WECHAT_MODES = ("plain", "compatible", "safe")


class WebhookRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path


def webhook_path(channel: str, app_id: str) -> str:
    return f"/webhooks/{channel}/{app_id}/"


def _stamp(timestamp: str | int | None, nonce: str | None) -> tuple[str, str]:
    return str(timestamp or int(time.time())), nonce or str(secrets.randbelow(10**9))


def fields_xml(fields: dict[str, Any]) -> str:
    """A platform XML document: strings in CDATA, numbers bare, in the given order."""
    inner = []
    for name, value in fields.items():
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            inner.append(f"<{name}>{value}</{name}>")
        else:
            inner.append(f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(inner) + "</xml>"


# --- WeChat Official Account ---------------------------------------------------------------


def wechat_url_verification(
    app: Any, echostr: str = "echo-1234567890", timestamp=None, nonce=None
) -> WebhookRequest:
    timestamp, nonce = _stamp(timestamp, nonce)
    query = {
        "signature": signature(app.token, timestamp, nonce),
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
    timestamp, nonce = _stamp(timestamp, nonce)
    query = {
        "signature": signature(app.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    if mode == "plain":
        body = plaintext
    else:
        crypto = WeChatCrypto(app.token, app.encoding_aes_key, app.app_id)
        encrypted = crypto.encrypt(plaintext, random_prefix)
        query["encrypt_type"] = "aes"
        query["msg_signature"] = signature(app.token, timestamp, nonce, encrypted)
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


# --- WeCom ---------------------------------------------------------------------------------


def wecom_url_verification(
    app: Any, echo: str = "1616140317555161061", timestamp=None, nonce=None
) -> WebhookRequest:
    timestamp, nonce = _stamp(timestamp, nonce)
    crypto = WeChatCrypto(app.token, app.encoding_aes_key, app.app_id)
    echostr = crypto.encrypt(echo)
    query = {
        "msg_signature": signature(app.token, timestamp, nonce, echostr),
        "timestamp": timestamp,
        "nonce": nonce,
        "echostr": echostr,
    }
    return WebhookRequest("GET", webhook_path("wecom", app.app_id), query, {}, b"")


def wecom_xml(
    app: Any, plaintext: str, timestamp=None, nonce=None, receive_id: str | None = None
) -> WebhookRequest:
    """POST of `plaintext` XML, encrypted for the app's CorpID (or `receive_id`)."""
    timestamp, nonce = _stamp(timestamp, nonce)
    crypto = WeChatCrypto(
        app.token, app.encoding_aes_key, app.app_id if receive_id is None else receive_id
    )
    encrypted = crypto.encrypt(plaintext)
    query = {
        "msg_signature": signature(app.token, timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    body = (
        f"<xml><ToUserName><![CDATA[{app.app_id}]]></ToUserName>"
        f"<AgentID><![CDATA[{app.agent_id}]]></AgentID>"
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
            "AgentID": app.agent_id or "1000002",
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
            "AgentID": app.agent_id or "1000002",
        }
    )
    return wecom_xml(app, plaintext, **stamp)


def _field(xml: str, name: str) -> str:
    start = xml.find(f"<{name}>")
    end = xml.find(f"</{name}>")
    if start < 0 or end < 0:
        return ""
    value = xml[start + len(name) + 2 : end]
    return value.removeprefix("<![CDATA[").removesuffix("]]>")


# --- transports ----------------------------------------------------------------------------


def with_test_client(client: Any, request: WebhookRequest):
    """Send through Django's test client; returns its response."""
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()}
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    extra.pop("HTTP_CONTENT_TYPE", None)
    return client.generic(
        request.method, request.url, data=request.body, content_type=content_type, **extra
    )


def send(base_url: str, request: WebhookRequest, timeout: float = 30.0):
    """Send to a live server with httpx; returns the httpx.Response."""
    import httpx

    return httpx.request(
        request.method,
        base_url.rstrip("/") + request.path,
        params=request.query,
        headers=request.headers,
        content=request.body,
        timeout=timeout,
    )


# --- DingTalk ------------------------------------------------------------------------------


def dingtalk_json(
    app: Any, payload: dict[str, Any], timestamp_ms: str | int | None = None
) -> WebhookRequest:
    """POST of a robot callback `payload`, signed with the app's secret (headers timestamp
    and sign, docs/channels.md §3.1)."""
    from apps.ai_assistant.channels.dingtalk.adapter import robot_sign

    timestamp = str(timestamp_ms or int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "timestamp": timestamp,
        "sign": robot_sign(timestamp, app.secret),
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


# --- Telegram ------------------------------------------------------------------------------


def telegram_update(
    app: Any, update: dict[str, Any], secret_token: str | None = None
) -> WebhookRequest:
    """POST of an Update with the X-Telegram-Bot-Api-Secret-Token header (the app's token)."""
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": app.token if secret_token is None else secret_token,
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
