"""The Telegram Bot API as the platform stand-in (devtools/platforms.py) serves it:

    POST /bot<token>/sendMessage | sendDocument | setWebhook | getWebhookInfo | deleteWebhook
                    | getMe

Parameters come as a query, a form, multipart/form-data or a JSON body; every answer is
{"ok": ...}, errors with "error_code" and "description" (see docs/channels.md). The bot token
is the app's secret. sendDocument takes an uploaded file (or the file_id of one sent before),
refuses an empty one (400) and one over the bots' 50 MB (413 Request Entity Too Large), and
keeps it for /_control/files.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from devtools.platforms import App, PlatformHandler

TELEGRAM_MAX_TEXT_UNITS = 4096
TELEGRAM_MAX_CAPTION_UNITS = 1024
TELEGRAM_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
TELEGRAM_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _telegram_error(
    self: PlatformHandler, status: int, description: str, **parameters: Any
) -> None:
    payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = parameters
    self._json(status, payload)


def _telegram_params(self: PlatformHandler) -> dict[str, Any]:
    params: dict[str, Any] = dict(self.query)
    content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
    if content_type == "application/json":
        body = self._json_body()
        if isinstance(body, dict):
            params.update(body)
    elif content_type == "multipart/form-data":
        form = self.form() or {}
        params.update({name: part.text() for name, part in form.items() if part.filename is None})
    elif self.body:
        try:
            form = parse_qs(self.body.decode("utf-8"))
        except UnicodeDecodeError:
            form = {}
        params.update({key: values[0] for key, values in form.items()})
    return params


def telegram_bot_api(self: PlatformHandler) -> None:
    """/bot<token>/<method>: find the bot by its token, then answer with METHODS[method]."""
    parts = self.route.split("/")
    if len(parts) != 3 or not parts[1].startswith("bot"):
        _telegram_error(self, HTTPStatus.NOT_FOUND, "Not Found")
        return
    bot_token, method = parts[1][3:], parts[2]
    fault = self.state.take_fault("telegram", "api")
    if fault is not None:
        if fault.kind == "timeout":
            self._hang(fault)
        elif fault.kind == "rate_limit":
            _telegram_error(
                self,
                HTTPStatus.TOO_MANY_REQUESTS,
                f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        elif fault.kind == "server_error":
            _telegram_error(self, HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
        else:
            _telegram_error(self, HTTPStatus.UNAUTHORIZED, "Unauthorized")
        return
    app = self.state.find_app_by_secret("telegram", bot_token) if bot_token else None
    if app is None:
        _telegram_error(self, HTTPStatus.UNAUTHORIZED, "Unauthorized")
        return
    handler = METHODS.get(method.lower())
    if handler is None:
        _telegram_error(self, HTTPStatus.NOT_FOUND, "Not Found: method not found")
        return
    handler(self, app, _telegram_params(self))


def _telegram_bot(self: PlatformHandler, app: App) -> dict[str, Any]:
    bot_id = app.secret.split(":", 1)[0]
    return {
        "id": int(bot_id) if bot_id.isdigit() else 1,
        "is_bot": True,
        "first_name": app.app_id,
        "username": app.app_id,
    }


def telegram_send_message(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    chat_id, text = params.get("chat_id"), params.get("text")
    if chat_id in (None, ""):
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: chat_id is empty")
        return
    if not isinstance(text, str) or not text.strip():
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
        return
    if _utf16_units(text) > TELEGRAM_MAX_TEXT_UNITS:
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: message is too long")
        return
    message_id = self.state.record_sent(
        "telegram",
        app.app_id,
        str(chat_id),
        text,
        via="sendMessage",
        parse_mode=params.get("parse_mode") or "",
        reply_to=reply.get("message_id")
        if isinstance(reply := params.get("reply_parameters"), dict)
        else None,
        message_thread_id=params.get("message_thread_id"),
    )
    self._json(
        HTTPStatus.OK,
        {
            "ok": True,
            "result": {
                "message_id": message_id,
                "from": _telegram_bot(self, app),
                "chat": _chat(chat_id),
                "date": int(time.time()),
                "text": text,
            },
        },
    )


def telegram_edit_message_text(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    chat_id, text, message_id = params.get("chat_id"), params.get("text"), params.get("message_id")
    if chat_id in (None, "") or not str(message_id or "").isdigit():
        _telegram_error(
            self, HTTPStatus.BAD_REQUEST, "Bad Request: message identifier is not specified"
        )
        return
    if not isinstance(text, str) or not text.strip():
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
        return
    if _utf16_units(text) > TELEGRAM_MAX_TEXT_UNITS:
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: MESSAGE_TOO_LONG")
        return
    edited = self.state.edit_sent("telegram", app.app_id, str(chat_id), int(message_id), text)
    if edited is None:
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: message to edit not found")
        return
    self._json(
        HTTPStatus.OK,
        {
            "ok": True,
            "result": {
                "message_id": int(message_id),
                "from": _telegram_bot(self, app),
                "chat": _chat(chat_id),
                "date": int(time.time()),
                "edit_date": int(time.time()),
                "text": text,
            },
        },
    )


def _chat(chat_id: Any) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id}
    chat["type"] = "private" if not str(chat_id).startswith("-") else "group"
    return chat


def _reply_parameters(value: Any) -> dict[str, Any] | None:
    """reply_parameters as sent: an object in JSON, a JSON-serialised string in a form."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def telegram_send_document(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    chat_id = params.get("chat_id")
    if chat_id in (None, ""):
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: chat_id is empty")
        return
    uploaded = (self.form() or {}).get("document")
    if uploaded is not None and uploaded.filename is not None:
        if not uploaded.data:
            _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: file must be non-empty")
            return
        limit = self.state.file_limit("telegram", TELEGRAM_MAX_DOCUMENT_BYTES)
        if len(uploaded.data) > limit:
            _telegram_error(self, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")
            return
        upload = self.state.store_upload(
            "telegram",
            app.app_id,
            uploaded.filename or "document",
            uploaded.content_type or "application/octet-stream",
            uploaded.data,
            prefix="BQACAgIAAxkBAA",
            media_type="document",
        )
    elif isinstance(params.get("document"), str) and params["document"]:
        upload = self.state.find_upload("telegram", params["document"], app.app_id)
        if upload is None:
            _telegram_error(
                self,
                HTTPStatus.BAD_REQUEST,
                "Bad Request: wrong file identifier/HTTP URL specified",
            )
            return
    else:
        _telegram_error(
            self, HTTPStatus.BAD_REQUEST, "Bad Request: there is no document in the request"
        )
        return
    caption = params.get("caption") or ""
    if _utf16_units(str(caption)) > TELEGRAM_MAX_CAPTION_UNITS:
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: message caption is too long")
        return
    reply = None
    if params.get("reply_parameters") not in (None, ""):
        reply = _reply_parameters(params["reply_parameters"])
        if reply is None:
            _telegram_error(
                self,
                HTTPStatus.BAD_REQUEST,
                "Bad Request: can't parse reply parameters JSON object",
            )
            return
    thread_id = params.get("message_thread_id")
    message_id = self.state.record_file_sent(
        "telegram",
        app.app_id,
        str(chat_id),
        upload,
        str(caption),
        via="sendDocument",
        reply_to=reply.get("message_id") if reply else None,
        message_thread_id=int(thread_id) if str(thread_id or "").isdigit() else None,
    )
    result: dict[str, Any] = {
        "message_id": message_id,
        "from": _telegram_bot(self, app),
        "chat": _chat(chat_id),
        "date": int(time.time()),
        "document": {
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_id": upload.upload_id,
            "file_unique_id": upload.sha256[:16],
            "file_size": len(upload.data),
        },
    }
    if caption:
        result["caption"] = caption
    self._json(HTTPStatus.OK, {"ok": True, "result": result})


def telegram_set_webhook(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    url = params.get("url", "")
    if not isinstance(url, str):
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: bad webhook: invalid URL")
        return
    if not url:
        with self.state.lock:
            existed = self.state.telegram_webhooks.pop(app.app_id, None)
        description = "Webhook was deleted" if existed else "Webhook is already deleted"
        self._json(HTTPStatus.OK, {"ok": True, "result": True, "description": description})
        return
    parsed = urlsplit(url)
    if parsed.scheme != "https" or not parsed.hostname:
        _telegram_error(
            self,
            HTTPStatus.BAD_REQUEST,
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        )
        return
    if (parsed.port or 443) not in (443, 80, 88, 8443):
        _telegram_error(
            self,
            HTTPStatus.BAD_REQUEST,
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        )
        return
    secret_token = params.get("secret_token", "")
    if secret_token and (
        not isinstance(secret_token, str) or not TELEGRAM_SECRET_TOKEN.match(secret_token)
    ):
        _telegram_error(
            self, HTTPStatus.BAD_REQUEST, "Bad Request: secret token contains unallowed characters"
        )
        return
    allowed = params.get("allowed_updates", [])
    if isinstance(allowed, str):
        try:
            allowed = json.loads(allowed)
        except ValueError:
            allowed = None
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        _telegram_error(self, HTTPStatus.BAD_REQUEST, "Bad Request: can't parse allowed updates")
        return
    drop = params.get("drop_pending_updates") in (True, "true", "True", "1")
    with self.state.lock:
        self.state.telegram_webhooks[app.app_id] = {
            "url": url,
            "secret_token": secret_token,
            "allowed_updates": allowed,
            "drop_pending_updates": drop,
            "max_connections": int(params.get("max_connections") or 40),
        }
    self._json(HTTPStatus.OK, {"ok": True, "result": True, "description": "Webhook was set"})


def telegram_delete_webhook(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    telegram_set_webhook(self, app, {**params, "url": ""})


def telegram_get_webhook_info(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    with self.state.lock:
        webhook = dict(self.state.telegram_webhooks.get(app.app_id) or {})
    result: dict[str, Any] = {
        "url": webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }
    if webhook:
        result["max_connections"] = webhook["max_connections"]
        if webhook["allowed_updates"]:
            result["allowed_updates"] = webhook["allowed_updates"]
    self._json(HTTPStatus.OK, {"ok": True, "result": result})


def telegram_get_me(self: PlatformHandler, app: App, params: dict[str, Any]) -> None:
    self._json(HTTPStatus.OK, {"ok": True, "result": _telegram_bot(self, app)})


METHODS: dict[str, Callable[[PlatformHandler, App, dict[str, Any]], None]] = {
    "sendmessage": telegram_send_message,
    "senddocument": telegram_send_document,
    "editmessagetext": telegram_edit_message_text,
    "setwebhook": telegram_set_webhook,
    "deletewebhook": telegram_delete_webhook,
    "getwebhookinfo": telegram_get_webhook_info,
    "getme": telegram_get_me,
}
ROUTES: dict[tuple[str, str], Callable[[PlatformHandler], None]] = {}
PREFIX_ROUTES: dict[str, Callable[[PlatformHandler], None]] = {"/bot": telegram_bot_api}
