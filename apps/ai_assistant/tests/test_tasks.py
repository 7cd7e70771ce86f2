"""The seed's tasks against a real Redis and a real Celery worker (no eager mode)."""

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.ai_assistant.models import (
    Conversation,
    ConversationTurn,
    InboundMessage,
    ReportJob,
    ToolExecutionLog,
)
from apps.ai_assistant.tasks import (
    cleanup_expired_conversations,
    cleanup_old_logs,
    execute_tool_async,
    process_message_async,
)
from apps.inventory.models import StockLevel
from better_laser_erp.celery import app as celery_app

from .async_support import wait_for

SEED_MESSAGE_DATA = {
    "message_id": "msg_001",
    "channel": "telegram",
    "external_user_id": "123456789",
    "content": "你好",
    "timestamp": "2026-01-07T10:00:00",
    "message_type": "text",
    "conversation_id": "conv_001",
    "raw_data": {},
}


def user(username):
    return get_user_model().objects.get(username=username)


def test_the_seeds_process_message_example_returns_the_reply(celery_worker):
    admin = user("admin")

    result = process_message_async.delay(SEED_MESSAGE_DATA, user_id=admin.pk)
    response = result.get(timeout=30)

    assert result.task_id
    assert "/help" in response["content"]
    assert ConversationTurn.objects.filter(message_id="msg_001").count() == 1


def test_the_seeds_execute_tool_example_lists_the_main_warehouse(celery_worker):
    wh1 = user("wh1")

    result = execute_tool_async.delay(
        tool_name="check_inventory_stock", user_id=wh1.pk, parameters={"warehouse": "main"}
    )
    outcome = result.get(timeout=30)

    assert outcome["status"] == "success"
    log = ToolExecutionLog.objects.get(pk=outcome["log_id"])
    assert log.user == wh1 and log.channel == "celery"
    main_skus = set(
        StockLevel.objects.filter(warehouse__code="main").values_list("item__sku", flat=True)
    )
    assert "PW-D37-T7" in main_skus
    assert "PW-D37-T7" in str(outcome["data"])


def test_execute_tool_async_checks_the_users_permission(celery_worker):
    guest = user("guest1")

    outcome = execute_tool_async.delay(
        tool_name="check_inventory_stock", user_id=guest.pk, parameters={"item": "NZ-S1.5"}
    ).get(timeout=30)

    assert outcome["status"] == "denied"
    assert outcome["data"] == {}
    assert ToolExecutionLog.objects.get(pk=outcome["log_id"]).status == "denied"


def test_execute_tool_async_only_stages_a_write_tool(celery_worker):
    wh1 = user("wh1")
    level = StockLevel.objects.get(item__sku="NZ-S1.5", warehouse__code="main")

    outcome = execute_tool_async.delay(
        tool_name="reserve_stock",
        user_id=wh1.pk,
        parameters={"item": "NZ-S1.5", "qty": 1, "warehouse": "main"},
    ).get(timeout=30)

    assert outcome["status"] == "staged"
    level.refresh_from_db()
    assert StockLevel.objects.get(pk=level.pk).reserved_qty == level.reserved_qty


def test_the_seeds_cleanup_examples_delete_exactly_what_is_due(celery_worker):
    now = timezone.now()
    sales1 = user("sales1")
    old = Conversation.objects.create(
        channel="telegram", external_conversation_id="old", user=sales1
    )
    fresh = Conversation.objects.create(
        channel="telegram", external_conversation_id="fresh", user=sales1
    )
    Conversation.objects.filter(pk=old.pk).update(last_active_at=now - timedelta(days=31))
    Conversation.objects.filter(pk=fresh.pk).update(last_active_at=now - timedelta(days=29))
    old_log = ToolExecutionLog.objects.create(tool="find_product", status="success")
    kept_log = ToolExecutionLog.objects.create(tool="find_product", status="success")
    ToolExecutionLog.objects.filter(pk=old_log.pk).update(created_at=now - timedelta(days=91))
    ToolExecutionLog.objects.filter(pk=kept_log.pk).update(created_at=now - timedelta(days=89))

    cleanup_result = cleanup_expired_conversations.delay()
    log_cleanup = cleanup_old_logs.delay()

    assert cleanup_result.get(timeout=30) == 1
    assert log_cleanup.get(timeout=30) == 1
    assert not Conversation.objects.filter(pk=old.pk).exists()
    assert Conversation.objects.filter(pk=fresh.pk).exists()
    assert not ToolExecutionLog.objects.filter(pk=old_log.pk).exists()
    assert ToolExecutionLog.objects.filter(pk=kept_log.pk).exists()


