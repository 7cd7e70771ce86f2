"""The CI-sized chaos run (bench/chaos.py): a few hundred signed messages from Telegram and
Feishu group chats through the real stack (gunicorn, Celery worker processes, beat, Redis,
PostgreSQL when it answers) while a worker is killed with SIGKILL, Redis restarts and both
platforms fail for a while. Every reply is matched to its message on the platform side."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_nothing_is_lost_duplicated_or_reordered_under_chaos(tmp_path):
    result = tmp_path / "chaos.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), "--messages", "200", "--chats", "20",
         "--rate", "40", "--workers", "2", "--kill-every", "100", "--outage", "5", "--hangs",
         "1", "--hang-seconds", "6", "--rate-limit-burst", "5", "--drain-timeout", "240",
         "--json", str(result)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )  # fmt: skip
    assert result.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(result.read_text())
    assert summary["accepted"] == 200
    assert summary["kills"] == 2 and summary["redis_restarts"] == 1
    assert (summary["lost"], summary["duplicated"], summary["out_of_order"]) == (0, 0, 0), summary
    assert summary["dead_letters"] == 0, summary["dead_letter_reasons"]
