"""The Celery application: configuration from Django settings (CELERY_ namespace), tasks
autodiscovered from every installed app, and the beat schedule."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "better_laser_erp.settings")

app = Celery("better_laser_erp")
app.config_from_object("django.conf:settings", namespace="CELERY")
# A worker started without -Q consumes all of them, polled in this order (priority). Reports
# are long: give them a worker of their own (-Q reports) so chat turns never wait behind one.
app.conf.task_queues = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("messages", "tools", "maintenance", "reports")
)
app.autodiscover_tasks()
# Celery's Django fixup closes every database connection before and after each task unless
# this is set: a new PostgreSQL connection (a server process forked) for every chat turn was
# a fifth of a worker's time. The fixup now closes them only every 1,000 tasks; around each
# task Django's own rule applies instead (below), as it does around each web request.
app.conf.update(CELERY_DB_REUSE_MAX=1000)
app.conf.beat_scheduler = "apps.operations.beat:Scheduler"

app.conf.beat_schedule = {
    # every hour: clean up expired conversations
    "cleanup-expired-conversations": {
        "task": "apps.ai_assistant.tasks.cleanup_expired_conversations",
        "schedule": crontab(minute=0),
    },
    # every day at 02:00: clean up old logs
    "cleanup-old-logs": {
        "task": "apps.ai_assistant.tasks.cleanup_old_logs",
        "schedule": crontab(hour=2, minute=0),
    },
    # every 5 seconds: enqueue messages whose retry is due, the broker never got, or a dead
    # worker left behind (one indexed query when there is nothing to do)
    "sweep-inbound-messages": {
        "task": "apps.ai_assistant.tasks.sweep_inbound_messages",
        "schedule": 5.0,
    },
    # every 30 seconds: report jobs cancelled past their grace period, stuck with a dead
    # worker, or lost by the broker
    "sweep-report-jobs": {
        "task": "apps.ai_assistant.tasks.sweep_report_jobs",
        "schedule": 30.0,
    },
    # every minute, in beat's own process (apps/operations/beat.py): backlog and failure
    # alerts to the operators
    "evaluate-alerts": {
        "task": "apps.operations.tasks.evaluate_alerts",
        "schedule": 60.0,
    },
    # every 5 minutes: refresh platform access tokens that expire soon
    "refresh-expiring-access-tokens": {
        "task": "apps.ai_assistant.tasks.refresh_expiring_access_tokens",
        "schedule": 300.0,
    },
}


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(**_signal_arguments: object) -> None:
    """Close connections that are broken or older than CONN_MAX_AGE; keep the others."""
    from django.db import close_old_connections

    close_old_connections()
