"""How many messages one chat account may send per minute before the assistant stops working
for it: a flood from one sender must not take a web or worker process from everyone else.

A fixed one-minute window per sender, counted in the cache (Redis when REDIS_URL is set, so
every process shares the count; per process with the local-memory cache of the embedded
mode). The first message over the limit gets a polite answer; the rest of that minute's
messages are stored and answered with nothing, so a flood never turns into a flood of sends.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


class Verdict(enum.Enum):
    WITHIN = "within"
    FIRST_OVER = "first_over"
    OVER = "over"


def check(channel: str, external_user_id: str) -> Verdict:
    """Count one message from this sender and say whether it is within the limit."""
    limit = settings.AI_ASSISTANT_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return Verdict.WITHIN
    window = int(time.time()) // WINDOW_SECONDS
    sender = hashlib.sha256(f"{channel}:{external_user_id}".encode()).hexdigest()[:24]
    key = f"ai-assistant:rate:{sender}:{window}"
    cache.add(key, 0, timeout=2 * WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this is the window's first message.
        cache.set(key, 1, timeout=2 * WINDOW_SECONDS)
        count = 1
    if count <= limit:
        return Verdict.WITHIN
    logger.warning(
        "rate limit: %s sender %s sent %d messages this minute (limit %d)",
        channel,
        sender,
        count,
        limit,
    )
    return Verdict.FIRST_OVER if count == limit + 1 else Verdict.OVER
