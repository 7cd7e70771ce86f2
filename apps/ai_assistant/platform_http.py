"""The HTTP client every call to a chat platform's API goes through.

One pooled client per process: connections are kept alive between sends, and the TLS
context (milliseconds to build) is built once instead of for every message.
"""

from __future__ import annotations

import os
import threading

import httpx

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
