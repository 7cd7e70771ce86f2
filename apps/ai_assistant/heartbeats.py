"""One thread per process that renews the claims of all the turns running in it.

A claim is a short lease (inbox.py): a running turn renews it every third of the lease, so a
worker that dies stops renewing and its chat is taken over within seconds. One thread for
every turn of a busy thread-pool worker would be started and joined for each message; this
one sleeps until the next renewal is due, renews what is due, and goes back to sleep.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import connection

logger = logging.getLogger(__name__)


class _Beat:
    """A registered turn: when to renew next, how often, until when, and how."""

    def __init__(self, name: str, renew: Callable[[], bool], every: float, until: float):
        self.name = name
        self.renew = renew
        self.every = every
        self.until = until
        self.due = time.monotonic() + every


class Heartbeats:
    """The renewals of this process. `renew` returns False when the claim was lost: then it
    is not renewed again. Past `until` a turn is taken for hung and no longer renewed."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._beats: dict[int, _Beat] = {}
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self, name: str, renew: Callable[[], bool], every: float, for_at_most: float) -> int:
        """Renew every `every` seconds for at most `for_at_most` seconds; the key to stop it."""
        beat = _Beat(name, renew, every, time.monotonic() + for_at_most)
        with self._changed:
            self._ensure_thread()
            self._beats[id(beat)] = beat
            self._changed.notify()
        return id(beat)

    def stop(self, key: int) -> None:
        with self._changed:
            self._beats.pop(key, None)

    def _ensure_thread(self) -> None:
        # A forked worker process (Celery prefork) has no copy of its parent's thread.
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            for beat in self._wait_for_due():
                self._renew(beat)

    def _wait_for_due(self) -> list[_Beat]:
        with self._changed:
            while True:
                now = time.monotonic()
                due = [beat for beat in self._beats.values() if beat.due <= now]
                if due:
                    return due
                next_due = min((beat.due for beat in self._beats.values()), default=now + 60)
                self._changed.wait(timeout=next_due - now)

    def _renew(self, beat: _Beat) -> None:
        key = id(beat)
        if time.monotonic() > beat.until:
            logger.error("%s outlived the task time limit; its claim lapses", beat.name)
            self.stop(key)
            return
        try:
            kept = beat.renew()
        except Exception:
            logger.exception("renewing the claim of %s failed", beat.name)
            connection.close()  # a broken connection is opened afresh next time
            kept = True
        if kept:
            beat.due = time.monotonic() + beat.every
        else:
            self.stop(key)


heartbeats = Heartbeats()
