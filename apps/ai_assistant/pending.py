"""Staged writes (PendingAction): a write tool's preview waiting for the user's yes.

The handler stages what a turn's write tool asked for; a finished reorder plan stages its
draft purchase orders in the conversation that asked for the plan. A conversation has at
most one: staging another drops the one before.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .models import Conversation, PendingAction


def stage(user: Any, conversation: Conversation, channel: str, result: Any) -> PendingAction:
    """Stage a write tool's STAGED result (resolved arguments, what it will do)."""
    cancel(conversation)
    return PendingAction.objects.create(
        user=user,
        conversation=conversation,
        channel=channel,
        tool=result.tool,
        resolved_args=result.data["resolved_args"],
        target_repr=result.data["target_repr"],
    )


def cancel(conversation: Conversation) -> int:
    """Drop the conversation's staged write, if any; how many were dropped."""
    return conversation.pending_actions.filter(status=PendingAction.Status.PENDING).update(
        status=PendingAction.Status.REJECTED, decided_at=timezone.now()
    )
