"""The operations console, staff only: a message's timeline, an alert incident, and the
operator's hands on dead letters (replay once, replay an incident's, discard).

Anyone not logged in is sent to the admin's login; a logged-in user who is not staff gets
403. The actions also need the permission to change inbound messages, and are POSTs with
Django's CSRF protection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.ai_assistant import dispatch, inbox
from apps.ai_assistant.models import InboundMessage

from . import state
from .models import Alert

ACT_PERMISSION = "ai_assistant.change_inboundmessage"


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "admin:login")
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
        },
    )


def timeline(message: InboundMessage) -> list[tuple[Any, str, str]]:
    """(time, what, detail) in order: the message's timestamps, its events, tool calls and
    reply parts."""
    entries = [(message.received_at, "received and stored", message.channel)]
    if message.queued_at:
        entries.append((message.queued_at, "queued", ""))
    if message.claimed_at:
        entries.append((message.claimed_at, "claimed", message.claimed_by))
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
    return render(
        request,
        "operations/alert.html",
        {"alert": incident, "dead": dead, "can_act": request.user.has_perm(ACT_PERMISSION)},
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
