"""Make a verified message fit the database, so that a message answered 200 is always stored.

A platform (or whoever holds an app's secret) can send text PostgreSQL refuses (NUL, a lone
UTF-16 surrogate) and ids longer than their columns. Refusing such a message after its
signature passed would make the platform retry it forever; storing it as it is fails. So it is
normalised once, before anything stores or answers it:

- NUL characters are dropped, lone surrogates become U+FFFD, in every string (keys included);
- an id longer than its column keeps a readable prefix and ends in a hash of the whole id,
  so two long ids stay two ids and the same id always maps to the same value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any

from .channels.base import ParsedWebhook
from .messages import IncomingMessage

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Column widths (models.py): InboundMessage.external_id and conversation_key; the ids that
# ChannelIdentity, Conversation and ConversationTurn keep.
EXTERNAL_ID_WIDTH = 190
CHAT_ID_WIDTH = 128
MESSAGE_TYPE_WIDTH = 40
HASH_CHARS = 16


def storable_text(text: str) -> str:
    """`text` without NUL characters and with lone surrogates replaced."""
    if not UNSTORABLE.search(text):
        return text
    return UNSTORABLE.sub(lambda match: "" if match.group(0) == "\x00" else "\ufffd", text)


def storable_json(value: Any) -> Any:
    """A JSON-able value with every string in it (dict keys too) made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(key)): storable_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(item) for item in value]
    return value


def fitted_id(value: str, width: int) -> str:
    """A storable id of at most `width` characters, the same for the same input."""
    value = storable_text(value)
    if len(value) <= width:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:HASH_CHARS]
    return f"{value[: width - HASH_CHARS - 1]}~{digest}"


def storable_message(message: IncomingMessage) -> IncomingMessage:
    return dataclasses.replace(
        message,
        message_id=fitted_id(message.message_id, CHAT_ID_WIDTH),
        channel=fitted_id(message.channel, 20),
        external_user_id=fitted_id(message.external_user_id, CHAT_ID_WIDTH),
        content=storable_text(message.content),
        message_type=fitted_id(message.message_type, MESSAGE_TYPE_WIDTH),
        conversation_id=fitted_id(message.conversation_id, CHAT_ID_WIDTH),
        raw_data=storable_json(message.raw_data),
    )


def storable_webhook(parsed: ParsedWebhook) -> ParsedWebhook:
    """The parsed webhook with its message, de-dup key and reply context made storable."""
    return ParsedWebhook(
        message=storable_message(parsed.message) if parsed.message is not None else None,
        external_id=fitted_id(parsed.external_id, EXTERNAL_ID_WIDTH),
        reply_context=storable_json(parsed.reply_context),
    )
