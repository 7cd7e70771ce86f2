"""How tool results that are not plain successes are worded, in both languages."""

import pytest

from apps.ai_assistant import replies
from apps.ai_assistant.tools.registry import ToolResult, tools_for


def test_a_denial_names_what_is_refused_and_shows_no_data():
    result = ToolResult("check_inventory_stock", "denied", message="permission denied")
    zh = replies.render_result(result, "zh")
    en = replies.render_result(result, "en")
    assert zh.startswith("抱歉，您没有查询库存的权限") and "管理员" in zh
    assert (
        en.startswith("Sorry, you don't have permission to check stock") and "administrator" in en
    )


def test_invalid_input_lists_the_candidates_as_numbered_choices():
    result = ToolResult(
        "check_inventory_stock",
        "invalid",
        message="“喷嘴” matches several items.",
        candidates=["NZ-S1.5 单层喷嘴1.5", "NZ-D1.2 双层喷嘴1.2"],
    )
    text = replies.render_result(result, "zh")
    assert "您指的是哪一个？" in text
    assert "1. NZ-S1.5 单层喷嘴1.5\n2. NZ-D1.2 双层喷嘴1.2" in text


def test_an_internal_error_becomes_an_apology():
    result = ToolResult("check_inventory_stock", "error", message="internal error")
    assert "internal error" not in replies.render_result(result, "en")
    assert "稍后再试" in replies.render_result(result, "zh")


def test_an_erp_refusal_is_shown_as_is():
    result = ToolResult("reserve_stock", "error", message="Only 3 pcs available in main.")
    assert replies.render_result(result, "en") == "Only 3 pcs available in main."


def test_a_staged_write_asks_for_confirmation():
    result = ToolResult(
        "reserve_stock", "staged", data={"target_repr": "预留 2 pcs PW-D37-T7 @ main"}
    )
    zh = replies.render_result(result, "zh")
    assert "预留 2 pcs PW-D37-T7 @ main" in zh
    assert zh.endswith("回复“是”确认，回复“否”取消。")
    assert replies.render_result(result, "en").endswith("Reply yes to confirm or no to cancel.")


@pytest.mark.django_db
def test_a_success_is_rendered_by_the_tool():
    from django.contrib.auth import get_user_model

    from apps.ai_assistant.tools.registry import ToolContext, execute_tool

    user = get_user_model().objects.get(username="wh1")
    result = execute_tool(ToolContext(user=user), "check_inventory_stock", {"item": "CR-32"})
    assert result.ok
    assert "CR-32" in replies.render_result(result, "en")


@pytest.mark.django_db
def test_help_shows_the_commands_and_examples_for_the_users_tools():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="wh1")
    text = replies.help_text("zh", tools_for(user))
    for command in ("/help", "/bind", "/new", "/cancel"):
        assert command in text
    assert "主仓库 保护镜 还有多少" in text
    assert "报价" not in text


@pytest.mark.django_db
def test_a_user_without_tools_is_told_to_ask_an_administrator():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="guest1")
    assert "管理员" in replies.help_text("zh", tools_for(user))
    assert "/help" in replies.greeting("en", tools_for(user))
