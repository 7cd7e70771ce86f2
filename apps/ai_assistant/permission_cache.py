"""ERP users' permissions kept in the shared cache between chat turns (an auth backend).

Every turn asks which tools its user may use, and Django's ModelBackend answers from two
joined queries per user object; a turn's user object is new each time, so that was two
queries a turn. This backend keeps each user's permission set in the shared cache (Redis)
together with a version that every change of a group's or a user's permissions, or of a
user's groups, bumps once it is committed (model signals, connected in apps.py): a change
made in any process is seen by every process at its next check. One made behind the ORM's
back (raw SQL) is seen within MAX_AGE_SECONDS. Without a shared cache (the local-memory
default, one per process) nothing is kept and ModelBackend answers as it always does.

Activity and superuser status are read from the user row itself by Django (has_perm) and are
part of the key, so changing them never waits for the cache.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "auth:permissions-version"
MAX_AGE_SECONDS = 300
SHARED_CACHE_BACKENDS = ("django.core.cache.backends.redis.RedisCache",)


def cache_is_shared() -> bool:
    """Whether every process sees the same cache (so a version bumped in one is seen by all)."""
    return settings.CACHES["default"]["BACKEND"] in SHARED_CACHE_BACKENDS


class CachedModelBackend(ModelBackend):
    """ModelBackend whose get_all_permissions comes from the shared cache when it is current."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = self._kept_permissions(user_obj)
        return user_obj._perm_cache

    def _kept_permissions(self, user_obj: Any) -> set[str]:
        if not cache_is_shared():
            return self._read_permissions(user_obj)
        key = f"auth:permissions:{user_obj.pk}:{int(user_obj.is_superuser)}"
        try:
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY)
            if version is None:
                cache.add(VERSION_KEY, time.time_ns(), timeout=None)
                version = cache.get(VERSION_KEY)
            kept = found.get(key)
            if kept is not None and kept[0] == version:
                return set(kept[1])
            permissions = self._read_permissions(user_obj)
            cache.set(key, (version, sorted(permissions)), timeout=MAX_AGE_SECONDS)
            return permissions
        except Exception as error:  # the cache is down: the database still answers
            logger.warning("permission cache unavailable: %s", type(error).__name__)
            return self._read_permissions(user_obj)

    def _read_permissions(self, user_obj: Any) -> set[str]:
        return {
            *self.get_user_permissions(user_obj),
            *self.get_group_permissions(user_obj),
        }


def permissions_changed(**_signal_arguments: Any) -> None:
    """Signal receiver: every kept permission set is out of date once this change commits."""
    transaction.on_commit(_bump_version)


def _bump_version() -> None:
    if not cache_is_shared():
        return
    try:
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)
    except Exception:
        logger.exception(
            "permission change not announced to other processes; they see it within %d s",
            MAX_AGE_SECONDS,
        )
