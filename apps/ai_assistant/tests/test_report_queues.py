"""Chat turns and report jobs go to different queues (settings.CELERY_TASK_ROUTES): with a
chat worker consuming only the chat's queues and no reports worker at all, a report job
waits in the `reports` queue and holds up no chat reply (README "Deployment": sizing
workers; bench/report_priority.py measures the same on the whole stack)."""

from __future__ import annotations

import pytest
import redis
from django.contrib.auth import get_user_model

from apps.ai_assistant.channels.wecom import testkit as wecom_kit
from apps.ai_assistant.models import ChannelIdentity, ReportJob
from devtools import webhook_client

from .async_support import CHAT_QUEUES, wait_for, worker_thread
from .test_async_mode import make_app

SALES1 = "sales1.queues"
WH1 = "wh1.queues"


@pytest.fixture
def wecom(platforms, async_mode):
    app = make_app("wecom", platforms)
    for account, username in ((SALES1, "sales1"), (WH1, "wh1")):
        ChannelIdentity.objects.create(
            channel="wecom",
            external_user_id=account,
            user=get_user_model().objects.get(username=username),
        )
    return app


def ask(client, app, account: str, content: str, msg_id: str) -> None:
    request = wecom_kit.wecom_text(app, account, content, msg_id=msg_id)
    assert webhook_client.with_test_client(client, request).status_code == 200


def texts_to(platforms, account: str) -> list[str]:
    return [
        entry["text"]
        for entry in platforms.state.sent_messages("wecom")
        if entry["recipient"] == account
    ]


def test_a_chat_question_is_answered_while_a_report_waits_for_the_reports_worker(
    client, platforms, wecom, private_redis
):
    broker = redis.Redis.from_url(private_redis.url)
    with worker_thread(queues=CHAT_QUEUES):
        ask(client, wecom, SALES1, "导出今年销售报表", "8701")
        wait_for(
            lambda: any(
                text.startswith("好的，正在生成销售报表") for text in texts_to(platforms, SALES1)
            ),
            timeout=30,
            what="the notice that the report is on its way",
        )
        wait_for(lambda: broker.llen("reports") == 1, timeout=10, what="the job's task")

        ask(client, wecom, WH1, "NZ-S1.5 库存", "8702")

        [answer] = wait_for(
            lambda: [text for text in texts_to(platforms, WH1) if "NZ-S1.5" in text],
            timeout=30,
            what="the stock answer",
        )
    assert "可用" in answer
    job = ReportJob.objects.get(inbound__external_id="8701")
    assert job.status == ReportJob.Status.QUEUED and job.queue == "reports"
    assert broker.llen("reports") == 1  # still waiting for a reports worker
    assert broker.llen("messages") == 0
