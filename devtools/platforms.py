"""A local stand-in for the chat platforms' API servers: WeChat, WeCom, DingTalk and Telegram.

It speaks each platform's wire protocol (paths, parameters, JSON shapes, error codes, see
docs/channels.md) so the token service and the channel senders are tested over real HTTP:

    WeChat    GET  /cgi-bin/token?grant_type=client_credential&appid=&secret=
              POST /cgi-bin/stable_token                 {grant_type, appid, secret, force_refresh}
              POST /cgi-bin/message/custom/send?access_token=
    WeCom     GET  /cgi-bin/gettoken?corpid=&corpsecret=
              POST /cgi-bin/message/send?access_token=   {touser, agentid, msgtype, text}
    DingTalk  POST /v1.0/oauth2/accessToken              {appKey, appSecret}
              POST /v1.0/robot/oToMessages/batchSend     header x-acs-dingtalk-access-token
              POST /v1.0/robot/groupMessages/send        header x-acs-dingtalk-access-token
              POST /robot/sendBySession?session=         the sessionWebhook of an inbound message
    Telegram  POST /bot<token>/sendMessage | setWebhook | getWebhookInfo | deleteWebhook | getMe

A control API lets tests and the demo register apps, read what was sent and inject faults:

    GET|POST   /_control/apps      {"platform","app_id","secret","expires_in"?,"agent_id"?}
    GET|DELETE /_control/sent      every accepted message: {platform, app, recipient, text, ...}
    GET        /_control/stats     token requests per platform:app, send requests
    GET|POST|DELETE /_control/faults  {"platform","kind","count","endpoint"?,"seconds"?,
                                     "retry_after"?}; kind: rate_limit | server_error |
                                     expired_token | timeout; endpoint: token | api (default any)
    POST       /_control/expire    {"platform"?,"app_id"?}: the apps' tokens expire now
    POST       /_control/sessions  {"app_id","conversation_id","conversation_type"?,"user_id"?,
                                     "ttl"?}: a DingTalk sessionWebhook URL valid for ttl seconds
    GET        /_control/webhooks  Telegram webhooks set per bot
    POST       /_control/reset     forget tokens, sends, stats, faults and sessions (apps stay)

Run it with `python -m devtools.platforms --port 9100 --app telegram:mybot:123:ABC ...`, or
in-process with `start_platforms(port=0)`. It binds loopback addresses only and bounds every
collection it keeps.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qs, urlsplit

PLATFORMS = ("wechat", "wecom", "dingtalk", "telegram")
FAULT_KINDS = ("rate_limit", "server_error", "expired_token", "timeout")
FAULT_ENDPOINTS = ("token", "api")

MAX_BODY_BYTES = 1024 * 1024
MAX_APPS = 1000
MAX_FAULTS = 100
MAX_FAULT_COUNT = 1000
MAX_SENT = 2000
MAX_SESSIONS = 10_000
MAX_TIMEOUT_SECONDS = 30.0
MAX_EXPIRES_IN = 7 * 24 * 3600
DEFAULT_EXPIRES_IN = 7200
DEFAULT_SESSION_TTL = 90 * 60
SOCKET_TIMEOUT_SECONDS = 15
WECOM_MAX_TEXT_BYTES = 2048
TELEGRAM_MAX_TEXT_UNITS = 4096
TELEGRAM_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ControlError(ValueError):
    """A control request the stand-in refuses; the message says why."""


@dataclass
class App:
    platform: str
    app_id: str
    secret: str
    expires_in: float = DEFAULT_EXPIRES_IN
    agent_id: str = ""

    def public(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "app_id": self.app_id,
            "expires_in": self.expires_in,
            "agent_id": self.agent_id,
        }


@dataclass
class IssuedToken:
    value: str
    platform: str
    app_id: str
    kind: str
    expires_at: float


@dataclass
class Fault:
    platform: str
    kind: str
    remaining: int
    endpoint: str = ""
    seconds: float = 5.0
    retry_after: int = 3


@dataclass
class Session:
    app_id: str
    conversation_id: str
    conversation_type: str
    user_id: str
    expires_at: float


@dataclass
class TokenCheck:
    status: str  # ok | missing | invalid | expired
    token: IssuedToken | None = None


@dataclass
class PlatformState:
    """Everything the stand-in remembers; every method takes the one lock."""

    default_expires_in: float = DEFAULT_EXPIRES_IN
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    apps: dict[tuple[str, str], App] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    current: dict[tuple[str, str, str], str] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    sent: deque = field(default_factory=lambda: deque(maxlen=MAX_SENT))
    token_requests: Counter = field(default_factory=Counter)
    api_requests: Counter = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)
    telegram_webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    message_seq: int = 0

    # --- apps ---------------------------------------------------------------------------
    def register_app(
        self,
        platform: str,
        app_id: str,
        secret: str,
        expires_in: float | None = None,
        agent_id: str = "",
    ) -> App:
        if platform not in PLATFORMS:
            raise ControlError(f"unknown platform {platform!r}")
        if not isinstance(app_id, str) or not app_id or len(app_id) > 256:
            raise ControlError("app_id must be a non-empty string of at most 256 characters")
        if not isinstance(secret, str) or not secret or len(secret) > 512:
            raise ControlError("secret must be a non-empty string of at most 512 characters")
        expires = self.default_expires_in if expires_in is None else expires_in
        if not isinstance(expires, int | float) or not 0 <= expires <= MAX_EXPIRES_IN:
            raise ControlError(f"expires_in must be between 0 and {MAX_EXPIRES_IN} seconds")
        with self.lock:
            if (platform, app_id) not in self.apps and len(self.apps) >= MAX_APPS:
                raise ControlError(f"at most {MAX_APPS} apps")
            app = App(platform, app_id, secret, float(expires), str(agent_id or ""))
            self.apps[(platform, app_id)] = app
            return app

    def find_app(self, platform: str, app_id: str) -> App | None:
        with self.lock:
            return self.apps.get((platform, app_id))

    def telegram_app(self, bot_token: str) -> App | None:
        with self.lock:
            for app in self.apps.values():
                if app.platform == "telegram" and secrets.compare_digest(
                    app.secret.encode(), bot_token.encode()
                ):
                    return app
        return None

    # --- tokens -------------------------------------------------------------------------
    def count_token_request(self, platform: str, app_id: str) -> None:
        with self.lock:
            if len(self.token_requests) < MAX_APPS * 4:
                self.token_requests[f"{platform}:{app_id[:100]}"] += 1

    def issue_token(
        self,
        app: App,
        kind: str,
        *,
        reuse: bool,
        extend: bool = False,
        force: bool = False,
        renew_within: float = 0,
    ) -> tuple[str, int]:
        """The app's token of that kind: the current one while valid (if `reuse`), else new.

        `renew_within`: in its last seconds the current token is replaced by a new one while
        the old one stays valid until it expires (WeChat's stable token).
        """
        now = time.time()
        with self.lock:
            key = (app.platform, app.app_id, kind)
            current = self.tokens.get(self.current.get(key, ""))
            remaining = current.expires_at - now if current else 0
            if reuse and not force and current and remaining > max(renew_within, 0):
                if extend:
                    current.expires_at = now + app.expires_in
                return current.value, max(0, round(current.expires_at - now))
            if current and not (renew_within and remaining > 0 and not force):
                self.tokens.pop(current.value, None)
            self._prune_tokens(now)
            value = secrets.token_urlsafe(48)
            self.tokens[value] = IssuedToken(
                value, app.platform, app.app_id, kind, now + app.expires_in
            )
            self.current[key] = value
            return value, round(app.expires_in)

    def _prune_tokens(self, now: float) -> None:
        # Expired tokens that are no longer any app's current one are forgotten.
        current = set(self.current.values())
        for value in [
            v for v, t in self.tokens.items() if t.expires_at <= now and v not in current
        ]:
            del self.tokens[value]

    def check_token(self, platform: str, value: str | None) -> TokenCheck:
        if not value:
            return TokenCheck("missing")
        with self.lock:
            token = self.tokens.get(value)
        if token is None or token.platform != platform:
            return TokenCheck("invalid")
        if token.expires_at <= time.time():
            return TokenCheck("expired", token)
        return TokenCheck("ok", token)

    def expire_token(self, value: str) -> None:
        with self.lock:
            token = self.tokens.get(value)
            if token:
                token.expires_at = min(token.expires_at, time.time())

    def expire_tokens(self, platform: str = "", app_id: str = "") -> int:
        """Expire every token (of a platform, of an app) now; returns how many."""
        now = time.time()
        count = 0
        with self.lock:
            for token in self.tokens.values():
                if (not platform or token.platform == platform) and (
                    not app_id or token.app_id == app_id
                ):
                    if token.expires_at > now:
                        count += 1
                    token.expires_at = min(token.expires_at, now)
        return count

    # --- faults -------------------------------------------------------------------------
    def add_fault(
        self,
        platform: str,
        kind: str,
        count: int = 1,
        endpoint: str = "",
        seconds: float = 5.0,
        retry_after: int = 3,
    ) -> Fault:
        if platform not in PLATFORMS:
            raise ControlError(f"unknown platform {platform!r}")
        if kind not in FAULT_KINDS:
            raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if endpoint and endpoint not in FAULT_ENDPOINTS:
            raise ControlError("endpoint must be token, api or empty")
        if not isinstance(count, int) or not 1 <= count <= MAX_FAULT_COUNT:
            raise ControlError(f"count must be an integer from 1 to {MAX_FAULT_COUNT}")
        if not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_TIMEOUT_SECONDS:
            raise ControlError(f"seconds must be between 0 and {MAX_TIMEOUT_SECONDS}")
        if not isinstance(retry_after, int) or not 1 <= retry_after <= 3600:
            raise ControlError("retry_after must be an integer from 1 to 3600")
        with self.lock:
            if len(self.faults) >= MAX_FAULTS:
                raise ControlError(f"at most {MAX_FAULTS} pending faults")
            fault = Fault(platform, kind, count, endpoint, float(seconds), retry_after)
            self.faults.append(fault)
            return fault

    def take_fault(self, platform: str, endpoint: str) -> Fault | None:
        """Consume one pending fault that applies to this request, if any."""
        with self.lock:
            for fault in self.faults:
                if fault.platform != platform or (fault.endpoint and fault.endpoint != endpoint):
                    continue
                if fault.kind == "expired_token" and endpoint != "api":
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- sends --------------------------------------------------------------------------
    def record_sent(self, platform: str, app: str, recipient: str, text: str, **extra) -> int:
        with self.lock:
            self.message_seq += 1
            self.api_requests[f"{platform}:{app[:100]}"] += 1
            entry = {
                "platform": platform,
                "app": app,
                "recipient": recipient,
                "text": text,
                "message_id": self.message_seq,
                "at": datetime.now(UTC).isoformat(),
                **extra,
            }
            self.sent.append(entry)
            return self.message_seq

    def sent_messages(self, platform: str = "", app: str = "") -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(entry)
                for entry in self.sent
                if (not platform or entry["platform"] == platform)
                and (not app or entry["app"] == app)
            ]

    def clear_sent(self) -> int:
        with self.lock:
            count = len(self.sent)
            self.sent.clear()
            return count

    # --- DingTalk sessions --------------------------------------------------------------
    def create_session(
        self,
        app_id: str,
        conversation_id: str,
        conversation_type: str = "1",
        user_id: str = "",
        ttl: float = DEFAULT_SESSION_TTL,
    ) -> tuple[str, float]:
        """A new sessionWebhook token and its expiry (epoch seconds)."""
        if not isinstance(ttl, int | float) or not 0 <= ttl <= MAX_EXPIRES_IN:
            raise ControlError(f"ttl must be between 0 and {MAX_EXPIRES_IN} seconds")
        for name, value in (("app_id", app_id), ("conversation_id", conversation_id)):
            if not isinstance(value, str) or not value or len(value) > 256:
                raise ControlError(f"{name} must be a non-empty string")
        now = time.time()
        session = secrets.token_urlsafe(24)
        with self.lock:
            if len(self.sessions) >= MAX_SESSIONS:
                for key in [k for k, s in self.sessions.items() if s.expires_at <= now]:
                    del self.sessions[key]
            while len(self.sessions) >= MAX_SESSIONS:
                del self.sessions[next(iter(self.sessions))]
            self.sessions[session] = Session(
                app_id, conversation_id, str(conversation_type), str(user_id or ""), now + ttl
            )
        return session, now + ttl

    def find_session(self, session: str) -> Session | None:
        with self.lock:
            return self.sessions.get(session)

    def expire_session(self, session: str) -> None:
        with self.lock:
            if session in self.sessions:
                self.sessions[session].expires_at = min(
                    self.sessions[session].expires_at, time.time()
                )

    # --- stats and reset ----------------------------------------------------------------
    def token_request_count(self, platform: str, app_id: str) -> int:
        with self.lock:
            return self.token_requests[f"{platform}:{app_id[:100]}"]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "token_requests": dict(self.token_requests),
                "token_requests_total": sum(self.token_requests.values()),
                "send_requests": dict(self.api_requests),
                "sent_total": len(self.sent),
                "faults_pending": [asdict(fault) for fault in self.faults],
            }

    def reset(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.current.clear()
            self.sessions.clear()
            self.sent.clear()
            self.token_requests.clear()
            self.api_requests.clear()
            self.faults.clear()
            self.telegram_webhooks.clear()


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


class PlatformHandler(BaseHTTPRequestHandler):
    server: PlatformServer
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Quiet by default: request lines carry access tokens in the query.
        if self.server.verbose:
            path = urlsplit(self.path).path
            print(f"{self.command} {path} {args[1] if len(args) > 1 else ''}", flush=True)

    # --- plumbing -----------------------------------------------------------------------
    @property
    def state(self) -> PlatformState:
        return self.server.state

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        self.route = url.path
        self.query = {key: values[0] for key, values in parse_qs(url.query).items()}
        try:
            self.body = self._read_body()
        except ValueError as error:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": str(error)})
            return
        try:
            if self.route.startswith("/_control/"):
                self._control()
            elif self.route.startswith("/bot"):
                self._telegram()
            else:
                handler = ROUTES.get((self.command, self.route))
                if handler is None:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                else:
                    handler(self)
        except ControlError as error:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ValueError(f"body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _hang(self, fault: Fault) -> None:
        """A timeout fault: hold the request, then drop the connection without an answer."""
        self.server.stopping.wait(fault.seconds)
        self.close_connection = True

    # --- WeChat and WeCom (errcode in a 200 JSON body) ----------------------------------
    def _errcode(self, errcode: int, errmsg: str, status: int = HTTPStatus.OK) -> None:
        self._json(status, {"errcode": errcode, "errmsg": errmsg})

    def _tencent_fault(self, platform: str, endpoint: str, token: str | None = None) -> bool:
        fault = self.state.take_fault(platform, endpoint)
        if fault is None:
            return False
        if fault.kind == "timeout":
            self._hang(fault)
        elif fault.kind == "rate_limit":
            self._errcode(45009, "reach max api daily quota limit")
        elif fault.kind == "server_error":
            self._errcode(-1, "system error", HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            if token:
                self.state.expire_token(token)
            self._errcode(42001, "access_token expired")
        return True

    def _tencent_token_check(self, platform: str) -> TokenCheck | None:
        """The request's token if valid; otherwise answers the platform's error and None."""
        token = self.query.get("access_token")
        if self._tencent_fault(platform, "api", token):
            return None
        check = self.state.check_token(platform, token)
        if check.status == "missing":
            self._errcode(41001, "access_token missing")
        elif check.status == "invalid":
            if platform == "wechat":
                self._errcode(40001, "invalid credential, access_token is invalid or not latest")
            else:
                self._errcode(40014, "invalid access_token")
        elif check.status == "expired":
            self._errcode(42001, "access_token expired")
        else:
            return check
        return None

    def _wechat_credentials(self, appid: Any, secret: Any, grant_type: Any) -> App | None:
        self.state.count_token_request("wechat", str(appid or ""))
        if self._tencent_fault("wechat", "token"):
            return None
        if grant_type != "client_credential":
            self._errcode(40002, "invalid grant_type")
            return None
        app = self.state.find_app("wechat", str(appid or ""))
        if app is None:
            self._errcode(40013, "invalid appid")
            return None
        if not isinstance(secret, str) or not secrets.compare_digest(
            secret.encode(), app.secret.encode()
        ):
            self._errcode(40125, "invalid appsecret")
            return None
        return app

    def wechat_token(self) -> None:
        q = self.query
        app = self._wechat_credentials(q.get("appid"), q.get("secret"), q.get("grant_type"))
        if app:
            # The classic token: every fetch issues a new one and invalidates the previous.
            value, expires_in = self.state.issue_token(app, "classic", reuse=False)
            self._json(HTTPStatus.OK, {"access_token": value, "expires_in": expires_in})

    def wechat_stable_token(self) -> None:
        body = self._json_body()
        if not isinstance(body, dict):
            self.state.count_token_request("wechat", "")
            self._errcode(47001, "data format error")
            return
        app = self._wechat_credentials(
            body.get("appid"), body.get("secret"), body.get("grant_type")
        )
        if app:
            force = body.get("force_refresh") is True
            # Renewed in its last 5 minutes, the old token valid until it expires.
            value, expires_in = self.state.issue_token(
                app, "stable", reuse=True, force=force, renew_within=300
            )
            self._json(HTTPStatus.OK, {"access_token": value, "expires_in": expires_in})

    def wechat_custom_send(self) -> None:
        check = self._tencent_token_check("wechat")
        if check is None:
            return
        body = self._json_body()
        if not isinstance(body, dict):
            self._errcode(47001, "data format error")
            return
        touser, msgtype = body.get("touser"), body.get("msgtype")
        if not isinstance(touser, str) or not touser:
            self._errcode(40003, "invalid openid")
            return
        if msgtype != "text":
            self._errcode(40008, "invalid message type")
            return
        text = (
            (body.get("text") or {}).get("content") if isinstance(body.get("text"), dict) else None
        )
        if not isinstance(text, str) or not text:
            self._errcode(44004, "empty content")
            return
        self.state.record_sent(
            "wechat", check.token.app_id, touser, text, via="custom_send", msgtype=msgtype
        )
        self._errcode(0, "ok")

    def wecom_gettoken(self) -> None:
        corpid, corpsecret = self.query.get("corpid", ""), self.query.get("corpsecret", "")
        self.state.count_token_request("wecom", corpid)
        if self._tencent_fault("wecom", "token"):
            return
        if not corpid:
            self._errcode(41002, "corpid missing")
            return
        if not corpsecret:
            self._errcode(41004, "corpsecret missing")
            return
        app = self.state.find_app("wecom", corpid)
        if app is None:
            self._errcode(40013, "invalid corpid")
            return
        if not secrets.compare_digest(corpsecret.encode(), app.secret.encode()):
            self._errcode(40001, "invalid credential")
            return
        value, expires_in = self.state.issue_token(app, "token", reuse=True)
        self._json(
            HTTPStatus.OK,
            {"errcode": 0, "errmsg": "ok", "access_token": value, "expires_in": expires_in},
        )

    def wecom_message_send(self) -> None:
        check = self._tencent_token_check("wecom")
        if check is None:
            return
        body = self._json_body()
        if not isinstance(body, dict):
            self._errcode(47001, "data format error")
            return
        app = self.state.find_app("wecom", check.token.app_id)
        agentid = str(body.get("agentid", ""))
        if app and app.agent_id and agentid != app.agent_id:
            self._errcode(40056, "invalid agentid")
            return
        touser = body.get("touser")
        users = [u for u in touser.split("|") if u] if isinstance(touser, str) else []
        if not users:
            self._errcode(81013, "user & party & tag all invalid")
            return
        if body.get("msgtype") != "text":
            self._errcode(40008, "invalid message type")
            return
        text = body.get("text", {}).get("content") if isinstance(body.get("text"), dict) else None
        if not isinstance(text, str) or not text:
            self._errcode(44004, "empty content")
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

    # --- DingTalk (HTTP status + {"code","message"} on errors) --------------------------
    def _dingtalk_error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"code": code, "message": message, "requestid": secrets.token_hex(8)})

    def _dingtalk_fault(self, endpoint: str, token: str | None = None) -> bool:
        fault = self.state.take_fault("dingtalk", endpoint)
        if fault is None:
            return False
        if fault.kind == "timeout":
            self._hang(fault)
        elif fault.kind == "rate_limit":
            self._dingtalk_error(
                HTTPStatus.FORBIDDEN, "Forbidden.AccessDenied.QpsLimitForApi", "调用该接口触发限流"
            )
        elif fault.kind == "server_error":
            self._dingtalk_error(HTTPStatus.SERVICE_UNAVAILABLE, "ServiceUnavailable", "服务不可用")
        else:
            if token:
                self.state.expire_token(token)
            self._dingtalk_error(
                HTTPStatus.UNAUTHORIZED, "InvalidAuthentication", "不合法的access_token"
            )
        return True

    def dingtalk_access_token(self) -> None:
        body = self._json_body()
        body = body if isinstance(body, dict) else {}
        app_key, app_secret = body.get("appKey"), body.get("appSecret")
        self.state.count_token_request("dingtalk", str(app_key or ""))
        if self._dingtalk_fault("token"):
            return
        if not isinstance(app_key, str) or not app_key:
            self._dingtalk_error(HTTPStatus.BAD_REQUEST, "MissingappKey", "appKey is mandatory")
            return
        if not isinstance(app_secret, str) or not app_secret:
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "MissingappSecret", "appSecret is mandatory"
            )
            return
        app = self.state.find_app("dingtalk", app_key)
        if app is None or not secrets.compare_digest(app_secret.encode(), app.secret.encode()):
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "invalidClientIdOrSecret", "无效的clientId或者clientSecret"
            )
            return
        # Fetching within validity returns the same token and extends it.
        value, expires_in = self.state.issue_token(app, "token", reuse=True, extend=True)
        self._json(HTTPStatus.OK, {"accessToken": value, "expireIn": expires_in})

    def _dingtalk_token_check(self) -> TokenCheck | None:
        token = self.headers.get("x-acs-dingtalk-access-token")
        if self._dingtalk_fault("api", token):
            return None
        check = self.state.check_token("dingtalk", token)
        if check.status != "ok":
            self._dingtalk_error(
                HTTPStatus.UNAUTHORIZED, "InvalidAuthentication", "不合法的access_token"
            )
            return None
        return check

    def _dingtalk_message(self, body: dict[str, Any], app_id: str) -> tuple[str, str] | None:
        """(msgKey, text) of a robot OpenAPI body; answers 400 and None when it is off."""
        if body.get("robotCode") != app_id:
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "invalidParameter.robotCode", "robotCode不合法"
            )
            return None
        msg_key, msg_param = body.get("msgKey"), body.get("msgParam")
        try:
            param = json.loads(msg_param) if isinstance(msg_param, str) else None
        except ValueError:
            param = None
        if msg_key not in ("sampleText", "sampleMarkdown") or not isinstance(param, dict):
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "invalidParameter.msgParam", "msgKey或msgParam不合法"
            )
            return None
        text = param.get("content") if msg_key == "sampleText" else param.get("text")
        if not isinstance(text, str) or not text:
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "invalidParameter.msgParam", "消息内容不能为空"
            )
            return None
        return msg_key, text

    def dingtalk_batch_send(self) -> None:
        check = self._dingtalk_token_check()
        if check is None:
            return
        body = self._json_body()
        if not isinstance(body, dict):
            self._dingtalk_error(HTTPStatus.BAD_REQUEST, "InvalidParameter", "body不是合法的JSON")
            return
        user_ids = body.get("userIds")
        if (
            not isinstance(user_ids, list)
            or not user_ids
            or len(user_ids) > 20
            or not all(isinstance(u, str) and u for u in user_ids)
        ):
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "invalidParameter.userIds", "userIds不合法"
            )
            return
        message = self._dingtalk_message(body, check.token.app_id)
        if message is None:
            return
        for user_id in user_ids:
            self.state.record_sent(
                "dingtalk",
                check.token.app_id,
                user_id,
                message[1],
                via="batchSend",
                msgKey=message[0],
            )
        self._json(
            HTTPStatus.OK,
            {
                "processQueryKey": secrets.token_urlsafe(16),
                "invalidStaffIdList": [],
                "flowControlledStaffIdList": [],
            },
        )

    def dingtalk_group_send(self) -> None:
        check = self._dingtalk_token_check()
        if check is None:
            return
        body = self._json_body()
        if not isinstance(body, dict):
            self._dingtalk_error(HTTPStatus.BAD_REQUEST, "InvalidParameter", "body不是合法的JSON")
            return
        conversation = body.get("openConversationId")
        if not isinstance(conversation, str) or not conversation:
            self._dingtalk_error(
                HTTPStatus.BAD_REQUEST, "invalidParameter.openConversationId", "群会话id不合法"
            )
            return
        message = self._dingtalk_message(body, check.token.app_id)
        if message is None:
            return
        self.state.record_sent(
            "dingtalk",
            check.token.app_id,
            conversation,
            message[1],
            via="groupMessages",
            msgKey=message[0],
        )
        self._json(HTTPStatus.OK, {"processQueryKey": secrets.token_urlsafe(16)})

    def dingtalk_send_by_session(self) -> None:
        session_key = self.query.get("session", "")
        fault = self.state.take_fault("dingtalk", "api")
        if fault is not None:
            if fault.kind == "timeout":
                self._hang(fault)
            elif fault.kind == "rate_limit":
                self._errcode(130101, "send too fast, exceed 20 times per minute")
            elif fault.kind == "server_error":
                self._errcode(-1, "系统繁忙", HTTPStatus.SERVICE_UNAVAILABLE)
            else:
                self.state.expire_session(session_key)
                self._errcode(300001, "session expired")
            return
        session = self.state.find_session(session_key) if session_key else None
        if session is None:
            self._errcode(300001, "token is not exist")
            return
        if session.expires_at <= time.time():
            self._errcode(300001, "session expired")
            return
        body = self._json_body()
        if not isinstance(body, dict):
            self._errcode(40035, "缺少参数 json")
            return
        msgtype = body.get("msgtype")
        part = body.get(msgtype) if isinstance(msgtype, str) else None
        text = None
        if msgtype == "text" and isinstance(part, dict):
            text = part.get("content")
        elif msgtype == "markdown" and isinstance(part, dict):
            text = part.get("text")
        if not isinstance(text, str) or not text:
            self._errcode(40035, "缺少参数 text")
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
        self._errcode(0, "ok")

    # --- Telegram ({"ok": ...} always) --------------------------------------------------
    def _telegram_error(self, status: int, description: str, **parameters: Any) -> None:
        payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            payload["parameters"] = parameters
        self._json(status, payload)

    def _telegram_params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.query)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/json":
            body = self._json_body()
            if isinstance(body, dict):
                params.update(body)
        elif self.body:
            try:
                form = parse_qs(self.body.decode("utf-8"))
            except UnicodeDecodeError:
                form = {}
            params.update({key: values[0] for key, values in form.items()})
        return params

    def _telegram(self) -> None:
        parts = self.route.split("/")
        if len(parts) != 3 or not parts[1].startswith("bot"):
            self._telegram_error(HTTPStatus.NOT_FOUND, "Not Found")
            return
        bot_token, method = parts[1][3:], parts[2]
        fault = self.state.take_fault("telegram", "api")
        if fault is not None:
            if fault.kind == "timeout":
                self._hang(fault)
            elif fault.kind == "rate_limit":
                self._telegram_error(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    retry_after=fault.retry_after,
                )
            elif fault.kind == "server_error":
                self._telegram_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal Server Error")
            else:
                self._telegram_error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            return
        app = self.state.telegram_app(bot_token) if bot_token else None
        if app is None:
            self._telegram_error(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            return
        handler = TELEGRAM_METHODS.get(method.lower())
        if handler is None:
            self._telegram_error(HTTPStatus.NOT_FOUND, "Not Found: method not found")
            return
        handler(self, app, self._telegram_params())

    def _telegram_bot(self, app: App) -> dict[str, Any]:
        bot_id = app.secret.split(":", 1)[0]
        return {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": app.app_id,
            "username": app.app_id,
        }

    def telegram_send_message(self, app: App, params: dict[str, Any]) -> None:
        chat_id, text = params.get("chat_id"), params.get("text")
        if chat_id in (None, ""):
            self._telegram_error(HTTPStatus.BAD_REQUEST, "Bad Request: chat_id is empty")
            return
        if not isinstance(text, str) or not text.strip():
            self._telegram_error(HTTPStatus.BAD_REQUEST, "Bad Request: message text is empty")
            return
        if _utf16_units(text) > TELEGRAM_MAX_TEXT_UNITS:
            self._telegram_error(HTTPStatus.BAD_REQUEST, "Bad Request: message is too long")
            return
        message_id = self.state.record_sent(
            "telegram",
            app.app_id,
            str(chat_id),
            text,
            via="sendMessage",
            parse_mode=params.get("parse_mode") or "",
        )
        chat: dict[str, Any] = {
            "id": int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id
        }
        chat["type"] = "private" if not str(chat_id).startswith("-") else "group"
        self._json(
            HTTPStatus.OK,
            {
                "ok": True,
                "result": {
                    "message_id": message_id,
                    "from": self._telegram_bot(app),
                    "chat": chat,
                    "date": int(time.time()),
                    "text": text,
                },
            },
        )

    def telegram_set_webhook(self, app: App, params: dict[str, Any]) -> None:
        url = params.get("url", "")
        if not isinstance(url, str):
            self._telegram_error(HTTPStatus.BAD_REQUEST, "Bad Request: bad webhook: invalid URL")
            return
        if not url:
            with self.state.lock:
                existed = self.state.telegram_webhooks.pop(app.app_id, None)
            description = "Webhook was deleted" if existed else "Webhook is already deleted"
            self._json(HTTPStatus.OK, {"ok": True, "result": True, "description": description})
            return
        parsed = urlsplit(url)
        if parsed.scheme != "https" or not parsed.hostname:
            self._telegram_error(
                HTTPStatus.BAD_REQUEST,
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
            )
            return
        if (parsed.port or 443) not in (443, 80, 88, 8443):
            self._telegram_error(
                HTTPStatus.BAD_REQUEST,
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            )
            return
        secret_token = params.get("secret_token", "")
        if secret_token and (
            not isinstance(secret_token, str) or not TELEGRAM_SECRET_TOKEN.match(secret_token)
        ):
            self._telegram_error(
                HTTPStatus.BAD_REQUEST, "Bad Request: secret token contains unallowed characters"
            )
            return
        allowed = params.get("allowed_updates", [])
        if isinstance(allowed, str):
            try:
                allowed = json.loads(allowed)
            except ValueError:
                allowed = None
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            self._telegram_error(HTTPStatus.BAD_REQUEST, "Bad Request: can't parse allowed updates")
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

    def telegram_delete_webhook(self, app: App, params: dict[str, Any]) -> None:
        self.telegram_set_webhook(app, {**params, "url": ""})

    def telegram_get_webhook_info(self, app: App, params: dict[str, Any]) -> None:
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

    def telegram_get_me(self, app: App, params: dict[str, Any]) -> None:
        self._json(HTTPStatus.OK, {"ok": True, "result": self._telegram_bot(app)})

    # --- control API --------------------------------------------------------------------
    def _control(self) -> None:
        name, method = self.route[len("/_control/") :].strip("/"), self.command
        body = self._json_body() if self.body else {}
        if not isinstance(body, dict):
            raise ControlError("body must be a JSON object")
        state = self.state
        if name == "apps" and method == "GET":
            with state.lock:
                apps = [app.public() for app in state.apps.values()]
            self._json(HTTPStatus.OK, apps)
        elif name == "apps" and method == "POST":
            app = state.register_app(
                body.get("platform", ""),
                body.get("app_id", ""),
                body.get("secret", ""),
                body.get("expires_in"),
                body.get("agent_id", ""),
            )
            self._json(HTTPStatus.CREATED, app.public())
        elif name == "sent" and method == "GET":
            self._json(
                HTTPStatus.OK,
                state.sent_messages(self.query.get("platform", ""), self.query.get("app", "")),
            )
        elif name == "sent" and method == "DELETE":
            self._json(HTTPStatus.OK, {"cleared": state.clear_sent()})
        elif name == "stats" and method == "GET":
            self._json(HTTPStatus.OK, state.stats())
        elif name == "faults" and method == "GET":
            self._json(HTTPStatus.OK, state.stats()["faults_pending"])
        elif name == "faults" and method == "POST":
            fault = state.add_fault(
                body.get("platform", ""),
                body.get("kind", ""),
                body.get("count", 1),
                body.get("endpoint", ""),
                body.get("seconds", 5.0),
                body.get("retry_after", 3),
            )
            self._json(HTTPStatus.CREATED, asdict(fault))
        elif name == "faults" and method == "DELETE":
            with state.lock:
                state.faults.clear()
            self._json(HTTPStatus.OK, {"cleared": True})
        elif name == "expire" and method == "POST":
            count = state.expire_tokens(body.get("platform", ""), body.get("app_id", ""))
            self._json(HTTPStatus.OK, {"expired": count})
        elif name == "sessions" and method == "POST":
            session, expires_at = state.create_session(
                body.get("app_id", ""),
                body.get("conversation_id", ""),
                body.get("conversation_type", "1"),
                body.get("user_id", ""),
                body.get("ttl", DEFAULT_SESSION_TTL),
            )
            self._json(
                HTTPStatus.CREATED,
                {
                    "session": session,
                    "url": f"{self.server.base_url}/robot/sendBySession?session={session}",
                    "expires_at_ms": int(expires_at * 1000),
                },
            )
        elif name == "webhooks" and method == "GET":
            with state.lock:
                webhooks = {k: dict(v) for k, v in state.telegram_webhooks.items()}
            self._json(HTTPStatus.OK, webhooks)
        elif name == "reset" and method == "POST":
            state.reset()
            self._json(HTTPStatus.OK, {"reset": True})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})


ROUTES = {
    ("GET", "/cgi-bin/token"): PlatformHandler.wechat_token,
    ("POST", "/cgi-bin/stable_token"): PlatformHandler.wechat_stable_token,
    ("POST", "/cgi-bin/message/custom/send"): PlatformHandler.wechat_custom_send,
    ("GET", "/cgi-bin/gettoken"): PlatformHandler.wecom_gettoken,
    ("POST", "/cgi-bin/message/send"): PlatformHandler.wecom_message_send,
    ("POST", "/v1.0/oauth2/accessToken"): PlatformHandler.dingtalk_access_token,
    ("POST", "/v1.0/robot/oToMessages/batchSend"): PlatformHandler.dingtalk_batch_send,
    ("POST", "/v1.0/robot/groupMessages/send"): PlatformHandler.dingtalk_group_send,
    ("POST", "/robot/sendBySession"): PlatformHandler.dingtalk_send_by_session,
}
TELEGRAM_METHODS = {
    "sendmessage": PlatformHandler.telegram_send_message,
    "setwebhook": PlatformHandler.telegram_set_webhook,
    "deletewebhook": PlatformHandler.telegram_delete_webhook,
    "getwebhookinfo": PlatformHandler.telegram_get_webhook_info,
    "getme": PlatformHandler.telegram_get_me,
}


class PlatformServer(ThreadingHTTPServer):
    """The stand-in server; `state` is shared by all request threads."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state: PlatformState | None = None,
        verbose: bool = False,
    ) -> None:
        if not ip_address(host).is_loopback:
            raise ValueError(f"the platform stand-in binds loopback addresses only, not {host}")
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), PlatformHandler)
        self.state = state or PlatformState()
        self.verbose = verbose
        self.stopping = threading.Event()
        bound_host, bound_port = self.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.base_url = f"http://{shown}:{bound_port}"
        self._thread: threading.Thread | None = None

    def start(self) -> PlatformServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def start_platforms(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    apps: list[dict[str, Any]] | None = None,
    expires_in: float = DEFAULT_EXPIRES_IN,
    verbose: bool = False,
) -> tuple[PlatformServer, str]:
    """Start the stand-in in a daemon thread; returns (server, base_url). Call server.stop()."""
    server = PlatformServer(host, port, state=PlatformState(expires_in), verbose=verbose)
    for app in apps or []:
        server.state.register_app(**app)
    server.start()
    return server, server.base_url


