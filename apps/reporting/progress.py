"""How a builder tells its caller how far it is.

A builder calls `progress(percent, stage)` at each step, with percents rising to 100 when the
report is done. The caller may raise from it (a cancelled job): builders only read, so they
let the exception propagate and have nothing to clean up.
"""

from typing import Protocol


class Progress(Protocol):
    def __call__(self, percent: int, stage: str) -> None: ...


def no_progress(percent: int, stage: str) -> None:
    """For plain calls: progress is not reported anywhere."""


def step_percent(done: int, total: int, start: int = 5, end: int = 90) -> int:
    """The percent after `done` of `total` equal steps spread over start…end."""
    if total <= 0:
        return end
    return start + (end - start) * done // total
