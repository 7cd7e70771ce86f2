"""Every sentence the assistant says on its own account, in Chinese and English.

`render_result` is the one place a ToolResult becomes user text: tools render their own
data, and this module words refusals, ask-backs, errors and confirmation prompts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from apps.ai_assistant.texts import text
from apps.ai_assistant.tools.registry import STATUS, Tool, ToolResult, get_tool

COMMANDS = {
    "zh": [
        "/help 显示本帮助",
        "/bind 绑定码 绑定您的ERP账号",
        "/new 开始新的对话",
        "/cancel 取消待确认的操作或正在生成的报表",
        "/jobs 查看最近的报表任务",
    ],
    "en": [
        "/help show this help",
        "/bind CODE link your ERP account",
        "/new start a new conversation",
        "/cancel cancel a pending action or a report being made",
        "/jobs your recent report jobs",
    ],
}


def _lang(language: str) -> str:
    return "zh" if language == "zh" else "en"


def topic(tool_name: str, language: str) -> str:
    """What a tool is for, as a verb phrase ("查询库存" / "check stock")."""
    language = _lang(language)
    tool = get_tool(tool_name)
    if tool is not None and language in tool.topic:
        return tool.topic[language]
    return f"使用“{tool_name}”" if language == "zh" else f"use {tool_name}"


def numbered(candidates: Iterable[str]) -> str:
    return "\n".join(f"{index}. {candidate}" for index, candidate in enumerate(candidates, 1))


# The tools word what they refuse in English (an LLM reads it too); a Chinese conversation
# is told the same in Chinese. A message not listed here is shown as the tool wrote it.
RECORD_ZH = {
    "item": "物料", "items": "物料", "customer": "客户", "customers": "客户",
    "supplier": "供应商", "suppliers": "供应商", "warehouse": "仓库", "warehouses": "仓库",
}  # fmt: skip
TOOL_MESSAGES_ZH = [
    (r"No (item|customer|supplier|warehouse) matches “(.+)”\.", "没有找到与“{2}”匹配的{1}。"),
    (r"“(.+)” matches several (items|customers|suppliers|warehouses)\.", "“{1}”对应多个{2}。"),
    (r"No machine with serial number “(.+)”\.", "没有序列号为“{1}”的机器。"),
    (r"No sales order “(.+)” found\.", "没有找到销售订单“{1}”。"),
    (r"No purchase order “(.+)” found\.", "没有找到采购订单“{1}”。"),
    (r"No service ticket “(.+)” found\.", "没有找到服务单“{1}”。"),
    (r"No work order found for “(.+)”\.", "没有找到“{1}”的工单。"),
    (r"No finished reorder plan (J-\d+) of yours\.", "没有找到您已完成的补货计划 {1}。"),
    (r"Reorder plan (J-\d+) has nothing to order\.", "补货计划 {1} 没有需要采购的物料。"),
    (
        r"Not enough stock of (\S+) in (\S+) to reserve ([\d.]+): ([\d.]+) available\.",
        "{2} 的 {1} 库存不足，无法预留 {3}：当前可用 {4}。",
    ),
    (r"(\S+) is not a stock item and cannot be reserved\.", "{1} 不是库存物料，不能预留。"),
    (r"(\S+) has no list price; it cannot be quoted\.", "{1} 没有标价，无法报价。"),
    (r"A sales report needs both a first and a last day\.", "销售报表需要开始和结束日期。"),
    (r"The first day comes after the last one\.", "开始日期晚于结束日期。"),
]


def in_language(message: str, language: str) -> str:
    """A tool's message in the conversation's language."""
    if _lang(language) != "zh":
        return message
    for pattern, chinese in TOOL_MESSAGES_ZH:
        match = re.fullmatch(pattern, message)
        if match:
            words = [RECORD_ZH.get(group, group) for group in match.groups()]
            return chinese.format(message, *words)
    return message


def ask_back(message: str, candidates: list[str], language: str) -> str:
    """A message followed by the candidates to choose from, numbered."""
    language = _lang(language)
    message = in_language(message, language)
    if not candidates:
        return message
    prompt = "您指的是哪一个？" if language == "zh" else "Which one do you mean?"
    lines = [message, prompt] if message else [prompt]
    return "\n".join([*lines, numbered(candidates)])


def denied(tool_name: str, language: str) -> str:
    if _lang(language) == "zh":
        return f"抱歉，您没有{topic(tool_name, 'zh')}的权限。如需开通，请联系系统管理员。"
    return (
        f"Sorry, you don't have permission to {topic(tool_name, 'en')}. "
        "Please ask an administrator if you need access."
    )


def tool_error(message: str, language: str) -> str:
    if not message or message == "internal error":
        if _lang(language) == "zh":
            return "抱歉，查询时系统出了点问题，请稍后再试。"
        return "Sorry, something went wrong on our side. Please try again later."
    return in_language(message, language)


def confirmation(target_repr: str, language: str) -> str:
    return text("confirm", _lang(language), target=target_repr)


def render_result(result: ToolResult, language: str) -> str:
    """The user-facing text for any tool result, whatever its status."""
    language = _lang(language)
    if result.status == STATUS.SUCCESS:
        tool = get_tool(result.tool)
        if tool is None:
            return tool_error("", language)
        return tool.render(result.data, language)
    if result.status == STATUS.DENIED:
        return denied(result.tool, language)
    if result.status == STATUS.INVALID:
        return ask_back(result.message, result.candidates, language)
    if result.status == STATUS.STAGED:
        return confirmation(str(result.data.get("target_repr", "")), language)
    return tool_error(result.message, language)


def _usable(tools: Iterable[Tool]) -> list[Tool]:
    """The user's tools that have examples to show, in help order."""
    shown = [tool for tool in tools if tool.examples]
    return sorted(shown, key=lambda tool: (tool.help_rank, tool.name))


