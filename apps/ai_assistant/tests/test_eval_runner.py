"""The quality report's runner: the real handler, rolled back, judged per expectation."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.ai_assistant.brain.rules import RuleBrain
from apps.ai_assistant.eval.runner import canonical, evaluate, load_cases
from apps.ai_assistant.models import Conversation, ToolExecutionLog

SAMPLE = Path(__file__).parent / "fixtures" / "eval_sample.json"


def test_each_expectation_is_judged_and_nothing_is_kept(demo):
    logs_before = ToolExecutionLog.objects.count()
    report = evaluate(load_cases(SAMPLE), RuleBrain)
    verdicts = {outcome.case["id"]: outcome.right for outcome in report.outcomes}
    # t5 is labelled wrong on purpose: the runner must see the parameters differ.
    assert verdicts == {"t1": True, "t2": True, "t3": True, "t4": True, "t5": False}
    assert report.accuracy == pytest.approx(0.8)
    assert ToolExecutionLog.objects.count() == logs_before
    assert not Conversation.objects.filter(external_conversation_id__startswith="eval-").exists()
    text = "\n".join(report.lines())
    assert "accuracy: 80.0% (4/5)" in text
    assert "t5 [wh1] NZ-S1.5 库存" in text and "check_inventory_stock" in text


def test_parameters_are_compared_as_the_tool_takes_them():
    assert canonical("low_stock_report", {}) == canonical(
        "low_stock_report", {"mode": "below_reorder", "warehouse": None}
    )
    assert canonical("reserve_stock", {"item": "X", "qty": 2, "warehouse": "main"}) == canonical(
        "reserve_stock", {"item": "X", "qty": "2", "warehouse": "main"}
    )


def test_the_command_fails_below_its_floor(demo):
    out = StringIO()
    with pytest.raises(CommandError, match="below the floor"):
        call_command("assistant_eval", cases=SAMPLE, floor=0.9, stdout=out)
    assert "accuracy: 80.0%" in out.getvalue()


# Just under the figure measured on the set (apps/ai_assistant/eval/cases.json) when it last
# moved: 2099/2120 = 99.0 % (the misses are of the batches written apart from the rules,
# h4-, h9-, h10- and h12- to h15-, kept as they were labelled). CI fails below.
FLOOR = 0.985


def test_the_labelled_set_meets_its_floor(demo, settings, capsys):
    settings.AI_ASSISTANT_RATE_LIMIT_PER_MINUTE = 0
    cases = load_cases()
    assert len(cases) >= 400
    report = evaluate(cases, RuleBrain)
    print("\n".join(report.lines(show_misses=False)))
    assert report.accuracy >= FLOOR
