"""The web chat channel through its webhook, with a real session and Django's CSRF check
(the test client enforces it, as a browser's request meets it)."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from apps.ai_assistant.channels.web import testkit as web_kit
from apps.ai_assistant.channels.web.adapter import web_app
from apps.ai_assistant.models import ChannelIdentity, InboundMessage, OutboundMessage
from apps.inventory.models import StockLevel
from devtools.webhook_client import with_test_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STOCK_QUESTION = json.loads((FIXTURES / "text_message.json").read_text(encoding="utf-8"))["text"]


def logged_in(username: str) -> tuple[Client, str]:
    """A browser session of `username` holding the CSRF token the chat page sets."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(get_user_model().objects.get(username=username))
    page = browser.get("/chat/")
    assert page.status_code == 200
    return browser, page.cookies["csrftoken"].value


def ask(browser: Client, token: str, text: str, page_id: str | None = None):
    request = web_kit.chat_request(text, page_id or web_kit.page_id(), csrf_token=token)
    return with_test_client(browser, request)


def replies_to(page_id: str) -> list[str]:
    inbound = InboundMessage.objects.get(external_id__endswith=f":{page_id}")
    return [part.content for part in inbound.outbound.filter(status=OutboundMessage.Status.SENT)]


@pytest.fixture
def sync_mode(settings, demo):
    settings.AI_ASSISTANT_USE_ASYNC = False
    web_app()


def test_a_logged_in_user_asks_and_the_reply_is_delivered_as_that_user(sync_mode):
    browser, token = logged_in("wh1")
    page_id = web_kit.page_id()
    response = ask(browser, token, STOCK_QUESTION, page_id)
    assert response.status_code == 200
    assert response.json() == {"accepted": True}
    inbound = InboundMessage.objects.get(channel="web")
    assert inbound.user.username == "wh1"
    assert inbound.status == InboundMessage.Status.DONE
    (reply,) = replies_to(page_id)
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    assert f"可用 {int(level.available_qty)} pcs" in reply
    identity = ChannelIdentity.objects.get(channel="web")
    assert identity.user.username == "wh1"
    assert identity.external_user_id == f"user-{identity.user.pk}"


def test_the_page_resending_an_id_gets_one_answer(sync_mode):
    browser, token = logged_in("wh1")
    page_id = web_kit.page_id()
    assert ask(browser, token, STOCK_QUESTION, page_id).status_code == 200
    assert ask(browser, token, STOCK_QUESTION, page_id).status_code == 200
    assert InboundMessage.objects.count() == 1
    assert len(replies_to(page_id)) == 1


def test_two_users_with_the_same_page_id_are_two_messages(sync_mode):
    page_id = web_kit.page_id()
    for username in ("wh1", "sales1"):
        browser, token = logged_in(username)
        assert ask(browser, token, STOCK_QUESTION, page_id).status_code == 200
    users = set(InboundMessage.objects.values_list("user__username", flat=True))
    assert users == {"wh1", "sales1"}


def test_without_a_session_nothing_is_stored(sync_mode):
    browser = Client(enforce_csrf_checks=True)
    response = ask(browser, "", STOCK_QUESTION)
    assert response.status_code == 403
    assert response.content == b"log in first"
    assert not InboundMessage.objects.exists()


def test_without_the_csrf_token_nothing_is_stored(sync_mode):
    browser, _ = logged_in("wh1")
    response = ask(browser, "", STOCK_QUESTION)
    assert response.status_code == 403
    assert b"CSRF" in response.content
    other_origin = web_kit.chat_request(STOCK_QUESTION, web_kit.page_id(), csrf_token="x" * 32)
    assert with_test_client(browser, other_origin).status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_deactivated_user_is_logged_out(sync_mode):
    browser, token = logged_in("wh1")
    get_user_model().objects.filter(username="wh1").update(is_active=False)
    assert ask(browser, token, STOCK_QUESTION).status_code == 403
    assert not InboundMessage.objects.exists()


def test_bind_is_refused_and_the_account_stays_the_users(sync_mode):
    browser, token = logged_in("wh1")
    response = ask(browser, token, "/bind 12345678")
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_an_account_rebound_elsewhere_is_taken_back_by_its_user(sync_mode):
    browser, token = logged_in("wh1")
    wh1 = get_user_model().objects.get(username="wh1")
    ChannelIdentity.objects.create(
        channel="web",
        external_user_id=f"user-{wh1.pk}",
        user=get_user_model().objects.get(username="admin"),
    )
    assert ask(browser, token, STOCK_QUESTION).status_code == 200
    assert InboundMessage.objects.get().user == wh1


def test_a_disabled_web_chat_refuses(sync_mode):
    browser, token = logged_in("wh1")
    app = web_app()
    app.enabled = False
    app.save()
    assert ask(browser, token, STOCK_QUESTION).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"id": "short", "text": "hi"}',
        b'{"id": "0f8e7a52-3c1d-4a8e-9b1e-6d2f4c9a7b10"}',
        b'{"id": "0f8e7a52-3c1d-4a8e-9b1e-6d2f4c9a7b10", "text": "   "}',
        b'{"id": "0f8e7a52/../../x", "text": "hi"}',
        b'{"id": 12345678, "text": "hi"}',
    ],
)
def test_a_malformed_message_is_400(sync_mode, body):
    browser, token = logged_in("wh1")
    response = browser.post(
        "/webhooks/web/browser/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


@given(text=st.text(min_size=1, max_size=300))
def test_any_text_is_answered_or_refused_never_a_server_error(sync_mode, text):
    browser, token = logged_in("sales1")
    response = ask(browser, token, text)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json() == {"accepted": True}
