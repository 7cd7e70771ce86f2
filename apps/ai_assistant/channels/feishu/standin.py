"""The Feishu Open API as the platform stand-in (devtools/platforms.py) serves it:

    POST /open-apis/auth/v3/tenant_access_token/internal      {app_id, app_secret}
    POST /open-apis/im/v1/messages?receive_id_type=chat_id     header Authorization: Bearer …
    POST /open-apis/im/v1/messages/{message_id}/reply          header Authorization: Bearer …
    POST /open-apis/im/v1/files      multipart: file_type, file_name, file → data.file_key

Messages are msg_type "text" ({"text"}) or "file" ({"file_key"} of one of the app's uploads).
A repeated `uuid` answers success without a second message, as Feishu does for an hour.
Answers are {"code", "msg", …}: code 0 is success; 10014 a wrong app secret, 99991663 an
invalid or expired tenant_access_token, 99991400 rate limited (with HTTP 429 and Retry-After),
230001 a malformed message (and a file_key the app never uploaded). Uploads: 234001 a missing
or unknown field, 234010 an empty file, 234006 a file over 30 MB [those three codes are
unverified]. Faults: rate_limit, server_error, expired_token, timeout.
"""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.platforms import PlatformHandler, TokenCheck, Upload

REPLY_PREFIX = "/open-apis/im/v1/messages/"
TEXT_MAX_BYTES = 150 * 1024
FILE_MAX_BYTES = 30 * 1024 * 1024
FILE_TYPES = ("opus", "mp4", "pdf", "doc", "xls", "ppt", "stream")


def _answer(
    self: PlatformHandler, code: int, msg: str, status: int = HTTPStatus.OK, **data
) -> None:
    self._json(status, {"code": code, "msg": msg, **data})


def _fault(self: PlatformHandler, endpoint: str, token: str | None = None) -> bool:
    fault = self.state.take_fault("feishu", endpoint)
    if fault is None:
        return False
    if fault.kind == "timeout":
        self._hang(fault)
    elif fault.kind == "rate_limit":
        self._json(
            HTTPStatus.TOO_MANY_REQUESTS,
            {"code": 99991400, "msg": "request trigger frequency limit"},
            headers={"Retry-After": "1"},
        )
    elif fault.kind == "server_error":
        _answer(self, 1500, "internal error", HTTPStatus.INTERNAL_SERVER_ERROR)
    else:
        if token:
            self.state.expire_token(token)
        _answer(self, 99991663, "Invalid access token for authorization.")
    return True


def tenant_access_token(self: PlatformHandler) -> None:
    body = self._json_body()
    body = body if isinstance(body, dict) else {}
    app_id, app_secret = body.get("app_id"), body.get("app_secret")
    self.state.count_token_request("feishu", str(app_id or ""))
    if _fault(self, "token"):
        return
    app = self.state.find_app("feishu", str(app_id or ""))
    if (
        app is None
        or not isinstance(app_secret, str)
        or not secrets.compare_digest(app_secret.encode(), app.secret.encode())
    ):
        _answer(self, 10014, "app secret invalid")
        return
    # Within the last half hour of a token's life Feishu hands out a new one.
    value, expires_in = self.state.issue_token(app, "token", reuse=True, renew_within=1800)
    _answer(self, 0, "ok", tenant_access_token=value, expire=expires_in)


def _token_check(self: PlatformHandler) -> TokenCheck | None:
    authorization = self.headers.get("Authorization", "")
    token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else ""
    if _fault(self, "api", token):
        return None
    check = self.state.check_token("feishu", token)
    if check.status != "ok":
        _answer(self, 99991663, "Invalid access token for authorization.")
        return None
    return check


def _content_of(self: PlatformHandler, body: Any, app_id: str) -> tuple[str, Upload | None] | None:
    """(text, file) of a text or file message body; answers 230001 and None when it is off."""
    msg_type = body.get("msg_type") if isinstance(body, dict) else None
    try:
        content = json.loads(body.get("content") or "") if msg_type else None
    except (TypeError, ValueError):
        content = None
    content = content if isinstance(content, dict) else {}
    if msg_type == "file":
        upload = self.state.find_upload("feishu", content.get("file_key"), app_id)
        if upload is None:
            _answer(self, 230001, "Your request contains an invalid request parameter.")
            return None
        return "", upload
    text = content.get("text") if msg_type == "text" else None
    if not isinstance(text, str) or not text:
        _answer(self, 230001, "Your request contains an invalid request parameter.")
        return None
    if len(body["content"].encode()) > TEXT_MAX_BYTES:
        _answer(self, 230025, "The message content is too long.")
        return None
    return text, None