def stop(server: PlatformServer) -> None:
    server.stop()


def _parse_app(spec: str) -> dict[str, Any]:
    """`platform:app_id:secret[:agent_id]`; a Telegram bot token keeps its own colon."""
    platform, _, rest = spec.partition(":")
    app_id, _, secret = rest.partition(":")
    agent_id = ""
    if platform == "wecom" and secret.count(":"):
        secret, _, agent_id = secret.rpartition(":")
    if not (platform and app_id and secret):
        raise argparse.ArgumentTypeError(f"expected platform:app_id:secret, got {spec!r}")
    return {"platform": platform, "app_id": app_id, "secret": secret, "agent_id": agent_id}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.platforms",
        description="Local stand-in for the WeChat, WeCom, DingTalk and Telegram API servers.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument(
        "--app",
        action="append",
        type=_parse_app,
        default=[],
        help="register an app: platform:app_id:secret (wecom: …:secret:agent_id); repeatable",
    )
    parser.add_argument(
        "--expires-in", type=float, default=DEFAULT_EXPIRES_IN, help="token lifetime, seconds"
    )
    parser.add_argument("--verbose", action="store_true", help="log request paths (no queries)")
    args = parser.parse_args(argv)
    server, base_url = start_platforms(
        args.port, args.host, apps=args.app, expires_in=args.expires_in, verbose=args.verbose
    )
    print(f"platform stand-in listening on {base_url} ({len(args.app)} apps)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
