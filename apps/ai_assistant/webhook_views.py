"""Webhooks of the chat platforms: /webhooks/<channel>/<app_id>/ (docs/design.md §2).

One view serves every channel; the channel module says what is specific to its platform
(apps/ai_assistant/channels/). The order never changes:

1. verify   signature / timestamp window / body size → 4xx with a short reason, nothing stored
            (the app's secrets come from a per-process cache: channel_apps.py)
2. parse    → IncomingMessage (or nothing to answer)
3. identify the bound ERP user (None: the handler explains how to bind); in async mode the
            worker does this, to keep the ack short
4. intake   InboundMessage, unique per (channel, app, external_id): a platform retry gets the
            first answer again and never runs the handler twice
5. route    USE_ASYNC_PROCESSING ? _process_message_async : _process_message_sync
6. answer   passively in the HTTP response. In sync mode a reply longer than the platform's
            limit is split: the response carries part 1, the other parts go through the
            channel's send API right after the response has been written (best effort:
            failures are logged and kept as failed OutboundMessage rows).

Errors are mapped in `_answer_errors` only: WebhookRejected → its status and reason; an
unexpected error after verification → logged, the message kept (status dead), and the
platform's "nothing now" answer so it does not retry into the same bug.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import dispatch, inbox, metrics, turns
from .channel_apps import channel_app
from .channels import CHANNELS
from .channels.base import Channel, ParsedWebhook, WebhookRejected, get_channel
from .handler import MessageHandler
from .identity import user_for
from .messages import OutgoingMessage
from .models import APP_ID_PATTERN, ChannelApp, InboundMessage
from .modes import async_mode
from .storable import storable_webhook
from .webhook_proofs import bind_to_body

logger = logging.getLogger(__name__)

INBOUND = InboundMessage.Status
APP_ID = re.compile(APP_ID_PATTERN)


def _process_message_sync(user, message):
    """Process the message synchronously (the default)."""
    handler = MessageHandler(user)
    return handler.handle_message(message)


def _process_message_async(user, message, inbound=None):
    """Process the message asynchronously.

    The message is already stored (`inbound`); it is queued for a Celery worker once the
    transaction commits, and the worker sends the real reply through the platform's API.
    Returns the "processing" notice for the passive answer.
    """
    if inbound is None:
        # The seed's two-argument call: hand the message straight to the task.
        dispatch.send_direct(message.to_dict(), getattr(user, "pk", None))
    else:
        dispatch.enqueue(inbound)
    return OutgoingMessage(content=settings.AI_ASSISTANT_ASYNC_ACK_TEXT)


def use_async_processing() -> bool:
    """The seed's switch, read from settings at call time (modes.py)."""
    return async_mode()


USE_ASYNC_PROCESSING = use_async_processing()


def plain_response(status: int, reason: str) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")


