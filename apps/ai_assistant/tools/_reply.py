"""Pieces every tool reply shares: row caps, the total line, labels, masking and dates.

Private to the tool modules (the leading underscore keeps it out of the tool auto-import).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone


def max_rows() -> int:
    return settings.AI_ASSISTANT_MAX_ROWS


def capped(rows: list[Any]) -> list[Any]:
    """The first AI_ASSISTANT_MAX_ROWS rows; callers report the full count separately."""
    return rows[: max_rows()]


def total_line(count: int, language: str) -> str:
    return f"共 {count} 项" if language == "zh" else f"{count} in total"


def listing(header: str, lines: list[str], count: int, language: str) -> str:
    """A header, at most AI_ASSISTANT_MAX_ROWS lines, and the total line."""
    shown = capped(lines)
    footer = total_line(count, language)
    if count > len(shown):
        footer += (
            f"（仅显示前 {len(shown)} 项）" if language == "zh" else f" (first {len(shown)} shown)"
        )
    return "\n".join([header, *shown, footer])


def pick(language: str, zh: str, en: str) -> str:
    return zh if language == "zh" else en


def iso(value: date | datetime | None) -> str | None:
    """A date, or a datetime in the local time zone, as ISO text (minutes for datetimes)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def mask_name(name: str) -> str:
    """Keep the first and last two characters: 苏州恒通钣金有限公司 → 苏州****公司."""
    if len(name) <= 4:
        return name[:1] + "****"
    return f"{name[:2]}****{name[-2:]}"


def person_name(user: Any) -> str | None:
    """A user as staff know them: 王磊 for Chinese names, else the full name or username."""
    if user is None:
        return None
    first, last = user.first_name or "", user.last_name or ""
    if first and last and not first.isascii():
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part) or user.get_username()


# Chinese labels for the ERP's status codes; English uses the model's own labels.
LABELS_ZH: dict[str, str] = {
    # sales orders
    "draft": "草稿",
    "pending_approval": "待审批",
    "confirmed": "已确认",
    "to_deliver_and_bill": "待发货和开票",
    "to_deliver": "待发货",
    "to_bill": "待开票",
    "completed": "已完成",
    "on_hold": "暂停",
    "cancelled": "已取消",
    "closed": "已关闭",
    # purchase orders
    "to_receive_and_bill": "待收货和开票",
    "to_receive": "待收货",
    # work orders and operations
    "not_started": "未开始",
    "in_process": "生产中",
    "stopped": "已停止",
    "pending": "待开始",
    "in_progress": "进行中",
    "done": "已完成",
    # service tickets
    "open": "待处理",
    "waiting_parts": "等待备件",
    "waiting_customer": "等待客户",
    "resolved": "已解决",
    # ticket categories and priorities
    "installation": "安装",
    "repair": "维修",
    "maintenance": "保养",
    "training": "培训",
    "parts_request": "备件申请",
    "low": "低",
    "normal": "普通",
    "high": "高",
    "urgent": "紧急",
    # warranty
    "under_warranty": "保修期内",
    "out_of_warranty": "已过保",
    "under_amc": "维保合同期内",
    "out_of_amc": "维保合同已到期",
    # serial numbers
    "in_stock": "在库",
    "reserved": "已预留",
    "delivered": "已发货",
    "installed": "已安装",
    "returned": "已退回",
    "scrapped": "已报废",
    # item categories
    "cutting_machine": "切割机",
    "welding_machine": "焊接机",
    "marking_machine": "打标机",
    "laser_source": "激光器",
    "lens": "镜片",
    "nozzle": "喷嘴",
    "protective_window": "保护镜",
    "cutting_head": "切割头",
    "chiller": "冷水机",
    "other": "其他",
    # doc types
    "quote": "报价单",
    "order": "销售订单",
}


def label(code: str | None, language: str, labels_en: dict[str, str] | None = None) -> str:
    """A status or category code in words."""
    if not code:
        return "-"
    if language == "zh":
        return LABELS_ZH.get(code, code)
    if labels_en and code in labels_en:
        return labels_en[code]
    return code.replace("_", " ")
