"""manage.py assistant_eval: the assistant's quality report on its labelled set.

    manage.py assistant_eval                  # the rule brain, every miss printed
    manage.py assistant_eval --brain llm      # the LLM brain at AI_ASSISTANT_LLM_BASE_URL
    manage.py assistant_eval --floor 0.97     # exit 1 below 97 %

Runs every case of apps/ai_assistant/eval/cases.json through the real MessageHandler as the
case's demo user (seed_demo first), each in a transaction that is rolled back.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from apps.ai_assistant.eval.runner import CASES, evaluate, load_cases


class Command(BaseCommand):
    help = "Run the labelled requests through the assistant and report its accuracy."

    def add_arguments(self, parser):
        parser.add_argument("--brain", choices=("rules", "llm"), default="rules")
        parser.add_argument("--cases", type=Path, default=CASES)
        parser.add_argument("--floor", type=float, default=0.0, help="fail below this (0–1)")
        parser.add_argument("--quiet", action="store_true", help="no list of misses")

    def handle(self, *args, brain: str, cases: Path, floor: float, quiet: bool, **options):
        factory = _brain_factory(brain)
        # Hundreds of messages from a few users in a minute: the rate limit is not measured.
        with override_settings(AI_ASSISTANT_RATE_LIMIT_PER_MINUTE=0):
            report = evaluate(load_cases(cases), factory)
        self.stdout.write("\n".join(report.lines(show_misses=not quiet)))
        if report.accuracy < floor:
            raise CommandError(f"accuracy {report.accuracy:.1%} is below the floor {floor:.1%}")


def _brain_factory(name: str):
    from apps.ai_assistant.brain import llm_configured
    from apps.ai_assistant.brain.rules import RuleBrain

    if name == "rules":
        return RuleBrain
    if not llm_configured():
        raise CommandError("--brain llm needs AI_ASSISTANT_LLM_BASE_URL and _MODEL")
    from apps.ai_assistant.brain.llm import LLMBrain

    return lambda: LLMBrain(fallback=RuleBrain())
