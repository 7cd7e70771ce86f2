"""The front door, the web chat and the console (its report jobs too) in a real browser:
Debian's Chromium driven by Playwright against a live server, with a real Celery worker on a
real Redis in async mode.

Each test saves a screenshot of what it checked, into $BROWSER_SCREENSHOTS when set (`make
screenshots` sets docs/screenshots, the pictures README shows), else into the test's tmp dir.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.ai_assistant import jobs
from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.models import InboundMessage
from apps.ai_assistant.tests.job_helpers import made_in_sync_mode, running
from apps.ai_assistant.tests.test_async_mode import bind, dead_letter, make_app, sent_to
from apps.ai_assistant.tools.registry import get_tool
from apps.demo.roles import demo_password
from apps.inventory.models import StockLevel
from devtools import webhook_client

QUESTION = "主仓库 保护镜 还有多少"
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium package, never a downloaded browser; missing → the tests fail."""
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: run `sudo apt-get install chromium`")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session", autouse=True)
def orm_beside_playwright():
    """Playwright's sync API keeps an event loop in the test thread from its first use to
    the end of the session; the queries of these tests (and of the tests after them in
    this process) are still plain synchronous ones. Set before Playwright starts."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture
def screenshot(tmp_path):
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return save


def available_protective_windows() -> str:
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    return f"可用 {int(level.available_qty)} pcs"


def log_in(page: Page, base_url: str, username: str, then: str = "/") -> None:
    page.goto(f"{base_url}/accounts/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", demo_password(username))
    page.click("form.login button")
    page.wait_for_url(f"{base_url}{then}")


def ask_in_the_web_chat(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/chat/")
    page.fill("#text", QUESTION)
    page.press("#text", "Enter")
    expect(page.locator(".turn .reply").last).to_contain_text(
        available_protective_windows(), timeout=30_000
    )


def test_wh1_asks_the_web_chat_and_sees_the_erp_figure(
    page, live_server, worker_db, settings, screenshot
):
    settings.AI_ASSISTANT_USE_ASYNC = False
    page.goto(live_server.url)
    expect(page.locator("h1")).to_have_text("better_laser_erp")
    screenshot(page, "front-door")
    log_in(page, live_server.url, "wh1", then="/chat/")
    ask_in_the_web_chat(page, live_server.url)
    screenshot(page, "web-chat")
    # A non-staff user gets no console.
    response = page.goto(f"{live_server.url}/console/")
    assert response is not None and response.status == 403


@pytest.mark.timeout(180)
def test_in_async_mode_the_page_shows_the_workers_reply_and_the_console_its_timeline(
    client, page, live_server, celery_worker, platforms, screenshot
):
    log_in(page, live_server.url, "wh1", then="/chat/")
    ask_in_the_web_chat(page, live_server.url)  # no reload: the page asks for the reply
    inbound = InboundMessage.objects.get(channel="web")
    assert inbound.status == InboundMessage.Status.DONE

    page.context.clear_cookies()
    log_in(page, live_server.url, "admin", then="/console/")
    # A Telegram message arriving now shows up in the last hour without a reload (htmx).
    telegram = make_app("telegram", platforms)
    bind("telegram", "5012345678")
    update = telegram_kit.telegram_text(telegram, 5012345678, "NZ-S1.5 库存", update_id=4401)
    webhook_client.with_test_client(client, update)
    expect(page.locator("#last-hour")).to_contain_text("telegram", timeout=20_000)
    page.fill("input[name=q]", "保护镜")
    page.press("input[name=q]", "Enter")
    page.click(f"a[href='/console/messages/{inbound.pk}/']")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("claimed")
    expect(timeline).to_contain_text("tool check_inventory_stock")
    expect(timeline).to_contain_text("part 0 sent")
    screenshot(page, "console-timeline")


@pytest.mark.timeout(180)
def test_an_operator_replays_a_dead_letter_and_it_is_replied_once(
    client, page, live_server, celery_worker, platforms, settings, screenshot
):
    dead = dead_letter(client, platforms, settings, msg_id="9401")
    with platforms.state.lock:
        platforms.state.faults.clear()

    log_in(page, live_server.url, "admin", then=f"/console/messages/{dead.pk}/")
    expect(page.locator("h1")).to_contain_text("Dead letter")
    screenshot(page, "console-dead-letter")
    page.click("button:text('Replay')")
    expect(page.locator(".messages")).to_contain_text(f"Message {dead.pk} replayed.")

    # No reload: the page refreshes itself (htmx) while the message is in the works.
    expect(page.locator("h1")).to_contain_text("Done", timeout=30_000)
    expect(page.locator("#timeline")).to_contain_text(re.compile(r"Replayed by admin"))
    expect(page.locator("#timeline")).to_contain_text("part 0 sent")
    assert len(sent_to(platforms, "o_wh1")) == 1
    assert InboundMessage.objects.get(pk=dead.pk).status == InboundMessage.Status.DONE
    screenshot(page, "console-replayed")


@pytest.mark.timeout(120)
def test_the_jobs_page_shows_a_running_jobs_percent_grow_without_a_reload(
    page, live_server, worker_db, settings, tmp_path, screenshot
):
    settings.MEDIA_ROOT = tmp_path
    settings.AI_ASSISTANT_USE_ASYNC = False
    made_in_sync_mode("sales1")
    made_in_sync_mode("sales1")  # answered from the cache
    job = running("wh1", parameters={"warehouses": ["main"]})
    jobs.record_progress(job, 20, "reorder rules")

    log_in(page, live_server.url, "admin", then="/console/jobs/")
    row = page.locator(f"#job-{job.pk}")
    expect(row.locator(".progress")).to_have_text("20 % · reorder rules")
    page.evaluate("window.stillTheSamePage = true")

    jobs.record_progress(job, 60, "open purchase orders")  # as the worker does at each step
    expect(row.locator(".progress")).to_have_text("60 % · open purchase orders", timeout=10_000)
    screenshot(page, "console-jobs")
    made = jobs.build(job, get_tool("reorder_plan"))  # the worker makes the file
    expect(row).to_contain_text("Succeeded", timeout=10_000)
    expect(row.get_by_role("link", name=made.filename)).to_have_attribute(
        "href", re.compile(r"/reports/")
    )
    assert page.evaluate("window.stillTheSamePage") is True
