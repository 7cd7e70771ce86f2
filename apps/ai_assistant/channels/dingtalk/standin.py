"""The DingTalk API as the platform stand-in (devtools/platforms.py) serves it:

    POST /v1.0/oauth2/accessToken              {appKey, appSecret}
    POST /v1.0/robot/oToMessages/batchSend     header x-acs-dingtalk-access-token
    POST /v1.0/robot/groupMessages/send        header x-acs-dingtalk-access-token
    POST /robot/sendBySession?session=         the sessionWebhook of an inbound message
    POST /media/upload?access_token=&type=     the legacy (oapi) host's upload, multipart `media`

The OpenAPI answers errors with an HTTP status and {"code", "message"}; the session webhook
and the legacy upload with {"errcode", "errmsg"} (see docs/channels.md). Session webhooks are
made through the control API (POST /_control/sessions). The robot messages take msgKey
sampleText, sampleMarkdown and sampleFile (msgParam {"mediaId", "fileName", "fileType"}, the
mediaId of one of the robot's uploads).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.platforms import PlatformHandler, TokenCheck, Upload

# Legacy media upload: the limits per type, and the extensions a "file" may have.
DINGTALK_MEDIA_LIMITS = {
    "image": 20 * 1024 * 1024,
    "voice": 2 * 1024 * 1024,
    "video": 20 * 1024 * 1024,
    "file": 20 * 1024 * 1024,
}
DINGTALK_FILE_EXTENSIONS = {"doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "pdf", "rar"}


def _errcode(self: PlatformHandler, errcode: int, errmsg: str, status: int = HTTPStatus.OK) -> None:
    self._json(status, {"errcode": errcode, "errmsg": errmsg})


def _dingtalk_error(self: PlatformHandler, status: int, code: str, message: str) -> None:
    self._json(status, {"code": code, "message": message, "requestid": secrets.token_hex(8)})


def _dingtalk_fault(self: PlatformHandler, endpoint: str, token: str | None = None) -> bool:
    fault = self.state.take_fault("dingtalk", endpoint)
    if fault is None:
        return False
    if fault.kind == "timeout":
        self._hang(fault)
    elif fault.kind == "rate_limit":
        _dingtalk_error(
            self,
            HTTPStatus.FORBIDDEN,
            "Forbidden.AccessDenied.QpsLimitForApi",
            "调用该接口触发限流",
        )
    elif fault.kind == "server_error":
        _dingtalk_error(self, HTTPStatus.SERVICE_UNAVAILABLE, "ServiceUnavailable", "服务不可用")
    else:
        if token:
            self.state.expire_token(token)
        _dingtalk_error(
            self, HTTPStatus.UNAUTHORIZED, "InvalidAuthentication", "不合法的access_token"
        )
    return True


def dingtalk_access_token(self: PlatformHandler) -> None:
    body = self._json_body()
    body = body if isinstance(body, dict) else {}
    app_key, app_secret = body.get("appKey"), body.get("appSecret")
    self.state.count_token_request("dingtalk", str(app_key or ""))
    if _dingtalk_fault(self, "token"):
        return
    if not isinstance(app_key, str) or not app_key:
        _dingtalk_error(self, HTTPStatus.BAD_REQUEST, "MissingappKey", "appKey is mandatory")
        return
    if not isinstance(app_secret, str) or not app_secret:
        _dingtalk_error(self, HTTPStatus.BAD_REQUEST, "MissingappSecret", "appSecret is mandatory")
        return
    app = self.state.find_app("dingtalk", app_key)
    if app is None or not secrets.compare_digest(app_secret.encode(), app.secret.encode()):
        _dingtalk_error(
            self,
            HTTPStatus.BAD_REQUEST,
            "invalidClientIdOrSecret",
            "无效的clientId或者clientSecret",
        )
        return
    # Fetching within validity returns the same token and extends it.
    value, expires_in = self.state.issue_token(app, "token", reuse=True, extend=True)
    self._json(HTTPStatus.OK, {"accessToken": value, "expireIn": expires_in})


def _dingtalk_token_check(self: PlatformHandler) -> TokenCheck | None:
    token = self.headers.get("x-acs-dingtalk-access-token")
    if _dingtalk_fault(self, "api", token):
        return None
    check = self.state.check_token("dingtalk", token)
    if check.status != "ok":
        _dingtalk_error(
            self, HTTPStatus.UNAUTHORIZED, "InvalidAuthentication", "不合法的access_token"
        )
        return None
    return check


def _dingtalk_message(
    self: PlatformHandler, body: dict[str, Any], app_id: str
) -> tuple[str, str, Upload | None] | None:
    """(msgKey, text, file) of a robot OpenAPI body; answers 400 and None when it is off."""
    if body.get("robotCode") != app_id:
        _dingtalk_error(
            self, HTTPStatus.BAD_REQUEST, "invalidParameter.robotCode", "robotCode不合法"
        )
        return None
    msg_key, msg_param = body.get("msgKey"), body.get("msgParam")
    try:
        param = json.loads(msg_param) if isinstance(msg_param, str) else None
    except ValueError:
        param = None
    if msg_key not in ("sampleText", "sampleMarkdown", "sampleFile") or not isinstance(param, dict):
        _dingtalk_error(
            self, HTTPStatus.BAD_REQUEST, "invalidParameter.msgParam", "msgKey或msgParam不合法"
        )
        return None
    if msg_key == "sampleFile":
        upload = self.state.find_upload("dingtalk", param.get("mediaId"), app_id)
        names = (param.get("fileName"), param.get("fileType"))
        if upload is None or not all(isinstance(n, str) and n for n in names):
            _dingtalk_error(
                self, HTTPStatus.BAD_REQUEST, "invalidParameter.msgParam", "文件消息参数不合法"
            )
            return None
        return msg_key, "", upload
    text = param.get("content") if msg_key == "sampleText" else param.get("text")
    if not isinstance(text, str) or not text:
        _dingtalk_error(
            self, HTTPStatus.BAD_REQUEST, "invalidParameter.msgParam", "消息内容不能为空"
        )
        return None
    return msg_key, text, None


def _record(
    self: PlatformHandler, app_id: str, recipient: str, message: tuple, body: dict, **extra
) -> None:
    msg_key, text, upload = message
    if upload is None:
        self.state.record_sent("dingtalk", app_id, recipient, text, msgKey=msg_key, **extra)
        return
    param = json.loads(body["msgParam"])
    self.state.record_file_sent(
        "dingtalk",
        app_id,
        recipient,
        upload,
        msgKey=msg_key,
        file_name=param["fileName"],
        file_type=param["fileType"],
        **extra,
    )


def dingtalk_batch_send(self: PlatformHandler) -> None:
    check = _dingtalk_token_check(self)
    if check is None:
        return
    body = self._json_body()
    if not isinstance(body, dict):
        _dingtalk_error(self, HTTPStatus.BAD_REQUEST, "InvalidParameter", "body不是合法的JSON")
        return
    user_ids = body.get("userIds")
    if (
        not isinstance(user_ids, list)
        or not user_ids
        or len(user_ids) > 20
        or not all(isinstance(u, str) and u for u in user_ids)
    ):
        _dingtalk_error(self, HTTPStatus.BAD_REQUEST, "invalidParameter.userIds", "userIds不合法")
        return
    message = _dingtalk_message(self, body, check.token.app_id)
    if message is None:
        return
    for user_id in user_ids:
        _record(self, check.token.app_id, user_id, message, body, via="batchSend")
    self._json(
        HTTPStatus.OK,
        {
            "processQueryKey": secrets.token_urlsafe(16),
            "invalidStaffIdList": [],
            "flowControlledStaffIdList": [],
        },
    )


def dingtalk_group_send(self: PlatformHandler) -> None:
    check = _dingtalk_token_check(self)
    if check is None:
        return
    body = self._json_body()
    if not isinstance(body, dict):
        _dingtalk_error(self, HTTPStatus.BAD_REQUEST, "InvalidParameter", "body不是合法的JSON")
        return
    conversation = body.get("openConversationId")
    if not isinstance(conversation, str) or not conversation:
        _dingtalk_error(
            self, HTTPStatus.BAD_REQUEST, "invalidParameter.openConversationId", "群会话id不合法"
        )
        return
    message = _dingtalk_message(self, body, check.token.app_id)
    if message is None:
        return
    _record(self, check.token.app_id, conversation, message, body, via="groupMessages")
    self._json(HTTPStatus.OK, {"processQueryKey": secrets.token_urlsafe(16)})


def dingtalk_send_by_session(self: PlatformHandler) -> None:
    session_key = self.query.get("session", "")
    fault = self.state.take_fault("dingtalk", "api")
    if fault is not None:
        if fault.kind == "timeout":
            self._hang(fault)
        elif fault.kind == "rate_limit":
            _errcode(self, 130101, "send too fast, exceed 20 times per minute")
        elif fault.kind == "server_error":
            _errcode(self, -1, "系统繁忙", HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            self.state.expire_session(session_key)
            _errcode(self, 300001, "session expired")
        return
    session = self.state.find_session(session_key) if session_key else None
    if session is None:
        _errcode(self, 300001, "token is not exist")
        return
    if session.expires_at <= time.time():
        _errcode(self, 300001, "session expired")
        return
    body = self._json_body()
    if not isinstance(body, dict):
        _errcode(self, 40035, "缺少参数 json")
        return
    msgtype = body.get("msgtype")
    part = body.get(msgtype) if isinstance(msgtype, str) else None
    text = None
    if msgtype == "text" and isinstance(part, dict):
        text = part.get("content")
    elif msgtype == "markdown" and isinstance(part, dict):
        text = part.get("text")
    if not isinstance(text, str) or not text:
        _errcode(self, 40035, "缺少参数 text")
        return
    at = body.get("at") if isinstance(body.get("at"), dict) else {}
    self.state.record_sent(
        "dingtalk",
        session.app_id,
        session.conversation_id,
        text,
        via="session_webhook",
        msgtype=msgtype,
        conversation_type=session.conversation_type,
        user_id=session.user_id,
        at_user_ids=list(at.get("atUserIds") or []),
    )
    _errcode(self, 0, "ok")


def _oapi_token_check(self: PlatformHandler) -> TokenCheck | None:
    """The legacy host's ?access_token= (the same tokens as the OpenAPI's), answered with
    its errcodes: 41001 missing, 40014 invalid or expired."""
    token = self.query.get("access_token")
    fault = self.state.take_fault("dingtalk", "api")
    if fault is not None:
        if fault.kind == "timeout":
            self._hang(fault)
        elif fault.kind == "rate_limit":
            _errcode(self, 90018, "当前企业调用该接口超过每分钟调用次数上限")
        elif fault.kind == "server_error":
            _errcode(self, -1, "系统繁忙", HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            if token:
                self.state.expire_token(token)
            _errcode(self, 40014, "不合法的access_token")
        return None
    check = self.state.check_token("dingtalk", token)
    if check.status == "missing":
        _errcode(self, 41001, "缺少access_token参数")
    elif check.status != "ok":
        _errcode(self, 40014, "不合法的access_token")
    else:
        return check
    return None


def dingtalk_media_upload(self: PlatformHandler) -> None:
    check = _oapi_token_check(self)
    if check is None:
        return
    media_type = self.query.get("type", "")
    if media_type not in DINGTALK_MEDIA_LIMITS:
        _errcode(self, 40004, "不合法的媒体文件类型")
        return
    media = (self.form() or {}).get("media")
    if media is None or media.filename is None:
        _errcode(self, 41005, "缺少多媒体文件数据")
        return
    if not media.data:
        _errcode(self, 44001, "多媒体文件为空")
        return
    extension = media.filename.rpartition(".")[2].lower() if "." in media.filename else ""
    if media_type == "file" and extension not in DINGTALK_FILE_EXTENSIONS:
        _errcode(self, 40005, "不合法的文件类型")
        return
    if len(media.data) > self.state.file_limit("dingtalk", DINGTALK_MEDIA_LIMITS[media_type]):
        _errcode(self, 40006, "不合法的文件大小")
        return
    upload = self.state.store_upload(
        "dingtalk",
        check.token.app_id,
        media.filename,
        media.content_type or "application/octet-stream",
        media.data,
        prefix="@lAzPD",
        media_type=media_type,
    )
    self._json(
        HTTPStatus.OK,
        {
            "errcode": 0,
            "errmsg": "ok",
            "type": media_type,
            "media_id": upload.upload_id,
            "created_at": int(upload.created_at * 1000),
        },
    )


ROUTES: dict[tuple[str, str], Callable[[PlatformHandler], None]] = {
    ("POST", "/media/upload"): dingtalk_media_upload,
    ("POST", "/v1.0/oauth2/accessToken"): dingtalk_access_token,
    ("POST", "/v1.0/robot/oToMessages/batchSend"): dingtalk_batch_send,
    ("POST", "/v1.0/robot/groupMessages/send"): dingtalk_group_send,
    ("POST", "/robot/sendBySession"): dingtalk_send_by_session,
}
