"""Telegram Bot API webhook (docs/channels.md §4).

- POST only. Header `X-Telegram-Bot-Api-Secret-Token` must equal the app's `token` (the
  secret_token given to setWebhook, see `manage.py telegram_set_webhook`); constant-time
  compare; missing or wrong → 403. There is no timestamp to check: replays are caught by
  the de-dup key.
- Body: an Update. `message` and `edited_message` are answered (an edit is a new message
  with its own de-dup key, the update_id); updates without one (my_chat_member, ...) and
  messages from bots get an empty 200. User = from.id, conversation = chat.id.
- Commands: a "@botname" suffix is dropped ("/help@erp_bot" → "/help"); "/start CODE" (a
  t.me/<bot>?start=CODE deep link) becomes "/bind CODE"; plain "/start" is the handler's
  help. Other message kinds (photo, voice, sticker, ...) reach the handler with their kind as
  message_type, which answers that only text is understood.
- Reply: in the webhook answer as `{"method":"sendMessage",...}` when it fits 4096 UTF-16
  units; a longer reply carries part 1 there and the rest goes through `send`
  (POST /bot<token>/sendMessage). Nothing to say: an empty 200. In a group the reply quotes
  the asker's message; in a forum topic it goes to that topic (message_thread_id).
- Files: sendDocument, multipart/form-data with the file as `document` (its filename kept),
  addressed and threaded as the text replies; bots send up to 50 MB (a larger file, or
  Telegram's 413, goes as its link). A caption over 1024 characters goes first as text.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.ai_assistant.channels.base import (
    FILE_TOO_LARGE,
    MEBIBYTE,
    Channel,
    Credentials,
    ParsedWebhook,
    PlatformError,
    WebhookRejected,
    datetime_from,
    parse_json,
    part_key,
    register,
    secret_field,
)
from apps.ai_assistant.channels.chunking import TELEGRAM_TEXT_UNITS, utf16_length
from apps.ai_assistant.messages import IncomingMessage, OutgoingFile, OutgoingMessage
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import platform_request

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ANSWERED_UPDATES = ("message", "edited_message")
# Message kinds other than text, named as message_type for the handler's "text only" note.
OTHER_KINDS = (
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "document",
    "sticker",
    "animation",
    "location",
    "contact",
    "poll",
)
COMMAND_WITH_BOT = re.compile(r"^(/\w+)@\w+")
START_WITH_PAYLOAD = re.compile(r"^/start\s+([A-Za-z0-9_-]{1,64})\s*$")
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Bot API limits of sendDocument: the file, and its caption after entity parsing.
MAX_DOCUMENT_BYTES = 50 * MEBIBYTE
CAPTION_UNITS = 1024


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WebhookRejected(400, f"{name} must be an integer")
    return value


def normalise_command(text: str) -> str:
    """Drop a command's @botname; a /start deep-link payload is a binding code."""
    text = COMMAND_WITH_BOT.sub(r"\1", text.strip(), count=1)
    start = START_WITH_PAYLOAD.match(text)
    if start:
        return f"/bind {start.group(1)}"
    return text


class TelegramCredentials(Credentials):
    bot_token: str = secret_field("Bot token", "The token @BotFather gave the bot.")
    webhook_secret: str = secret_field(
        "Webhook secret",
        "The secret_token of setWebhook (1–256 of A-Z a-z 0-9 _ -); "
        "`manage.py telegram_set_webhook` makes one when it is empty.",
    )

    def problems(self) -> list[str]:
        return [] if self.bot_token else ["The bot token is required."]


