"""The stand-in's helpers WeChat and WeCom share: both answer errors as {"errcode", "errmsg"}
in a JSON body (HTTP 200 unless the server fails) and take the token as `?access_token=`.

Used by wechat/standin.py and wecom/standin.py; the functions take the stand-in's request
handler (devtools/platforms.py) as first argument.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.platforms import PlatformHandler, TokenCheck


def _errcode(self: PlatformHandler, errcode: int, errmsg: str, status: int = HTTPStatus.OK) -> None:
    self._json(status, {"errcode": errcode, "errmsg": errmsg})


def _tencent_fault(
    self: PlatformHandler, platform: str, endpoint: str, token: str | None = None
) -> bool:
    fault = self.state.take_fault(platform, endpoint)
    if fault is None:
        return False
    if fault.kind == "timeout":
        self._hang(fault)
    elif fault.kind == "rate_limit":
        _errcode(self, 45009, "reach max api daily quota limit")
    elif fault.kind == "server_error":
        _errcode(self, -1, "system error", HTTPStatus.SERVICE_UNAVAILABLE)
    else:
        if token:
            self.state.expire_token(token)
        _errcode(self, 42001, "access_token expired")
    return True


def _tencent_token_check(self: PlatformHandler, platform: str) -> TokenCheck | None:
    """The request's token if valid; otherwise answers the platform's error and None."""
    token = self.query.get("access_token")
    if _tencent_fault(self, platform, "api", token):
        return None
    check = self.state.check_token(platform, token)
    if check.status == "missing":
        _errcode(self, 41001, "access_token missing")
    elif check.status == "invalid":
        if platform == "wechat":
            _errcode(self, 40001, "invalid credential, access_token is invalid or not latest")
        else:
            _errcode(self, 40014, "invalid access_token")
    elif check.status == "expired":
        _errcode(self, 42001, "access_token expired")
    else:
        return check
    return None
