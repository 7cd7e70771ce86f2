"""What one message costs on each path, counted in one process: the sync webhook, the async
webhook's ack, and the async worker's turn (claim, answer, deliver through the send API).

    .venv/bin/python bench/async_path.py [--messages 300] [--queries]

Per path it prints the median wall and CPU milliseconds per message (medians, so that other
work on the machine skews them less), and the SQL statements (reads, writes, savepoints),
the commits and the platform sends averaged over the messages, and
with --queries every statement of one async turn with its time. Nothing runs concurrently,
so the figures say what each path does, not how it scales (bench/webhook_ack.py does that).

It starts what it needs itself, on loopback, and stops it at the end: a private Redis (the
shared cache, as async mode has it), the platforms' stand-in (devtools/platforms.py, in a
child process) and a fresh database (PostgreSQL
ble_bench_<pid> on 127.0.0.1:5432, dropped at the end; SQLite if PostgreSQL is unreachable).
The requests are signed Telegram updates asking "NZ-S1.5 库存" from 50 senders bound to wh1.
The async worker's turn is the real task function (`process_message_async.run`), called in
this process instead of by a Celery worker, so broker and pool costs are not in it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bench.webhook_ack import (  # noqa: E402  (the bench's own helpers, after the path)
    PYTHON,
    Children,
    Database,
    _ping,
    build_requests,
    free_port,
    http_ok,
    setup_django,
    shutdown,
    wait_for,
)


class Counted:
    """SQL statements and commits on the default connection while it is active."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str]] = []
        self.commits = 0

    def __enter__(self) -> Counted:
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self._execute)
        self._wrapper.__enter__()
        self._commit = connection._commit
        connection._commit = self._counted_commit
        return self

    def __exit__(self, *exc_info) -> None:
        from django.db import connection

        connection._commit = self._commit
        self._wrapper.__exit__(*exc_info)

    def _execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - started, sql))

    def _counted_commit(self):
        self.commits += 1
        return self._commit()

    def kinds(self) -> Counter:
        kinds = Counter()
        for _, sql in self.statements:
            verb = sql.split(None, 1)[0].upper()
            kind = {"SELECT": "reads", "INSERT": "writes", "UPDATE": "writes", "DELETE": "writes"}
            kinds[kind.get(verb, "savepoints")] += 1
        return kinds


class PathFigures:
    def __init__(self, name: str) -> None:
        self.name = name
        self.messages = 0
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.kinds: Counter = Counter()
        self.commits = 0
        self.sends = 0

    def add(self, wall: float, cpu: float, counted: Counted, sends: int) -> None:
        self.messages += 1
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.kinds.update(counted.kinds())
        self.commits += counted.commits
        self.sends += sends

    def row(self) -> str:
        n = max(self.messages, 1)
        wall, cpu = median(self.walls) * 1000, median(self.cpus) * 1000
        return (
            f"{self.name:<22}{self.messages:>6}{wall:>9.2f}{cpu:>9.2f}"
            f"{self.kinds['reads'] / n:>7.1f}{self.kinds['writes'] / n:>8.1f}"
            f"{self.kinds['savepoints'] / n:>11.1f}{self.commits / n:>9.1f}{self.sends / n:>7.1f}"
        )


def sent_count(stand_in_url: str) -> int:
    import httpx

    return len(httpx.get(f"{stand_in_url}/_control/sent", timeout=10).json())


def measure(name: str, run, items, stand_in_url: str, warmup: int = 20) -> PathFigures:
    """Run `run(item)` for each item, counting each; the first `warmup` are not counted."""
    figures = PathFigures(name)
    for item in items[:warmup]:
        run(item)
    for item in items[warmup:]:
        sends_before = sent_count(stand_in_url)
        with Counted() as counted:
            wall, cpu = time.perf_counter(), time.process_time()
            run(item)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        figures.add(wall, cpu, counted, sent_count(stand_in_url) - sends_before)
    return figures


_client = None


def post_through_view(request) -> None:
    """POST the signed request through the webhook view (Django's test client: no HTTP)."""
    global _client
    from django.test import Client

    from devtools.webhook_client import with_test_client

    _client = _client or Client()
    response = with_test_client(_client, request)
    if response.status_code != 200:
        raise RuntimeError(f"webhook answered {response.status_code}: {response.content[:200]}")


