"""DingTalk enterprise-internal app robot, HTTP mode (docs/channels.md §3.1).

- POST only. Headers `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key=AppSecret,
  msg=f"{timestamp}\\n{AppSecret}")), both required, compared in constant time; the timestamp
  must lie within AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS (5 min; DingTalk itself allows 1 h)
  of now. `sign` covers only the timestamp, so the pair is bound to the first body it came
  with (webhook_proofs.py).
- Body: JSON. Single chat conversationType "1", group "2". Text loses the space the
  @-mention leaves in front. User = senderStaffId (senderId when there is none), conversation
  = conversationId, de-dup key msgId. Other msgtypes (picture, richText, audio, file, ...)
  reach the handler with their msgtype, which answers that only text is understood.
- Reply: DingTalk's current docs describe no reply in the HTTP answer (the legacy outgoing
  robot's JSON-in-body reply is unverified for app robots), so the answer is always a fast
  `{}` and every reply part goes through `send`: the message's sessionWebhook while it is
  valid (no token needed), afterwards the robot OpenAPI with the app's access token
  (oToMessages/batchSend for single chats, groupMessages/send for groups). In sync mode the
  webhook view calls `send` right after the `{}` has been written; in async mode the worker
  does.
- In groups the answer @-mentions the sender (atUserIds, and "@staffId" in the text, which
  DingTalk needs to render the mention).
- Files: uploaded with the legacy API (POST oapi.dingtalk.com/media/upload?type=file,
  multipart field `media`, the same access token) → media_id, then the robot OpenAPI message
  msgKey "sampleFile" with msgParam {"mediaId", "fileName", "fileType"} on the routes the text
  OpenAPI send takes (a sessionWebhook carries no files); the caption goes first as text.
  Files up to 20 MB; DingTalk's size errcodes send the link instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from decouple import config
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.ai_assistant.channels import tokens
from apps.ai_assistant.channels.base import (
    FILE_TOO_LARGE,
    MEBIBYTE,
    Channel,
    Credentials,
    ParsedWebhook,
    PlatformError,
    WebhookRejected,
    check_timestamp,
    datetime_from,
    file_extension,
    get_channel,
    parse_json,
    part_key,
    post_multipart,
    register,
    secret_field,
)
from apps.ai_assistant.channels.chunking import DINGTALK_TEXT_CHARS, char_length
from apps.ai_assistant.messages import IncomingMessage, OutgoingFile
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import RETRYABLE_STATUS, PlatformResponse, platform_request

SINGLE_CHAT, GROUP_CHAT = "1", "2"
# A sessionWebhook this close to its expiry is not used: the OpenAPI is the safer way then.
SESSION_SAFETY_MS = 60_000
# The hosts a sessionWebhook may point at (besides the configured API base's host): the body
# is signed, but a leaked secret must not turn the bot into a request forwarder.
SESSION_WEBHOOK_HOSTS = {"oapi.dingtalk.com", "api.dingtalk.com"}
# sessionWebhook errcodes worth retrying later: busy, sending too fast.
SESSION_RETRYABLE_ERRCODES = {-1, 130101}
# Fields kept as the message's raw_data (the sessionWebhook lives in the reply context only).
RAW_FIELDS = (
    "msgtype",
    "conversationType",
    "conversationTitle",
    "senderNick",
    "isAdmin",
    "isInAtList",
    "chatbotCorpId",
    "senderCorpId",
    "createAt",
)


def robot_sign(timestamp: str, secret: str) -> str:
    """The robot callback signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def _string(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise WebhookRejected(400, f"missing {name}")
        return ""
    if not isinstance(value, str):
        raise WebhookRejected(400, f"{name} must be a string")
    return value


def _milliseconds(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WebhookRejected(400, f"{name} must be a timestamp in milliseconds")
    return value


def _allowed_session_webhook(url: str) -> bool:
    parts = urlsplit(url)
    if parts.hostname in SESSION_WEBHOOK_HOSTS:
        return parts.scheme == "https"
    # The configured API base (the devtools stand-in in tests and the demo).
    api = urlsplit(get_channel("dingtalk").api_base())
    return (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)


def _now_ms() -> int:
    return int(time.time() * 1000)


# DingTalk answers a refused access token with 401 and code InvalidAuthentication.
TOKEN_ERRORS = {401, "401", "InvalidAuthentication"}
# Media upload is on the legacy host, which answers {"errcode", "errmsg"}: token errcodes (as
# DingTalk's own SDKs refresh on them), busy ones, and the file's size (40006 不合法的文件大小,
# 45001 多媒体文件大小超过限制).
OAPI_BASE_SETTING = "AI_ASSISTANT_DINGTALK_OAPI_BASE"
DEFAULT_OAPI_BASE = "https://oapi.dingtalk.com"
OAPI_TOKEN_ERRCODES = {33001, 40001, 40014, 42001}
OAPI_RETRYABLE_ERRCODES = {-1, 90018}
FILE_SIZE_ERRCODES = {40006, 45001}
MAX_FILE_BYTES = 20 * MEBIBYTE


def dingtalk_error(response: PlatformResponse) -> PlatformError:
    """A DingTalk OpenAPI error answer (HTTP status + {"code","message"}) as PlatformError."""
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("code") or response.status_code)
    throttled = "QpsLimit" in code or "Throttling" in code
    return PlatformError(
        code,
        str(data.get("message") or f"HTTP {response.status_code}")[:200],
        retryable=throttled or response.status_code in RETRYABLE_STATUS,
    )


class DingTalkCredentials(Credentials):
    app_secret: str = secret_field(
        "AppSecret", "The robot app's AppSecret: signs its callbacks and fetches access tokens."
    )

    def problems(self) -> list[str]:
        return [] if self.app_secret else ["The AppSecret is required."]


@register
class DingTalkChannel(Channel):
    name = "dingtalk"
    label = "DingTalk"
    text_limit = DINGTALK_TEXT_CHARS
    measure = staticmethod(char_length)
    credentials = DingTalkCredentials
    api_base_setting = "AI_ASSISTANT_DINGTALK_API_BASE"
    default_api_base = "https://api.dingtalk.com"
    fetches_access_tokens = True
    max_file_bytes = MAX_FILE_BYTES

    def oapi_base(self) -> str:
        """The legacy API host (media upload): its own setting, else the development
        stand-in, else oapi.dingtalk.com."""
        configured = getattr(settings, OAPI_BASE_SETTING, "") or config(
            OAPI_BASE_SETTING, default=""
        )
        return configured or settings.AI_ASSISTANT_PLATFORMS_STAND_IN or DEFAULT_OAPI_BASE

    def fetch_access_token(self, app: ChannelApp, force: bool) -> tuple[Any, Any]:
        if not app.credentials.app_secret:
            raise PlatformError("no_secret", f"{app} has no AppSecret configured")
        response = platform_request(
            "POST",
            f"{self.api_base()}/v1.0/oauth2/accessToken",
            json={"appKey": app.app_id, "appSecret": app.credentials.app_secret},
        )
        if response.status_code >= 300:
            raise dingtalk_error(response)
        data = response.data if isinstance(response.data, dict) else {}
        return data.get("accessToken"), data.get("expireIn")

    def is_token_error(self, error: PlatformError) -> bool:
        return error.code in TOKEN_ERRORS or error.code in OAPI_TOKEN_ERRCODES

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        timestamp = request.headers.get("timestamp", "")
        given = request.headers.get("sign", "")
        if not timestamp or not given:
            raise WebhookRejected(403, "missing signature")
        if not timestamp.isdigit() or len(timestamp) > 16:
            raise WebhookRejected(403, "missing or bad timestamp")
        secret = app.credentials.app_secret
        if not secret:
            raise WebhookRejected(403, "app has no secret configured")
        expected = robot_sign(timestamp, secret)
        if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8")):
            raise WebhookRejected(403, "bad signature")
        check_timestamp(timestamp, scale=1000)

    def unbound_proof(self, request: HttpRequest, app: ChannelApp) -> str | None:
        # `sign` covers the timestamp only; the view binds the pair to this body.
        return f"{request.headers.get('timestamp', '')}:{request.headers.get('sign', '')}"

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        body = parse_json(request.body)
        msg_id = _string(body, "msgId")
        conversation_id = _string(body, "conversationId")
        conversation_type = _string(body, "conversationType")
        if conversation_type not in (SINGLE_CHAT, GROUP_CHAT):
            raise WebhookRejected(400, "unknown conversationType")
        msgtype = _string(body, "msgtype")
        staff_id = _string(body, "senderStaffId", required=False)
        sender = staff_id or _string(body, "senderId", required=False)
        if not sender:
            raise WebhookRejected(400, "missing senderStaffId and senderId")
        content = ""
        if msgtype == "text":
            text = body.get("text")
            if not isinstance(text, dict) or not isinstance(text.get("content"), str):
                raise WebhookRejected(400, "text.content must be a string")
            content = text["content"].strip()
        created_ms = _milliseconds(body, "createAt")
        timestamp = (
            datetime_from(created_ms, "createAt", scale=1000) if created_ms else datetime.now(UTC)
        )
        message = IncomingMessage(
            message_id=msg_id,
            channel=self.name,
            external_user_id=sender,
            content=content,
            timestamp=timestamp,
            message_type=msgtype,
            conversation_id=conversation_id,
            raw_data={name: body[name] for name in RAW_FIELDS if name in body},
        )
        return ParsedWebhook(
            message=message,
            external_id=msg_id,
            reply_context=self._reply_context(body, app, staff_id, conversation_type),
        )

    def _reply_context(
        self, body: dict[str, Any], app: ChannelApp, staff_id: str, conversation_type: str
    ) -> dict[str, Any]:
        session_webhook = _string(body, "sessionWebhook", required=False)
        if session_webhook and not _allowed_session_webhook(session_webhook):
            session_webhook = ""
        return {
            "conversation_type": conversation_type,
            "open_conversation_id": _string(body, "openConversationId", required=False)
            or _string(body, "conversationId"),
            "sender_staff_id": staff_id,
            "robot_code": _string(body, "robotCode", required=False) or app.app_id,
            "chatbot_user_id": _string(body, "chatbotUserId", required=False),
            "session_webhook": session_webhook,
            "session_webhook_expires_ms": _milliseconds(body, "sessionWebhookExpiredTime") or 0,
        }

    def acknowledge(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        return JsonResponse({})

    # render_reply stays the base's acknowledge: the reply itself goes through send() (see the
    # module docstring), so the HTTP answer carries no part of it.
    def passive_parts(self, text: str) -> tuple[str, list[str]]:
        return "", self.split(text)

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """The sessionWebhook while valid, otherwise the robot OpenAPI."""
        context = reply_context or {}
        session_webhook = context.get("session_webhook") or ""
        expires_ms = context.get("session_webhook_expires_ms") or 0
        if session_webhook and _now_ms() < expires_ms - SESSION_SAFETY_MS:
            try:
                return self._send_by_session(session_webhook, message, text, context)
            except PlatformError as error:
                if error.retryable:
                    raise
                # Expired or refused session: the OpenAPI can still reach the user.
        return self._send_by_openapi(app, message, text, context)

    def _group(self, message: IncomingMessage, context: dict[str, Any]) -> bool:
        kind = context.get("conversation_type") or message.raw_data.get("conversationType")
        return kind == GROUP_CHAT

    def _send_by_session(
        self, url: str, message: IncomingMessage, text: str, context: dict[str, Any]
    ) -> str:
        payload: dict[str, Any] = {"msgtype": "text", "text": {"content": text}}
        staff_id = context.get("sender_staff_id") or ""
        if self._group(message, context) and staff_id:
            payload["text"]["content"] = f"@{staff_id} {text}"
            payload["at"] = {"atUserIds": [staff_id]}
        response = platform_request("POST", url, json=payload)
        data = response.data if isinstance(response.data, dict) else {}
        errcode = data.get("errcode")
        if response.status_code >= 500 or errcode in SESSION_RETRYABLE_ERRCODES:
            raise PlatformError(
                errcode if errcode is not None else response.status_code,
                str(data.get("errmsg") or f"HTTP {response.status_code}")[:200],
                retryable=True,
            )
        if response.status_code >= 300 or errcode != 0:
            raise PlatformError(
                errcode if errcode is not None else response.status_code,
                str(data.get("errmsg") or f"HTTP {response.status_code}")[:200],
            )
        return ""

    def _send_by_openapi(
        self, app: ChannelApp, message: IncomingMessage, text: str, context: dict[str, Any]
    ) -> str:
        return self._send_robot_message(app, message, context, "sampleText", {"content": text})

    def _send_robot_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        context: dict[str, Any],
        msg_key: str,
        msg_param: dict[str, Any],
    ) -> str:
        """A robot OpenAPI message: groupMessages/send in a group, else oToMessages/batchSend
        to the sender; returns the processQueryKey."""
        base = self.api_base()
        robot_code = context.get("robot_code") or app.app_id
        payload: dict[str, Any] = {
            "robotCode": robot_code,
            "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False),
        }
        if self._group(message, context):
            url = f"{base}/v1.0/robot/groupMessages/send"
            payload["openConversationId"] = (
                context.get("open_conversation_id") or message.conversation_id
            )
        else:
            staff_id = context.get("sender_staff_id") or (
                message.external_user_id if not context else ""
            )
            if not staff_id:
                raise PlatformError("no_recipient", "the sender has no staff id to message")
            url = f"{base}/v1.0/robot/oToMessages/batchSend"
            payload["userIds"] = [staff_id]

        def attempt(access_token: str) -> str:
            response = platform_request(
                "POST", url, json=payload, headers={"x-acs-dingtalk-access-token": access_token}
            )
            if response.status_code >= 300:
                raise dingtalk_error(response)
            data = response.data if isinstance(response.data, dict) else {}
            return str(data.get("processQueryKey", ""))

        return tokens.call_with_token(app, attempt)

    def send_file_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """Upload the file, the caption as text, then a sampleFile robot message."""
        context = reply_context or {}
        media_id = self._upload(app, document)
        for index, part in enumerate(self.split(document.caption)):
            self.send(app, message, part, context, part_key(idempotency_key, index + 1))
        msg_param = {
            "mediaId": media_id,
            "fileName": document.filename,
            "fileType": file_extension(document.filename) or "file",
        }
        return self._send_robot_message(app, message, context, "sampleFile", msg_param)

    def _upload(self, app: ChannelApp, document: OutgoingFile) -> str:
        """POST {oapi}/media/upload?type=file; the media_id."""
        url = f"{self.oapi_base()}/media/upload"
        files = {"media": (document.filename, document.content, document.content_type)}

        def attempt(access_token: str) -> str:
            data = post_multipart(url, files, params={"access_token": access_token, "type": "file"})
            errcode = data.get("errcode")
            if errcode in FILE_SIZE_ERRCODES:
                raise PlatformError(FILE_TOO_LARGE, str(data.get("errmsg", ""))[:200])
            if errcode not in (0, None):
                raise PlatformError(
                    errcode,
                    str(data.get("errmsg", ""))[:200],
                    retryable=errcode in OAPI_RETRYABLE_ERRCODES or errcode in OAPI_TOKEN_ERRCODES,
                )
            media_id = data.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise PlatformError("bad_response", "the upload answer has no media_id", True)
            return media_id

        return tokens.call_with_token(app, attempt)
