"""The web chat page: log in as any ERP user, ask, and read the reply the `web` channel
delivered, in sync mode and with a real Celery worker in async mode."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.ai_assistant.channels.web import testkit as web_kit
from apps.ai_assistant.models import InboundMessage
from apps.ai_assistant.tests.async_support import wait_for
from apps.demo.roles import demo_password
from apps.inventory.models import StockLevel
from devtools.webhook_client import with_test_client

QUESTION = "主仓库 保护镜 还有多少"
ASKED = f'<div class="question">{QUESTION}</div>'


def available_protective_windows() -> str:
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    return f"可用 {int(level.available_qty)} pcs"


def log_in(username: str) -> tuple[Client, str]:
    """A browser that logged in through the login form and opened the chat page."""
    browser = Client(enforce_csrf_checks=True)
    login_page = browser.get("/accounts/login/")
    token = login_page.cookies["csrftoken"].value
    response = browser.post(
        "/accounts/login/",
        {"username": username, "password": demo_password(username), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302, response.content
    page = browser.get("/chat/")
    assert page.status_code == 200
    return browser, browser.cookies["csrftoken"].value


def ask(browser: Client, token: str, text: str) -> str:
    page_id = web_kit.page_id()
    response = with_test_client(browser, web_kit.chat_request(text, page_id, csrf_token=token))
    assert response.status_code == 200, response.content
    return page_id


def test_the_chat_page_needs_a_login(client, db):
    response = client.get("/chat/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/chat/"


def test_a_non_staff_user_logs_in_asks_and_reads_the_erp_figure(settings, demo):
    settings.AI_ASSISTANT_USE_ASYNC = False
    browser, token = log_in("wh1")
    page_id = ask(browser, token, QUESTION)
    answer = browser.get(f"/chat/replies/{page_id}").json()
    assert answer["finished"] is True and answer["text"] == QUESTION
    assert available_protective_windows() in answer["replies"][0]
    # Back on the page later, the exchange is there.
    html = browser.get("/chat/").content.decode()
    assert ASKED in html and available_protective_windows() in html


def test_a_user_reads_only_their_own_replies(settings, demo):
    settings.AI_ASSISTANT_USE_ASYNC = False
    browser, token = log_in("wh1")
    page_id = ask(browser, token, QUESTION)
    other, _ = log_in("sales1")
    assert other.get(f"/chat/replies/{page_id}").status_code == 404
    assert other.get("/chat/replies/not-an-id!").status_code == 404
    assert ASKED not in other.get("/chat/").content.decode()


@pytest.mark.timeout(120)
def test_in_async_mode_the_worker_reply_reaches_the_page(celery_worker):
    browser, token = log_in("wh1")
    page_id = ask(browser, token, QUESTION)
    answer = wait_for(
        lambda: (reply := browser.get(f"/chat/replies/{page_id}").json())["finished"] and reply,
        timeout=30,
        what="the worker's reply",
    )
    assert len(answer["replies"]) == 1
    assert available_protective_windows() in answer["replies"][0]
    inbound = InboundMessage.objects.get(channel="web")
    assert inbound.claimed_by and not inbound.claimed_by.startswith("web ")
    assert inbound.user == get_user_model().objects.get(username="wh1")
