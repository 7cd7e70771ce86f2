"""The web chat shows a report as a reply part with its download link, clickable on the page."""

import pytest

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import NO_FILE_MESSAGES, PlatformError, file_link_text
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import InboundMessage, OutboundMessage
from apps.ai_assistant.tests.file_helpers import DOWNLOAD_URL, report

from .test_webhook import ask, logged_in, sync_mode  # noqa: F401  (the fixture)


@pytest.fixture
def asked(sync_mode):  # noqa: F811
    browser, token = logged_in("sales1")
    assert ask(browser, token, "12月销售报表", "page-report-0001").status_code == 200
    inbound = InboundMessage.objects.get(channel="web")
    return browser, inbound


def test_send_file_accepts_a_report_with_a_link_and_there_is_nothing_to_call(asked):
    _, inbound = asked
    message = IncomingMessage.from_dict(inbound.message_data)
    assert get_channel("web").send_file(inbound.app, message, report(), {}, "w:1") == ""


def test_a_report_without_a_link_cannot_reach_the_page(asked):
    _, inbound = asked
    message = IncomingMessage.from_dict(inbound.message_data)
    with pytest.raises(PlatformError) as raised:
        get_channel("web").send_file(inbound.app, message, report(download_url=""), {})
    assert (raised.value.code, raised.value.retryable) == (NO_FILE_MESSAGES, False)


def test_the_reply_part_of_a_report_shows_its_link_as_a_link_and_nothing_else_as_html(asked):
    browser, inbound = asked
    document = report(caption="<b>12月</b> 销售报表")
    OutboundMessage.objects.create(
        inbound=inbound,
        app=inbound.app,
        idempotency_key=f"{inbound.pk}:report",
        recipient=inbound.conversation_key,
        part_index=9,
        content=file_link_text(document),
        status=OutboundMessage.Status.SENT,
    )
    page = browser.get("/chat/").content.decode()
    assert f'<a href="{DOWNLOAD_URL.replace("&", "&amp;")}"' in page
    assert "&lt;b&gt;12月&lt;/b&gt; 销售报表" in page and "<b>12月</b>" not in page
    answer = browser.get("/chat/replies/page-report-0001").json()
    assert answer["replies"][-1] == f"<b>12月</b> 销售报表\nsales-2026-12.xlsx: {DOWNLOAD_URL}"
