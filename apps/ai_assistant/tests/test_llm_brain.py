"""The LLM brain over real HTTP against devtools.llm_server, driven through MessageHandler.

Each test scripts what the "model" answers; the brain talks to it through the official SDK,
so the wire protocol, tool offering, tool execution as the user, the number guard and every
fallback are exercised as in production.
"""

import itertools
import json
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.ai_assistant.brain import get_brain
from apps.ai_assistant.brain.llm import LLMBrain
from apps.ai_assistant.handler import MessageHandler
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import PendingAction, ToolExecutionLog
from apps.ai_assistant.tools.registry import number, tools_for
from apps.inventory.models import StockLevel
from apps.sales.models import Customer
from devtools.llm_server import (
    delay,
    demo_step,
    final,
    http_error,
    offered_tools,
    raw_response,
    start_llm_server,
    tool_call,
    tool_calls,
    tool_results,
)

pytestmark = pytest.mark.django_db

API_KEY = "test-llm-key"
MODEL = "local-test-model"
INVENTED = "98765"
message_ids = itertools.count(1)


@pytest.fixture
def llm(settings):
    """Starts a scripted endpoint and points the LLM settings at it; stops it afterwards."""
    servers = []

    def start(script, *, timeout=5, max_rounds=3, **options):
        server, base_url = start_llm_server(script, api_key=API_KEY, **options)
        servers.append(server)
        settings.AI_ASSISTANT_LLM_BASE_URL = base_url
        settings.AI_ASSISTANT_LLM_API_KEY = API_KEY
        settings.AI_ASSISTANT_LLM_MODEL = MODEL
        settings.AI_ASSISTANT_LLM_TIMEOUT_SECONDS = timeout
        settings.AI_ASSISTANT_LLM_MAX_TOOL_ROUNDS = max_rounds
        return server

    yield start
    for server in servers:
        server.stop()


def user(username):
    return get_user_model().objects.get(username=username)


def ask(username, content, conversation="chat-1"):
    message = IncomingMessage(
        message_id=f"llm-{next(message_ids)}",
        channel="telegram",
        external_user_id=f"tg-{username}",
        content=content,
        timestamp=timezone.now(),
        conversation_id=conversation,
    )
    return MessageHandler(user(username)).handle_message(message).content


def totals(sku):
    levels = StockLevel.objects.filter(item__sku=sku, warehouse__active=True)
    actual = sum((level.actual_qty for level in levels), Decimal(0))
    available = sum((level.available_qty for level in levels), Decimal(0))
    return number(actual), number(available)


def stock_answer(results):
    total = results[-1]["data"]["totals"][0]
    return f"NZ-S1.5 has {total['available']} {total['uom']} available."


def completion(message):
    """A chat.completion body around `message`, for answers the script server would not build."""
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [choice],
    }


def logs(**filters):
    return ToolExecutionLog.objects.filter(**filters)


# --- the happy path ---------------------------------------------------------------------


def test_get_brain_is_the_llm_brain_when_an_endpoint_is_configured(llm):
    llm([])

    brain = get_brain()

    assert isinstance(brain, LLMBrain)
    assert brain.fallback.name == "rules"


def test_a_stock_question_runs_the_tool_as_the_user_and_answers_with_its_figure(llm):
    server = llm([tool_call("check_inventory_stock", {"item": "NZ-S1.5"}), final(stock_answer)])
    _, available = totals("NZ-S1.5")

    reply = ask("wh1", "how many NZ-S1.5 do we have?")

    assert reply.startswith(f"NZ-S1.5 has {available} ")
    log = logs(tool="check_inventory_stock").latest("id")
    assert (log.user.username, log.status) == ("wh1", "success")
    assert log.parameters == {"item": "NZ-S1.5"}
    first, second = server.completions
    assert first["model"] == MODEL
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["messages"][1]["content"] == "how many NZ-S1.5 do we have?"
    call = second["messages"][2]
    assert call["role"] == "assistant"
    assert call["tool_calls"][0]["function"]["name"] == "check_inventory_stock"
    sent_back = second["messages"][3]
    assert sent_back["role"] == "tool"
    assert sent_back["tool_call_id"] == call["tool_calls"][0]["id"]
    result = json.loads(sent_back["content"])
    assert result["status"] == "success"
    assert result["log_id"] == log.pk
    assert result["data"]["totals"][0]["available"] == available


def test_requests_carry_the_api_key_as_a_bearer_token(llm):
    server = llm([final("Hello.")])

    ask("wh1", "hello there, assistant")

    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert server.requests[0].path == "/v1/chat/completions"


