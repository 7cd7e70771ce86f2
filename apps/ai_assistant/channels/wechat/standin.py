"""The WeChat Official Account API as the platform stand-in (devtools/platforms.py) serves it:

    GET  /cgi-bin/token?grant_type=client_credential&appid=&secret=
    POST /cgi-bin/stable_token                 {grant_type, appid, secret, force_refresh}
    POST /cgi-bin/message/custom/send?access_token=

Errors are {"errcode", "errmsg"} as WeChat answers them (see docs/channels.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ..tencent_standin import _errcode, _tencent_fault, _tencent_token_check

if TYPE_CHECKING:
    from devtools.platforms import App, PlatformHandler


def _wechat_credentials(
    self: PlatformHandler, appid: Any, secret: Any, grant_type: Any
) -> App | None:
    self.state.count_token_request("wechat", str(appid or ""))
    if _tencent_fault(self, "wechat", "token"):
        return None
    if grant_type != "client_credential":
        _errcode(self, 40002, "invalid grant_type")
        return None
    app = self.state.find_app("wechat", str(appid or ""))
    if app is None:
        _errcode(self, 40013, "invalid appid")
        return None
    if not isinstance(secret, str) or not secrets.compare_digest(
        secret.encode(), app.secret.encode()
    ):
        _errcode(self, 40125, "invalid appsecret")
        return None
    return app


def wechat_token(self: PlatformHandler) -> None:
    q = self.query
    app = _wechat_credentials(self, q.get("appid"), q.get("secret"), q.get("grant_type"))
    if app:
        # The classic token: every fetch issues a new one and invalidates the previous.
        value, expires_in = self.state.issue_token(app, "classic", reuse=False)
        self._json(HTTPStatus.OK, {"access_token": value, "expires_in": expires_in})


def wechat_stable_token(self: PlatformHandler) -> None:
    body = self._json_body()
    if not isinstance(body, dict):
        self.state.count_token_request("wechat", "")
        _errcode(self, 47001, "data format error")
        return
    app = _wechat_credentials(self, body.get("appid"), body.get("secret"), body.get("grant_type"))
    if app:
        force = body.get("force_refresh") is True
        # Renewed in its last 5 minutes, the old token valid until it expires.
        value, expires_in = self.state.issue_token(
            app, "stable", reuse=True, force=force, renew_within=300
        )
        self._json(HTTPStatus.OK, {"access_token": value, "expires_in": expires_in})


def wechat_custom_send(self: PlatformHandler) -> None:
    check = _tencent_token_check(self, "wechat")
    if check is None:
        return
    body = self._json_body()
    if not isinstance(body, dict):
        _errcode(self, 47001, "data format error")
        return
    touser, msgtype = body.get("touser"), body.get("msgtype")
    if not isinstance(touser, str) or not touser:
        _errcode(self, 40003, "invalid openid")
        return
    if msgtype != "text":
        _errcode(self, 40008, "invalid message type")
        return
    text = (body.get("text") or {}).get("content") if isinstance(body.get("text"), dict) else None
    if not isinstance(text, str) or not text:
        _errcode(self, 44004, "empty content")
        return
    self.state.record_sent(
        "wechat", check.token.app_id, touser, text, via="custom_send", msgtype=msgtype
    )
    _errcode(self, 0, "ok")


ROUTES: dict[tuple[str, str], Callable[[PlatformHandler], None]] = {
    ("GET", "/cgi-bin/token"): wechat_token,
    ("POST", "/cgi-bin/stable_token"): wechat_stable_token,
    ("POST", "/cgi-bin/message/custom/send"): wechat_custom_send,
}
