"""Alerts to the Operators group and the console's hands on dead letters, with a real Celery
worker on a real Redis and the platforms stand-in receiving what the operators are sent."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from apps.ai_assistant.models import ChannelIdentity, InboundMessage, MessageEvent
from apps.ai_assistant.tests.async_support import wait_for, worker_thread
from apps.ai_assistant.tests.test_async_mode import dead_letter, make_app, sent_to
from apps.operations import alerts
from apps.operations.models import Alert
from devtools import webhook_client

OPERATOR_ACCOUNT = "o_ops1"


def make_operator(username: str = "ops1"):
    """A staff user in the Operators group, allowed to replay, bound to a WeChat account."""
    operator = get_user_model().objects.create_user(username, password="ops-pass", is_staff=True)
    operator.groups.add(Group.objects.get_or_create(name=alerts.OPERATORS_GROUP)[0])
    operator.user_permissions.add(Permission.objects.get(codename="change_inboundmessage"))
    ChannelIdentity.objects.create(
        channel="wechat", external_user_id=OPERATOR_ACCOUNT, user=operator
    )
    return operator


@pytest.mark.timeout(120)
def test_a_stopped_worker_alerts_the_operators_once_and_resolves_once(
    client, async_mode, platforms, settings
):
    settings.OPERATIONS_ALERT_WORKER_SILENT_SECONDS = 2
    settings.OPERATIONS_ALERT_CLEAR_SECONDS = 0
    settings.AI_ASSISTANT_WORKER_PING_SECONDS = 1
    make_app("wechat", platforms)
    make_operator()

    with worker_thread():
        assert alerts.evaluate() == []
    later = timezone.now() + timedelta(seconds=5)
    assert alerts.evaluate(later) == ["raised worker"]
    assert alerts.evaluate(later + timedelta(seconds=60)) == []

    notices = sent_to(platforms, OPERATOR_ACCOUNT)
    assert len(notices) == 1 and "worker" in notices[0]["text"], notices
    time.sleep(3.2)  # the last answer to a ping grows older than 3 × the ping interval
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["worker"]["ok"] is False

    with worker_thread():
        assert alerts.evaluate() == []  # clear from now on
        assert alerts.evaluate() == ["resolved worker"]
    notices = sent_to(platforms, OPERATOR_ACCOUNT)
    assert len(notices) == 2 and notices[1]["text"].startswith("【恢复】")
    incident = Alert.objects.get(condition="worker")
    assert incident.state == "resolved" and incident.notice_pending is False


@pytest.mark.timeout(120)
def test_a_dead_letter_is_announced_and_an_operator_replays_it_exactly_once(
    client, celery_worker, platforms, settings
):
    settings.OPERATIONS_ALERT_WORKER_SILENT_SECONDS = 3600
    operator = make_operator()
    dead = dead_letter(client, platforms, settings, msg_id="9301")

    # The operator is on the failing platform too: the notice waits for the next minute.
    assert "raised dead_letters" in alerts.evaluate()
    assert Alert.objects.get(condition="dead_letters").notice_pending is True
    with platforms.state.lock:
        platforms.state.faults.clear()
    alerts.evaluate()
    alerts.evaluate()
    [notice] = [n for n in sent_to(platforms, OPERATOR_ACCOUNT) if "死信" in n["text"]]
    assert "wechat" in notice["text"] and "wh1" in notice["text"] and "503" in notice["text"]
    assert f"/console/messages/{dead.pk}/" in notice["text"]

    client.force_login(operator)
    page = client.get(f"/console/messages/{dead.pk}/")
    assert page.status_code == 200 and "Dead letter" in page.content.decode()
    client.post(f"/console/messages/{dead.pk}/replay")
    client.post(f"/console/messages/{dead.pk}/replay")  # a second click replays nothing

    wait_for(
        lambda: InboundMessage.objects.filter(pk=dead.pk, status="done").exists(),
        timeout=30,
        what="the replayed message delivered",
    )
    assert len(sent_to(platforms, "o_wh1")) == 1
    replays = MessageEvent.objects.filter(inbound=dead, kind="replayed")
    assert [event.actor for event in replays] == [operator]
    timeline = client.get(f"/console/messages/{dead.pk}/").content.decode()
    assert "Replayed by ops1" in timeline and "part 0 sent" in timeline


def test_the_console_is_staff_only(client, demo):
    message_page = "/console/messages/1/"
    assert client.get(message_page).status_code == 302  # to the login
    client.force_login(get_user_model().objects.get(username="wh1"))
    assert client.get(message_page).status_code == 403
    assert client.post(f"{message_page}replay").status_code == 403


def test_beat_runs_the_alert_evaluation_in_its_own_process(worker_db, tmp_path, settings):
    """No worker needed: the evaluation must run when none is left."""
    from celery.beat import ScheduleEntry

    from apps.operations.beat import Scheduler
    from apps.operations.models import Heartbeat
    from better_laser_erp.celery import app as celery_app

    settings.AI_ASSISTANT_USE_ASYNC = False
    scheduler = Scheduler(app=celery_app, schedule_filename=str(tmp_path / "beat"), lazy=True)
    entry = ScheduleEntry(
        name="evaluate-alerts", task="apps.operations.tasks.evaluate_alerts", schedule=60.0
    )
    assert scheduler.apply_async(entry, advance=False) is None  # nothing sent to a broker
    wait_for(lambda: Heartbeat.objects.filter(name="beat").exists(), timeout=10, what="beat")


def test_the_front_door_links_the_admin_and_the_console(client, db):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/admin/"' in html and 'href="/console/"' in html


def test_the_overview_counts_the_last_hour_and_finds_messages(client, demo, platforms):
    from apps.ai_assistant.channels.telegram import testkit as telegram_kit
    from apps.ai_assistant.tests.channel_helpers import make_test_app

    app = make_test_app("telegram")
    request = telegram_kit.telegram_text(app, 5012345678, "NZ-S1.5 库存", update_id=4343)
    webhook_client.with_test_client(client, request)
    client.force_login(get_user_model().objects.get(username="admin"))

    html = client.get("/console/").content.decode()
    assert "<td>telegram</td><td>1</td><td>1</td><td>0</td>" in html
    found = client.get("/console/", {"q": "NZ-S1.5"}).content.decode()
    assert "NZ-S1.5 库存" in found
    assert (
        "No messages found." in client.get("/console/", {"q": "nothing-like-it"}).content.decode()
    )


def test_the_demo_admin_is_an_operator_told_of_alerts(demo):
    from apps.demo.roles import OPERATORS_GROUP

    assert OPERATORS_GROUP == alerts.OPERATORS_GROUP
    admin = get_user_model().objects.get(username="admin")
    assert admin.groups.filter(name=alerts.OPERATORS_GROUP).exists()


@pytest.mark.timeout(120)
def test_a_live_reports_worker_never_hides_a_dead_chat_worker_nor_the_other_way(
    async_mode, platforms, settings
):
    from apps.ai_assistant.models import ReportJob

    settings.OPERATIONS_ALERT_WORKER_SILENT_SECONDS = 2
    make_app("wechat", platforms)
    make_operator()
    ReportJob.objects.create(
        user=get_user_model().objects.get(username="sales1"),
        report="sales_report",
        cache_key="k",
        created_at=timezone.now() - timedelta(minutes=5),
    )

    with worker_thread(queues=["reports"]):  # reports only: nobody answers chat turns
        assert alerts.evaluate() == []
        time.sleep(2.5)
        assert alerts.evaluate() == ["raised worker"]

    with worker_thread(queues=["messages", "tools", "maintenance"]):  # chat only
        assert alerts.evaluate() == []
        time.sleep(2.5)
        assert alerts.evaluate() == ["raised reports_worker"]
    notices = sent_to(platforms, OPERATOR_ACCOUNT)
    assert any("没有报表 worker" in notice["text"] for notice in notices)
