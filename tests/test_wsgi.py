"""The WSGI entry point gunicorn loads in every web process."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, sys
import better_laser_erp.wsgi as wsgi
print(callable(wsgi.application))
print(gc.get_freeze_count() > 50000)
print(all(name in sys.modules for name in (
    "apps.ai_assistant.webhook_views", "apps.ai_assistant.tasks", "apps.ai_assistant.handler"
)))
"""


def test_a_web_process_loads_its_code_up_front_and_freezes_it_for_the_collector():
    # A process of its own: freezing is for the life of the process.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]
