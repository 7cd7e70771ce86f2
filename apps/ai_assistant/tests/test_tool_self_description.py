"""A tool describes itself: a new read tool, declared in one class and nothing else, shows in
/help, is understood by the rule brain from its own examples and is offered to (and run for)
the LLM brain."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from apps.ai_assistant.handler import MessageHandler
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ToolExecutionLog
from apps.ai_assistant.tools.lookup import resolve_item
from apps.ai_assistant.tools.registry import (
    Tool,
    ToolContext,
    register,
    unregister,
)
from devtools.llm_server import final, offered_tools, start_llm_server, tool_call

pytestmark = pytest.mark.django_db


class UnitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=100, description="The item: SKU or name.")


class ItemUnitLookup(Tool):
    """A throwaway read tool: the unit an item is counted in."""

    name = "item_unit_lookup"
    description_en = "The unit an item is stocked and sold in."
    description_zh = "查询物料的计量单位。"
    Params = UnitParams
    permission = "inventory.view_item"
    topic = {"zh": "查询计量单位", "en": "look up units of measure"}
    examples = {"zh": ["NZ-S1.5 的计量单位"], "en": ["unit of measure of NZ-S1.5"]}
    slots = {"item": "item"}

    def run(self, ctx: ToolContext, params: UnitParams) -> dict[str, Any]:
        item = resolve_item(params.item)
        return {"sku": item.sku, "uom": item.stock_uom}

    def render(self, data: dict[str, Any], language: str) -> str:
        if language == "zh":
            return f"{data['sku']} 的计量单位是 {data['uom']}。"
        return f"{data['sku']} is counted in {data['uom']}."


@pytest.fixture
def unit_tool():
    register(ItemUnitLookup)
    yield
    unregister(ItemUnitLookup.name)


def ask(username: str, content: str) -> str:
    user = get_user_model().objects.get(username=username)
    message = IncomingMessage(
        message_id="unit-1",
        channel="telegram",
        external_user_id=f"tg-{username}",
        content=content,
        timestamp=timezone.now(),
    )
    return MessageHandler(user).handle_message(message).content


def test_it_appears_in_help_for_a_user_with_its_permission(unit_tool):
    assert "• 查询计量单位：“NZ-S1.5 的计量单位”" in ask("wh1", "帮助")
    assert '• look up units of measure: "unit of measure of NZ-S1.5"' in ask("wh1", "/help")
    assert "计量单位" not in ask("guest1", "帮助")


@pytest.mark.parametrize(
    "text", ["NZ-S1.5 的计量单位", "PW-D37-T7 计量单位是什么", "unit of measure of CR-32"]
)
def test_the_rule_brain_understands_it_from_its_examples(unit_tool, text):
    reply = ask("wh1", text)
    log = ToolExecutionLog.objects.get()
    assert log.tool == "item_unit_lookup" and log.status == "success"
    assert log.parameters["item"] in reply


def test_a_user_without_its_permission_is_refused_in_its_own_words(unit_tool):
    assert "查询计量单位" in ask("guest1", "NZ-S1.5 的计量单位")
    assert ToolExecutionLog.objects.get().status == "denied"


def test_the_llm_brain_is_offered_it_and_runs_it(unit_tool, settings):
    server, base_url = start_llm_server(
        [tool_call("item_unit_lookup", {"item": "NZ-S1.5"}), final("NZ-S1.5: pcs")],
        api_key="k",
    )
    try:
        settings.AI_ASSISTANT_LLM_BASE_URL = base_url
        settings.AI_ASSISTANT_LLM_API_KEY = "k"
        settings.AI_ASSISTANT_LLM_MODEL = "m"
        ask("wh1", "what unit is NZ-S1.5 counted in")
    finally:
        server.stop()
    assert "item_unit_lookup" in offered_tools(server.completions[0])
    assert ToolExecutionLog.objects.get(tool="item_unit_lookup").status == "success"


def test_without_the_tool_nothing_of_it_remains():
    assert "计量单位" not in ask("wh1", "帮助")
