"""The webhook's look-up of its ChannelApp, kept in each process for a few seconds.

Every webhook request needs its app (the secrets to verify with, the enabled flag), and reading
it from the database each time was a tenth of the async ack's cost. A change made in this
process (admin, a command) is seen at once; other processes see it within
AI_ASSISTANT_CHANNEL_APP_CACHE_SECONDS. A request that fails verification against a cached app
is checked again against a fresh read, so a rotated secret works at once everywhere.
"""

from __future__ import annotations

import time

from django.conf import settings

from .models import ChannelApp

# Unknown app ids are remembered too (a scanner must not cost a query per request); the size
# bound keeps a scan of many ids from growing the cache without end.
MAX_ENTRIES = 1000

_apps: dict[tuple[str, str], tuple[float, ChannelApp | None]] = {}


def channel_app(channel: str, app_id: str, fresh: bool = False) -> ChannelApp | None:
    """The app registered for this webhook URL, enabled or not; None if there is none.
    The instance may be shared with other requests of this process: read it, never change it."""
    key = (channel, app_id)
    now = time.monotonic()
    if not fresh:
        cached = _apps.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
    app = ChannelApp.objects.filter(channel=channel, app_id=app_id).first()
    if len(_apps) >= MAX_ENTRIES:
        _apps.clear()
    _apps[key] = (now + settings.AI_ASSISTANT_CHANNEL_APP_CACHE_SECONDS, app)
    return app


def forget_channel_apps(**kwargs: object) -> None:
    """Drop every cached app (a ChannelApp was saved or deleted in this process)."""
    _apps.clear()