def _record(
    self: PlatformHandler, app_id: str, recipient: str, content: tuple, **extra: Any
) -> int:
    text, upload = content
    if upload is None:
        return self.state.record_sent("feishu", app_id, recipient, text, **extra)
    return self.state.record_file_sent("feishu", app_id, recipient, upload, **extra)


def _uuid(body: Any) -> str:
    uuid = body.get("uuid") if isinstance(body, dict) else None
    return uuid if isinstance(uuid, str) else ""


def _already_sent(self: PlatformHandler, body: Any) -> bool:
    """Feishu sends one message per uuid within an hour: a repeat answers success, unsent."""
    uuid = _uuid(body)
    with self.state.lock:
        earlier = self.state.idempotency_keys.get(("feishu", uuid)) if uuid else None
    if earlier is None:
        return False
    _answer(self, 0, "success", data={"message_id": earlier})
    return True


def _sent(self: PlatformHandler, body: Any, sequence: int) -> None:
    message_id = f"om_standin{sequence}"
    if _uuid(body):
        self.state.answer_for_key("feishu", _uuid(body), message_id)
    _answer(self, 0, "success", data={"message_id": message_id})


def create_message(self: PlatformHandler) -> None:
    check = _token_check(self)
    if check is None:
        return
    body = self._json_body()
    if self.query.get("receive_id_type") != "chat_id":
        _answer(self, 99992402, "field validation failed: receive_id_type")
        return
    content = _content_of(self, body, check.token.app_id)
    if content is None:
        return
    receive_id = body.get("receive_id")
    if not isinstance(receive_id, str) or not receive_id:
        _answer(self, 99992402, "field validation failed: receive_id")
        return
    if _already_sent(self, body):
        return
    sequence = _record(self, check.token.app_id, receive_id, content, via="create")
    _sent(self, body, sequence)


def reply_message(self: PlatformHandler) -> None:
    parts = self.route.removeprefix(REPLY_PREFIX).split("/")
    if len(parts) != 2 or parts[1] != "reply" or not parts[0] or self.command != "POST":
        self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        return
    check = _token_check(self)
    if check is None:
        return
    body = self._json_body()
    content = _content_of(self, body, check.token.app_id)
    if content is None or _already_sent(self, body):
        return
    sequence = _record(self, check.token.app_id, parts[0], content, via="reply", reply_to=parts[0])
    _sent(self, body, sequence)


def upload_file(self: PlatformHandler) -> None:
    check = _token_check(self)
    if check is None:
        return
    form = self.form() or {}
    file_type = form["file_type"].text() if "file_type" in form else ""
    file_name = form["file_name"].text() if "file_name" in form else ""
    file = form.get("file")
    # The name is the file_name field: Feishu's own SDK sends the file part without one.
    if file_type not in FILE_TYPES or not file_name or file is None:
        _answer(self, 234001, "Invalid request param.", HTTPStatus.BAD_REQUEST)
        return
    if not file.data:
        _answer(self, 234010, "File's size can't be 0.", HTTPStatus.BAD_REQUEST)
        return
    if len(file.data) > self.state.file_limit("feishu", FILE_MAX_BYTES):
        _answer(self, 234006, "The file size exceed the max value.", HTTPStatus.BAD_REQUEST)
        return
    upload = self.state.store_upload(
        "feishu",
        check.token.app_id,
        file_name,
        file.content_type or "application/octet-stream",
        file.data,
        prefix="file_v3_",
        media_type=file_type,
    )
    _answer(self, 0, "success", data={"file_key": upload.upload_id})


ROUTES = {
    ("POST", "/open-apis/auth/v3/tenant_access_token/internal"): tenant_access_token,
    ("POST", "/open-apis/im/v1/messages"): create_message,
    ("POST", "/open-apis/im/v1/files"): upload_file,
}
PREFIX_ROUTES = {REPLY_PREFIX: reply_message}
