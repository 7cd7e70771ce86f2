"""The plain data that flows between channels, dispatch and the handler (and the files
sent to chats, `OutgoingFile`).

`IncomingMessage.to_dict()` is exactly the seed's `message_data`, the payload of the
`process_message_async` task, so it must stay JSON-serialisable and round-trip unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MESSAGE_DATA_KEYS = (
    "message_id",
    "channel",
    "external_user_id",
    "content",
    "timestamp",
    "message_type",
    "conversation_id",
    "raw_data",
)
REQUIRED_STRING_KEYS = ("message_id", "channel", "external_user_id", "timestamp", "message_type")


@dataclass(frozen=True)
class IncomingMessage:
    """One message from a chat user, decoded from any platform."""

    message_id: str
    channel: str
    external_user_id: str
    content: str
    timestamp: datetime
    message_type: str = "text"
    conversation_id: str = ""
    raw_data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, message_data: dict[str, Any]) -> IncomingMessage:
        """Build from the seed's message_data; a ValueError names any key that is off."""
        if not isinstance(message_data, dict):
            raise ValueError("message_data must be a dict")
        unknown = set(message_data) - set(MESSAGE_DATA_KEYS)
        if unknown:
            raise ValueError(f"message_data has unknown keys: {', '.join(sorted(unknown))}")
        missing = [key for key in MESSAGE_DATA_KEYS if key not in message_data]
        if missing:
            raise ValueError(f"message_data is missing keys: {', '.join(missing)}")
        for key in REQUIRED_STRING_KEYS:
            if not isinstance(message_data[key], str) or not message_data[key]:
                raise ValueError(f"message_data[{key!r}] must be a non-empty string")
        for key in ("content", "conversation_id"):
            if not isinstance(message_data[key], str):
                raise ValueError(f"message_data[{key!r}] must be a string")
        if not isinstance(message_data["raw_data"], dict):
            raise ValueError("message_data['raw_data'] must be a dict")
        try:
            timestamp = datetime.fromisoformat(message_data["timestamp"])
        except ValueError as error:
            raise ValueError(
                f"message_data['timestamp'] is not ISO-8601: {message_data['timestamp']!r}"
            ) from error
        return cls(
            message_id=message_data["message_id"],
            channel=message_data["channel"],
            external_user_id=message_data["external_user_id"],
            content=message_data["content"],
            timestamp=timestamp,
            message_type=message_data["message_type"],
            conversation_id=message_data["conversation_id"],
            raw_data=message_data["raw_data"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "channel": self.channel,
            "external_user_id": self.external_user_id,
            "content": self.content,
            "timestamp": self.timestamp.isoformat(),
            "message_type": self.message_type,
            "conversation_id": self.conversation_id,
            "raw_data": self.raw_data,
        }

    @property
    def conversation_key(self) -> str:
        """The conversation this message belongs to: the chat, or the user's private chat."""
        return self.conversation_id or self.external_user_id


@dataclass
class OutgoingMessage:
    """The assistant's answer. `content` is the full text every channel can send.

    `parts` optionally carries structure a channel may render better (a table, a
    confirmation prompt with yes/no); a channel that does not understand a part sends
    `content` alone, which always says everything.
    """

    content: str
    parts: list[dict[str, Any]] = field(default_factory=list)
    language: str = "zh"

    def to_dict(self) -> dict[str, Any]:
        return {"content": self.content, "parts": self.parts, "language": self.language}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutgoingMessage:
        return cls(
            content=data["content"],
            parts=list(data.get("parts", [])),
            language=data.get("language", "zh"),
        )

    def __str__(self) -> str:
        return self.content


@dataclass(frozen=True)
class OutgoingFile:
    """A file for the user: a report, sent as the platform's file message where it has one."""

    filename: str  # e.g. "sales-2026-12.xlsx"
    content: bytes
    content_type: str  # e.g. "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    download_url: str = ""  # a signed, expiring link to the same file on the ERP (may be "")
    caption: str = ""  # a short text shown with the file (the report's summary line)
