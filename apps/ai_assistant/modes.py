"""Which mode the assistant runs in: sync (answer inside the webhook) or async (Celery).

The seed's switch, read from settings at call time so a test or a settings change takes
effect at once. Every layer may ask (a report tool answers differently without a worker).
"""

from __future__ import annotations

from django.conf import settings


def async_mode() -> bool:
    """AI_ASSISTANT_USE_ASYNC and a CELERY_BROKER_URL: both are needed."""
    return bool(
        getattr(settings, "AI_ASSISTANT_USE_ASYNC", False)
        and hasattr(settings, "CELERY_BROKER_URL")
        and settings.CELERY_BROKER_URL
    )
