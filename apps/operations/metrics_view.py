"""/metrics for Prometheus: the counts every web and worker process wrote (multiprocess mode)
plus gauges read at scrape time from the database and the broker. Every report's counters
are there from the first scrape, at zero until a job counts.

Protected by a setting: METRICS_TOKEN (a scraper sends "Authorization: Bearer <token>") or
METRICS_ALLOWED_NETWORKS (comma-separated CIDRs, default loopback only).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from apps.ai_assistant import metrics as assistant_metrics
from apps.ai_assistant.models import SendCircuit
from apps.ai_assistant.tools.reports import report_names

from . import state
from .models import Heartbeat


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse("forbidden", status=403, content_type="text/plain")
    assistant_metrics.report_series(report_names())
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(StateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net) for net in settings.METRICS_ALLOWED_NETWORKS)


class StateCollector:
    """Gauges of the system's state, read when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        messages = GaugeMetricFamily(
            "ble_messages", "Messages not finished, and dead letters, by status.", labels=["status"]
        )
        for status, count in state.message_counts().items():
            messages.add_metric([status], count)
        yield messages

        oldest = state.oldest_unanswered()
        age = GaugeMetricFamily(
            "ble_oldest_waiting_seconds", "Age of the oldest message not answered and delivered."
        )
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield age

        circuits = GaugeMetricFamily(
            "ble_circuit_open", "1 when a chat app's sends are paused.", labels=["app"]
        )
        for app, circuit_state in SendCircuit.objects.values_list("app__app_id", "state"):
            circuits.add_metric([app], 0 if circuit_state == "closed" else 1)
        yield circuits

        heartbeats = GaugeMetricFamily(
            "ble_heartbeat_age_seconds", "Seconds since a part last showed life.", labels=["part"]
        )
        for name, beat_at in Heartbeat.objects.values_list("name", "beat_at"):
            heartbeats.add_metric([name], (now - beat_at).total_seconds())
        yield heartbeats

        report_jobs = GaugeMetricFamily(
            "ble_report_jobs", "Report jobs by status (every job kept).", labels=["status"]
        )
        for status, count in state.report_job_counts().items():
            report_jobs.add_metric([status], count)
        yield report_jobs

        depth = GaugeMetricFamily(
            "ble_queue_depth", "Tasks waiting in a broker queue.", labels=["queue"]
        )
        for queue, waiting in state.queue_depths().items():
            depth.add_metric([queue], waiting)
        yield depth
