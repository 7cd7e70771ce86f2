"""The rule brain's behaviour beyond single utterances: ask-backs, follow-ups, and answers
produced through the real tool registry as a demo user."""

import pytest
from django.contrib.auth import get_user_model

from apps.ai_assistant.brain.base import BrainTurn, detect_language
from apps.ai_assistant.brain.rules import RuleBrain
from apps.ai_assistant.tools.registry import ToolContext, execute_tool, number, tools_for
from apps.inventory.models import StockLevel

pytestmark = pytest.mark.django_db


def turn(username: str, text: str, context: dict | None = None) -> tuple[BrainTurn, list]:
    user = get_user_model().objects.get(username=username)
    calls = []

    def call_tool(name, params):
        calls.append((name, params))
        return execute_tool(ToolContext(user=user, channel="test"), name, params)

    return (
        BrainTurn(
            text=text,
            language=detect_language(text),
            user=user,
            context=context or {},
            call_tool=call_tool,
            available_tools=tools_for(user),
        ),
        calls,
    )


def test_an_ambiguous_item_is_asked_back_with_candidates():
    understanding = RuleBrain().understand("喷嘴还有多少", "zh")
    assert understanding.kind == "clarify"
    skus = [candidate.split()[0] for candidate in understanding.candidates]
    assert {"NZ-S1.5", "NZ-D1.2", "NZ-S1.0", "NZ-D2.0"} <= set(skus)
    assert "1. " in understanding.question and "您指的是哪一个" in understanding.question


def test_a_number_answers_the_ask_back():
    brain = RuleBrain()
    first, _ = turn("wh1", "喷嘴还有多少")
    asked = brain.respond(first)
    choices = asked.context_updates["choices"]
    second, calls = turn("wh1", "2", asked.context_updates)
    brain.respond(second)
    assert calls == [("check_inventory_stock", {"item": choices[1]})]


