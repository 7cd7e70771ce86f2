"""Feishu (飞书, Lark) custom app bot: event subscription v2 over HTTP (docs/channels.md §7).

- POST only, and the app must have an Encrypt Key: the body is {"encrypt": "…"}, AES-256-CBC
  with key SHA-256(Encrypt Key), the IV in the first 16 bytes, base64. A plaintext body is
  refused.
- Events carry X-Lark-Request-Timestamp, X-Lark-Request-Nonce and X-Lark-Signature =
  hex(SHA-256(timestamp + nonce + Encrypt Key + raw body)), compared in constant time; the
  decrypted header.token must be the app's Verification Token.
- URL verification (saving the request URL on the console) comes without signature headers:
  an encrypted {"type": "url_verification", "challenge", "token"}; the token must match and
  the answer is {"challenge": …}.
- im.message.receive_v1: text from direct (p2p) and group chats; in a group the bot is
  @-mentioned and the "@_user_N" placeholders are dropped from the text. User = the sender's
  open_id, conversation = chat_id, de-dup key = message_id. Other message types reach the
  handler with their type; other events and messages from apps get nothing.
- Reply: Feishu ignores the HTTP answer's body, so every part goes through the API with the
  tenant_access_token: a direct chat gets POST /open-apis/im/v1/messages (receive_id_type
  chat_id), a group a reply to the asker's message (/messages/{message_id}/reply).
- Feishu repeats an event it got no 200 for (after 15 s, 5 min, 1 h and 6 h) with the original
  headers. The signature covers the body, so a replayed request is that same event, which the
  inbox de-duplicates: the timestamp window here is 7 hours.
- Files: POST /open-apis/im/v1/files (multipart: file_type — "xls" for a spreadsheet, "stream"
  for a type Feishu does not list —, file_name, file) → file_key, then a message of msg_type
  "file" with content {"file_key"} where text goes (new message or reply), its uuid the
  idempotency key; the caption goes first as text. 1 byte to 30 MB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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
    parse_json,
    register,
    secret_field,
)
from apps.ai_assistant.channels.chunking import char_length
from apps.ai_assistant.messages import IncomingMessage, OutgoingFile
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import RETRYABLE_STATUS, PlatformResponse, platform_request

TIMESTAMP_HEADER = "X-Lark-Request-Timestamp"
NONCE_HEADER = "X-Lark-Request-Nonce"
SIGNATURE_HEADER = "X-Lark-Signature"
MESSAGE_EVENT = "im.message.receive_v1"
# Feishu's own SDK cuts text at 3500 characters; a request body may be up to 150 KB.
TEXT_CHARS = 3500
# Feishu's last retry comes 6 hours after the event (see the module docstring).
REPLAY_WINDOW_SECONDS = 7 * 3600
# Error codes: the tenant_access_token is invalid or expired; Feishu is rate limiting.
TOKEN_ERRORS = {99991663, 99991664, 99991665, 99991666, 99991668}
RATE_LIMITED = {99991402, 11020, 11021}
# im/v1/files: at most 30 MB and never empty; file_type is one of opus, mp4, pdf, doc, xls, ppt
# or stream (anything else). 234006 is its "file too large" answer [unverified].
MAX_FILE_BYTES = 30 * MEBIBYTE
FILE_TYPES = {
    "opus": "opus",
    "mp4": "mp4",
    "pdf": "pdf",
    "doc": "doc",
    "docx": "doc",
    "xls": "xls",
    "xlsx": "xls",
    "ppt": "ppt",
    "pptx": "ppt",
}
FILE_SIZE_ERRORS = {234006}
# Feishu de-duplicates messages by a uuid of at most 50 characters.
UUID_CHARS = 50


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode("utf-8")).digest()


def encrypt(encrypt_key: str, plaintext: str) -> str:
    """What Feishu puts in "encrypt": base64(IV ‖ AES-256-CBC(PKCS#7(plaintext)))."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def decrypt(encrypt_key: str, encrypted: str) -> str:
    """The plaintext of an "encrypt" field; ValueError if it is not one of ours."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError as error:
        raise ValueError("not base64") from error
    if len(data) < 32 or len(data) % 16:
        raise ValueError("bad ciphertext length")
    decryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(data[:16])).decryptor()
    padded = decryptor.update(data[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """X-Lark-Signature: hex(SHA-256(timestamp + nonce + Encrypt Key + body))."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


def feishu_error(response: PlatformResponse) -> PlatformError:
    """An Open API error answer ({"code", "msg"} and/or an HTTP error) as PlatformError."""
    data = response.data if isinstance(response.data, dict) else {}
    code = data.get("code") if isinstance(data.get("code"), int) else response.status_code
    retry_after = response.headers.get("Retry-After") if response.headers else None
    return PlatformError(
        code,
        str(data.get("msg") or f"HTTP {response.status_code}")[:200],
        retryable=code in RATE_LIMITED or response.status_code in RETRYABLE_STATUS,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )


class FeishuCredentials(Credentials):
    app_secret: str = secret_field(
        "App Secret", "From Credentials & Basic Info (凭证与基础信息); fetches access tokens."
    )
    verification_token: str = secret_field(
        "Verification Token", "From Events & Callbacks → Encryption Strategy (加密策略)."
    )
    encrypt_key: str = secret_field(
        "Encrypt Key", "From the same page; Feishu then encrypts and signs every event."
    )

    def problems(self) -> list[str]:
        missing = [
            label
            for label, value in (
                ("App Secret", self.app_secret),
                ("Verification Token", self.verification_token),
                ("Encrypt Key", self.encrypt_key),
            )
            if not value
        ]
        return [f"The {label} is required." for label in missing]


@register
class FeishuChannel(Channel):
    name = "feishu"
    label = "Feishu (Lark)"
    text_limit = TEXT_CHARS
    measure = staticmethod(char_length)
    credentials = FeishuCredentials
    api_base_setting = "AI_ASSISTANT_FEISHU_API_BASE"
    default_api_base = "https://open.feishu.cn"
    fetches_access_tokens = True
    max_file_bytes = MAX_FILE_BYTES

    # --- the webhook ----------------------------------------------------------------------

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        credentials = app.credentials
        if not credentials.encrypt_key or not credentials.verification_token:
            raise WebhookRejected(403, "app has no encrypt key or verification token configured")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if given:
            timestamp = request.headers.get(TIMESTAMP_HEADER, "")
            nonce = request.headers.get(NONCE_HEADER, "")
            expected = signature(timestamp, nonce, credentials.encrypt_key, request.body)
            if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
                raise WebhookRejected(403, "bad signature")
            check_timestamp(timestamp, window=REPLAY_WINDOW_SECONDS)
        event = self._decrypted(request, credentials.encrypt_key)
        if not given and event.get("type") != "url_verification":
            raise WebhookRejected(403, "missing signature")
        header = event.get("header") if isinstance(event.get("header"), dict) else {}
        token = header.get("token", event.get("token"))
        if not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8", "replace"), credentials.verification_token.encode()
        ):
            raise WebhookRejected(403, "bad verification token")
        request.feishu_event = event

    def _decrypted(self, request: HttpRequest, encrypt_key: str) -> dict[str, Any]:
        envelope = parse_json(request.body)
        encrypted = envelope.get("encrypt")
        if not isinstance(encrypted, str):
            raise WebhookRejected(403, "unencrypted event refused")
        try:
            plaintext = decrypt(encrypt_key, encrypted)
        except ValueError as error:
            raise WebhookRejected(403, "cannot decrypt the event") from error
        return parse_json(plaintext.encode("utf-8"))

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        event = request.feishu_event
        if event.get("type") == "url_verification":
            challenge = event.get("challenge")
            if not isinstance(challenge, str):
                raise WebhookRejected(400, "challenge must be a string")
            request.feishu_challenge = challenge
            return ParsedWebhook(message=None, external_id=f"url_verification:{challenge}")
        header = event.get("header")
        if event.get("schema") != "2.0" or not isinstance(header, dict):
            raise WebhookRejected(400, "not an event of schema 2.0")
        event_id = _text(header, "event_id")
        body = event.get("event")
        if header.get("event_type") != MESSAGE_EVENT or not isinstance(body, dict):
            return ParsedWebhook(message=None, external_id=event_id)
        sender = _object(body, "sender")
        if sender.get("sender_type") != "user":
            return ParsedWebhook(message=None, external_id=event_id)
        message = _object(body, "message")
        message_id = _text(message, "message_id")
        chat_id = _text(message, "chat_id")
        chat_type = _text(message, "chat_type")
        message_type = _text(message, "message_type")
        open_id = _text(_object(sender, "sender_id"), "open_id")
        created = _text(message, "create_time")
        if not created.isdigit() or len(created) > 16:
            raise WebhookRejected(400, "create_time must be milliseconds")
        incoming = IncomingMessage(
            message_id=message_id,
            channel=self.name,
            external_user_id=open_id,
            content=_message_text(message) if message_type == "text" else "",
            timestamp=datetime_from(int(created), "create_time", scale=1000),
            message_type=message_type,
            conversation_id=chat_id,
            raw_data={
                "event_id": event_id,
                "chat_type": chat_type,
                "tenant_key": header.get("tenant_key", ""),
            },
        )
        context = {"chat_id": chat_id, "chat_type": chat_type, "message_id": message_id}
        return ParsedWebhook(message=incoming, external_id=message_id, reply_context=context)

    def acknowledge(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        challenge = getattr(request, "feishu_challenge", None)
        return JsonResponse({"challenge": challenge} if challenge is not None else {})

    # render_reply stays the base's acknowledge: Feishu shows nothing of the HTTP answer.
    def passive_parts(self, text: str) -> tuple[str, list[str]]:
        return "", self.split(text)

    # --- the API ----------------------------------------------------------------------------

    def fetch_access_token(self, app: ChannelApp, force: bool) -> tuple[Any, Any]:
        if not app.credentials.app_secret:
            raise PlatformError("no_secret", f"{app} has no App Secret configured")
        response = platform_request(
            "POST",
            f"{self.api_base()}/open-apis/auth/v3/tenant_access_token/internal",
            json={"app_id": app.app_id, "app_secret": app.credentials.app_secret},
        )
        data = response.data if isinstance(response.data, dict) else {}
        if response.status_code >= 300 or data.get("code") != 0:
            raise feishu_error(response)
        return data.get("tenant_access_token"), data.get("expire")

    def is_token_error(self, error: PlatformError) -> bool:
        return error.code in TOKEN_ERRORS

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """A direct chat gets a new message, a group a reply to the asker's message."""
        # Feishu sends one message per uuid within an hour: a resend is not doubled.
        uuid = idempotency_key[:UUID_CHARS]
        return self._send_message(app, message, reply_context, "text", {"text": text}, uuid)

    def _send_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        reply_context: dict[str, Any],
        msg_type: str,
        content: dict[str, Any],
        uuid: str = "",
    ) -> str:
        """POST a message of `msg_type`: a reply in a group, else a new message to the chat."""
        context = reply_context or {}
        body: dict[str, Any] = {"msg_type": msg_type, "content": json.dumps(content)}
        if uuid:
            body["uuid"] = uuid
        if context.get("chat_type") == "group" and context.get("message_id"):
            url = f"{self.api_base()}/open-apis/im/v1/messages/{context['message_id']}/reply"
            params = None
        else:
            url = f"{self.api_base()}/open-apis/im/v1/messages"
            params = {"receive_id_type": "chat_id"}
            body["receive_id"] = context.get("chat_id") or message.conversation_id

        def attempt(access_token: str) -> str:
            response = platform_request(
                "POST",
                url,
                params=params,
                json=body,
                headers={"Authorization": f"Bearer {access_token}"},
            )
            data = response.data if isinstance(response.data, dict) else {}
            if response.status_code >= 300 or data.get("code") != 0:
                raise feishu_error(response)
            sent = data.get("data") if isinstance(data.get("data"), dict) else {}
            return str(sent.get("message_id", ""))

        return tokens.call_with_token(app, attempt)

    def send_file_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """Upload the file, the caption as text, then a message of msg_type "file"."""
        file_key = self._upload(app, document)
        for index, part in enumerate(self.split(document.caption)):
            caption_key = (
                short_uuid(f"{idempotency_key}:caption:{index}") if idempotency_key else ""
            )
            self.send(app, message, part, reply_context, caption_key)
        content = {"file_key": file_key}
        uuid = idempotency_key[:UUID_CHARS]
        return self._send_message(app, message, reply_context, "file", content, uuid)

    def _upload(self, app: ChannelApp, document: OutgoingFile) -> str:
        """POST /open-apis/im/v1/files; the file_key."""
        url = f"{self.api_base()}/open-apis/im/v1/files"
        fields = {"file_type": feishu_file_type(document.filename), "file_name": document.filename}
        files = {"file": (document.filename, document.content, document.content_type)}

        def attempt(access_token: str) -> str:
            response = platform_request(
                "POST",
                url,
                data=fields,
                files=files,
                headers={"Authorization": f"Bearer {access_token}"},
            )
            data = response.data if isinstance(response.data, dict) else {}
            if response.status_code == 413 or data.get("code") in FILE_SIZE_ERRORS:
                raise PlatformError(FILE_TOO_LARGE, str(data.get("msg") or "HTTP 413")[:200])
            if response.status_code >= 300 or data.get("code") != 0:
                raise feishu_error(response)
            uploaded = data.get("data") if isinstance(data.get("data"), dict) else {}
            file_key = uploaded.get("file_key")
            if not isinstance(file_key, str) or not file_key:
                raise PlatformError("bad_response", "the upload answer has no file_key", True)
            return file_key

        return tokens.call_with_token(app, attempt)


def feishu_file_type(filename: str) -> str:
    """The file_type im/v1/files wants for `filename` ("xls" for .xlsx, else "stream")."""
    return FILE_TYPES.get(file_extension(filename), "stream")


def short_uuid(key: str) -> str:
    """`key` as a uuid Feishu takes: itself when short enough, else a digest of it (cutting
    would make the keys of a caption and its file the same)."""
    if len(key) <= UUID_CHARS:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:UUID_CHARS]


def _object(fields: dict[str, Any], name: str) -> dict[str, Any]:
    value = fields.get(name)
    if not isinstance(value, dict):
        raise WebhookRejected(400, f"{name} must be an object")
    return value


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise WebhookRejected(400, f"missing {name}")
    return value


def _message_text(message: dict[str, Any]) -> str:
    """The text of a text message, without the placeholders of its @-mentions."""
    try:
        content = json.loads(message.get("content") or "")
    except (TypeError, ValueError, RecursionError) as error:
        raise WebhookRejected(400, "message content must be JSON") from error
    text = content.get("text") if isinstance(content, dict) else None
    if not isinstance(text, str):
        raise WebhookRejected(400, "text content must be a string")
    for mention in message.get("mentions") or []:
        key = mention.get("key") if isinstance(mention, dict) else None
        if isinstance(key, str) and key:
            text = text.replace(key, "")
    return " ".join(text.split())
