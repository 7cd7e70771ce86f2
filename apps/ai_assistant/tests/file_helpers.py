"""Files sent to chats in tests: the report fixture as an OutgoingFile, and the bytes a chat
received, read back from the platforms' stand-in over HTTP (GET /_control/files/<file_id>).

    document = report()                               # the real XLSX of channels/fixtures/
    channel.send_file(app, message, document, context)
    [entry] = file_entries(platforms, "wecom")
    assert received_bytes(platforms, entry) == document.content
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from apps.ai_assistant.messages import OutgoingFile

REPORT_PATH = Path(__file__).resolve().parents[1] / "channels" / "fixtures" / "sales-2026-12.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD_URL = "https://erp.example.com/reports/download/42/?expires=1798761600&sig=abc123"


def report(**changes: Any) -> OutgoingFile:
    """The December sales report (a real, small XLSX) with a caption and a download link."""
    document = OutgoingFile(
        filename="sales-2026-12.xlsx",
        content=REPORT_PATH.read_bytes(),
        content_type=XLSX,
        download_url=DOWNLOAD_URL,
        caption="2026年12月销售报表：23 张订单，合计 ¥1,284,500",
    )
    return replace(document, **changes)


def file_entries(platforms: Any, platform: str) -> list[dict[str, Any]]:
    """What the platform's chats received as files, in order."""
    return [
        entry for entry in platforms.state.sent_messages(platform) if entry.get("kind") == "file"
    ]


def text_entries(platforms: Any, platform: str) -> list[dict[str, Any]]:
    return [
        entry for entry in platforms.state.sent_messages(platform) if entry.get("kind") == "text"
    ]


def received_bytes(platforms: Any, entry: dict[str, Any]) -> bytes:
    """The bytes of a received file, fetched from the stand-in's control API."""
    response = httpx.get(f"{platforms.base_url}/_control/files/{entry['file_id']}", timeout=5)
    response.raise_for_status()
    return response.content
