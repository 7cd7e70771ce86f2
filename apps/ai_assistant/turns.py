"""Which stored message the running turn answers, so the tool log can name it (inbox.py and
the sync webhook set it around the handler; the tool registry reads it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_inbound_id: ContextVar[int | None] = ContextVar("current_inbound_id", default=None)


@contextmanager
def answering(inbound_id: int | None) -> Iterator[None]:
    token = current_inbound_id.set(inbound_id)
    try:
        yield
    finally:
        current_inbound_id.reset(token)