def test_the_model_is_offered_exactly_the_users_tools(llm):
    server = llm([final("OK."), final("OK.")])

    ask("wh1", "what can you look up for me")
    ask("guest1", "what can you look up for me")

    warehouse_request, guest_request = server.completions
    offered = offered_tools(warehouse_request)
    assert offered == [tool.name for tool in tools_for(user("wh1"))]
    assert {"check_inventory_stock", "low_stock_report", "reserve_stock"} <= set(offered)
    assert "customer_lookup" not in offered
    assert offered_tools(guest_request) == []


def test_the_demo_behaviour_answers_with_the_tools_figures_and_passes_the_number_guard(llm):
    llm([demo_step], repeat_last=True)
    actual, available = totals("NZ-S1.5")

    reply = ask("wh1", "stock of NZ-S1.5 please")

    assert f"Total NZ-S1.5: actual {actual} " in reply
    assert f"available {available} " in reply
    assert logs(tool="check_inventory_stock", status="success").exists()


# --- what the model may not do ------------------------------------------------------------


def test_a_tool_the_user_lacks_is_denied_and_no_stock_data_is_sent_or_shown(llm):
    server = llm(
        [
            tool_call("check_inventory_stock", {"item": "NZ-S1.5"}),
            final("Sorry, you may not check stock."),
        ]
    )

    reply = ask("guest1", "how many NZ-S1.5 do we have?")

    assert reply == "Sorry, you may not check stock."
    log = logs(tool="check_inventory_stock").latest("id")
    assert (log.user.username, log.status) == ("guest1", "denied")
    [result] = tool_results(server.completions[1])
    assert result["status"] == "denied"
    assert result["data"] == {}


def test_a_denied_tool_cannot_leak_through_an_invented_figure(llm):
    llm(
        [
            tool_call("customer_lookup", {"query": "C001"}),
            final(f"C001 has {INVENTED} open orders."),
        ]
    )
    customer = Customer.objects.get(code="C001")

    reply = ask("wh1", "tell me about customer C001")

    assert INVENTED not in reply
    assert customer.name not in reply
    assert (customer.name_zh or customer.name) not in reply
    assert logs(tool="customer_lookup").latest("id").status == "denied"


def test_bad_json_arguments_are_answered_with_an_error_tool_message(llm):
    server = llm(
        [tool_call("check_inventory_stock", '{"item": "NZ-S1.5"'), final("Which item do you mean?")]
    )

    reply = ask("wh1", "stock of the nozzle")

    assert reply == "Which item do you mean?"
    [result] = tool_results(server.completions[1])
    assert result["status"] == "invalid"
    assert "JSON" in result["message"]
    assert not logs(tool="check_inventory_stock", status="success").exists()


def test_an_unknown_tool_is_refused_as_invalid_and_logged(llm):
    server = llm([tool_call("drop_all_tables", {"really": True}), final("I cannot do that.")])

    reply = ask("wh1", "please clean up the database")

    assert reply == "I cannot do that."
    log = logs(tool="drop_all_tables").get()
    assert (log.user.username, log.status) == ("wh1", "invalid")
    [result] = tool_results(server.completions[1])
    assert result["status"] == "invalid"


def test_arguments_that_fail_validation_are_refused_and_logged(llm):
    server = llm(
        [tool_call("check_inventory_stock", {"sku": "NZ-S1.5"}), final("Which item do you mean?")]
    )

    ask("wh1", "stock of the nozzle")

    assert logs(tool="check_inventory_stock").latest("id").status == "invalid"
    assert tool_results(server.completions[1])[0]["status"] == "invalid"


def test_a_figure_no_tool_returned_is_replaced_by_the_rendered_tool_result(llm):
    llm(
        [
            tool_call("check_inventory_stock", {"item": "NZ-S1.5"}),
            final(f"NZ-S1.5: {INVENTED} available."),
        ]
    )
    actual, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert INVENTED not in reply
    assert f"Total: actual {actual} " in reply
    assert f"available {available} " in reply


def test_a_figure_without_any_tool_call_falls_back_to_the_rule_brain(llm):
    llm([final(f"We have {INVENTED} of them.")])
    _, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert INVENTED not in reply
    assert available in reply


# --- failures of the endpoint -------------------------------------------------------------


def test_a_slow_endpoint_times_out_and_the_rule_brain_answers_in_time(llm):
    server = llm([delay(10, final("too late"))], timeout=1)
    _, available = totals("NZ-S1.5")

    started = time.monotonic()
    reply = ask("wh1", "check stock of NZ-S1.5")
    elapsed = time.monotonic() - started

    assert elapsed < 4
    assert "too late" not in reply
    assert available in reply
    assert len(server.completions) == 1


