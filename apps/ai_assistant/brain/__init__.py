"""Brains decide how to answer: the offline RuleBrain by default, the LLMBrain when an
OpenAI-compatible endpoint is configured (it falls back to the rules on any failure)."""

from django.conf import settings


def llm_configured() -> bool:
    return bool(settings.AI_ASSISTANT_LLM_BASE_URL and settings.AI_ASSISTANT_LLM_MODEL)


def get_brain():
    """The brain the settings ask for."""
    from .rules import RuleBrain

    if llm_configured():
        from .llm import LLMBrain

        return LLMBrain(fallback=RuleBrain())
    return RuleBrain()
