"""Log records that untrusted input cannot forge.

Webhook paths, headers and bodies come from anyone on the internet. A CR/LF (or NUL, or a
Unicode line separator) written raw into a log line would let a request forge a record of its
own ("x%0d%0aINFO login ok"). Two guards, installed once per process by the settings:

- every log record's message has its control characters escaped (`\\r` → `\\x0d`) when it
  contains any; records without them are left untouched, arguments and all;
- the log formatter indents each line of a traceback, so an exception message carrying a
  newline can only ever continue the traceback, never start a record at column 0.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# C0 controls (tab aside), DEL, C1 controls and the Unicode line/paragraph separators.
UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
UNSAFE_IN_TRACEBACK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` with every control character written as an escape sequence."""
    return UNSAFE.sub(_escape_char, text)


def _safe_record_factory(default_factory):
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = default_factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: the handler reports it as logging always does.
            return record
        if UNSAFE.search(message):
            record.msg = escape(message)
            record.args = None
        return record

    make_record.escapes_control_characters = True
    return make_record


def install() -> None:
    """Make every log record of this process escape control characters (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "escapes_control_characters", False):
        logging.setLogRecordFactory(_safe_record_factory(current))


class SafeFormatter(logging.Formatter):
    """The plain formatter, with tracebacks indented and their control characters escaped."""

    def formatException(self, ei) -> str:  # noqa: N802  (logging's name)
        text = UNSAFE_IN_TRACEBACK.sub(_escape_char, super().formatException(ei))
        return "\n".join("  " + line for line in text.split("\n"))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        text = UNSAFE_IN_TRACEBACK.sub(_escape_char, super().formatStack(stack_info))
        return "\n".join("  " + line for line in text.split("\n"))
