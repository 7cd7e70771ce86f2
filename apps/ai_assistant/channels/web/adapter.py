"""The web chat: the assistant in the browser, for a logged-in ERP user (docs/channels.md).

The chat page (apps/operations, /chat/) posts `{"id": "<uuid>", "text": "..."}` to
/webhooks/web/browser/ with the session cookie and Django's CSRF token:

- verify: the session is the proof of origin (a logged-in, active user) and the CSRF token
  proves the page is ours; anything else → 403.
- parse:  the logged-in user is the chat account "user-<pk>", bound to that user here and
  nowhere else (`/bind` is refused: a browser session cannot become someone else). The
  de-dup key is the account plus the page's id, so a resend after a network error is
  answered once and one user's ids can never collide with another's.
- answer: the HTTP answer only says the message was accepted. The reply, in sync and async
  mode alike, is the message's reply parts "sent" through `send`, which has no platform to
  call: a part is delivered once it is stored as sent, and the page reads it from
  /chat/replies/<id>.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from apps.ai_assistant.channels.base import (
    Channel,
    ParsedWebhook,
    WebhookRejected,
    parse_json,
    register,
)
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ChannelApp, ChannelIdentity

WEB_APP_ID = "browser"
PAGE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
BIND = re.compile(r"^\s*/bind\b", re.IGNORECASE)


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check as a function: the reason it fails, or None. The webhook view is
    CSRF-exempt (platforms post to it); this channel asks for the check itself, and the
    refusal is logged once, by the webhook view."""

    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def _no_view(request: HttpRequest) -> None:
    return None


def csrf_failure(request: HttpRequest) -> str | None:
    return _CsrfCheck(_no_view).process_view(request, None, (), {})


def account_of(user: Any) -> str:
    """The web chat account of an ERP user."""
    return f"user-{user.pk}"


def web_app() -> ChannelApp:
    """The web chat's app, created on first use; disabling it in the admin turns the web
    chat off."""
    app, _ = ChannelApp.objects.get_or_create(
        channel=WebChannel.name, app_id=WEB_APP_ID, defaults={"name": "Web chat"}
    )
    return app


def bind_account(user: Any) -> str:
    """The user's web chat account, bound to them (and only them)."""
    account = account_of(user)
    identity, created = ChannelIdentity.objects.get_or_create(
        channel=WebChannel.name,
        external_user_id=account,
        defaults={"user": user, "display_name": user.get_username()[:100]},
    )
    if not created and identity.user_id != user.pk:
        identity.user = user
        identity.save(update_fields=["user"])
    return account


@register
class WebChannel(Channel):
    name = "web"
    label = "Web chat"
    # The page shows any length; one part keeps a reply whole.
    text_limit = 100_000
    measure = staticmethod(len)

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            raise WebhookRejected(403, "log in first")
        if not user.is_active:
            raise WebhookRejected(403, "account disabled")
        reason = csrf_failure(request)
        if reason:
            raise WebhookRejected(403, f"CSRF check failed: {reason}")

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        body = parse_json(request.body)
        page_id, text = body.get("id"), body.get("text")
        if not isinstance(page_id, str) or not PAGE_ID.fullmatch(page_id):
            raise WebhookRejected(400, "id must be 8 to 64 letters, digits or dashes")
        if not isinstance(text, str) or not text.strip():
            raise WebhookRejected(400, "text must be a non-empty string")
        if BIND.match(text):
            raise WebhookRejected(400, "the web chat is always you: /bind is for chat apps")
        account = bind_account(request.user)
        message = IncomingMessage(
            message_id=page_id,
            channel=self.name,
            external_user_id=account,
            content=text,
            timestamp=timezone.now(),
            raw_data={"id": page_id},
        )
        return ParsedWebhook(message, external_id=f"{account}:{page_id}")

    def acknowledge(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        return JsonResponse({"accepted": True})

    def passive_parts(self, text: str) -> tuple[str, list[str]]:
        return "", self.split(text)

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        # Nothing to call: the stored part is what the page reads.
        return ""
