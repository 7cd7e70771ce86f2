"""A circuit breaker per chat app, so a platform outage costs one probe, not every message's
retries.

    closed ──(AI_ASSISTANT_CIRCUIT_FAILURES outage errors in a row)──▶ open
    open ──(cool-down over: one send may probe)──▶ half open
    half open ──(the probe is sent)──▶ closed      ──(the probe fails)──▶ open, longer cool-down

Only outage-like errors count (network errors, timeouts, 5xx): a 429 or an expired token says
the platform is up. The cool-down starts at AI_ASSISTANT_CIRCUIT_COOLDOWN_SECONDS and doubles
with each failed probe up to AI_ASSISTANT_CIRCUIT_MAX_COOLDOWN_SECONDS. The state lives in the
database (SendCircuit), so every worker process sees it; every change of state is logged.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import metrics
from .errors import PlatformError
from .models import ChannelApp, SendCircuit

logger = logging.getLogger(__name__)

STATE = SendCircuit.State
OUTAGE_STATUS = {500, 502, 503, 504, 408}

# Apps whose circuit this process saw closed and clean, until when (monotonic time): a busy
# worker reads the circuit once a second instead of before every message. A circuit another
# process opens is seen here within that second (a send meanwhile fails and counts as usual);
# this process's own outage failures forget the app at once.
CLEAN_FOR_SECONDS = 1.0
_clean_until: dict[int, float] = {}


def is_outage(error: PlatformError) -> bool:
    """A failure that says the platform itself is in trouble (not our request)."""
    return error.code in ("network", "bad_response") or error.code in OUTAGE_STATUS


def blocked_until(app: ChannelApp) -> tuple[datetime | None, bool]:
    """(None when this app's sends may go ahead now — closed, or this caller is the probe —
    otherwise the time to look again; whether the circuit is clean: closed, no failures, so a
    success has nothing to record)."""
    if _clean_until.get(app.pk, 0.0) > time.monotonic():
        return None, True
    circuit = SendCircuit.objects.filter(app=app).first()
    if circuit is None or circuit.state == STATE.CLOSED:
        clean = circuit is None or circuit.consecutive_failures == 0
        if clean:
            _clean_until[app.pk] = time.monotonic() + CLEAN_FOR_SECONDS
        return None, clean
    now = timezone.now()
    if circuit.retry_at and circuit.retry_at > now:
        return circuit.retry_at, False
    # The cool-down is over (or a probe was lost): one caller wins the probe.
    probe_lease = timedelta(seconds=2 * settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS + 5)
    won = SendCircuit.objects.filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now), pk=circuit.pk
    ).update(state=STATE.HALF_OPEN, retry_at=now + probe_lease)
    if won:
        logger.warning("circuit of %s half open: probing with one send", app)
        return None, False
    return now + probe_lease, False


def forget_clean_circuits() -> None:
    """Read every circuit from the database again (tests that change circuits directly)."""
    _clean_until.clear()


def record_success(app: ChannelApp) -> bool:
    """A send went through, or the platform answered it (not an outage); True when that
    closed an open circuit."""
    closed = (
        SendCircuit.objects.filter(app=app)
        .exclude(state=STATE.CLOSED, consecutive_failures=0)
        .update(state=STATE.CLOSED, consecutive_failures=0, trips=0, retry_at=None)
    )
    if closed:
        logger.warning("circuit of %s closed: sends resume", app)
    return bool(closed)


def record_failure(app: ChannelApp, error: PlatformError) -> datetime | None:
    """Count an outage-like failure; when it opens the circuit, the time sends resume."""
    if not is_outage(error):
        return None
    _clean_until.pop(app.pk, None)
    circuit, _ = SendCircuit.objects.get_or_create(app=app)
    SendCircuit.objects.filter(pk=circuit.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_error=str(error)[:500]
    )
    circuit.refresh_from_db()
    probing = circuit.state == STATE.HALF_OPEN
    if not probing and circuit.consecutive_failures < settings.AI_ASSISTANT_CIRCUIT_FAILURES:
        return None
    if circuit.state == STATE.OPEN and circuit.retry_at and circuit.retry_at > timezone.now():
        return circuit.retry_at  # opened by another worker meanwhile
    cooldown = min(
        settings.AI_ASSISTANT_CIRCUIT_COOLDOWN_SECONDS * 2**circuit.trips,
        settings.AI_ASSISTANT_CIRCUIT_MAX_COOLDOWN_SECONDS,
    )
    now = timezone.now()
    retry_at = now + timedelta(seconds=cooldown)
    SendCircuit.objects.filter(pk=circuit.pk).update(
        state=STATE.OPEN, opened_at=now, retry_at=retry_at, trips=F("trips") + 1
    )
    metrics.CIRCUIT_OPENED.labels(app.channel).inc()
    logger.error(
        "circuit of %s open for %d s after %d failures (%s): sends paused",
        app,
        cooldown,
        circuit.consecutive_failures,
        error,
    )
    return retry_at
