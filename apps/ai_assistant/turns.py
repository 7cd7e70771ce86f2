"""Which stored message the running turn answers, so the tool log and report jobs can name it
(inbox.py and the sync webhook set it around the handler; the tool registry reads it), and the
report jobs the turn queued (the worker publishes them after the turn commits)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current_inbound_id: ContextVar[int | None] = ContextVar("current_inbound_id", default=None)
# The report jobs the running turn queued, for the worker to publish once the turn commits.
queued_jobs: ContextVar[list[int] | None] = ContextVar("queued_jobs", default=None)


@contextmanager
def answering(inbound_id: int | None) -> Iterator[list[int]]:
    """The running turn answers message `inbound_id`; yields the list of jobs it queues."""
    jobs: list[int] = []
    token = current_inbound_id.set(inbound_id)
    jobs_token = queued_jobs.set(jobs)
    try:
        yield jobs
    finally:
        queued_jobs.reset(jobs_token)
        current_inbound_id.reset(token)


def job_queued(job_id: int) -> None:
    """A report tool queued a job in this turn (outside a turn: nobody publishes it here)."""
    jobs = queued_jobs.get()
    if jobs is not None:
        jobs.append(job_id)