def test_the_time_budget_covers_all_rounds_not_each_request(llm):
    step = delay(0.6, tool_call("check_inventory_stock", {"item": "NZ-S1.5"}))
    llm([step], timeout=1.5, max_rounds=10, repeat_last=True)

    started = time.monotonic()
    reply = ask("wh1", "check stock of NZ-S1.5")

    assert time.monotonic() - started < 4
    _, available = totals("NZ-S1.5")
    assert available in reply


def test_a_server_error_falls_back_to_the_rule_brain(llm):
    server = llm([http_error(500, "upstream exploded")])
    _, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert available in reply
    assert "exploded" not in reply
    assert len(server.completions) == 1  # no blind retries


def test_a_rejected_api_key_falls_back_to_the_rule_brain(llm, settings):
    llm([final("never reached")])
    settings.AI_ASSISTANT_LLM_API_KEY = "wrong-key"
    _, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert available in reply
    assert "never reached" not in reply


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x", "object": "chat.completion", "created": 0, "model": MODEL, "choices": []},
        {"error": {"message": "overloaded", "type": "server_error", "code": None}},
        b"<html>502 Bad Gateway</html>",
        completion({"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]}),
        completion(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "custom", "custom": {"name": "x", "input": "{}"}}
                ],
            }
        ),
    ],
    ids=["no-choices", "error-body-with-200", "not-json", "call-without-function", "custom-call"],
)
def test_a_malformed_response_falls_back_to_the_rule_brain(llm, body):
    llm([raw_response(body)])
    _, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert available in reply


def test_a_model_that_keeps_calling_tools_is_stopped_after_the_round_limit(llm):
    server = llm(
        [tool_call("check_inventory_stock", {"item": "NZ-S1.5"})], max_rounds=2, repeat_last=True
    )
    _, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert len(server.completions) == 3
    assert "tools" in server.completions[1]
    assert "tools" not in server.completions[2]  # the last round asks for an answer only
    assert logs(tool="check_inventory_stock").count() == 2
    assert available in reply
    assert reply.count("Total:") == 1  # the repeated call is reported once


def test_many_tool_calls_in_one_message_are_capped(llm):
    calls = [("check_inventory_stock", {"item": "NZ-S1.5"})] * 20
    server = llm([tool_calls(*calls), final("Done.")])

    ask("wh1", "check stock of NZ-S1.5")

    results = tool_results(server.completions[1])
    assert len(results) == 20  # every call gets an answer, as the protocol requires
    assert logs(tool="check_inventory_stock").count() == LLMBrain.max_calls_per_round
    assert {r["status"] for r in results[LLMBrain.max_calls_per_round :]} == {"invalid"}


# --- writes -------------------------------------------------------------------------------


def test_a_write_tool_is_staged_for_confirmation_and_nothing_is_written(llm):
    server = llm(
        [
            tool_call("reserve_stock", {"item": "NZ-S1.5", "qty": "1", "warehouse": "main"}),
            final("Reserved!"),
        ]
    )
    level = StockLevel.objects.get(item__sku="NZ-S1.5", warehouse__code="main")
    before = level.reserved_qty

    reply = ask("wh1", "reserve one NZ-S1.5 in main")

    pending = PendingAction.objects.get(status="pending")
    assert (pending.tool, pending.user.username) == ("reserve_stock", "wh1")
    assert pending.resolved_args["item"] == "NZ-S1.5"
    assert pending.resolved_args["warehouse"] == "main"
    assert "Reserved!" not in reply
    assert "yes" in reply.lower()
    assert len(server.completions) == 1
    level.refresh_from_db()
    assert level.reserved_qty == before
    assert logs(tool="reserve_stock").get().status == "staged"

    ask("wh1", "yes")

    level.refresh_from_db()
    assert level.reserved_qty == before + 1


def test_an_endpoint_failure_after_a_tool_call_answers_with_that_tools_result(llm):
    llm([tool_call("check_inventory_stock", {"item": "NZ-S1.5"}), http_error(503, "overloaded")])
    actual, available = totals("NZ-S1.5")

    reply = ask("wh1", "check stock of NZ-S1.5")

    assert f"Total: actual {actual} " in reply
    assert logs(tool="check_inventory_stock").count() == 1


# --- the stand-in itself ------------------------------------------------------------------


def test_the_stand_in_answers_errors_in_the_openai_shape(llm):
    server = llm([final("unused")])
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Content-Type": "application/json"},
    )

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 401
    error = json.loads(raised.value.read())["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
