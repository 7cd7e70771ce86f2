"""The operations console, staff only: a message's timeline, an alert incident, and the
operator's hands on dead letters (replay once, replay an incident's, discard). Report jobs
have their pages in jobs_console.py.

Anyone not logged in is sent to the login page; a logged-in user who is not staff gets
403. The actions also need the permission to change inbound messages, and are POSTs with
Django's CSRF protection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.ai_assistant import dispatch, inbox
from apps.ai_assistant.models import InboundMessage, ReportJob

from . import state
from .models import Alert, Heartbeat

ACT_PERMISSION = "ai_assistant.change_inboundmessage"
# A message in one of these states changes no more unless an operator acts.
FINISHED = {
    InboundMessage.Status.DONE,
    InboundMessage.Status.DEAD,
    InboundMessage.Status.DISCARDED,
}
MESSAGES_LISTED = 100


def home(request: HttpRequest) -> HttpResponse:
    """The front door: what this is, and where to go."""
    return render(request, "operations/home.html")


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("the operations console is for staff")
        return view(request, *args, **kwargs)

    return wrapped


def may_act(request: HttpRequest) -> None:
    if not request.user.has_perm(ACT_PERMISSION):
        raise PermissionDenied("replaying or discarding messages needs change_inboundmessage")


@staff_only
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(InboundMessage.objects.select_related("app", "user"), pk=pk)
    return render(
        request,
        "operations/message.html",
        {
            "message": message,
            "timeline": timeline(message),
            "parts": message.outbound.order_by("part_index"),
            "tool_calls": message.tool_logs.order_by("created_at"),
            "can_act": request.user.has_perm(ACT_PERMISSION),
            "finished": message.status in FINISHED,
        },
    )


def timeline(message: InboundMessage) -> list[tuple[Any, str, str]]:
    """(time, what, detail) in order: the message's timestamps, its events, tool calls and
    reply parts."""
    entries = [(message.received_at, "received and stored", message.channel)]
    if message.queued_at:
        entries.append((message.queued_at, "queued", ""))
    if message.started_at:
        entries.append((message.started_at, "claimed", message.claimed_by))
    for event in message.events.select_related("actor"):
        actor = f" by {event.actor.get_username()}" if event.actor else ""
        entries.append((event.at, event.get_kind_display() + actor, event.detail))
    for call in message.tool_logs.all():
        detail = f"{call.parameters} → {call.status} in {call.duration_ms} ms"
        entries.append((call.created_at, f"tool {call.tool}", detail))
    for part in message.outbound.all():
        if part.sent_at:
            answer = f"platform message id {part.platform_message_id or '—'}"
            entries.append((part.sent_at, f"part {part.part_index} sent", answer))
        elif part.error:
            entries.append((part.created_at, f"part {part.part_index} {part.status}", part.error))
    if message.finished_at:
        entries.append((message.finished_at, message.get_status_display(), message.error))
    return sorted(entries, key=lambda entry: entry[0])


@staff_only
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Alert, pk=pk)
    dead = InboundMessage.objects.filter(
        pk__in=incident.details.get("messages", []), status=InboundMessage.Status.DEAD
    )
    failed_jobs = ReportJob.objects.filter(pk__in=incident.details.get("jobs", [])).select_related(
        "user"
    )
    return render(
        request,
        "operations/alert.html",
        {
            "alert": incident,
            "dead": dead,
            "failed_jobs": failed_jobs,
            "can_act": request.user.has_perm(ACT_PERMISSION),
        },
    )


@require_POST
@staff_only
def replay_message(request: HttpRequest, pk: int) -> HttpResponse:
    may_act(request)
    if replay(pk, request.user):
        messages.success(request, f"Message {pk} replayed.")
    else:
        messages.warning(request, f"Message {pk} is not a dead letter (any more): not replayed.")
    return redirect("operations:message", pk=pk)


@require_POST
@staff_only
def replay_incident(request: HttpRequest, pk: int) -> HttpResponse:
    may_act(request)
    incident = get_object_or_404(Alert, pk=pk)
    replayed = [
        message_id
        for message_id in incident.details.get("messages", [])
        if replay(message_id, request.user)
    ]
    messages.success(request, f"{len(replayed)} dead letters replayed.")
    return redirect("operations:alert", pk=pk)


@require_POST
@staff_only
def discard_message(request: HttpRequest, pk: int) -> HttpResponse:
    may_act(request)
    if inbox.discard(pk, request.user):
        messages.success(request, f"Message {pk} discarded.")
    else:
        messages.warning(request, f"Message {pk} is not a dead letter (any more).")
    return redirect("operations:message", pk=pk)


def replay(message_id: int, operator: Any) -> bool:
    """Replay a dead letter once; a worker answers it in async mode, this request in sync."""
    inbound = inbox.replay(message_id, operator)
    if inbound is None:
        return False
    if state.async_mode():
        dispatch.enqueue(inbound)
        return True
    taken = inbox.claim(inbound.pk)
    if taken is not None:
        inbox.answer_and_deliver(taken)
        inbox.release(taken)
    return True


@staff_only
def overview(request: HttpRequest) -> HttpResponse:
    """The last hour at a glance, the workers and queues, report jobs, firing alerts, and the
    message list (search by text, platform id, user or error; filter by status and channel)."""
    now = timezone.now()
    since = now - timedelta(hours=1)
    found = search(request.GET)
    return render(
        request,
        "operations/overview.html",
        {
            "hour": last_hour_by_channel(since),
            "counts": state.message_counts(),
            "queues": state.queue_depths(),
            "report_jobs": state.report_jobs_at_a_glance(now),
            "worker": Heartbeat.objects.filter(name="worker").first(),
            "beat": Heartbeat.objects.filter(name="beat").first(),
            "alerts": Alert.objects.filter(state=Alert.State.FIRING),
            "found": found[:MESSAGES_LISTED],
            "query": request.GET,
            "statuses": InboundMessage.Status.choices,
        },
    )


def search(params) -> Any:
    messages_found = InboundMessage.objects.select_related("user").order_by("-pk")
    text = params.get("q", "").strip()[:200]
    if text:
        messages_found = messages_found.filter(
            Q(external_id__icontains=text)
            | Q(message_data__content__icontains=text)
            | Q(user__username__icontains=text)
            | Q(error__icontains=text)
        )
    if params.get("status"):
        messages_found = messages_found.filter(status=params["status"])
    if params.get("channel"):
        messages_found = messages_found.filter(channel=params["channel"])
    return messages_found


def last_hour_by_channel(since) -> list[dict[str, Any]]:
    """Per channel: received, replied, dead since `since`, and p50/p95 seconds from
    arrival to the last part delivered."""
    rows = InboundMessage.objects.filter(received_at__gte=since).values_list(
        "channel", "status", "received_at", "finished_at"
    )
    by_channel: dict[str, dict[str, Any]] = {}
    for channel, status, received_at, finished_at in rows:
        row = by_channel.setdefault(
            channel, {"channel": channel, "received": 0, "replied": 0, "dead": 0, "times": []}
        )
        row["received"] += 1
        if status == InboundMessage.Status.DONE and finished_at:
            row["replied"] += 1
            row["times"].append((finished_at - received_at).total_seconds())
        elif status == InboundMessage.Status.DEAD:
            row["dead"] += 1
    for row in by_channel.values():
        times = sorted(row.pop("times"))
        row["p50"] = percentile(times, 50)
        row["p95"] = percentile(times, 95)
    return sorted(by_channel.values(), key=lambda row: row["channel"])


def percentile(sorted_values: list[float], pct: int) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]
