"""Test kit of the web chat: the request the chat page makes, and the test and demo apps.

The page's request needs a logged-in session and its CSRF token, which only a browser or a
test client holding that session has: `chat_request` builds the request, the client sends it
with its cookies. There are no demo chat accounts to bind: an account ("user-<pk>") is bound
to the logged-in user on first use.
"""

from __future__ import annotations

import json
import uuid

from devtools.webhook_client import WebhookRequest, webhook_path

from .adapter import WEB_APP_ID

TEST_APP = {"app_id": WEB_APP_ID}
DEMO_APP = {"app_id": WEB_APP_ID, "name": "Web chat"}
DEMO_SENDERS: dict[str, str] = {}


def page_id() -> str:
    return str(uuid.uuid4())


def chat_request(
    text: str, page_id: str, csrf_token: str = "", app_id: str = WEB_APP_ID
) -> WebhookRequest:
    """The page's POST of one message (the session cookie is the client's)."""
    headers = {"Content-Type": "application/json"}
    if csrf_token:
        headers["X-CSRFToken"] = csrf_token
    body = json.dumps({"id": page_id, "text": text}, ensure_ascii=False).encode("utf-8")
    return WebhookRequest("POST", webhook_path("web", app_id), {}, headers, body)