def _examples(tool: Tool, language: str) -> list[str]:
    return tool.examples.get(language) or next(iter(tool.examples.values()))


def help_text(language: str, tools: Iterable[Tool]) -> str:
    """What this user can ask, given their tools, with examples, and the commands."""
    language = _lang(language)
    usable = _usable(tools)
    if language == "zh":
        lines = ["我是ERP助手，您可以直接用中文或英文问我："] if usable else []
        for tool in usable:
            examples = "；".join(f"“{text}”" for text in _examples(tool, "zh"))
            lines.append(f"• {topic(tool.name, 'zh')}：{examples}")
        if not usable:
            lines.append("您的账号目前没有任何ERP查询权限，请联系系统管理员开通。")
        lines.append("")
        lines.append("命令：")
    else:
        lines = ["I'm the ERP assistant. Ask me in English or Chinese:"] if usable else []
        for tool in usable:
            examples = "; ".join(f'"{text}"' for text in _examples(tool, "en"))
            lines.append(f"• {topic(tool.name, 'en')}: {examples}")
        if not usable:
            lines.append("Your account has no ERP permissions yet; please ask an administrator.")
        lines.append("")
        lines.append("Commands:")
    lines.extend(COMMANDS[language])
    return "\n".join(lines)


def _with_example(lead: dict[str, str], language: str, tools: Iterable[Tool]) -> str:
    """`lead`, one example question the user's tools can answer, and the /help hint."""
    language = _lang(language)
    usable = _usable(tools)
    example = _examples(usable[0], language)[0] if usable else ""
    if language == "zh":
        suggestion = f"比如您可以问：“{example}”。" if example else ""
        return f"{lead['zh']}{suggestion}发送 /help 查看我能做什么。"
    suggestion = f'For example, ask: "{example}". ' if example else ""
    return f"{lead['en']} {suggestion}Send /help to see what I can do."


def greeting(language: str, tools: Iterable[Tool]) -> str:
    return _with_example(
        {"zh": "您好！我是ERP助手。", "en": "Hello! I'm the ERP assistant."}, language, tools
    )


def thanks(language: str) -> str:
    if _lang(language) == "zh":
        return "不客气！还有什么需要随时问我。"
    return "You're welcome! Ask me any time."


def not_understood(language: str, tools: Iterable[Tool]) -> str:
    lead = {"zh": "抱歉，我没听懂。", "en": "Sorry, I didn't understand that."}
    return _with_example(lead, language, tools)


