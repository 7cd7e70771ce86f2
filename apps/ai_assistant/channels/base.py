"""The interface every chat channel implements, its two errors and the channel registry.

A channel is one module in this package holding one `Channel` subclass decorated with
`@register`. The webhook view (`webhook_views.webhook`) drives every channel the same way:

    GET   handshake(request, app)            URL verification; None → 405
    POST  verify(request, app)               proof of origin, replay window; raises
                                             WebhookRejected, nothing is stored before it passes
          unbound_proof(request, app)        a proof that does not cover the body: the view
                                             binds it to this body (webhook_proofs.py)
          parse(request, app)                → ParsedWebhook (message None: nothing to answer)
          ... intake, identify, handler ...  (the view; not the channel's business)
          render_reply(request, app, parsed, reply)
                                             the passive answer in the HTTP response; reply None
                                             → the platform's "nothing now" answer (`acknowledge`)
          passive_parts(text)                which part of a long reply fits the passive answer,
                                             which parts must go through send()
    later send(app, message, text, reply_context) → platform message id; raises PlatformError
          split(text)                        text cut to the platform's length limit, in order
          send_file(app, message, document, reply_context)
                                             a file (OutgoingFile) to the chat of `message`: the
                                             platform's file message (`send_file_message`) up to
                                             `max_file_bytes`, else its link as text

Everything a channel needs between parse and send (encrypted or not, the account id to
answer from, a chat id, a session webhook) travels in `ParsedWebhook.reply_context`, a
JSON-able dict the async worker gets back from the stored InboundMessage.

Errors: `WebhookRejected(status, reason)` refuses a request (400/403/404/405/413, a short plain
reason, never a secret); `PlatformError(code, message, retryable, retry_after)` is a failed
call to a platform API. The view maps both in one place.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from xml.parsers.expat import ExpatError

import httpx
import xmltodict
from decouple import config
from django.conf import settings
from django.http import HttpResponse
from pydantic import BaseModel, ConfigDict, Field

from apps.ai_assistant import platform_http
from apps.ai_assistant.channels.chunking import split_text, utf8_length
from apps.ai_assistant.errors import PlatformError, WebhookRejected
from apps.ai_assistant.models import REGISTERED_CHANNELS
from apps.ai_assistant.platform_http import RETRYABLE_STATUS, platform_request
from apps.ai_assistant.texts import text as user_text

if TYPE_CHECKING:
    from django.http import HttpRequest

    from apps.ai_assistant.messages import IncomingMessage, OutgoingFile, OutgoingMessage
    from apps.ai_assistant.models import ChannelApp

logger = logging.getLogger(__name__)

# PlatformError codes of send_file: the platform has no file message (and there is no link to
# send instead); the file is larger than the platform takes (and there is no link).
NO_FILE_MESSAGES = "no_file_messages"
FILE_TOO_LARGE = "file_too_large"
# ... and the file is smaller than the platform takes (an empty report is a bug upstream).
FILE_TOO_SMALL = "file_too_small"
MEBIBYTE = 1024 * 1024


@dataclass
class ParsedWebhook:
    """What a verified webhook request carries.

    message:       the user's message, or None for events/updates that need no answer
                   (WeChat unsubscribe, a Telegram edited_message, ...)
    external_id:   the platform's de-duplication key (MsgId, update_id, msgId, or
                   "FromUserName:CreateTime:Event" for WeChat events)
    reply_context: JSON-able data render_reply/send need later (e.g. {"encrypted": True,
                   "account": "gh_…"} or {"chat_id": 123}); stored with the InboundMessage
    """

    message: IncomingMessage | None
    external_id: str = ""
    reply_context: dict[str, Any] = field(default_factory=dict)


class Credentials(BaseModel):
    """What one app of a channel is configured with: its fields, their help text and which
    of them are secret (encrypted at rest, write-only in the admin, never shown or logged).
    A channel subclasses it; ChannelApp stores the secret fields in `secrets` and the others
    in `options`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def problems(self) -> list[str]:
        """What is missing or inconsistent, in words for the admin (empty: fine)."""
        return []

    @classmethod
    def secret_names(cls) -> set[str]:
        return {
            name
            for name, field_info in cls.model_fields.items()
            if (field_info.json_schema_extra or {}).get("secret")
        }


def secret_field(title: str, description: str, **options: Any) -> Any:
    """A secret credential field (default empty: not set)."""
    return Field("", title=title, description=description, repr=False,
                 json_schema_extra={"secret": True}, **options)  # fmt: skip


def option_field(title: str, description: str, default: Any = "", **options: Any) -> Any:
    """A credential field that is not secret (an agent id, a mode)."""
    return Field(default, title=title, description=description, **options)


