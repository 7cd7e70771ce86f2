"""Webhook requests as the chat platforms send them, and ways to send them.

Each channel's test kit (apps/ai_assistant/channels/<name>/testkit.py) builds its platform's
requests as a `WebhookRequest` (method, path, query, headers, body), usable with Django's test
client (`with_test_client`) in tests or sent to a live server with `send`:

    request = testkit("wechat").wechat_text(app, "o_user_1", "NZ-S1.5 库存", msg_id="1001")
    response = send("http://127.0.0.1:8000", request)
"""

from __future__ import annotations

import importlib
import secrets
import time
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import urlencode


class WebhookRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path


def webhook_path(channel: str, app_id: str) -> str:
    return f"/webhooks/{channel}/{app_id}/"


def testkit(channel: str) -> ModuleType:
    """The test kit of a registered channel."""
    return importlib.import_module(f"apps.ai_assistant.channels.{channel}.testkit")


def stamp(timestamp: str | int | None, nonce: str | None) -> tuple[str, str]:
    """A signed request's timestamp and nonce: the given ones, else now and a random one."""
    return str(timestamp or int(time.time())), nonce or str(secrets.randbelow(10**9))


def fields_xml(fields: dict[str, Any]) -> str:
    """A platform XML document: strings in CDATA, numbers bare, in the given order."""
    inner = []
    for name, value in fields.items():
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            inner.append(f"<{name}>{value}</{name}>")
        else:
            inner.append(f"<{name}><![CDATA[{value}]]></{name}>")
    return "<xml>" + "".join(inner) + "</xml>"


# --- transports ----------------------------------------------------------------------------


def with_test_client(client: Any, request: WebhookRequest):
    """Send through Django's test client; returns its response."""
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()}
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    extra.pop("HTTP_CONTENT_TYPE", None)
    return client.generic(
        request.method, request.url, data=request.body, content_type=content_type, **extra
    )


def send(base_url: str, request: WebhookRequest, timeout: float = 30.0):
    """Send to a live server with httpx; returns the httpx.Response."""
    import httpx

    return httpx.request(
        request.method,
        base_url.rstrip("/") + request.path,
        params=request.query,
        headers=request.headers,
        content=request.body,
        timeout=timeout,
    )