def _answer_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn a WebhookRejected into its status and short reason, the one place that does, and
    count every answer (metrics.py)."""

    @wraps(view)
    def wrapper(request: HttpRequest, channel: str, app_id: str) -> HttpResponse:
        started = time.monotonic()
        try:
            response = view(request, channel, app_id)
        except WebhookRejected as rejected:
            # Reason only: never the body, query or headers of a refused request. The path's
            # values are the requester's: log_safety escapes any control characters in them.
            logger.info(
                "webhook %s/%s refused: %s %s", channel, app_id, rejected.status, rejected.reason
            )
            response = plain_response(rejected.status, rejected.reason)
            # One line per refusal: this one, not django.request's "Forbidden: …" as well.
            response._has_been_logged = True
        label = metrics.known(channel, CHANNELS)
        metrics.WEBHOOK_REQUESTS.labels(label, str(response.status_code)).inc()
        metrics.WEBHOOK_SECONDS.labels(label).observe(time.monotonic() - started)
        return response

    return wrapper


@csrf_exempt
@_answer_errors
def webhook(request: HttpRequest, channel: str, app_id: str) -> HttpResponse:
    """The webhook of one chat app: GET URL verification, POST messages."""
    platform = _channel(channel)
    if request.method == "GET":
        # URL verification comes right after an app is set up or its secrets change.
        app = _enabled_app(channel, app_id, fresh=True)
        response = platform.handshake(request, app)
        if response is None:
            raise WebhookRejected(405, "method not allowed")
        proof = platform.unbound_proof(request, app)
        if proof:
            # A verification URL's signature must not sign a message later.
            bind_to_body(app, proof, b"")
        return response
    app = _enabled_app(channel, app_id)
    if request.method != "POST":
        raise WebhookRejected(405, "method not allowed")
    _check_body_size(request)
    try:
        parsed = _verified(request, platform, app)
    except WebhookRejected:
        # The cached app may predate a secret rotation: decide on a fresh read.
        app = _enabled_app(channel, app_id, fresh=True)
        parsed = _verified(request, platform, app)
    if parsed.message is None:
        return platform.acknowledge(request, app)
    try:
        return _answer(request, platform, app, parsed)
    except WebhookRejected:
        raise
    except Exception:
        logger.exception("webhook %s/%s failed on %s", channel, app_id, parsed.external_id)
        inbox.failed_in_webhook(app, platform.name, parsed.external_id)
        return platform.acknowledge(request, app)


def _channel(channel: str) -> Channel:
    try:
        return get_channel(channel)
    except KeyError:
        raise WebhookRejected(404, "unknown channel") from None


def _enabled_app(channel: str, app_id: str, fresh: bool = False) -> ChannelApp:
    if not APP_ID.fullmatch(app_id):
        # Never a query for it: NUL and other bytes PostgreSQL refuses would be a 500.
        raise WebhookRejected(404, "unknown app")
    app = channel_app(channel, app_id, fresh=fresh)
    if app is None:
        raise WebhookRejected(404, "unknown app")
    if not app.enabled:
        raise WebhookRejected(404, "app disabled")
    return app


def _verified(request: HttpRequest, platform: Channel, app: ChannelApp) -> ParsedWebhook:
    platform.verify(request, app)
    parsed = platform.parse(request, app)
    proof = platform.unbound_proof(request, app)
    if proof:
        # After parsing, so a refused request leaves no row behind.
        bind_to_body(app, proof, request.body)
    return storable_webhook(parsed)


def _check_body_size(request: HttpRequest) -> None:
    limit = settings.AI_ASSISTANT_MAX_WEBHOOK_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise WebhookRejected(400, "bad Content-Length") from None
    if declared > limit:
        raise WebhookRejected(413, "body too large")
    try:
        body = request.body
    except RequestDataTooBig:
        raise WebhookRejected(413, "body too large") from None
    if len(body) > limit:
        raise WebhookRejected(413, "body too large")


def _answer(
    request: HttpRequest, platform: Channel, app: ChannelApp, parsed: ParsedWebhook
) -> HttpResponse:
    message = parsed.message
    run_async = use_async_processing()
    # In async mode the worker finds the user: the ack stays as short as it can be.
    user = None if run_async else user_for(platform.name, message.external_user_id)
    try:
        inbound, first_time = inbox.receive(app, parsed, user, queue=run_async)
    except DatabaseError as error:
        # Not stored, so not answered 200: the platform sends it again later.
        logger.error(
            "webhook %s/%s could not store %s: %s",
            platform.name,
            app.app_id,
            parsed.external_id,
            error,
        )
        raise WebhookRejected(503, "try again later") from error
    if not first_time:
        return _answer_retry(request, platform, app, parsed, inbound)
    if run_async:
        response = _process_message_async(user, message, inbound=inbound)
        return _render(platform, request, app, parsed, response)
    with turns.answering(inbound.pk):
        response = _process_message_sync(user, message)
    _, rest = platform.passive_parts(response.content)
    sends_later = inbox.replied_in_webhook(inbound, response, rest)
    rendered = _render(platform, request, app, parsed, response)
    if sends_later:
        _deliver_after_response(rendered, inbound)
    return rendered


def _answer_retry(
    request: HttpRequest,
    platform: Channel,
    app: ChannelApp,
    parsed: ParsedWebhook,
    inbound: InboundMessage,
) -> HttpResponse:
    """A platform retry: the stored reply again, or "nothing now" while it is in the works."""
    logger.info("webhook %s/%s retry of %s", platform.name, app.app_id, parsed.external_id)
    if use_async_processing():
        # The first answer was the notice; the reply itself goes out through the send API.
        notice = OutgoingMessage(content=settings.AI_ASSISTANT_ASYNC_ACK_TEXT)
        return _render(platform, request, app, parsed, notice)
    if inbound.reply is None or inbound.status == INBOUND.DEAD:
        return platform.acknowledge(request, app)
    rendered = _render(platform, request, app, parsed, OutgoingMessage.from_dict(inbound.reply))
    if inbound.status == INBOUND.REPLIED and not use_async_processing():
        _deliver_after_response(rendered, inbound)
    return rendered


def _render(
    platform: Channel,
    request: HttpRequest,
    app: ChannelApp,
    parsed: ParsedWebhook,
    reply: OutgoingMessage,
) -> HttpResponse:
    """The passive answer; a blank reply (nothing to say) is the platform's acknowledgement,
    never an empty message."""
    if not reply.content.strip():
        return platform.acknowledge(request, app)
    return platform.render_reply(request, app, parsed, reply)


def _deliver_after_response(response: HttpResponse, inbound: InboundMessage) -> None:
    """Send the remaining reply parts once the passive answer has gone out, so the user
    reads them in order. The WSGI server (and Django's test client) calls close() after
    writing the response."""
    close = response.close

    def deliver_then_close() -> None:
        try:
            # A failed part stays with its error and next attempt time (inbox.py): sync mode
            # has no worker to retry it, async mode's sweeper does.
            inbox.deliver(inbound, claimed=False)
        except Exception:
            logger.exception("webhook %s: sending reply parts failed", inbound.channel)
        finally:
            close()

    response.close = deliver_then_close
