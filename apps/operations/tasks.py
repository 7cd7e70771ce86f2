"""Operations' periodic task (see alerts.py; beat runs it in its own process, beat.py)."""

from __future__ import annotations

from celery import shared_task

from . import alerts


@shared_task
def evaluate_alerts() -> list[str]:
    """Read the backlog, dead letters, workers and sends; raise or resolve alerts. Every minute."""
    return alerts.evaluate()
