"""The web chat page: any logged-in, active ERP user talks to the assistant as themselves.

The page posts to the `web` channel's webhook (apps/ai_assistant/channels/web/) and reads the
reply from `replies`: the message's reply parts once they are delivered, in sync and async mode
alike, so the page shows an answer the worker sends later without a reload.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from apps.ai_assistant.channels.web.adapter import PAGE_ID, WEB_APP_ID, account_of, web_app
from apps.ai_assistant.models import InboundMessage, OutboundMessage

from .console import FINISHED

HISTORY_SHOWN = 20


def _messages_of(request: HttpRequest):
    """The logged-in user's web chat messages, newest first."""
    return InboundMessage.objects.filter(
        channel="web", app__app_id=WEB_APP_ID, conversation_key=account_of(request.user)
    ).order_by("-received_at")


def exchange(inbound: InboundMessage) -> dict[str, Any]:
    """What the page shows of one message: the question, the reply parts delivered so far,
    and whether more may come."""
    delivered = [
        part.content
        for part in inbound.outbound.all()
        if part.status == OutboundMessage.Status.SENT
    ]
    return {
        "id": inbound.external_id.partition(":")[2],
        "text": inbound.message_data.get("content", ""),
        "replies": delivered,
        "finished": inbound.status in FINISHED,
        "discarded": inbound.status == InboundMessage.Status.DISCARDED,
    }


@login_required
@ensure_csrf_cookie
@require_GET
def chat(request: HttpRequest) -> HttpResponse:
    app = web_app()
    recent = _messages_of(request).prefetch_related("outbound")[:HISTORY_SHOWN]
    return render(
        request,
        "operations/chat.html",
        {
            "app": app,
            "history": [exchange(inbound) for inbound in reversed(recent)],
            "webhook_url": f"/webhooks/web/{app.app_id}/",
        },
    )


@login_required
@require_GET
def replies(request: HttpRequest, page_id: str) -> JsonResponse:
    """The reply to one of the user's messages so far; 404 for an id that is not theirs."""
    if not PAGE_ID.fullmatch(page_id):
        return JsonResponse({"error": "unknown message"}, status=404)
    inbound = (
        _messages_of(request)
        .filter(external_id=f"{account_of(request.user)}:{page_id}")
        .prefetch_related("outbound")
        .first()
    )
    if inbound is None:
        return JsonResponse({"error": "unknown message"}, status=404)
    return JsonResponse(exchange(inbound))
