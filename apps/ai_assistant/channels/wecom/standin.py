"""The WeCom (WeChat Work) API as the platform stand-in (devtools/platforms.py) serves it:

    GET  /cgi-bin/gettoken?corpid=&corpsecret=
    POST /cgi-bin/media/upload?access_token=&type=   multipart, the file as `media`
    POST /cgi-bin/message/send?access_token=   {touser, agentid, msgtype: text | file, ...}

Errors are {"errcode", "errmsg"} as WeCom answers them (see docs/channels.md); text longer
than WECOM_MAX_TEXT_BYTES is truncated, as WeCom does, and recorded as truncated. Uploads:
40005 a bad type, 44001 no media, 40006 under 5 bytes, 45001 over the type's limit (file
20 MB); a file message with a media_id the corp never uploaded is 40007.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

from ..tencent_standin import _errcode, _tencent_fault, _tencent_token_check

if TYPE_CHECKING:
    from devtools.platforms import PlatformHandler

WECOM_MAX_TEXT_BYTES = 2048
# Temporary media limits per type (WeCom's "上传的媒体文件限制"); every file at least 5 bytes.
WECOM_MEDIA_LIMITS = {
    "image": 10 * 1024 * 1024,
    "voice": 2 * 1024 * 1024,
    "video": 10 * 1024 * 1024,
    "file": 20 * 1024 * 1024,
}
WECOM_MIN_MEDIA_BYTES = 5


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def wecom_gettoken(self: PlatformHandler) -> None:
    corpid, corpsecret = self.query.get("corpid", ""), self.query.get("corpsecret", "")
    self.state.count_token_request("wecom", corpid)
    if _tencent_fault(self, "wecom", "token"):
        return
    if not corpid:
        _errcode(self, 41002, "corpid missing")
        return
    if not corpsecret:
        _errcode(self, 41004, "corpsecret missing")
        return
    app = self.state.find_app("wecom", corpid)
    if app is None:
        _errcode(self, 40013, "invalid corpid")
        return
    if not secrets.compare_digest(corpsecret.encode(), app.secret.encode()):
        _errcode(self, 40001, "invalid credential")
        return
    value, expires_in = self.state.issue_token(app, "token", reuse=True)
    self._json(
        HTTPStatus.OK,
        {"errcode": 0, "errmsg": "ok", "access_token": value, "expires_in": expires_in},
    )


def wecom_media_upload(self: PlatformHandler) -> None:
    check = _tencent_token_check(self, "wecom")
    if check is None:
        return
    media_type = self.query.get("type", "")
    if media_type not in WECOM_MEDIA_LIMITS:
        _errcode(self, 40005, "invalid media type")
        return
    media = (self.form() or {}).get("media")
    if media is None or media.filename is None or not media.data:
        _errcode(self, 44001, "empty media data")
        return
    if len(media.data) < WECOM_MIN_MEDIA_BYTES:
        _errcode(self, 40006, "invalid file size")
        return
    if len(media.data) > self.state.file_limit("wecom", WECOM_MEDIA_LIMITS[media_type]):
        _errcode(self, 45001, "media size out of limit")
        return
    upload = self.state.store_upload(
        "wecom",
        check.token.app_id,
        media.filename or "media",
        media.content_type or "application/octet-stream",
        media.data,
        prefix="3",
        media_type=media_type,
    )
    self._json(
        HTTPStatus.OK,
        {
            "errcode": 0,
            "errmsg": "",
            "type": media_type,
            "media_id": upload.upload_id,
            "created_at": str(int(upload.created_at)),
        },
    )


def wecom_message_send(self: PlatformHandler) -> None:
    check = _tencent_token_check(self, "wecom")
    if check is None:
        return
    body = self._json_body()
    if not isinstance(body, dict):
        _errcode(self, 47001, "data format error")
        return
    app = self.state.find_app("wecom", check.token.app_id)
    agentid = str(body.get("agentid", ""))
    if app and app.agent_id and agentid != app.agent_id:
        _errcode(self, 40056, "invalid agentid")
        return
    touser = body.get("touser")
    users = [u for u in touser.split("|") if u] if isinstance(touser, str) else []
    if not users:
        _errcode(self, 81013, "user & party & tag all invalid")
        return
    if body.get("msgtype") == "file":
        _wecom_file_send(self, check.token.app_id, body, users, agentid)
        return
    if body.get("msgtype") != "text":
        _errcode(self, 40008, "invalid message type")
        return
    text = body.get("text", {}).get("content") if isinstance(body.get("text"), dict) else None
    if not isinstance(text, str) or not text:
        _errcode(self, 44004, "empty content")
        return
    # WeCom silently truncates longer text; the record says so for tests to catch.
    truncated = len(text.encode("utf-8")) > WECOM_MAX_TEXT_BYTES
    for user in users:
        self.state.record_sent(
            "wecom",
            check.token.app_id,
            user,
            _truncate_utf8(text, WECOM_MAX_TEXT_BYTES),
            via="message_send",
            agentid=agentid,
            truncated=truncated,
        )
    self._json(
        HTTPStatus.OK,
        {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "",
            "msgid": secrets.token_hex(16),
        },
    )


def _wecom_file_send(
    self: PlatformHandler, corp_id: str, body: dict, users: list[str], agentid: str
) -> None:
    file = body.get("file") if isinstance(body.get("file"), dict) else {}
    if not file.get("media_id"):
        _errcode(self, 41006, "media_id missing")
        return
    # A media_id is shared by every app of the corp that uploaded it.
    upload = self.state.find_upload("wecom", file["media_id"], corp_id)
    if upload is None:
        _errcode(self, 40007, "invalid media_id")
        return
    for user in users:
        self.state.record_file_sent(
            "wecom", corp_id, user, upload, via="message_send", agentid=agentid
        )
    self._json(
        HTTPStatus.OK,
        {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": secrets.token_hex(16)},
    )


ROUTES: dict[tuple[str, str], Callable[[PlatformHandler], None]] = {
    ("GET", "/cgi-bin/gettoken"): wecom_gettoken,
    ("POST", "/cgi-bin/media/upload"): wecom_media_upload,
    ("POST", "/cgi-bin/message/send"): wecom_message_send,
}
