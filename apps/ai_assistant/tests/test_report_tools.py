"""Report tools and their jobs without a worker: sync mode, the cache's key, permissions,
cancellation, download links and the jobs sweeper (tools/reports.py, jobs.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
import redis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signing
from django.utils import timezone

from apps.ai_assistant import job_runner, jobs
from apps.ai_assistant.models import ReportJob
from apps.ai_assistant.tasks import sweep_report_jobs
from apps.ai_assistant.tools.reports import SalesReport
from apps.purchasing.models import PurchaseOrder
from apps.sales.reports import period_for, sales_report

from .tool_helpers import call, render

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def sync_mode(settings):
    settings.AI_ASSISTANT_USE_ASYNC = False
    settings.CELERY_BROKER_URL = ""
    settings.AI_ASSISTANT_PUBLIC_BASE_URL = "https://erp.example.com"


def workbook(job: ReportJob) -> openpyxl.Workbook:
    with job.file.open("rb") as stored:
        return openpyxl.load_workbook(BytesIO(stored.read()))


def test_sync_mode_makes_a_small_report_while_the_chat_waits():
    result = call("sales1", "sales_report", {"period": "last_month"})

    job = ReportJob.objects.get(pk=result.data["job"])
    assert result.ok and job.status == "succeeded" and result.data["attachment"] == job.pk
    start, end = period_for("last_month", timezone.localdate())
    assert (job.parameters["start"], job.parameters["end"]) == (str(start), str(end))
    sheet = workbook(job).worksheets[0]
    total = [cell.value for cell in list(sheet.iter_rows())[-1]][3]
    assert Decimal(str(total)) == Decimal(sales_report(start, end).summary["total"]) > 0
    assert "已生成" in render(result)


def test_a_report_too_large_to_wait_for_says_it_needs_async_mode(settings):
    settings.AI_ASSISTANT_SYNC_REPORT_SECONDS = 0.000001

    result = call("wh1", "inventory_valuation_report", {})

    job = ReportJob.objects.get(pk=result.data["job"])
    assert job.status == "failed" and not job.file
    assert result.data["attachment"] is None
    assert "需要启用异步处理" in render(result)


def test_the_period_is_made_absolute_so_two_months_never_share_a_cached_file():
    params = SalesReport.Params.model_validate({"period": "this_month"})
    today = timezone.localdate()
    parameters = SalesReport().job_parameters(params)
    assert parameters["period"] == "this_month"
    assert parameters["start"] == today.replace(day=1).isoformat()


def test_a_report_of_unchanged_data_is_repeated_from_the_cache_and_counted():
    first = call("wh1", "reorder_plan", {"warehouses": ["main"]})
    again = call("wh1", "reorder_plan", {"warehouses": ["main"]})
    other = call("wh1", "reorder_plan", {})

    repeated = ReportJob.objects.get(pk=again.data["job"])
    assert repeated.from_cache and repeated.repeats_id == first.data["job"]
    assert repeated.file.name == ReportJob.objects.get(pk=first.data["job"]).file.name
    assert not ReportJob.objects.get(pk=other.data["job"]).from_cache  # other parameters
    assert "数据自上次生成后没有变化" in render(again)


def test_a_language_of_its_own_is_another_file():
    zh = call("sales1", "sales_report", {}, language="zh")
    en = call("sales1", "sales_report", {}, language="en")
    assert not ReportJob.objects.get(pk=en.data["job"]).from_cache
    assert zh.data["job"] != en.data["job"]


def test_reports_are_refused_to_roles_without_the_permission():
    for username, tool in (
        ("wh1", "sales_report"),
        ("sales1", "inventory_valuation_report"),
        ("svc1", "reorder_plan"),
        ("guest1", "sales_report"),
    ):
        result = call(username, tool, {})
        assert result.status == "denied", (username, tool)
    assert not ReportJob.objects.exists()


def test_a_plan_made_into_draft_orders_once_even_when_confirmed_twice_or_repeated():
    plan = call("wh1", "reorder_plan", {})
    repeated = call("wh1", "reorder_plan", {})
    before = PurchaseOrder.objects.count()

    first = call("wh1", "create_draft_purchase_orders", {"job": plan.data["job"]}, confirmed=True)
    second = call(
        "wh1", "create_draft_purchase_orders", {"job": repeated.data["job"]}, confirmed=True
    )

    assert first.ok and second.ok
    assert first.data["orders"] == second.data["orders"]
    assert PurchaseOrder.objects.count() == before + len(first.data["orders"]) > before
    assert all(order.status == "draft" for order in PurchaseOrder.objects.order_by("-pk")[:1])


def test_nobody_else_can_order_from_someones_plan():
    plan = call("wh1", "reorder_plan", {})
    admin_orders = call(
        "admin", "create_draft_purchase_orders", {"job": plan.data["job"]}, confirmed=True
    )
    assert admin_orders.status == "invalid"


def test_a_job_whose_user_lost_the_permission_is_not_made(settings):
    settings.AI_ASSISTANT_USE_ASYNC, settings.CELERY_BROKER_URL = True, "memory://"
    result = call("sales1", "sales_report", {})
    job = ReportJob.objects.get(pk=result.data["job"])
    assert job.status == "queued"
    Group.objects.get(name="Sales").permissions.clear()

    outcome = job_runner.run(job.pk)

    job.refresh_from_db()
    assert outcome.job.status == "failed" and job.error == "permission denied"
    assert "没有查看这类报表的权限" in job.summary_text


def test_cancelling_a_queued_job_ends_it_at_once_and_a_worker_then_skips_it(settings):
    settings.AI_ASSISTANT_USE_ASYNC, settings.CELERY_BROKER_URL = True, "memory://"
    call("sales1", "sales_report", {})
    sales1 = User.objects.get(username="sales1")

    cancelled = jobs.cancel_latest(sales1)

    assert cancelled.status == "cancelled"
    assert job_runner.run(cancelled.pk).job is None  # nothing to run
    assert jobs.cancel_latest(sales1) is None


def test_a_running_job_asked_to_cancel_stops_at_its_next_step_and_keeps_no_file(settings):
    settings.AI_ASSISTANT_USE_ASYNC, settings.CELERY_BROKER_URL = True, "memory://"
    call("wh1", "reorder_plan", {})
    job = jobs.start(ReportJob.objects.get().pk)
    jobs.cancel_latest(User.objects.get(username="wh1"))

    with pytest.raises(jobs.JobCancelled):
        jobs.build(job, job_runner.get_tool(job.report))

    job.refresh_from_db()
    assert job.cancel_requested_at is not None and not job.file


def test_a_download_link_serves_the_file_and_a_tampered_or_old_one_does_not(client, settings):
    result = call("wh1", "reorder_plan", {})
    job = ReportJob.objects.get(pk=result.data["job"])
    link = jobs.download_url(job)
    path = link.removeprefix("https://erp.example.com")

    response = client.get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"  # an XLSX is a zip archive
    assert response["Content-Disposition"].startswith("attachment;")

    assert client.get(path[:-3] + "abc/").status_code == 404
    settings.AI_ASSISTANT_REPORT_LINK_HOURS = 0
    assert client.get(path).status_code == 404
    signed_other = signing.TimestampSigner(salt="elsewhere").sign(str(job.pk))
    assert client.get(f"/reports/{signed_other}/").status_code == 404


def test_the_sweeper_queues_a_job_whose_worker_died_and_gives_up_after_three(async_mode):
    call("wh1", "reorder_plan", {})
    job = jobs.start(ReportJob.objects.get().pk)
    silent = timezone.now() - timedelta(seconds=4 * jobs.RENEW_SECONDS)
    ReportJob.objects.filter(pk=job.pk).update(renewed_at=silent)

    sweep_report_jobs()
    assert ReportJob.objects.get(pk=job.pk).status == "queued"

    # Taken again by a worker (its task out of the queue), which died as well, three times.
    redis.Redis.from_url(async_mode.CELERY_BROKER_URL).delete("reports")
    ReportJob.objects.filter(pk=job.pk).update(status="running", renewed_at=silent, attempts=3)
    sweep_report_jobs()
    assert ReportJob.objects.get(pk=job.pk).status == "failed"


def test_a_running_job_renewed_by_its_task_is_not_taken_for_stuck(async_mode):
    call("wh1", "reorder_plan", {})
    job = jobs.start(ReportJob.objects.get().pk)
    ReportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert jobs.renew(job.pk)

    sweep_report_jobs()

    assert ReportJob.objects.get(pk=job.pk).status == "running"


def test_a_cancel_past_its_grace_period_is_terminated(settings):
    settings.AI_ASSISTANT_USE_ASYNC, settings.CELERY_BROKER_URL = True, "memory://"
    call("wh1", "reorder_plan", {})
    job = jobs.start(ReportJob.objects.get().pk)
    jobs.cancel_latest(User.objects.get(username="wh1"))
    grace = settings.AI_ASSISTANT_REPORT_CANCEL_GRACE_SECONDS
    ReportJob.objects.filter(pk=job.pk).update(
        cancel_requested_at=timezone.now() - timedelta(seconds=grace + 1)
    )

    assert sweep_report_jobs()["terminated"] == 1
    assert ReportJob.objects.get(pk=job.pk).status == "cancelled"


def test_in_sync_mode_the_webhook_answers_and_the_file_follows_the_response(client, platforms):
    from apps.ai_assistant.channels.telegram import testkit as telegram_kit
    from apps.ai_assistant.models import ChannelIdentity
    from devtools import webhook_client

    from .file_helpers import file_entries, received_bytes
    from .test_async_mode import make_app

    app = make_app("telegram", platforms)
    ChannelIdentity.objects.create(
        channel="telegram", external_user_id="5012345678", user=User.objects.get(username="sales1")
    )
    request = telegram_kit.telegram_text(app, 5012345678, "导出上月销售报表", update_id=9911)

    response = webhook_client.with_test_client(client, request)

    assert response.status_code == 200
    assert "销售报表（上月" in response.json()["text"]
    [file] = file_entries(platforms, "telegram")
    job = ReportJob.objects.get(inbound__external_id="9911")
    assert file["filename"] == job.filename and file["via"] == "sendDocument"
    with job.file.open("rb") as stored:
        assert received_bytes(platforms, file) == stored.read()


def test_an_edit_beside_the_services_still_makes_the_report_anew():
    from apps.inventory.models import Item

    first = call("wh1", "inventory_valuation_report", {"warehouses": ["main"]})
    item = Item.objects.get(sku="PW-D37-T7")
    item.standard_cost += 1  # as the admin would
    item.save()

    again = call("wh1", "inventory_valuation_report", {"warehouses": ["main"]})

    assert not ReportJob.objects.get(pk=again.data["job"]).from_cache
    assert first.data["job"] != again.data["job"]
