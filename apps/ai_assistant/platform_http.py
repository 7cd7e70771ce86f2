"""The HTTP client every call to a chat platform's API goes through.

One pooled client per process: connections are kept alive between sends, and the TLS
context (milliseconds to build) is built once instead of for every message. URLs can carry
access tokens, secrets or a bot token: `redact_url` keeps them out of logs and errors.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from django.conf import settings

from apps.ai_assistant.errors import PlatformError

logger = logging.getLogger(__name__)

# HTTP statuses worth trying again later: timeout, too early, rate limit, server trouble.
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
SECRET_QUERY_PARAMS = {"access_token", "secret", "corpsecret", "appsecret", "session", "sign"}
TELEGRAM_BOT_PATH = re.compile(r"/bot[^/]+")

_client: httpx.Client | None = None
_client_pid: int | None = None
_lock = threading.Lock()


def client() -> httpx.Client:
    """This process's client; a forked child (Celery prefork) builds its own."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _lock:
            if _client is None or _client_pid != os.getpid():
                _client = httpx.Client(limits=httpx.Limits(max_connections=50))
                _client_pid = os.getpid()
    return _client


def redact_url(url: str | httpx.URL) -> str:
    """The URL with token/secret query values and a Telegram bot token replaced by ***."""
    parts = urlsplit(str(url))
    query = urlencode(
        [
            (key, "***" if key.lower() in SECRET_QUERY_PARAMS else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    path = TELEGRAM_BOT_PATH.sub("/bot***", parts.path, count=1)
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


class _RedactURLs(logging.Filter):
    """httpx logs every request's full URL at INFO; tokens ride in those URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


if not any(isinstance(f, _RedactURLs) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_RedactURLs())


@dataclass(frozen=True)
class PlatformResponse:
    status_code: int
    data: Any
    headers: httpx.Headers


def platform_request(
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
    data: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> PlatformResponse:
    """One call to a platform API: its HTTP status and decoded JSON body (None if not JSON).

    `files` ({field: (filename, bytes, content type)}) makes the body multipart/form-data,
    with `data` as its plain fields. Network errors and timeouts raise
    PlatformError(retryable=True); interpreting the status and the platform's error fields is
    the caller's job. Timeouts come from AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS (httpx applies
    them to each read and write, so an upload is not cut off for its size).
    """
    timeout = settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS
    try:
        response = client().request(
            method,
            url,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        logger.warning("%s %s failed: %s", method, redact_url(url), type(error).__name__)
        raise PlatformError("network", type(error).__name__, retryable=True) from error
    try:
        body = response.json()
    except ValueError:
        body = None
    return PlatformResponse(response.status_code, body, response.headers)