def clarify_missing(what: str, language: str) -> str:
    """Ask for a piece of information the request lacks."""
    questions = {
        "item": (
            "请问您要查哪个物料？可以发SKU或名称，比如“保护镜”。",
            'Which item? Send a SKU or a name, e.g. "protective window".',
        ),
        "serial_no": (
            "请提供机器序列号（例如 LX20260001）。",
            "Which machine? Please send the serial number (e.g. LX20260001).",
        ),
        "complaint": (
            "请描述一下故障现象，比如“激光器不出光”。",
            'Please describe the problem, e.g. "no laser output".',
        ),
        "qty": ("请问数量是多少？", "How many?"),
        "warehouse": (
            "请问从哪个仓库？（主仓库 / 备件仓 / 深圳仓 / 服务车1）",
            "Which warehouse? (main / spare / sz / van1)",
        ),
        "customer": (
            "请问是哪个客户？可以发客户编号或名称。",
            "Which customer? Send a customer code or name.",
        ),
        "order": (
            "请提供单号，例如 SO-2026-0001。",
            "Which order? Please send its number, e.g. SO-2026-0001.",
        ),
        "ticket": (
            "请提供服务单号（如 ST-2026-0001）或机器序列号。",
            "Please send the ticket number (e.g. ST-2026-0001) or the machine serial number.",
        ),
        "work_order": (
            "请提供工单号（如 WO-2026-0001）或销售订单号。",
            "Please send the work order number (e.g. WO-2026-0001) or the sales order number.",
        ),
        "po": (
            "请提供采购单号（如 PO-2026-0001）、物料或供应商。",
            "Please send the PO number (e.g. PO-2026-0001), an item or a supplier.",
        ),
        "quote_lines": (
            "请问报哪些产品、各多少？例如“1台切割机”。",
            'Which items and how many? e.g. "1 x LC-3015-6KW".',
        ),
    }
    zh, en = questions.get(what, ("请补充一下信息。", "Could you give me a bit more detail?"))
    return zh if _lang(language) == "zh" else en


def default_used(why: str, record: str, language: str) -> str:
    """Says which record the assistant took for one the request left out, and why."""
    notes = {
        "only_warehouse_with_enough": (
            f"没说仓库：只有 {record} 有足够的可用库存，按这个仓库。",
            f"No warehouse given: only {record} has enough available, so that one.",
        ),
        "warehouse_talked_about": (
            f"没说仓库：按刚才说的 {record}。",
            f"No warehouse given: {record}, as just discussed.",
        ),
    }
    zh, en = notes[why]
    return zh if _lang(language) == "zh" else en


def ambiguous(mention: str, candidates: list[str], language: str, total: int = 0) -> str:
    """Ask which of several records a mention meant. `total` > the candidates shown: a word
    that fits dozens of records says how many and how to narrow down, never lists them all."""
    zh = _lang(language) == "zh"
    if total > len(candidates):
        if zh:
            head = (
                f"“{mention}”对应 {total} 个结果，先列出 {len(candidates)} 个。"
                "可以加上型号、尺寸、SKU 或仓库来缩小范围。"
            )
        else:
            head = (
                f"“{mention}” matches {total} records; here are {len(candidates)}. "
                "Add a model, size, SKU or warehouse to narrow it down."
            )
    else:
        head = f"“{mention}”对应多个结果。" if zh else f"“{mention}” matches several records."
    return ask_back(head, candidates, language)


JOB_STATUS = {
    "queued": ("排队中", "queued"),
    "running": ("生成中", "running"),
    "succeeded": ("已完成", "done"),
    "failed": ("失败", "failed"),
    "cancelled": ("已取消", "cancelled"),
}


def jobs_text(jobs: Iterable[Any], language: str) -> str:
    """/jobs: the user's recent report jobs, newest first, with how far each one is."""
    language = _lang(language)
    lines = []
    for job in jobs:
        status = JOB_STATUS[job.status][0 if language == "zh" else 1]
        if job.status == "running":
            status += f" {job.percent}%" + (f" · {job.stage}" if job.stage else "")
        if job.from_cache:
            status += "（缓存）" if language == "zh" else " (from the cache)"
        when = timezone.localtime(job.created_at).strftime("%m-%d %H:%M")
        title = topic(job.report, language)
        lines.append(f"{job.reference} {when} {title}：{status}" if language == "zh"
                     else f"{job.reference} {when} {title}: {status}")  # fmt: skip
    if not lines:
        return "最近没有报表任务。" if language == "zh" else "You have no recent report jobs."
    header = "最近的报表任务：" if language == "zh" else "Your recent report jobs:"
    return "\n".join([header, *lines])
