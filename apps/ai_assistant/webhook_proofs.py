"""Bind a webhook signature that does not cover the body to the body it first came with.

WeChat's plaintext-mode `signature` covers only token, timestamp and nonce; DingTalk's `sign`
covers only the timestamp. Whoever sees one request's query string or headers could otherwise
post any body with them for the whole timestamp window. So the first body seen with a proof
owns it: the same proof with a byte-identical body is the platform's retry (the intake then
serves the stored answer), with another body it is refused (403). The binding lives in the
database, shared by every web process, and is deleted once the proof's window has passed.
"""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from .channels.base import WebhookRejected
from .insert import insert_row
from .models import ChannelApp, WebhookProof

# One binding in this many also deletes expired ones, so the table stays small in sync mode
# too, where no periodic task runs.
CULL_EVERY = 100
CULL_BATCH = 1000


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bind_to_body(app: ChannelApp, proof: str, body: bytes) -> None:
    """Accept `proof` with `body` if it is new or came with this very body before; raise
    WebhookRejected(403) if it came with another body within its window."""
    proof_digest = _digest(proof.encode("utf-8"))
    body_digest = _digest(body)
    now = timezone.now()
    # A timestamp may lie a window ahead of now and still pass, so keep the proof two.
    expires_at = now + timedelta(seconds=2 * settings.AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS)
    try:
        insert_row(
            WebhookProof,
            app=app,
            proof_digest=proof_digest,
            body_digest=body_digest,
            expires_at=expires_at,
        )
    except IntegrityError:
        bound = WebhookProof.objects.filter(app=app, proof_digest=proof_digest).first()
        if bound is None or bound.body_digest == body_digest:
            return
        taken_over = WebhookProof.objects.filter(pk=bound.pk, expires_at__lte=now).update(
            body_digest=body_digest, expires_at=expires_at
        )
        if not taken_over:
            raise WebhookRejected(403, "signature already used with another body") from None
    if random.randrange(CULL_EVERY) == 0:
        forget_expired()


def forget_expired(limit: int = CULL_BATCH) -> int:
    """Delete up to `limit` bindings whose window has passed; how many were deleted."""
    expired = WebhookProof.objects.filter(expires_at__lte=timezone.now())
    batch = list(expired.values_list("pk", flat=True)[:limit])
    deleted, _ = WebhookProof.objects.filter(pk__in=batch).delete()
    return deleted
