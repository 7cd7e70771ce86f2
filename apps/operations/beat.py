"""Celery beat's scheduler, except that the alert evaluation runs in beat's own process.

The evaluation must tell the operators when no worker is left, so it cannot be a task that
waits in the queue for a worker. Beat runs it in a thread (one at a time, so a slow platform
never delays the other entries or piles evaluations up); every other entry is sent to the
broker as usual. Set as `beat_scheduler` in better_laser_erp/celery.py.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)

RUN_IN_BEAT = {"apps.operations.tasks.evaluate_alerts"}


class Scheduler(PersistentScheduler):
    _running = threading.Lock()

    def apply_async(self, entry, producer=None, advance: bool = True, **kwargs: Any):
        if entry.task not in RUN_IN_BEAT:
            return super().apply_async(entry, producer, advance, **kwargs)
        entry = self.reserve(entry) if advance else entry
        if not self._running.acquire(blocking=False):
            logger.warning("%s is still running; this turn is skipped", entry.task)
            return None
        from . import tasks  # noqa: F401  (registers the task even before autodiscovery)

        task = self.app.tasks[entry.task]
        thread = threading.Thread(target=self._run, args=(task,), name="beat-alerts", daemon=True)
        thread.start()
        return None

    def _run(self, task) -> None:
        from django.db import connection

        try:
            task.apply(throw=False)
        finally:
            connection.close()
            self._running.release()
