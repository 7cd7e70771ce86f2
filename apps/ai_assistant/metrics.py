"""The assistant's Prometheus metrics, counted where things happen.

prometheus_client runs in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by the settings), so
the counts of every gunicorn and Celery worker process add up at /metrics (apps/operations).
Label values are bounded: channels and tools by their registries, status codes by the
platforms' own small sets.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram

WEBHOOK_REQUESTS = Counter(
    "ble_webhook_requests_total", "Webhook requests by channel and HTTP status.",
    ["channel", "status"],
)  # fmt: skip
WEBHOOK_SECONDS = Histogram(
    "ble_webhook_request_seconds", "Time to answer a webhook request.", ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)  # fmt: skip
TURN_SECONDS = Histogram(
    "ble_turn_seconds", "Time the assistant took to answer one message.", ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
TOOL_CALLS = Counter(
    "ble_tool_calls_total", "Tool calls by tool and result status.", ["tool", "status"]
)
SEND_ERRORS = Counter(
    "ble_platform_send_errors_total", "Failed sends to a platform's API by error code.",
    ["platform", "code"],
)  # fmt: skip
TOKEN_REFRESHES = Counter(
    "ble_token_refreshes_total", "Access-token fetches from a platform.", ["platform", "result"]
)
DEAD_LETTERS = Counter("ble_dead_letters_total", "Messages given up on.", ["channel"])
CIRCUIT_OPENED = Counter(
    "ble_circuit_opened_total", "Times a chat app's sends were paused.", ["platform"]
)
REPORT_CACHE = Counter(
    "ble_report_cache_total",
    "Report requests answered from the cache (hit) or made anew (miss).",
    ["report", "result"],
)
REPORT_JOBS = Counter(
    "ble_report_jobs_total", "Report jobs finished, by how they ended.", ["report", "status"]
)
REPORT_SECONDS = Histogram(
    "ble_report_seconds",
    "Seconds from a report job's start to its file.",
    ["report"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
)


def report_series(reports: Iterable[str]) -> None:
    """Every report's cache and job series, at zero until something happens: a scraper sees
    them from the start and counts the first hit or failure as an increase."""
    for report in reports:
        for result in ("hit", "miss"):
            REPORT_CACHE.labels(report, result)
        for status in ("succeeded", "failed", "cancelled"):
            REPORT_JOBS.labels(report, status)
        REPORT_SECONDS.labels(report)


def known(value: str, names) -> str:
    """`value` if it is one of `names`, else "other": a label never grows without end."""
    return value if value in names else "other"
