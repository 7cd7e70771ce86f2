"""A failed report job is a dead letter the operators see: the real alert evaluation tells
the Operators' chat accounts once (at the platforms' stand-in) and resolves once; /metrics
counts jobs by status and exports the report counters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apps.ai_assistant.channels.wecom import testkit as wecom_kit
from apps.ai_assistant.models import ReportJob
from apps.ai_assistant.tests.job_helpers import made_in_sync_mode, queued
from apps.ai_assistant.tests.test_async_mode import bind, make_app, sent_to
from apps.operations import alerts
from apps.operations.models import Alert
from devtools import webhook_client

from .test_alerts_and_console import OPERATOR_ACCOUNT, make_operator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_failed_report_job_is_told_to_the_operators_once_and_resolves_once(
    client, platforms, settings
):
    settings.AI_ASSISTANT_SYNC_REPORT_SECONDS = 1e-6  # no worker, and no time to make it
    settings.OPERATIONS_ALERT_FAILED_JOBS_WINDOW_SECONDS = 600
    settings.OPERATIONS_ALERT_CLEAR_SECONDS = 120
    make_app("wechat", platforms)  # where the operator is told
    wecom = make_app("wecom", platforms)
    bind("wecom", "wh1.li")
    operator = make_operator()

    asked = wecom_kit.wecom_text(wecom, "wh1.li", "导出库存估值报表", msg_id="8801")
    answer = wecom_kit.reply_text(wecom, webhook_client.with_test_client(client, asked))
    job = ReportJob.objects.get(status="failed")
    assert "无法在聊天等待的时间内生成" in answer and job.reference in answer  # the user knows
    now = timezone.now()

    assert alerts.evaluate(now) == ["raised report_jobs"]
    assert alerts.evaluate(now + timedelta(seconds=60)) == []
    [notice] = sent_to(platforms, OPERATOR_ACCOUNT)
    incident = Alert.objects.get(condition="report_jobs")
    site = django_settings.SITE_URL
    for named in (
        f"· {job.reference} · inventory_valuation_report · wh1 · ",
        "too large to make while the chat waits",
        f"{site}/console/jobs/{job.pk}/",
        f"{site}/console/alerts/{incident.pk}/",
    ):
        assert named in notice["text"], notice["text"]

    # Another failure while the incident fires: the same incident, named there, no new notice.
    later = made_in_sync_mode("wh1", "reorder_plan", {})
    assert later.status == "failed"
    assert alerts.evaluate(now + timedelta(seconds=120)) == []
    incident.refresh_from_db()
    assert incident.details["jobs"] == [later.pk, job.pk] and later.reference in incident.summary
    assert len(sent_to(platforms, OPERATOR_ACCOUNT)) == 1
    client.force_login(operator)
    page = client.get(f"/console/alerts/{incident.pk}/").content.decode()
    for failed in (job, later):
        assert f'<a href="/console/jobs/{failed.pk}/">{failed.reference}</a>' in page

    # No failure within the window, then clear for the clear time: resolved, told once.
    quiet = now + timedelta(seconds=600 + 1)
    assert alerts.evaluate(quiet) == []
    assert alerts.evaluate(quiet + timedelta(seconds=60)) == []
    assert alerts.evaluate(quiet + timedelta(seconds=121)) == ["resolved report_jobs"]
    assert alerts.evaluate(quiet + timedelta(seconds=181)) == []
    notices = sent_to(platforms, OPERATOR_ACCOUNT)
    assert len(notices) == 2 and notices[1]["text"].startswith("【恢复】报表任务失败已恢复正常")


def test_jobs_that_did_not_fail_raise_no_alert(settings):
    made_in_sync_mode("sales1")
    queued("wh1")
    assert "raised report_jobs" not in alerts.evaluate()
    assert not Alert.objects.filter(condition="report_jobs").exists()


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(name: str, **labels: str) -> tuple[str, frozenset]:
    return name, frozenset(labels.items())


def test_metrics_count_report_jobs_by_status_and_export_the_report_counters(client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    before = scrape(client)
    # Every report's counters are there before its first job, at zero or more.
    for report in ("sales_report", "inventory_valuation_report", "reorder_plan"):
        assert sample("ble_report_cache_total", report=report, result="hit") in before
        assert sample("ble_report_jobs_total", report=report, status="failed") in before
        assert sample("ble_report_seconds_count", report=report) in before

    made_in_sync_mode("sales1")
    made_in_sync_mode("sales1")  # from the cache
    queued("wh1")
    settings.AI_ASSISTANT_SYNC_REPORT_SECONDS = 1e-6
    made_in_sync_mode("wh1", "inventory_valuation_report", {})
    after = scrape(client)

    counts = {
        status: after[sample("ble_report_jobs", status=status)] for status in ReportJob.Status
    }
    assert counts == {"queued": 1, "running": 0, "succeeded": 2, "failed": 1, "cancelled": 0}
    # The counters are shared with any other test process writing at the same time: at least.
    for report, result in (
        ("sales_report", "hit"),
        ("sales_report", "miss"),
        ("reorder_plan", "miss"),
    ):
        key = sample("ble_report_cache_total", report=report, result=result)
        assert after[key] >= before[key] + 1
