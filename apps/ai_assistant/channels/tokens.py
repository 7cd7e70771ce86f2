"""Platform access tokens: one cached token per chat app, refreshed ahead of expiry, once.

    get_access_token(app)        a valid token: the cache (Redis when REDIS_URL is set), then
                                 the AccessToken row, then a refresh from the platform
    refresh_access_token(app)    fetch a new token from the platform now, persist and cache it
    invalidate(app, token)       forget a token the platform refused
    call_with_token(app, fn)     fn(token); on the platform's invalid/expired-token error,
                                 invalidate, refresh once and retry once
    refresh_for(channel, app_id) the Celery task's work: refresh, report the expiry (no token)

A token is refreshed AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS before it expires. Only one
process refreshes an app's token at a time (a cache lock, `cache.add`, 30 s); the others wait
briefly for its result, because the platforms limit token calls and WeChat's classic token
invalidates the previous one on every fetch (docs/channels.md §1.6).

This service knows no platform: each channel says how to fetch its token
(`Channel.fetch_access_token`), which error means the token is bad (`is_token_error`), or
that it has a token that needs no fetching (`static_access_token`, Telegram's bot token).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from apps.ai_assistant import metrics
from apps.ai_assistant.channels.base import get_channel
from apps.ai_assistant.errors import PlatformError
from apps.ai_assistant.models import AccessToken, ChannelApp

logger = logging.getLogger(__name__)

T = TypeVar("T")

LOCK_TIMEOUT_SECONDS = 30
WAIT_POLL_SECONDS = 0.05
MAX_TOKEN_CHARS = 2048
MAX_EXPIRES_IN = 7 * 24 * 3600


def _fetch(app: ChannelApp, force: bool) -> tuple[str, float]:
    """(token, expires_in seconds) from the platform; PlatformError when it refuses."""
    token, expires_in = get_channel(app.channel).fetch_access_token(app, force)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise PlatformError("bad_response", "the token answer has no usable token", retryable=True)
    if (
        not isinstance(expires_in, int | float)
        or isinstance(expires_in, bool)
        or not 0 < expires_in <= MAX_EXPIRES_IN
    ):
        raise PlatformError("bad_response", "the token answer has no usable expiry", retryable=True)
    return token, float(expires_in)


# --- cache, row and lock ------------------------------------------------------------------
def _now() -> float:
    return time.time()


def _margin() -> float:
    return float(settings.AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS)


def _cache_key(app: ChannelApp) -> str:
    return f"ai_assistant:access_token:{app.channel}:{app.pk}"


def _lock_key(app: ChannelApp) -> str:
    return f"{_cache_key(app)}:refresh-lock"


def _from_cache(app: ChannelApp) -> str | None:
    entry = cache.get(_cache_key(app))
    if isinstance(entry, dict) and entry.get("refresh_at", 0) > _now():
        return entry["token"]
    return None


def _remember(app: ChannelApp, token: str, expires_at: float, refresh_at: float) -> None:
    timeout = max(1, int(refresh_at - _now()))
    cache.set(
        _cache_key(app),
        {"token": token, "expires_at": expires_at, "refresh_at": refresh_at},
        timeout=timeout,
    )


def _from_row(app: ChannelApp) -> str | None:
    row = AccessToken.objects.filter(app=app).only("token", "expires_at").first()
    if row is None:
        return None
    expires_at = row.expires_at.timestamp()
    refresh_at = expires_at - _margin()
    if refresh_at <= _now():
        return None
    _remember(app, row.token, expires_at, refresh_at)
    return row.token


def _usable_token(app: ChannelApp) -> str | None:
    return _from_cache(app) or _from_row(app)


def _store(app: ChannelApp, token: str, expires_in: float) -> float:
    """Persist and cache a fresh token; returns its expiry (epoch seconds)."""
    now = _now()
    expires_at = now + expires_in
    # A token handed out in its last minutes (WeCom returns the current one until it expires)
    # is used for half its remaining life instead of being refetched on every call.
    refresh_at = expires_at - _margin() if expires_in > 2 * _margin() else now + expires_in / 2
    with transaction.atomic():
        AccessToken.objects.update_or_create(
            app=app,
            defaults={
                "token": token,
                "expires_at": datetime.fromtimestamp(expires_at, UTC),
                "refreshed_at": datetime.fromtimestamp(now, UTC),
            },
        )
    _remember(app, token, expires_at, refresh_at)
    return expires_at


def _wait_budget() -> float:
    # Long enough for the lock holder's HTTP call to finish or time out.
    return min(LOCK_TIMEOUT_SECONDS, 2 * settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS + 2)


def _refresh(app: ChannelApp, *, force: bool, reuse_fresh: bool) -> tuple[str, float]:
    """Refresh under the app's lock; with `reuse_fresh`, a token another process just stored
    is taken instead of fetching again. Returns (token, expires_at)."""
    lock_key = _lock_key(app)
    owner = secrets.token_hex(8)
    deadline = _now() + _wait_budget()
    while True:
        if cache.add(lock_key, owner, timeout=LOCK_TIMEOUT_SECONDS):
            try:
                if reuse_fresh:
                    token = _usable_token(app)
                    if token:
                        return token, _cached_expiry(app)
                try:
                    token, expires_in = _fetch(app, force)
                except PlatformError:
                    metrics.TOKEN_REFRESHES.labels(app.channel, "failed").inc()
                    raise
                metrics.TOKEN_REFRESHES.labels(app.channel, "fetched").inc()
                expires_at = _store(app, token, expires_in)
                logger.info("access token of %s refreshed, valid for %d s", app, round(expires_in))
                return token, expires_at
            finally:
                if cache.get(lock_key) == owner:
                    cache.delete(lock_key)
        # Another process is refreshing: wait for its token rather than fetch a second one.
        token = _usable_token(app)
        if token:
            return token, _cached_expiry(app)
        if _now() >= deadline:
            raise PlatformError(
                "token_refresh_busy",
                f"another process is refreshing the token of {app}",
                retryable=True,
            )
        time.sleep(WAIT_POLL_SECONDS)


def _cached_expiry(app: ChannelApp) -> float:
    entry = cache.get(_cache_key(app))
    return float(entry["expires_at"]) if isinstance(entry, dict) else 0.0


# --- public -------------------------------------------------------------------------------
def get_access_token(app: ChannelApp) -> str:
    """A token valid for at least the refresh margin (or the channel's static token)."""
    static = get_channel(app.channel).static_access_token(app)
    if static is not None:
        return static
    token = _usable_token(app)
    if token:
        return token
    return _refresh(app, force=False, reuse_fresh=True)[0]


def refresh_access_token(app: ChannelApp, force: bool = False) -> str:
    """Fetch a new token from the platform now (WeChat `force`: force_refresh, which the
    platform limits to 20 a day), persist and cache it; a static token as it is."""
    if not get_channel(app.channel).fetches_access_tokens:
        return get_access_token(app)
    return _refresh(app, force=force, reuse_fresh=False)[0]


def invalidate(app: ChannelApp, token: str | None = None) -> None:
    """Forget the app's token; with `token`, only if that is still the current one (so a
    token another process has just refreshed survives)."""
    key = _cache_key(app)
    entry = cache.get(key)
    if token is None or (isinstance(entry, dict) and entry.get("token") == token):
        cache.delete(key)
    expired = datetime.fromtimestamp(_now(), UTC)
    if token is None:
        AccessToken.objects.filter(app=app).update(expires_at=expired)
        return
    # Tokens are encrypted at rest (randomised), so the comparison happens here, under a lock.
    with transaction.atomic():
        row = AccessToken.objects.select_for_update().filter(app=app).first()
        if row is not None and row.token == token:
            row.expires_at = expired
            row.save(update_fields=["expires_at"])


def call_with_token(app: ChannelApp, request_fn: Callable[[str], T]) -> T:
    """`request_fn(token)`; if the platform refuses the token, refresh it once and retry
    once. A second failure propagates as the PlatformError it is."""
    token = get_access_token(app)
    try:
        return request_fn(token)
    except PlatformError as error:
        if not get_channel(app.channel).is_token_error(error):
            raise
        logger.info("access token of %s refused (%s); refreshing once", app, error.code)
    invalidate(app, token)
    return request_fn(get_access_token(app))


def refresh_for(channel: str, app_id: str) -> dict[str, Any]:
    """Refresh the token of one app (the `refresh_access_token` task); never returns it."""
    app = ChannelApp.objects.filter(channel=channel, app_id=app_id).first()
    if app is None:
        raise ValueError(f"no chat app {channel}:{app_id}")
    if not get_channel(channel).fetches_access_tokens:
        get_access_token(app)
        return {"channel": channel, "app_id": app_id, "expires_at": None}
    _, expires_at = _refresh(app, force=False, reuse_fresh=False)
    return {
        "channel": channel,
        "app_id": app_id,
        "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat(),
    }