class Channel:
    """One chat platform. Subclasses set `name`, `label`, `text_limit`, `measure`,
    `credentials` and the API base, and override the methods their platform needs;
    instances hold no per-request state."""

    name: str = ""
    label: str = ""
    # Longest text one platform message may carry, measured by `measure`.
    text_limit: int = 2048
    measure: Callable[[str], int] = staticmethod(utf8_length)
    credentials: type[Credentials] = Credentials
    # The setting (and environment variable) that points the platform's API elsewhere —
    # the stand-in in tests and the demo — and where it points by default.
    api_base_setting: str = ""
    default_api_base: str = ""
    # Whether the platform's API wants an access token fetched with the app's secret.
    fetches_access_tokens: bool = False
    # The platform's limit for a file message; 0 = no file messages.
    max_file_bytes: int = 0
    # The smallest file the platform takes (they refuse empty files; WeCom wants 5 bytes).
    min_file_bytes: int = 1

    def api_base(self) -> str:
        """The platform API's base URL: this channel's setting (or environment variable),
        else the development stand-in when one is set, else the real host."""
        if self.api_base_setting:
            configured = getattr(settings, self.api_base_setting, "") or config(
                self.api_base_setting, default=""
            )
            if configured:
                return configured
        return settings.AI_ASSISTANT_PLATFORMS_STAND_IN or self.default_api_base

    def warnings(self, app: ChannelApp) -> list[str]:
        """What an operator should change about this app's configuration (admin)."""
        return []

    # --- access tokens (tokens.py drives these) ------------------------------------------

    def fetch_access_token(self, app: ChannelApp, force: bool) -> tuple[Any, Any]:
        """(token, expires_in seconds) from the platform; PlatformError when refused."""
        raise PlatformError("no_access_token", f"{self.name} has no access token")

    def static_access_token(self, app: ChannelApp) -> str | None:
        """A token that needs no fetching (Telegram's bot token), or None."""
        return None

    def is_token_error(self, error: PlatformError) -> bool:
        """Whether the platform said the access token is invalid or expired."""
        return False

    def handshake(self, request: HttpRequest, app: ChannelApp) -> HttpResponse | None:
        """Answer a GET URL verification; None when the platform has none (→ 405)."""
        return None

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        """Check the request's proof of origin and freshness; raise WebhookRejected if bad."""
        raise NotImplementedError

    def unbound_proof(self, request: HttpRequest, app: ChannelApp) -> str | None:
        """The verified request's proof of origin when it does not cover the body (e.g. a
        signature over a timestamp only), for the view to bind to this body; None when the
        proof covers the body or there is no per-request proof."""
        return None

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        """Decode a verified request; malformed input raises WebhookRejected(400, ...)."""
        raise NotImplementedError

    def acknowledge(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        """The platform's "received, nothing to say now" answer (no retry, nothing shown)."""
        return HttpResponse(b"", content_type="text/plain")

    def render_reply(
        self,
        request: HttpRequest,
        app: ChannelApp,
        parsed: ParsedWebhook,
        reply: OutgoingMessage | None,
    ) -> HttpResponse:
        """The passive answer carrying `passive_parts(reply.content)[0]`; None → acknowledge."""
        return self.acknowledge(request, app)

    def passive_parts(self, text: str) -> tuple[str, list[str]]:
        """Split a reply into (what the HTTP answer carries, what send() must deliver after).

        Default: the first part passively, the rest by send(). A channel whose HTTP answer
        cannot carry text returns ("", all parts).
        """
        parts = self.split(text)
        if not parts:
            return "", []
        return parts[0], parts[1:]

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """Send one part (already within `text_limit`) to the user or chat of `message`
        through the platform's API; return the platform's message id (may be "").
        `idempotency_key` names the part: a platform that de-duplicates sends by a key of
        ours (Feishu's uuid) is given it, so a resend after a crash is not shown twice.
        Raises PlatformError."""
        raise NotImplementedError

    # Whether `edit` can change a message sent before (a progress notice updated in place).
    can_edit: bool = False

    def edit(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        platform_message_id: str,
        text: str,
        reply_context: dict[str, Any],
    ) -> None:
        """Replace the text of a message this app sent to the chat of `message` (only where
        `can_edit`); raises PlatformError."""
        raise NotImplementedError(f"{self.name} cannot edit sent messages")

    def split(self, text: str) -> list[str]:
        """`text` in order, in parts each within this platform's limit."""
        return split_text(text, self.text_limit, self.measure)

    # --- files ----------------------------------------------------------------------------

    def send_file(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """Send `document` to the chat of `message`; return the platform's message id.

        A platform with file messages gets one (`send_file_message`) while the file is within
        `max_file_bytes`; a larger file, one the platform refuses as too large, and every file
        on a platform without file messages go as a text with the caption and the download
        link (`send_file_link`). Without a link that is PlatformError NO_FILE_MESSAGES or
        FILE_TOO_LARGE, never retryable: a file is never dropped silently. A file under
        `min_file_bytes` (empty) is PlatformError FILE_TOO_SMALL, never retryable either.
        """
        if not self.max_file_bytes:
            return self.send_file_link(app, message, document, reply_context, idempotency_key)
        if len(document.content) > self.max_file_bytes:
            return self.send_file_link(
                app, message, document, reply_context, idempotency_key, too_large=True
            )
        if len(document.content) < self.min_file_bytes:
            raise PlatformError(
                FILE_TOO_SMALL,
                f"{document.filename} has {len(document.content)} bytes; {self.label or self.name} "
                f"takes files of at least {self.min_file_bytes}",
                retryable=False,
            )
        try:
            return self.send_file_message(app, message, document, reply_context, idempotency_key)
        except PlatformError as error:
            if error.code != FILE_TOO_LARGE:
                raise
            logger.info("%s refused %s as too large; sending its link", self.name, app)
            return self.send_file_link(
                app, message, document, reply_context, idempotency_key, too_large=True
            )

    def send_file_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """The platform's own file message for a file within `max_file_bytes` (a channel that
        sets `max_file_bytes` implements it). A refusal for the file's size must be raised as
        PlatformError(FILE_TOO_LARGE, ...): send_file then sends the link."""
        raise NotImplementedError

    def send_file_link(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
        too_large: bool = False,
    ) -> str:
        """The caption and the download link as text through `send` (with a note when the file
        is `too_large` for the platform); returns the first part's message id."""
        if not document.download_url:
            raise self._undeliverable(document, too_large)
        note_limit = self.max_file_bytes if too_large else 0
        parts = self.split(file_link_text(document, self.label or self.name, note_limit))
        message_ids = [
            self.send(app, message, part, reply_context, part_key(idempotency_key, index))
            for index, part in enumerate(parts)
        ]
        return message_ids[0] if message_ids else ""

    def _undeliverable(self, document: OutgoingFile, too_large: bool) -> PlatformError:
        platform = self.label or self.name
        if too_large:
            return PlatformError(
                FILE_TOO_LARGE,
                f"{document.filename} is {size_text(len(document.content))}, more than the "
                f"{size_text(self.max_file_bytes)} {platform} takes, and has no download link "
                "to send instead",
                retryable=False,
            )
        return PlatformError(
            NO_FILE_MESSAGES,
            f"{platform} cannot send files and {document.filename} has no download link",
            retryable=False,
        )

    def __repr__(self) -> str:
        return f"<Channel {self.name}>"


def size_text(size: int) -> str:
    """A file size as the notes show it: "20 MB", "25.3 MB", "1.7 KB" (binary units)."""
    unit, name = (MEBIBYTE, "MB") if size >= MEBIBYTE else (1024, "KB")
    if size % unit == 0:
        return f"{size // unit} {name}"
    return f"{size / unit:.1f} {name}"


def file_link_text(document: OutgoingFile, platform: str = "", limit: int = 0) -> str:
    """What a chat shows for a file sent as its link: the caption, with a `limit` the note (zh
    and en) that the file is too large for `platform`, then "<filename>: <link>". The web chat
    shows a file this way too: it is the text of the file's reply part."""
    lines = [document.caption.strip()] if document.caption.strip() else []
    if limit:
        sizes = {"platform": platform, "size": size_text(len(document.content))}
        sizes["limit"] = size_text(limit)
        lines += [
            user_text("file_too_large", "zh", **sizes),
            user_text("file_too_large", "en", **sizes),
        ]
    lines.append(f"{document.filename}: {document.download_url}")
    return "\n".join(lines)


def part_key(idempotency_key: str, index: int) -> str:
    """The idempotency key of part `index` of something sent in several parts (the first part
    keeps the key itself)."""
    if not idempotency_key or index == 0:
        return idempotency_key
    return f"{idempotency_key}:{index}"


def file_extension(filename: str) -> str:
    """ "xlsx" for "sales-2026-12.xlsx" (lowercase, without the dot; "" when there is none)."""
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


CHANNELS: dict[str, Channel] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Class decorator: make `cls` (one instance) the channel named `cls.name`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in CHANNELS and type(CHANNELS[cls.name]) is not cls:
        raise ValueError(f"channel {cls.name!r} is registered twice")
    CHANNELS[cls.name] = cls()
    REGISTERED_CHANNELS[cls.name] = (cls.label or cls.name, cls.credentials)
    return cls


def get_channel(name: str) -> Channel:
    """The registered channel called `name`; KeyError if there is none."""
    import apps.ai_assistant.channels  # noqa: F401  (imports every channel module)

    return CHANNELS[name]


_DOCTYPE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)


def parse_xml(body: bytes) -> dict[str, Any]:
    """The children of a platform XML document's root `<xml>` as a dict of strings.

    DOCTYPE and entity declarations are refused outright (no XXE, no entity bombs), on top of
    xmltodict's disable_entities. Anything that is not one well-formed `<xml>` → 400.
    """
    if _DOCTYPE.search(body):
        raise WebhookRejected(400, "XML with DOCTYPE or entities is not accepted")
    try:
        document = xmltodict.parse(body, disable_entities=True)
    except (ExpatError, ValueError) as error:
        raise WebhookRejected(400, "malformed XML") from error
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise WebhookRejected(400, "XML root must be <xml> with fields")
    return root


def xml_text(fields: dict[str, Any], name: str, required: bool = True) -> str:
    """One text field of parsed platform XML; a missing or nested field → 400 when required."""
    value = fields.get(name)
    if value is None:
        if required:
            raise WebhookRejected(400, f"missing {name}")
        return ""
    if not isinstance(value, str):
        raise WebhookRejected(400, f"{name} must be text")
    return value


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON webhook body as a dict; anything else (malformed, not an object, nested past
    Python's recursion limit, a number too long to convert) → 400."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise WebhookRejected(400, "malformed JSON") from error
    if not isinstance(document, dict):
        raise WebhookRejected(400, "body must be a JSON object")
    return document


# datetime's own range (years 1–9999) in seconds since the epoch.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def datetime_from(value: int | float, name: str, scale: int = 1) -> datetime:
    """A platform's epoch timestamp (`scale` 1000 for milliseconds) as an aware datetime;
    outside datetime's range → 400."""
    if not _EARLIEST * scale <= value <= _LATEST * scale:
        raise WebhookRejected(400, f"{name} is out of range")
    return datetime.fromtimestamp(value / scale, UTC)


def current_time() -> float:
    """Seconds since the epoch; tests patch this to replay old signed vectors."""
    return time.time()


def check_timestamp(value: str | int | None, scale: int = 1, window: int | None = None) -> None:
    """Refuse (403) a signed timestamp more than `window` seconds (by default
    AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS) from now, in either direction. `scale` is 1000 for
    millisecond timestamps."""
    if not re.fullmatch(r"\d{1,16}", str(value or "")):
        raise WebhookRejected(403, "missing or bad timestamp")
    seconds = int(value) / scale  # type: ignore[arg-type]
    allowed = settings.AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS if window is None else window
    if abs(current_time() - seconds) > allowed:
        raise WebhookRejected(403, "stale timestamp")


def post_json(
    url: str,
    payload: Any,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST JSON to a platform API and return the decoded JSON answer.

    Network errors, timeouts, 408/425/429/5xx → PlatformError(retryable=True); any other
    non-2xx or a body that is not a JSON object → PlatformError(retryable=False). Checking the
    platform's own error fields (errcode, ok) is the caller's job. The URL's query (it may hold
    an access token) never appears in the error.
    """
    timeout = settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS
    try:
        response = platform_http.client().post(
            url, json=payload, params=params, headers=headers, timeout=timeout
        )
    except httpx.HTTPError as error:
        raise PlatformError("network", type(error).__name__, retryable=True) from error
    if response.status_code >= 300:
        retry_after = response.headers.get("Retry-After")
        raise PlatformError(
            response.status_code,
            f"HTTP {response.status_code}",
            retryable=response.status_code in RETRYABLE_STATUS,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
    try:
        data = response.json()
    except ValueError as error:
        raise PlatformError("bad_response", "answer is not JSON", retryable=True) from error
    if not isinstance(data, dict):
        raise PlatformError("bad_response", "answer is not a JSON object", retryable=False)
    return data


def post_multipart(
    url: str,
    files: dict[str, tuple[str, bytes, str]],
    data: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST multipart/form-data (an upload) to a platform API; the decoded JSON answer.

    Errors as post_json, and HTTP 413 (a gateway refusing the body) is FILE_TOO_LARGE. The
    platform's own error fields are the caller's to check.
    """
    response = platform_request("POST", url, params=params, data=data, files=files, headers=headers)
    if response.status_code == 413:
        raise PlatformError(FILE_TOO_LARGE, "HTTP 413: the upload is too large", retryable=False)
    if response.status_code >= 300:
        retry_after = response.headers.get("Retry-After")
        raise PlatformError(
            response.status_code,
            f"HTTP {response.status_code}",
            retryable=response.status_code in RETRYABLE_STATUS,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
    if not isinstance(response.data, dict):
        raise PlatformError("bad_response", "answer is not a JSON object", retryable=True)
    return response.data
