"""A local stand-in for the chat platforms' API servers: WeChat, WeCom, DingTalk, Telegram, ...

It speaks each platform's wire protocol (paths, parameters, JSON shapes, error codes, see
docs/channels.md) so the token service and the channel senders are tested over real HTTP.
This module is the core: the state (apps, tokens, faults, sent messages, sessions), the HTTP
plumbing and the control API. Each platform's endpoints live with its channel, in
apps/ai_assistant/channels/<name>/standin.py, which exports

    ROUTES          {(HTTP method, exact path): function(handler)}
    PREFIX_ROUTES   {path prefix: function(handler)}, optional (Telegram's "/bot")

The server imports the stand-in module of every registered channel that has one; a request
goes to /_control/, else to its exact route, else to the longest matching prefix, else 404.
Adding a platform is adding its standin.py.

A control API lets tests and the demo register apps, read what was sent and inject faults:

    GET|POST   /_control/apps      {"platform","app_id","secret","expires_in"?,"agent_id"?}
    GET|DELETE /_control/sent      every accepted message: {platform, app, recipient, text, kind,
                                     ...}; kind "file" adds filename, size, sha256, content_type
                                     and file_id
    GET        /_control/files     the files uploaded (media ids, file keys...), without bytes
    GET        /_control/files/<file_id>  one file's bytes as uploaded (404 once forgotten)
    POST       /_control/limits    {"platform","max_file_bytes"}: the largest file the platform
                                     takes from now on (its real limit when never set)
    GET        /_control/stats     token requests per platform:app, send requests
    GET|POST|DELETE /_control/faults  {"platform","kind","count","endpoint"?,"seconds"?,
                                     "retry_after"?,"start_in"?,"duration"?}; kind: rate_limit |
                                     server_error | expired_token | timeout; endpoint: token |
                                     api (default any); with "duration" the fault hits every
                                     request for that many seconds (an outage), from start_in
    POST       /_control/expire    {"platform"?,"app_id"?}: the apps' tokens expire now
    POST       /_control/sessions  {"app_id","conversation_id","conversation_type"?,"user_id"?,
                                     "ttl"?}: a DingTalk sessionWebhook URL valid for ttl seconds
    GET        /_control/webhooks  Telegram webhooks set per bot
    POST       /_control/reset     forget tokens, sends, files, limits, stats, faults and
                                     sessions (apps stay)

Run it with `python -m devtools.platforms --port 9100 --app telegram:mybot:123:ABC ...`, or
in-process with `start_platforms(port=0)` (Django set up: the channels are found through
the channel registry). It binds loopback addresses only and bounds every collection it keeps.

Uploads come as multipart/form-data (`PlatformHandler.form()`, parsed here for every
platform); a stand-in keeps each file with `PlatformState.store_upload` under the id it
answers (a media id, a file key) and records the message that carries it with
`record_file_sent`, so a test reads back the very bytes a chat received.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib
import json
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

STANDIN_MODULE = "apps.ai_assistant.channels.{name}.standin"
FAULT_KINDS = ("rate_limit", "server_error", "expired_token", "timeout")
FAULT_ENDPOINTS = ("token", "api")

MAX_BODY_BYTES = 1024 * 1024
# A multipart upload may be larger (Telegram takes 50 MB); the files kept are bounded apart.
MAX_UPLOAD_BODY_BYTES = 64 * 1024 * 1024
MAX_UPLOADS = 500
MAX_UPLOAD_STORE_BYTES = 256 * 1024 * 1024
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
    """A fault for the next `remaining` matching requests, or — with `ends_at` — for every
    matching request in a window of time (an outage); either starts at `starts_at`."""

    platform: str
    kind: str
    remaining: int
    endpoint: str = ""
    seconds: float = 5.0
    retry_after: int = 3
    starts_at: float = 0.0
    ends_at: float | None = None


@dataclass
class Session:
    app_id: str
    conversation_id: str
    conversation_type: str
    user_id: str
    expires_at: float


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body: a field (filename None) or a file."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = ""

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass
class Upload:
    """A file a platform took (a media id, a file key) and keeps for the messages that use it."""

    upload_id: str
    platform: str
    app_id: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)
    sha256: str = ""
    created_at: float = 0.0
    media_type: str = ""  # the platform's kind of upload: "file", Feishu's "xls", ...

    def public(self) -> dict[str, Any]:
        return {
            "file_id": self.upload_id,
            "platform": self.platform,
            "app": self.app_id,
            "filename": self.filename,
            "media_type": self.media_type,
            "content_type": self.content_type,
            "size": len(self.data),
            "sha256": self.sha256,
        }


_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """`form-data; name="media"; filename="a.xlsx"` → ("form-data", {"name": ..., ...}); an
    RFC 5987 `filename*=UTF-8''…` wins over `filename`."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(";" + rest):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[key.lower()] = raw
    extended = params.pop("filename*", "")
    if "''" in extended:
        charset, _, encoded = extended.partition("''")
        params["filename"] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
    return main.strip().lower(), params


def parse_multipart(content_type: str, body: bytes) -> dict[str, FormPart] | None:
    """The parts of a multipart/form-data body by field name (the first of each name); None
    when the body is not multipart or is malformed."""
    kind, params = _header_params(content_type or "")
    boundary = params.get("boundary", "")
    if kind != "multipart/form-data" or not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        return None
    parts: dict[str, FormPart] = {}
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            return None
        head, separator, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not separator:
            return None
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        disposition, fields = _header_params(headers.get("content-disposition", ""))
        if disposition != "form-data" or not fields.get("name"):
            return None
        parts.setdefault(
            fields["name"],
            FormPart(
                fields["name"],
                data,
                fields.get("filename"),
                headers.get("content-type", ""),
            ),
        )
    return parts


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
    # Idempotency keys a platform has seen (Feishu's uuid) → what it answered then.
    idempotency_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    telegram_webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    message_seq: int = 0
    uploads: OrderedDict[str, Upload] = field(default_factory=OrderedDict)
    upload_bytes: int = 0
    # Per platform, the largest file taken when a test sets one (else the platform's own).
    file_limits: dict[str, int] = field(default_factory=dict)

    # --- apps ---------------------------------------------------------------------------
    def register_app(
        self,
        platform: str,
        app_id: str,
        secret: str,
        expires_in: float | None = None,
        agent_id: str = "",
    ) -> App:
        if platform not in platforms():
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

    def find_app_by_secret(self, platform: str, secret: str) -> App | None:
        """The platform's app whose secret this is (a Telegram bot token names no app id)."""
        with self.lock:
            for app in self.apps.values():
                if app.platform == platform and secrets.compare_digest(
                    app.secret.encode(), secret.encode()
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
        start_in: float = 0.0,
        duration: float | None = None,
    ) -> Fault:
        if platform not in platforms():
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
        if not isinstance(start_in, int | float) or not 0 <= start_in <= 24 * 3600:
            raise ControlError("start_in must be seconds from 0 to a day")
        if duration is not None and (
            not isinstance(duration, int | float) or not 0 < duration <= 24 * 3600
        ):
            raise ControlError("duration must be seconds from 0 to a day")
        starts_at = time.time() + start_in
        ends_at = starts_at + duration if duration is not None else None
        with self.lock:
            if len(self.faults) >= MAX_FAULTS:
                raise ControlError(f"at most {MAX_FAULTS} pending faults")
            fault = Fault(
                platform,
                kind,
                count,
                endpoint,
                float(seconds),
                retry_after,
                starts_at=starts_at,
                ends_at=ends_at,
            )
            self.faults.append(fault)
            return fault

    def take_fault(self, platform: str, endpoint: str) -> Fault | None:
        """Consume one pending fault that applies to this request, if any."""
        now = time.time()
        with self.lock:
            self.faults = [f for f in self.faults if f.ends_at is None or f.ends_at > now]
            for fault in self.faults:
                if fault.platform != platform or (fault.endpoint and fault.endpoint != endpoint):
                    continue
                if fault.kind == "expired_token" and endpoint != "api":
                    continue
                if fault.starts_at > now:
                    continue
                if fault.ends_at is not None:
                    return fault  # a window: every request in it
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def answer_for_key(self, platform: str, key: str, answer: str) -> str | None:
        """The answer a platform gave for this idempotency key before; None (and `answer`
        remembered) the first time."""
        with self.lock:
            earlier = self.idempotency_keys.get((platform, key))
            if earlier is None:
                if len(self.idempotency_keys) >= MAX_SENT * 2:
                    self.idempotency_keys.clear()
                self.idempotency_keys[(platform, key)] = answer
            return earlier

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
                "kind": "text",
                "message_id": self.message_seq,
                "at": datetime.now(UTC).isoformat(),
                **extra,
            }
            self.sent.append(entry)
            return self.message_seq

    def edit_sent(
        self, platform: str, app: str, recipient: str, message_id: int, text: str
    ) -> dict[str, Any] | None:
        """Change the text of a message sent before (its edits are counted and kept in
        order); None when no such message went to that chat."""
        with self.lock:
            self.api_requests[f"{platform}:{app[:100]}"] += 1
            for entry in self.sent:
                if (entry["platform"], entry["app"], entry["recipient"]) != (
                    platform,
                    app,
                    recipient,
                ) or entry["message_id"] != message_id:
                    continue
                entry.setdefault("edits", []).append(text)
                entry["text"] = text
                return dict(entry)
            return None

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

    # --- files --------------------------------------------------------------------------
    def store_upload(
        self,
        platform: str,
        app_id: str,
        filename: str,
        content_type: str,
        data: bytes,
        prefix: str = "",
        media_type: str = "",
    ) -> Upload:
        """Keep an uploaded file under a new id (`prefix` + random, the platform's shape);
        the oldest files are forgotten past MAX_UPLOADS or MAX_UPLOAD_STORE_BYTES."""
        upload = Upload(
            upload_id=prefix + secrets.token_urlsafe(24),
            platform=platform,
            app_id=app_id,
            filename=filename,
            content_type=content_type,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=time.time(),
            media_type=media_type,
        )
        with self.lock:
            self.uploads[upload.upload_id] = upload
            self.upload_bytes += len(data)
            while len(self.uploads) > MAX_UPLOADS or (
                self.upload_bytes > MAX_UPLOAD_STORE_BYTES and len(self.uploads) > 1
            ):
                _, oldest = self.uploads.popitem(last=False)
                self.upload_bytes -= len(oldest.data)
        return upload

    def find_upload(self, platform: str, upload_id: Any, app_id: str = "") -> Upload | None:
        """The platform's upload of that id (of that app when given), or None."""
        if not isinstance(upload_id, str):
            return None
        with self.lock:
            upload = self.uploads.get(upload_id)
        if upload is None or upload.platform != platform or (app_id and upload.app_id != app_id):
            return None
        return upload

    def record_file_sent(
        self, platform: str, app: str, recipient: str, upload: Upload, caption: str = "", **extra
    ) -> int:
        """A message carrying `upload` was accepted: recorded as kind "file"."""
        return self.record_sent(
            platform,
            app,
            recipient,
            caption,
            kind="file",
            file_id=upload.upload_id,
            filename=upload.filename,
            media_type=upload.media_type,
            content_type=upload.content_type,
            size=len(upload.data),
            sha256=upload.sha256,
            **extra,
        )

    def file_limit(self, platform: str, default: int) -> int:
        with self.lock:
            return self.file_limits.get(platform, default)

    def set_file_limit(self, platform: str, max_file_bytes: Any) -> None:
        if platform not in platforms():
            raise ControlError(f"unknown platform {platform!r}")
        if isinstance(max_file_bytes, bool) or not isinstance(max_file_bytes, int):
            raise ControlError("max_file_bytes must be an integer")
        if not 0 <= max_file_bytes <= MAX_UPLOAD_BODY_BYTES:
            raise ControlError(f"max_file_bytes must be between 0 and {MAX_UPLOAD_BODY_BYTES}")
        with self.lock:
            self.file_limits[platform] = max_file_bytes

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
            self.idempotency_keys.clear()
            self.uploads.clear()
            self.upload_bytes = 0
            self.file_limits.clear()


