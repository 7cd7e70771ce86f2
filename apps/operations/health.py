"""Health endpoints for load balancers and service managers.

    /healthz   the process answers; touches nothing (liveness)
    /readyz    it can do its work (readiness): the database answers and is migrated; in async
               mode also the broker answers, a worker answered a ping recently and beat's
               sweeper ran recently. 200 when every check passes, else 503; the JSON body
               names each check.

Cheap enough to call every few seconds: the migration check is remembered per process for a
minute, and the worker ping (which waits for answers) is made at most every
AI_ASSISTANT_WORKER_PING_SECONDS and its answer kept in the database (Heartbeat).
Hand-written rather than django-health-check: three of the five checks (migrated, a recent
ping, beat's freshness) are this project's own, and the JSON shape is what the probes read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from . import state
from .models import Heartbeat

PING_LOCK_KEY = "operations:worker-ping"
MIGRATIONS_CHECK_SECONDS = 60

_migrated_until = 0.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Callable[[], str]] = {"database": check_database}
    if state.async_mode():
        checks.update(broker=check_broker, worker=check_worker, beat=check_beat)
    results = {name: run_check(check) for name, check in checks.items()}
    ready = all(result["ok"] for result in results.values())
    response = JsonResponse(
        {"status": "ok" if ready else "fail", "checks": results}, status=200 if ready else 503
    )
    # Probes ask every few seconds: the body says what fails, the alerts tell the operators;
    # no error line in the log per probe.
    response._has_been_logged = True
    return response


def run_check(check: Callable[[], str]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        detail, ok = check(), True
    except Exception as error:  # a failed check is a finding, never a 500
        detail, ok = f"{type(error).__name__}: {error}"[:200], False
    return {"ok": ok, "detail": detail, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_database() -> str:
    global _migrated_until
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if time.monotonic() < _migrated_until:
        return "answers; migrated"
    plan = MigrationExecutor(connection).migration_plan(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )
    if plan:
        raise DatabaseError(f"{len(plan)} migrations not applied")
    _migrated_until = time.monotonic() + MIGRATIONS_CHECK_SECONDS
    return "answers; migrated"


def check_broker() -> str:
    from better_laser_erp.celery import app

    with app.connection_for_read() as broker:
        broker.ensure_connection(max_retries=1, timeout=1)
    return "answers"


def check_worker() -> str:
    """A worker answered a ping recently. One web process pings at a time, at most every
    AI_ASSISTANT_WORKER_PING_SECONDS; the answer is kept in the database for every process."""
    interval = settings.AI_ASSISTANT_WORKER_PING_SECONDS
    last = Heartbeat.objects.filter(name="worker").first()
    now = timezone.now()
    due = last is None or (now - last.beat_at).total_seconds() > interval
    if due and cache.add(PING_LOCK_KEY, 1, timeout=interval):
        names = state.ping_workers()
        if names:
            return f"{len(names)} answered just now"
    if last is None:
        raise RuntimeError("no worker has answered a ping")
    age = (now - last.beat_at).total_seconds()
    if age > 3 * interval:
        raise RuntimeError(f"no worker answered a ping for {age:.0f} s")
    return f"{last.detail} {age:.0f} s ago"


def check_beat() -> str:
    """Beat queued the every-minute alert evaluation recently, and a worker ran it."""
    last = Heartbeat.objects.filter(name="beat").first()
    if last is None:
        raise RuntimeError("beat's periodic tasks have not run")
    age = (timezone.now() - last.beat_at).total_seconds()
    if age > settings.AI_ASSISTANT_BEAT_STALE_SECONDS:
        raise RuntimeError(f"beat's periodic tasks last ran {age:.0f} s ago")
    return f"periodic tasks ran {age:.0f} s ago"
