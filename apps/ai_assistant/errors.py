"""The two errors at the assistant's boundary with the chat platforms.

`WebhookRejected(status, reason)` refuses a webhook request (4xx, or 503 when it cannot be
stored); `PlatformError(code, message, retryable, retry_after)` is a failed call to a
platform's API. The webhook view and the inbox map them, each in one place.
"""

from __future__ import annotations


class WebhookRejected(Exception):
    """A webhook request we refuse; the view answers `status` with `reason` as plain text."""

    def __init__(self, status: int, reason: str):
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class PlatformError(Exception):
    """A platform API call failed. `retryable` says whether trying again later can help
    (network, 5xx, rate limit, expired token); `retry_after` is the platform's hint in seconds."""

    def __init__(
        self,
        code: str | int,
        message: str,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
