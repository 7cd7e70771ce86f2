"""The cleanups' set-based deletes: what goes, what stays, in batches."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.ai_assistant import retention
from apps.ai_assistant.models import (
    Conversation,
    ConversationTurn,
    PendingAction,
    ToolExecutionLog,
)


def conversation(name: str, idle_days: int) -> Conversation:
    user = get_user_model().objects.get(username="sales1")
    chat = Conversation.objects.create(channel="telegram", external_conversation_id=name, user=user)
    Conversation.objects.filter(pk=chat.pk).update(
        last_active_at=timezone.now() - timedelta(days=idle_days)
    )
    ConversationTurn.objects.create(conversation=chat, user_text="NZ-S1.5 库存", reply_text="…")
    PendingAction.objects.create(
        user=user, conversation=chat, tool="reserve_stock", resolved_args={}, target_repr="…"
    )
    ToolExecutionLog.objects.create(tool="find_product", status="success", conversation=chat)
    return chat


def test_an_expired_conversation_goes_with_its_turns_and_actions_and_its_logs_stay(db):
    expired = [conversation(f"old-{n}", idle_days=31) for n in range(7)]
    kept = conversation("fresh", idle_days=29)

    deleted = retention.delete_conversations_before(timezone.now() - timedelta(days=30), batch=3)

    assert deleted == 7
    assert list(Conversation.objects.filter(pk__in=[c.pk for c in expired])) == []
    assert set(ConversationTurn.objects.values_list("conversation", flat=True)) == {kept.pk}
    assert set(PendingAction.objects.values_list("conversation", flat=True)) == {kept.pk}
    # The audit trail outlives the chat it came from.
    assert ToolExecutionLog.objects.filter(conversation__isnull=True).count() == 7
    assert ToolExecutionLog.objects.filter(conversation=kept).count() == 1


def test_old_logs_are_deleted_in_batches_without_reading_them(db):
    now = timezone.now()
    ToolExecutionLog.objects.bulk_create(
        ToolExecutionLog(tool="find_product", status="success", created_at=now - timedelta(days=d))
        for d in [100] * 25 + [10] * 4
    )
    with CaptureQueriesContext(connection) as queries:
        deleted = retention.delete_tool_logs_before(now - timedelta(days=90), batch=10)

    assert deleted == 25
    assert ToolExecutionLog.objects.count() == 4
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert statements == ["DELETE"] * 3  # 10 + 10 + 5: no SELECT of ids, no row loaded
