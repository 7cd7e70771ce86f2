"""No data past a permission: every tool × every demo role × (exact, ambiguous, unknown) input.

Through the real MessageHandler and rule brain, every record token (SKU, serial, order, PO,
work order and ticket number, customer and supplier code and name) in a reply must come from
the result of a tool the user may use (or from the /help examples of such tools). A role
without the tool gets a refusal that names no record. The registry is checked the same way
for calls an LLM could make with any parameters.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from apps.ai_assistant import handler as handler_module
from apps.ai_assistant.handler import MessageHandler
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.replies import help_text
from apps.ai_assistant.tests.erp_records import record_tokens, tokens_in
from apps.ai_assistant.tools.registry import (
    STATUS,
    ToolContext,
    execute_tool,
    get_tool,
    may_use,
    tools_for,
)
from apps.demo.roles import DEMO_USERS, ROLE_PERMISSIONS

ROLES = [username for username in DEMO_USERS if username != "admin"]

# tool → (exact, ambiguous, unknown) requests, as staff would type them.
REQUESTS = {
    "find_product": ("find PW-D37-T7", "find nozzle", "find flux capacitor"),
    "check_inventory_stock": (
        "PW-D37-T7 库存",
        "how many cutting heads in sz",
        "stock of unobtainium",
    ),
    "low_stock_report": ("哪些低于补货点", "low stock of nozzles", "low stock in warehouse zz"),
    "machine_warranty_lookup": ("LX20260001 保修", "warranty?", "LX20999999 保修"),
    "reserve_stock": (
        "reserve 2 PW-D37-T7 in main",
        "reserve 2 nozzle in main",
        "reserve 2 unobtainium in main",
    ),
    "sales_order_status": ("status of SO-2026-0001", "苏州的订单", "status of SO-2026-9999"),
    "customer_lookup": ("customer C001", "客户 苏州", "customer zzzz"),
    "create_sales_quote": (
        "给C001报价 2台LC-3015-6KW",
        "给C001报价 喷嘴",
        "quote unobtainium for C999",
    ),
    "production_progress": ("WO-2026-0001 进度", "生产进度怎么样", "WO-2026-9999 进度"),
    "purchase_order_status": ("status of PO-2026-0001", "供应商 激光", "PO-2026-9999 到货"),
    "service_ticket_status": ("ST-2026-0001 状态", "苏州的服务单", "ST-2026-9999 状态"),
    "open_service_ticket": (
        "LX20260001 报修 激光器不出光",
        "帮我报修",
        "LX20999999 报修 不出光",
    ),
}


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return record_tokens()


def ask(user, text: str) -> str:
    message = IncomingMessage(
        message_id="m1",
        channel="cli",
        external_user_id=f"matrix-{user.username}",
        content=text,
        timestamp=datetime.now(UTC),
    )
    return MessageHandler(user).handle_message(message).content


@pytest.fixture
def spied_results(monkeypatch):
    """Every ToolResult the handler gets in this test (the real registry runs)."""
    results = []

    def execute_and_keep(ctx, name, params, **options):
        result = execute_tool(ctx, name, params, **options)
        results.append((ctx.user, result))
        return result

    monkeypatch.setattr(handler_module, "execute_tool", execute_and_keep)
    return results


def role_may_use(role: str, tool_name: str) -> bool:
    group = DEMO_USERS[role][0]
    return get_tool(tool_name).permission in ROLE_PERMISSIONS.get(group, ())


DENIED = [
    (role, tool_name)
    for role in ROLES
    for tool_name in sorted(REQUESTS)
    if not role_may_use(role, tool_name)
]


@pytest.mark.parametrize(("role", "tool_name"), DENIED)
def test_a_role_without_the_tool_sees_no_record_past_its_permissions(
    db, role, tool_name, tokens, spied_results
):
    user = get_user_model().objects.get(username=role)
    assert not may_use(user, get_tool(tool_name))
    usable = tools_for(user)
    for text in REQUESTS[tool_name]:
        spied_results.clear()
        reply = ask(user, text)
        seen = "".join(
            json.dumps(result.to_dict(), ensure_ascii=False)
            for caller, result in spied_results
            if may_use(caller, get_tool(result.tool))
        )
        seen += help_text("zh", usable) + help_text("en", usable)
        leaked = tokens_in(reply, tokens) - tokens_in(seen, tokens)
        assert not leaked, f"{role} asked {text!r} and saw {leaked}: {reply}"
        ran = [result.tool for _, result in spied_results if result.status != STATUS.DENIED]
        assert tool_name not in ran


@pytest.mark.parametrize("role", ROLES)
def test_a_role_with_the_tool_is_never_refused_its_exact_request(db, role, spied_results):
    user = get_user_model().objects.get(username=role)
    for tool_name, (exact, _ambiguous, _unknown) in REQUESTS.items():
        if not may_use(user, get_tool(tool_name)):
            continue
        spied_results.clear()
        ask(user, exact)
        statuses = [result.status for _, result in spied_results if result.tool == tool_name]
        assert statuses and STATUS.DENIED not in statuses, f"{role}: {exact!r}"


LLM_CALLS = {
    "find_product": {"query": "nozzle"},
    "check_inventory_stock": {"item": "cutting head", "warehouse": "sz"},
    "low_stock_report": {},
    "machine_warranty_lookup": {"serial_no": "LX2026000"},
    "reserve_stock": {"item": "nozzle", "qty": 2, "warehouse": "main"},
    "sales_order_status": {"customer": "苏州"},
    "customer_lookup": {"query": "苏州"},
    "create_sales_quote": {"customer": "苏州", "lines": [{"item": "nozzle", "qty": 1}]},
    "production_progress": {"work_order": "WO-2026-000"},
    "purchase_order_status": {"supplier": "激光"},
    "service_ticket_status": {"customer": "苏州"},
    "open_service_ticket": {"serial_no": "LX2026000", "complaint": "不出光"},
}


@pytest.mark.parametrize("role", ROLES)
def test_the_registry_refuses_before_any_lookup(db, role, tokens):
    user = get_user_model().objects.get(username=role)
    context = ToolContext(user=user, channel="cli")
    assert set(LLM_CALLS) == set(REQUESTS)
    for tool_name, params in LLM_CALLS.items():
        if may_use(user, get_tool(tool_name)):
            continue
        result = execute_tool(context, tool_name, params)
        assert result.status == STATUS.DENIED
        assert result.data == {} and result.candidates == []
        assert not tokens_in(json.dumps(result.to_dict(), ensure_ascii=False), tokens)
