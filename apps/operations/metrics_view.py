"""/metrics for Prometheus: the counts every web and worker process wrote (multiprocess mode)
plus gauges read at scrape time from the database and the broker.

Protected by a setting: METRICS_TOKEN (a scraper sends "Authorization: Bearer <token>") or
METRICS_ALLOWED_NETWORKS (comma-separated CIDRs, default loopback only).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from apps.ai_assistant.models import InboundMessage, SendCircuit

from .models import Heartbeat

logger = logging.getLogger(__name__)

UNFINISHED = ["received", "queued", "processing", "replied"]
QUEUES = ("messages", "tools", "maintenance")


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse("forbidden", status=403, content_type="text/plain")
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
        counts = dict(
            InboundMessage.objects.filter(status__in=[*UNFINISHED, "dead"])
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        for status in [*UNFINISHED, "dead"]:
            messages.add_metric([status], counts.get(status, 0))
        yield messages

        oldest = InboundMessage.objects.filter(status__in=UNFINISHED).aggregate(
            first=Min("received_at")
        )["first"]
        age = GaugeMetricFamily(
            "ble_oldest_waiting_seconds", "Age of the oldest message not answered and delivered."
        )
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield age

        circuits = GaugeMetricFamily(
            "ble_circuit_open", "1 when a chat app's sends are paused.", labels=["app"]
        )
        for app, state in SendCircuit.objects.values_list("app__app_id", "state"):
            circuits.add_metric([app], 0 if state == "closed" else 1)
        yield circuits

        heartbeats = GaugeMetricFamily(
            "ble_heartbeat_age_seconds", "Seconds since a part last showed life.", labels=["part"]
        )
        for name, beat_at in Heartbeat.objects.values_list("name", "beat_at"):
            heartbeats.add_metric([name], (now - beat_at).total_seconds())
        yield heartbeats

        depth = GaugeMetricFamily(
            "ble_queue_depth", "Tasks waiting in a broker queue.", labels=["queue"]
        )
        for queue, waiting in queue_depths().items():
            depth.add_metric([queue], waiting)
        yield depth


def queue_depths() -> dict[str, int]:
    """Tasks waiting per Celery queue; nothing when there is no broker or it does not answer."""
    if not settings.CELERY_BROKER_URL:
        return {}
    from better_laser_erp.celery import app

    depths = {}
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            for queue in app.conf.task_queues:
                if queue.name in QUEUES:
                    depths[queue.name] = (
                        queue.bind(channel).queue_declare(passive=True).message_count
                    )
    except Exception as error:  # the broker is down: the other metrics still matter
        logger.warning("metrics could not read the broker queues: %s", type(error).__name__)
    return depths