def profile(args, stand_in_url: str) -> list[PathFigures]:
    from django.conf import settings

    from apps.ai_assistant import dispatch, tasks
    from apps.ai_assistant.models import InboundMessage

    count = args.messages + 20
    settings.AI_ASSISTANT_USE_ASYNC = False
    sync_path = measure(
        "sync webhook",
        lambda entry: post_through_view(entry[2]),
        build_requests("sync", count),
        stand_in_url,
    )

    # Async mode, but the tasks are kept here instead of going to a broker.
    settings.AI_ASSISTANT_USE_ASYNC = True
    settings.CELERY_BROKER_URL = "memory://"
    held: list[int] = []
    dispatch.enqueue = lambda inbound: held.append(inbound.pk)
    ack_path = measure(
        "async webhook (ack)",
        lambda entry: post_through_view(entry[2]),
        build_requests("async", count),
        stand_in_url,
    )
    stored = list(InboundMessage.objects.filter(pk__in=held).order_by("pk"))

    def turn(inbound: InboundMessage) -> None:
        tasks.process_message_async.run(
            inbound.message_data, inbound.user_id, inbound_id=inbound.pk
        )

    turn_path = measure("async worker turn", turn, stored, stand_in_url)
    if args.queries:
        print_one_turn(stand_in_url)
    return [sync_path, ack_path, turn_path]


def print_one_turn(stand_in_url: str) -> None:
    """Every statement of one more async turn, with its time."""
    from apps.ai_assistant import dispatch, tasks
    from apps.ai_assistant.models import InboundMessage

    held: list[int] = []
    dispatch.enqueue = lambda inbound: held.append(inbound.pk)
    post_through_view(build_requests("async", 1, warmup=True)[0][2])
    inbound = InboundMessage.objects.get(pk=held[-1])
    with Counted() as counted:
        tasks.process_message_async.run(
            inbound.message_data, inbound.user_id, inbound_id=inbound.pk
        )
    print(f"\nstatements of one async turn ({len(counted.statements)}, {counted.commits} commits):")
    for seconds, sql in counted.statements:
        print(f"  {seconds * 1000:6.2f} ms  {' '.join(sql.split())[:110]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--queries", action="store_true", help="list the statements of one turn")
    args = parser.parse_args(argv)
    if not 0 < args.messages <= 5000:
        parser.error("--messages must be 1..5000")
    tmp = Path(tempfile.mkdtemp(prefix="ble_path_"))
    children = Children()
    db = Database(tmp)
    try:
        stand_in_port = free_port()
        stand_in_url = f"http://127.0.0.1:{stand_in_port}"
        stand_in = children.start(
            "platform stand-in",
            [PYTHON, str(ROOT / "bench" / "webhook_ack.py"), "--serve-platforms",
             str(stand_in_port), "--max-sent", str(args.messages * 4 + 1000)],
            dict(os.environ),
            tmp / "platforms.log",
        )  # fmt: skip
        wait_for(
            lambda: http_ok(f"{stand_in_url}/_control/apps"), 20, "the stand-in", proc=stand_in
        )
        redis_port = free_port()
        redis_proc = children.start(
            "redis-server",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            dict(os.environ),
            tmp / "redis.log",
        )  # fmt: skip
        wait_for(lambda: _ping(redis, redis_port), 10, "redis-server", proc=redis_proc)
        db.create()
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "CELERY_", "AI_ASSISTANT_"))
            },
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "ENVIRONMENT": "development",
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": db.url,
            "LOG_LEVEL": "WARNING",
            "AI_ASSISTANT_PLATFORMS_STAND_IN": stand_in_url,
            "AI_ASSISTANT_LLM_BASE_URL": "",
            "AI_ASSISTANT_LLM_MODEL": "",
            "AI_ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
            # The shared cache async mode runs with (rate limits, permissions, names' version).
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        }
        setup_django(env, children, tmp)
        figures = profile(args, stand_in_url)
        print(f"\ndatabase: {db.vendor}; per message (times: medians); one process at a time")
        print(
            f"{'path':<22}{'msgs':>6}{'wall ms':>9}{'cpu ms':>9}{'reads':>7}{'writes':>8}"
            f"{'savepoints':>11}{'commits':>9}{'sends':>7}"
        )
        for path in figures:
            print(path.row())
    finally:
        shutdown(children, db, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