def test_cleanup_old_logs_deletes_in_batches(db, settings):
    settings.AI_ASSISTANT_TOOL_LOG_RETENTION_DAYS = 90
    long_ago = timezone.now() - timedelta(days=100)
    ToolExecutionLog.objects.bulk_create(
        ToolExecutionLog(tool="find_product", status="success", created_at=long_ago)
        for _ in range(2500)
    )

    assert cleanup_old_logs() == 2500
    assert not ToolExecutionLog.objects.filter(created_at__lt=long_ago + timedelta(days=1))


def test_beat_runs_the_seeds_schedule_plus_sweeper_and_token_refresh():
    schedule = celery_app.conf.beat_schedule

    assert schedule["cleanup-expired-conversations"]["schedule"] == crontab(minute=0)
    assert schedule["cleanup-old-logs"]["schedule"] == crontab(hour=2, minute=0)
    assert schedule["sweep-inbound-messages"]["schedule"] == 5.0
    assert schedule["refresh-expiring-access-tokens"]["schedule"] == 300.0
    assert schedule["evaluate-alerts"]["schedule"] == 60.0
    celery_app.loader.import_default_modules()  # what a worker and beat do when they start
    for entry in schedule.values():
        assert entry["task"] in celery_app.tasks


def test_tasks_are_routed_by_priority_queue():
    router = celery_app.amqp.router

    def queue_of(task_name):
        return router.route({}, task_name)["queue"].name

    assert queue_of("apps.ai_assistant.tasks.process_message_async") == "messages"
    assert queue_of("apps.ai_assistant.tasks.execute_tool_async") == "tools"
    assert queue_of("apps.ai_assistant.tasks.cleanup_old_logs") == "maintenance"
    assert queue_of("apps.ai_assistant.tasks.sweep_inbound_messages") == "maintenance"
    for report_task in ("run_report_job", "report_part", "merge_report_parts"):
        assert queue_of(f"apps.ai_assistant.tasks.{report_task}") == "reports"
    queues = celery_app.conf.task_queues
    names = ["messages", "tools", "maintenance", "reports"]
    assert [queue.name for queue in queues] == names
    # One binding per queue: a task routed to one queue lands in that queue only.
    assert [queue.routing_key for queue in queues] == names
    assert len({queue.exchange.name for queue in queues}) == 4


def test_reliability_settings_keep_time_limits_below_the_visibility_timeout(settings):
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert (
        settings.CELERY_TASK_SOFT_TIME_LIMIT
        < settings.CELERY_TASK_TIME_LIMIT
        < settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    )
    # The claim is renewed three times per lease while a turn runs.
    assert settings.AI_ASSISTANT_CLAIM_LEASE_SECONDS / 3 >= 1


@pytest.mark.django_db
def test_a_message_without_an_app_is_answered_but_not_stored():
    # The seed's direct call for a channel with no configured app: nothing to deliver to.
    reply = process_message_async.run(SEED_MESSAGE_DATA, user_id=user("admin").pk)

    assert "/help" in reply["content"]
    assert not InboundMessage.objects.exists()


def test_execute_tool_async_queues_a_report_tools_job_for_the_reports_worker(celery_worker):
    sales1 = user("sales1")

    outcome = execute_tool_async.delay(
        tool_name="sales_report", user_id=sales1.pk, parameters={"period": "last_month"}
    ).get(timeout=30)

    assert outcome["status"] == "success" and outcome["data"]["status"] == "queued"
    job = wait_for(
        lambda: ReportJob.objects.filter(pk=outcome["data"]["job"], status="succeeded").first(),
        timeout=60,
        what="the reports worker to make the job",
    )
    assert job.user == sales1 and job.inbound is None and job.size > 0