def test_the_reply_contains_the_real_figure():
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="main")
    current, calls = turn("wh1", "主仓库 保护镜 还有多少")
    reply = RuleBrain().respond(current)
    assert calls == [("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "main"})]
    assert reply.tool_results[0].ok
    assert f"可用 {number(level.available_qty)}" in reply.text
    assert reply.context_updates["item"] == "PW-D37-T7"
    assert reply.context_updates["warehouse"] == "main"


def test_a_follow_up_reuses_the_last_item():
    brain = RuleBrain()
    first, _ = turn("wh1", "check stock of PW-D37-T7 in main")
    memory = brain.respond(first).context_updates
    second, calls = turn("wh1", "and in sz?", memory)
    reply = brain.respond(second)
    level = StockLevel.objects.get(item__sku="PW-D37-T7", warehouse__code="sz")
    assert calls == [("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "sz"})]
    assert f"available {number(level.available_qty)}" in reply.text


def test_a_tool_the_user_lacks_is_still_called_and_the_refusal_rendered():
    current, calls = turn("guest1", "NZ-S1.5 库存")
    reply = RuleBrain().respond(current)
    assert calls == [("check_inventory_stock", {"item": "NZ-S1.5"})]
    assert reply.tool_results[0].status == "denied"
    assert "没有查询库存的权限" in reply.text
    assert "NZ-S1.5" not in reply.text


def test_a_write_request_is_staged_for_confirmation():
    current, calls = turn("svc1", "帮我给LX20250007开个维修单，激光器不出光")
    reply = RuleBrain().respond(current)
    assert calls[0][0] == "open_service_ticket"
    assert reply.tool_results[0].status == "staged"
    assert reply.text.endswith("回复“是”确认，回复“否”取消。")
    assert "LX20250007" in reply.text


def test_a_ticket_request_without_a_serial_asks_for_it():
    understanding = RuleBrain().understand("帮我开个维修单，激光器不出光", "zh")
    assert understanding.kind == "clarify"
    assert "序列号" in understanding.question


def test_greeting_help_and_thanks_need_no_tool():
    brain = RuleBrain()
    for text, expected in [("你好", "您好"), ("/help", "/bind"), ("thanks!", "welcome")]:
        current, calls = turn("sales1", text)
        assert expected in brain.respond(current).text
        assert calls == []


def test_help_lists_only_what_the_user_may_ask():
    current, _ = turn("svc1", "help")
    text = RuleBrain().respond(current).text
    assert "open service tickets" in text
    assert "create sales quotes" not in text


def test_nonsense_is_not_understood_without_calling_a_tool():
    current, calls = turn("sales1", "今天天气怎么样")
    reply = RuleBrain().respond(current)
    assert calls == []
    assert "没听懂" in reply.text


def test_a_word_that_fits_dozens_of_items_says_how_many_and_how_to_narrow():
    from apps.inventory.models import Item

    for n in range(30):
        Item.objects.create(
            sku=f"NZ-X{n:02d}",
            name=f"Nozzle X{n:02d}",
            name_zh=f"喷嘴X{n:02d}",
            item_type="consumable",
        )
    understanding = RuleBrain().understand("喷嘴还有多少", "zh")
    assert understanding.kind == "clarify"
    total = Item.objects.filter(name_zh__contains="喷嘴").count()
    assert f"“喷嘴”对应 {total} 个结果，先列出 8 个" in understanding.question
    assert len(understanding.candidates) == 8
    # Of dozens, the ones the company holds most of come first.
    from apps.inventory.models import StockLevel, Warehouse

    StockLevel.objects.create(
        item=Item.objects.get(sku="NZ-X29"),
        warehouse=Warehouse.objects.get(code="main"),
        actual_qty=5000,
    )
    again = RuleBrain().understand("喷嘴还有多少", "zh")
    assert again.candidates[0].startswith("NZ-X29 ")
    english = RuleBrain().understand("how many nozzles", "en")
    assert "Add a model, size, SKU or warehouse" in english.question


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        (
            "保护镜和单层喷嘴1.5主仓各多少",
            [
                ("check_inventory_stock", {"item": "PW-D37-T7", "warehouse": "main"}),
                ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "main"}),
            ],
        ),
        (
            "is NZ-S1.5 in spare or van1",
            [
                ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "spare"}),
                ("check_inventory_stock", {"item": "NZ-S1.5", "warehouse": "van1"}),
            ],
        ),
        (
            "LX20260001 还在保吗 有没有开着的单",
            [
                ("machine_warranty_lookup", {"serial_no": "LX20260001"}),
                ("service_ticket_status", {"serial_no": "LX20260001", "open_only": True}),
            ],
        ),
        (
            "锐科1500瓦激光器主仓还有几个",
            [("check_inventory_stock", {"item": "LS-RC-1500", "warehouse": "main"})],
        ),
    ],
)
def test_every_part_of_a_question_is_answered_in_the_order_asked(text, calls):
    brain_turn, made = turn("admin", text)
    reply = RuleBrain().respond(brain_turn)
    assert made == calls
    assert len(reply.tool_results) == len(calls)


def test_a_reservation_without_a_warehouse_takes_the_only_one_with_enough():
    from apps.inventory.models import StockLevel

    levels = StockLevel.objects.filter(item__sku="PW-D37-T7")
    enough = [level.warehouse.code for level in levels if level.available_qty >= 50]
    assert enough == ["spare"]  # the demo company: 60 in spare, 8 in main
    understanding = RuleBrain().understand("预留50个保护镜", "zh")
    assert understanding.params == {"item": "PW-D37-T7", "qty": 50, "warehouse": "spare"}
    assert RuleBrain().understand("预留5个保护镜", "zh").kind == "clarify"  # main and spare
    assert RuleBrain().understand("预留100000个保护镜", "zh").kind == "clarify"  # none


def test_the_one_of_the_offered_items_the_next_message_describes():
    brain = RuleBrain()
    first, context = brain._parse("double layer nozzle stock", "en", {}, None)
    assert first.kind == "clarify" and {"NZ-D1.2", "NZ-D2.0"} <= set(context["choices"])
    second = brain.understand("the 2.0 mm one", "en", context)
    assert (second.tool, second.params) == ("check_inventory_stock", {"item": "NZ-D2.0"})