@register
class TelegramChannel(Channel):
    name = "telegram"
    label = "Telegram"
    text_limit = TELEGRAM_TEXT_UNITS
    measure = staticmethod(utf16_length)
    credentials = TelegramCredentials
    api_base_setting = "AI_ASSISTANT_TELEGRAM_API_BASE"
    default_api_base = "https://api.telegram.org"
    max_file_bytes = MAX_DOCUMENT_BYTES

    def static_access_token(self, app: ChannelApp) -> str | None:
        bot_token = app.credentials.bot_token
        if not bot_token:
            raise PlatformError("no_secret", f"{app} has no bot token configured")
        return bot_token

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        given = request.headers.get(SECRET_HEADER, "")
        expected = app.credentials.webhook_secret
        if not expected:
            raise WebhookRejected(403, "webhook secret not configured")
        if not given:
            raise WebhookRejected(403, "missing secret token")
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise WebhookRejected(403, "bad secret token")

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        update = parse_json(request.body)
        update_id = _integer(update.get("update_id"), "update_id")
        external_id = str(update_id)
        kind = next((k for k in ANSWERED_UPDATES if k in update), None)
        if kind is None:
            return ParsedWebhook(message=None, external_id=external_id)
        tg_message = update[kind]
        if not isinstance(tg_message, dict):
            raise WebhookRejected(400, f"{kind} must be an object")
        sender, chat = tg_message.get("from"), tg_message.get("chat")
        if not isinstance(chat, dict):
            raise WebhookRejected(400, "missing chat")
        chat_id = _integer(chat.get("id"), "chat.id")
        if not isinstance(sender, dict) or sender.get("is_bot") is True:
            # Channel posts and other bots: nobody to answer.
            return ParsedWebhook(message=None, external_id=external_id)
        user_id = _integer(sender.get("id"), "from.id")
        date = _integer(tg_message.get("edit_date") or tg_message.get("date"), "date")
        message_type, content = self._content(tg_message)
        message = IncomingMessage(
            message_id=external_id,
            channel=self.name,
            external_user_id=str(user_id),
            content=content,
            timestamp=datetime_from(date, "date"),
            message_type=message_type,
            conversation_id=str(chat_id),
            raw_data={
                "update_id": update_id,
                "kind": kind,
                "message_id": tg_message.get("message_id"),
                "chat_type": chat.get("type"),
                "username": sender.get("username", ""),
                "language_code": sender.get("language_code", ""),
            },
        )
        reply_context = {
            "chat_id": chat_id,
            "chat_type": chat.get("type", ""),
            "reply_to_message_id": tg_message.get("message_id"),
        }
        thread_id = tg_message.get("message_thread_id")
        if tg_message.get("is_topic_message") is True and isinstance(thread_id, int):
            reply_context["message_thread_id"] = thread_id
        return ParsedWebhook(message=message, external_id=external_id, reply_context=reply_context)

    def _content(self, tg_message: dict[str, Any]) -> tuple[str, str]:
        text = tg_message.get("text")
        if text is not None:
            if not isinstance(text, str):
                raise WebhookRejected(400, "text must be a string")
            return "text", normalise_command(text)
        kind = next((k for k in OTHER_KINDS if k in tg_message), "unsupported")
        return kind, ""

    def render_reply(
        self,
        request: HttpRequest,
        app: ChannelApp,
        parsed: ParsedWebhook,
        reply: OutgoingMessage | None,
    ) -> HttpResponse:
        if reply is None or parsed.message is None or not reply.content.strip():
            return self.acknowledge(request, app)
        first_part, _ = self.passive_parts(reply.content)
        return JsonResponse(self._payload(parsed.reply_context, parsed.message, first_part))

    def _payload(
        self, context: dict[str, Any], message: IncomingMessage, text: str
    ) -> dict[str, Any]:
        return {"method": "sendMessage", **self._address(context, message), "text": text}

    def _address(self, context: dict[str, Any], message: IncomingMessage) -> dict[str, Any]:
        """chat_id, and in a group reply_parameters (and a forum topic's message_thread_id)."""
        chat_id = context.get("chat_id")
        if chat_id is None:
            chat_id = int(message.conversation_id) if message.conversation_id else None
        address: dict[str, Any] = {"chat_id": chat_id}
        if isinstance(context.get("message_thread_id"), int):
            address["message_thread_id"] = context["message_thread_id"]
        reply_to = context.get("reply_to_message_id")
        if context.get("chat_type") in ("group", "supergroup") and reply_to:
            # In a group, answer as a reply so the asker sees it is theirs.
            address["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        return address

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """POST /bot<token>/sendMessage; returns Telegram's message_id."""
        payload = self._payload(reply_context or {}, message, text)
        payload.pop("method")
        url = f"{self.api_base()}/bot{self.static_access_token(app)}/sendMessage"
        response = platform_request("POST", url, json=payload)
        data = response.data if isinstance(response.data, dict) else {}
        if response.status_code == 200 and data.get("ok") is True:
            result = data.get("result") if isinstance(data.get("result"), dict) else {}
            return str(result.get("message_id", ""))
        raise telegram_error(response.status_code, data)

    can_edit = True

    def edit(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        platform_message_id: str,
        text: str,
        reply_context: dict[str, Any],
    ) -> None:
        """POST /bot<token>/editMessageText: a progress notice updated in place."""
        chat_id = (reply_context or {}).get("chat_id") or message.conversation_id
        payload = {"chat_id": chat_id, "message_id": int(platform_message_id), "text": text}
        url = f"{self.api_base()}/bot{self.static_access_token(app)}/editMessageText"
        response = platform_request("POST", url, json=payload)
        data = response.data if isinstance(response.data, dict) else {}
        if response.status_code != 200 or data.get("ok") is not True:
            raise telegram_error(response.status_code, data)

    def send_file_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """POST /bot<token>/sendDocument as multipart/form-data; returns the message_id."""
        context = reply_context or {}
        caption = document.caption.strip()
        if utf16_length(caption) > CAPTION_UNITS:
            for index, part in enumerate(self.split(caption)):
                self.send(app, message, part, context, part_key(idempotency_key, index + 1))
            caption = ""
        fields = {
            name: json.dumps(value) if isinstance(value, dict) else str(value)
            for name, value in self._address(context, message).items()
        }
        if caption:
            fields["caption"] = caption
        url = f"{self.api_base()}/bot{self.static_access_token(app)}/sendDocument"
        response = platform_request(
            "POST",
            url,
            data=fields,
            files={"document": (document.filename, document.content, document.content_type)},
        )
        data = response.data if isinstance(response.data, dict) else {}
        if response.status_code == 200 and data.get("ok") is True:
            result = data.get("result") if isinstance(data.get("result"), dict) else {}
            return str(result.get("message_id", ""))
        if response.status_code == 413 or data.get("error_code") == 413:
            # Telegram (or the nginx in front of it) refuses the body as too large.
            raise PlatformError(FILE_TOO_LARGE, "Telegram: Request Entity Too Large")
        raise telegram_error(response.status_code, data)


def telegram_error(status: int, data: dict[str, Any]) -> PlatformError:
    """A Bot API error answer ({"ok":false,"error_code","description","parameters"})."""
    code = data.get("error_code") if isinstance(data.get("error_code"), int) else status
    parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    retry_after = parameters.get("retry_after")
    return PlatformError(
        code,
        str(data.get("description") or f"HTTP {status}")[:200],
        retryable=code in RETRYABLE_STATUS or status in RETRYABLE_STATUS,
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )
