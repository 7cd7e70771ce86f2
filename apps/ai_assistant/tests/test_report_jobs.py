"""Report jobs end to end in async mode: a signed webhook asks, the notice comes at once, a
real worker makes the report and the file arrives at the platform's stand-in; the cache, a
cancellation and the jobs list (tools/reports.py, jobs.py, job_runner.py)."""

from __future__ import annotations

import time
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.channels.wecom import testkit as wecom_kit
from apps.ai_assistant.models import ChannelIdentity, InboundMessage, ReportJob
from apps.ai_assistant.tools.reports import InventoryValuationReport
from apps.purchasing.models import PurchaseOrder
from apps.sales.models import SalesOrder
from apps.sales.reports import BOOKED_STATUSES, period_for
from devtools import webhook_client

from .async_support import wait_for
from .file_helpers import file_entries, received_bytes
from .test_async_mode import make_app

SALES1 = "sales1.wang"
WH1 = "wh1.li"


@pytest.fixture
def wecom(platforms, celery_worker, settings):
    settings.AI_ASSISTANT_REPORT_PROGRESS_AFTER_SECONDS = 0  # tell the chat at every step
    app = make_app("wecom", platforms)
    for account, username in ((SALES1, "sales1"), (WH1, "wh1")):
        ChannelIdentity.objects.create(
            channel="wecom",
            external_user_id=account,
            user=get_user_model().objects.get(username=username),
        )
    return app


def ask(client, app, account: str, content: str, msg_id: str):
    request = wecom_kit.wecom_text(app, account, content, msg_id=msg_id)
    response = webhook_client.with_test_client(client, request)
    assert response.status_code == 200
    return response


def sent_to(platforms, account: str) -> list[dict]:
    return [
        entry for entry in platforms.state.sent_messages("wecom") if entry["recipient"] == account
    ]


def this_months_sales() -> Decimal:
    start, end = period_for("this_month", timezone.localdate())
    return SalesOrder.objects.filter(
        doc_type=SalesOrder.DocType.ORDER,
        status__in=BOOKED_STATUSES,
        order_date__range=(start, end),
    ).aggregate(total=Sum("grand_total"))["total"] or Decimal(0)


def totals_of(workbook_bytes: bytes, sheet_index: int = 0) -> list:
    sheet = openpyxl.load_workbook(BytesIO(workbook_bytes)).worksheets[sheet_index]
    return [cell.value for cell in list(sheet.iter_rows())[-1]]


def test_a_sales_report_asked_on_wecom_arrives_as_a_file_with_the_months_total(
    client, platforms, wecom
):
    response = ask(client, wecom, SALES1, "导出本月销售报表", "8101")

    assert wecom_kit.reply_text(wecom, response) == "收到消息，正在处理中喵～"
    [file] = wait_for(lambda: file_entries(platforms, "wecom"), timeout=60, what="the file")
    job = ReportJob.objects.get(inbound__external_id="8101")
    assert job.status == "succeeded" and job.percent == 100 and not job.from_cache
    texts = [entry["text"] for entry in sent_to(platforms, SALES1) if entry["kind"] == "text"]
    assert texts[0].startswith("好的，正在生成销售报表（本月") and job.reference in texts[0]
    progress = [text for text in texts if text.startswith(f"报表任务 {job.reference} 进行中")]
    assert 1 <= len(progress) <= 3
    assert file["filename"] == job.filename and file["recipient"] == SALES1
    by_customer_total = totals_of(received_bytes(platforms, file))[3]
    assert Decimal(str(by_customer_total)) == this_months_sales() > 0
    assert InboundMessage.objects.get(external_id="8101").status == "done"


def test_the_same_request_again_is_answered_from_the_cache_without_a_task(client, platforms, wecom):
    ask(client, wecom, SALES1, "导出本月销售报表", "8201")
    wait_for(lambda: file_entries(platforms, "wecom"), timeout=60, what="the first file")

    ask(client, wecom, SALES1, "导出本月销售报表", "8202")

    second = wait_for(
        lambda: file_entries(platforms, "wecom")[1:], timeout=30, what="the second file"
    )[0]
    first_job = ReportJob.objects.get(inbound__external_id="8201")
    again = ReportJob.objects.get(inbound__external_id="8202")
    assert again.from_cache and again.repeats == first_job and again.attempts == 0
    assert again.started_at == again.finished_at  # nothing ran
    assert second["sha256"] == file_entries(platforms, "wecom")[0]["sha256"]
    assert any("数据自上次生成后没有变化" in entry["text"] for entry in sent_to(platforms, SALES1))


def test_a_changed_figure_makes_the_report_anew(client, platforms, wecom):
    from apps.inventory.models import Item, Warehouse
    from apps.inventory.services import post_stock_move

    ask(client, wecom, WH1, "导出库存估值报表", "8301")
    wait_for(lambda: file_entries(platforms, "wecom"), timeout=60, what="the first file")
    post_stock_move(
        item=Item.objects.get(sku="PW-D37-T7"),
        warehouse=Warehouse.objects.get(code="main"),
        qty=Decimal(1),
        voucher_type="receipt",
    )

    ask(client, wecom, WH1, "导出库存估值报表", "8302")

    wait_for(lambda: len(file_entries(platforms, "wecom")) == 2, timeout=60, what="a new file")
    assert not ReportJob.objects.get(inbound__external_id="8302").from_cache


def test_cancel_while_the_valuation_runs_stops_it_and_no_file_is_sent(
    client, platforms, wecom, monkeypatch
):
    real_part = InventoryValuationReport.build_part

    def slow_part(self, parameters, warehouse):
        time.sleep(1.5)  # each warehouse takes a while, as in a large company
        return real_part(self, parameters, warehouse)

    monkeypatch.setattr(InventoryValuationReport, "build_part", slow_part)
    ask(client, wecom, WH1, "导出库存估值报表", "8401")
    job = wait_for(
        lambda: ReportJob.objects.filter(inbound__external_id="8401", status="running").first(),
        timeout=30,
        what="the job to run",
    )

    ask(client, wecom, WH1, "/cancel", "8402")

    job = wait_for(
        lambda: ReportJob.objects.filter(pk=job.pk, status="cancelled").first(),
        timeout=60,
        what="the job to stop",
    )
    reply = wait_for(
        lambda: [
            entry
            for entry in sent_to(platforms, WH1)
            if entry["text"].startswith(f"Stopping report job {job.reference}")  # a command
        ],
        timeout=30,
        what="the answer to /cancel",
    )
    assert reply
    time.sleep(3)  # what is still queued of the chord runs out
    assert file_entries(platforms, "wecom") == []
    assert not job.file


def test_jobs_lists_the_users_recent_jobs(client, platforms, wecom):
    ask(client, wecom, SALES1, "导出本月销售报表", "8501")
    wait_for(lambda: file_entries(platforms, "wecom"), timeout=60, what="the file")

    ask(client, wecom, SALES1, "/jobs", "8502")

    listing = wait_for(
        lambda: [
            e["text"] for e in sent_to(platforms, SALES1) if "recent report jobs" in e["text"]
        ],
        timeout=30,
        what="the jobs list",
    )[0]
    job = ReportJob.objects.get(inbound__external_id="8501")
    assert f"{job.reference}" in listing and "sales report: done" in listing  # a command: English


def test_a_reorder_plan_offers_draft_orders_and_a_yes_makes_them_once(client, platforms, wecom):
    ask(client, wecom, WH1, "生成补货计划", "8601")
    wait_for(lambda: file_entries(platforms, "wecom"), timeout=60, what="the plan's file")
    offer = wait_for(
        lambda: [e["text"] for e in sent_to(platforms, WH1) if "请确认以下操作" in e["text"]],
        timeout=30,
        what="the offer of draft orders",
    )[0]
    job = ReportJob.objects.get(inbound__external_id="8601")
    assert f"按补货计划 {job.reference} 创建" in offer

    ask(client, wecom, WH1, "是", "8602")
    ask(client, wecom, WH1, "是", "8603")

    made = wait_for(
        lambda: [e["text"] for e in sent_to(platforms, WH1) if "已按补货计划" in e["text"]],
        timeout=30,
        what="the draft orders",
    )
    wait_for(
        lambda: InboundMessage.objects.filter(external_id="8603", status="done").exists(),
        timeout=30,
        what="the second yes to be answered",
    )
    assert len(made) == 1 and "PO-" in made[0]
    assert PurchaseOrder.objects.filter(request__idempotency_key=f"reorder-plan:{job.pk}").exists()


def test_on_telegram_one_progress_notice_is_edited_in_place(client, platforms, wecom, monkeypatch):
    real_part = InventoryValuationReport.build_part

    def slow_part(self, parameters, warehouse):
        time.sleep(0.3)
        return real_part(self, parameters, warehouse)

    monkeypatch.setattr(InventoryValuationReport, "build_part", slow_part)
    app = make_app("telegram", platforms)
    ChannelIdentity.objects.create(
        channel="telegram",
        external_user_id="5012345678",
        user=get_user_model().objects.get(username="wh1"),
    )
    request = telegram_kit.telegram_text(app, 5012345678, "导出库存估值报表", update_id=8701)
    assert webhook_client.with_test_client(client, request).status_code == 200

    wait_for(lambda: file_entries(platforms, "telegram"), timeout=60, what="the file")
    job = ReportJob.objects.get(inbound__external_id="8701")
    notices = [
        entry
        for entry in platforms.state.sent_messages("telegram")
        if entry["kind"] == "text" and entry["text"].startswith(f"报表任务 {job.reference}")
    ]
    assert len(notices) == 1  # one message, edited
    assert notices[0]["edits"] and notices[0]["text"].endswith("文件马上发给你。")