# --- the platforms' stand-ins -------------------------------------------------------------
Handler = Callable[["PlatformHandler"], None]


@dataclass(frozen=True)
class Routes:
    """The platforms' stand-ins merged: where a (method, path) goes."""

    exact: dict[tuple[str, str], Handler]
    prefixes: list[tuple[str, Handler]]  # longest prefix first
    platforms: tuple[str, ...]

    def find(self, method: str, path: str) -> Handler | None:
        """The exact route's function, else the longest matching prefix's, else None."""
        handler = self.exact.get((method, path))
        if handler is not None:
            return handler
        for prefix, handler in self.prefixes:
            if path.startswith(prefix):
                return handler
        return None


def setup_django() -> None:
    """Set Django up unless it is: the channels' registry needs it (tests already have it)."""
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "better_laser_erp.settings")
        django.setup()


def load_standins() -> dict[str, ModuleType]:
    """The module STANDIN_MODULE of every registered channel that has one, by channel name."""
    setup_django()
    from apps.ai_assistant.channels import CHANNELS

    modules: dict[str, ModuleType] = {}
    for name in sorted(CHANNELS):
        module_name = STANDIN_MODULE.format(name=name)
        try:
            modules[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # No stand-in for this channel; an import failing inside one is an error.
            if error.name not in (module_name, module_name.rpartition(".")[0]):
                raise
    return modules


def collect_routes(standins: dict[str, ModuleType]) -> Routes:
    """Merge the stand-ins' ROUTES and PREFIX_ROUTES; two claiming one route is an error."""
    exact: dict[tuple[str, str], Handler] = {}
    prefixes: dict[str, Handler] = {}
    for name, module in standins.items():
        tables = ((module.ROUTES, exact), (getattr(module, "PREFIX_ROUTES", {}), prefixes))
        for table, merged in tables:
            for key, handler in table.items():
                if key in merged:
                    raise ValueError(f"the {name} stand-in's route {key!r} is already taken")
                merged[key] = handler
    longest_first = sorted(prefixes.items(), key=lambda item: -len(item[0]))
    return Routes(exact, longest_first, tuple(standins))


@functools.cache
def routes() -> Routes:
    """The stand-ins' routes, found once per process (the channels' registry is fixed)."""
    return collect_routes(load_standins())


def platforms() -> tuple[str, ...]:
    """The platforms served: the registered channels that have a stand-in module."""
    return routes().platforms


class PlatformHandler(BaseHTTPRequestHandler):
    server: PlatformServer
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_SECONDS
    # Headers and body leave in separate writes; with Nagle on, a keep-alive client's delayed
    # ACK held every answer back by 40 ms, which a real platform's API does not do.
    disable_nagle_algorithm = True

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
            else:
                handler = self.server.routes.find(self.command, self.route)
                if handler is None:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
                else:
                    handler(self)
        except ControlError as error:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        content_type = (self.headers.get("Content-Type") or "").lower()
        limit = (
            MAX_UPLOAD_BODY_BYTES
            if content_type.startswith("multipart/form-data")
            else MAX_BODY_BYTES
        )
        if length < 0 or length > limit:
            self.close_connection = True
            raise ValueError(f"body larger than {limit} bytes")
        return self.rfile.read(length) if length else b""

    def form(self) -> dict[str, FormPart] | None:
        """The request's multipart/form-data fields and files; None when it has none."""
        return parse_multipart(self.headers.get("Content-Type") or "", self.body)

    def _bytes(self, status: int, data: bytes, content_type: str, filename: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        quoted = filename.encode("utf-8").decode("latin-1", errors="replace")
        self.send_header("Content-Disposition", f'attachment; filename="{quoted}"')
        self.end_headers()
        self.wfile.write(data)

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
        elif name == "files" and method == "GET":
            with state.lock:
                files = [upload.public() for upload in state.uploads.values()]
            self._json(HTTPStatus.OK, files)
        elif name.startswith("files/") and method == "GET":
            with state.lock:
                upload = state.uploads.get(unquote(name[len("files/") :]))
            if upload is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": "no such file (or forgotten)"})
            else:
                self._bytes(HTTPStatus.OK, upload.data, upload.content_type, upload.filename)
        elif name == "limits" and method == "POST":
            platform, limit = body.get("platform", ""), body.get("max_file_bytes")
            state.set_file_limit(platform, limit)
            self._json(HTTPStatus.OK, {"platform": platform, "max_file_bytes": limit})
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
                body.get("start_in", 0.0),
                body.get("duration"),
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
        self.routes = routes()  # the platforms' stand-ins, before the port is bound
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
    global MAX_SENT
    setup_django()  # before the channels' stand-ins are imported
    parser = argparse.ArgumentParser(
        prog="python -m devtools.platforms",
        description="Local stand-in for the chat platforms' API servers.",
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
    parser.add_argument(
        "--max-sent", type=int, default=MAX_SENT, help="sent messages kept for /_control/sent"
    )
    args = parser.parse_args(argv)
    MAX_SENT = args.max_sent  # read when the state's deque is made
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
