"""Deleting what is kept no longer (beat's cleanups), in set-based SQL.

Old tool logs go in batches of `DELETE … WHERE id IN (SELECT id … WHERE created_at < cutoff
LIMIT n)`: no id travels to Python and no row is loaded. An expired conversation takes its
turns and staged actions with it and leaves its tool logs without a conversation: one
statement per table per batch, where the ORM's collector would load every row and null the
logs one by one.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from .models import Conversation, ConversationTurn, PendingAction, ToolExecutionLog

LOG_BATCH = 20_000
# Conversation ids travel to Python (three tables use them); SQLite binds at most 32,766.
CONVERSATION_BATCH = 5_000


def delete_tool_logs_before(cutoff: datetime, batch: int = LOG_BATCH) -> int:
    expired = ToolExecutionLog.objects.filter(created_at__lt=cutoff).order_by()
    return _delete_in_batches(expired, batch)


def _delete_in_batches(expired: QuerySet, batch: int) -> int:
    """Delete the rows of `expired` (a model nothing refers to) `batch` at a time."""
    model = expired.model
    deleted = 0
    while True:
        # Nothing refers to these rows and no signal listens: Django deletes them with one
        # statement (its "fast delete"), the subquery inside it.
        count, _ = model.objects.filter(pk__in=expired.values("pk")[:batch]).delete()
        deleted += count
        if count < batch:
            return deleted


def delete_conversations_before(cutoff: datetime, batch: int = CONVERSATION_BATCH) -> int:
    deleted = 0
    while True:
        with transaction.atomic():
            # Locked, so a conversation that comes back to life meanwhile waits for this
            # batch rather than losing its turns.
            ids = list(
                Conversation.objects.select_for_update(skip_locked=True)
                .filter(last_active_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return deleted
            ToolExecutionLog.objects.filter(conversation_id__in=ids).update(conversation=None)
            ConversationTurn.objects.filter(conversation_id__in=ids).delete()
            PendingAction.objects.filter(conversation_id__in=ids).delete()
            Conversation.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted
