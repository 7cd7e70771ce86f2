"""Chat replies while reports run: does a chat question wait behind report jobs?

    .venv/bin/python bench/report_priority.py                   # 20 reports, 30 questions
    .venv/bin/python bench/report_priority.py --reports 40 --questions 60 --items 10000

It starts the whole async stack itself, on loopback only, and stops it at the end (also on
Ctrl-C): a private redis-server on a free port, the platforms' stand-in, a scratch PostgreSQL
database `ble_priority_<pid>` (dropped at the end) grown with `manage.py seed_scale` until a
stock valuation takes seconds, gunicorn, and Celery workers in two set-ups:

  dedicated   a chat worker `-Q messages,tools,maintenance` and a reports worker `-Q reports`
              (what deploy/ runs)
  shared      ONE worker consuming every queue, with as many processes as the two above
              together: what happens without the dedicated reports worker

In each set-up it measures the end-to-end time of chat questions ("NZ-S1.5 库存", signed
Telegram webhook requests from chat accounts bound to wh1, sent open-loop at a fixed
interval, each from its own chat; time from the send to the reply the stand-in recorded)
(a) idle and (b) right after 20 report requests (stock valuations and sales reports, asked
through the webhook by wh1, admin, sales1 and sales2, all different so none comes from the
cache) while those reports are queued and running. It prints p50/p95/max of both, their
ratio, how many reports were unfinished when each question was asked, and how long the
reports took (first request to last file received).

Figures only, never a test: the machine's load (printed, `uptime`) shows in them.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook_ack import (  # noqa: E402  (the bench's own helpers, after the path)
    BOT_APP_ID,
    BOT_SECRET,
    PYTHON,
    STOP,
    WEBHOOK_SECRET,
    Children,
    Database,
    free_port,
    http_ok,
    pct,
    shutdown,
    start_gunicorn,
    start_redis,
    start_stand_in,
    wait_for,
)

CHAT_QUEUES = "messages,tools,maintenance"
ALL_QUEUES = f"{CHAT_QUEUES},reports"
STOCK_ANSWER = "NZ-S1.5"  # the reply to QUERY ("NZ-S1.5 库存") names the item
# Twenty different reports (no two share a cache key), heaviest first, from four users.
REPORT_REQUESTS = [
    ("wh1", "导出库存估值报表"),
    ("sales1", "导出今年销售报表"),
    ("admin", "stock valuation report"),
    ("sales2", "sales report for this year"),
    ("wh1", "导出喷嘴库存估值报表"),
    ("sales1", "导出去年销售报表"),
    ("admin", "nozzle stock valuation report"),
    ("sales2", "sales report for last year"),
    ("wh1", "导出镜片库存估值报表"),
    ("sales1", "导出上月销售报表"),
    ("admin", "lens stock valuation report"),
    ("sales2", "sales report for last month"),
    ("wh1", "导出主仓库库存估值报表"),
    ("sales1", "导出上周销售报表"),
    ("admin", "stock valuation report for main"),
    ("sales2", "sales report for last week"),
    ("sales1", "导出本周销售报表"),
    ("sales2", "sales report for this week"),
    ("sales1", "导出本月销售报表"),
    ("sales2", "sales report this month"),
]
FIRST_BENCH_SENDER = 7_400_000_000
_update_ids = itertools.count(20_000_000)
_sender_ids = itertools.count(FIRST_BENCH_SENDER)


# --- the stack ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Worker:
    """One `celery worker` command line: its node name, queues, pool and processes."""

    name: str
    queues: str
    concurrency: int
    pool: str = "prefork"
    nice: int = 19
    # SCHED_IDLE (chrt --idle, systemd CPUSchedulingPolicy=idle): CPU only when nothing else
    # at all wants it, below any niceness.
    idle: bool = False

    def argv(self) -> list[str]:
        return [
            *(["chrt", "--idle", "0"] if self.idle else []),
            *(["nice", "-n", str(self.nice)] if self.nice else []),
            PYTHON, "-m", "celery", "-A", "better_laser_erp", "worker", "-l", "warning",
            "-n", f"{self.name}@%h", "-Q", self.queues, "-P", self.pool,
            "-c", str(self.concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip

    def describe(self) -> str:
        nice = f"nice -n {self.nice} " if self.nice else ""
        idle = "chrt --idle 0 " if self.idle else ""
        return f"{idle}{nice}-Q {self.queues} -P {self.pool} -c {self.concurrency}"


class Stack:
    """Redis, the stand-in, the scratch database, gunicorn and the workers of one run."""

    def __init__(self, children: Children, tmp: Path, database: Database) -> None:
        self.children = children
        self.tmp = tmp
        self.database = database
        self.env: dict[str, str] = {}
        self.base_url = ""
        self.stand_in_url = ""
        self.workers: list[subprocess.Popen] = []

    def start(self, items: int, warehouses: int, max_sent: int) -> None:
        redis_url = start_redis(self.children, self.tmp)
        self.stand_in_url = start_stand_in(self.children, self.tmp, max_sent=max_sent)
        self.database.create()
        self.env = bench_environment(self.database.url, redis_url, self.stand_in_url, self.tmp)
        prepare_database(self.env, items, warehouses)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        gunicorn = start_gunicorn(self.children, self.env, port, self.tmp / "gunicorn.log")
        wait_for(lambda: http_ok(f"{self.base_url}/healthz"), 30, "gunicorn", proc=gunicorn)

    def start_workers(self, workers: list[Worker]) -> None:
        """Start the workers and wait until each answers a ping."""
        from celery import Celery

        self.workers = [
            self.children.start(
                f"worker {worker.name}", worker.argv(), self.env, self.tmp / f"{worker.name}.log"
            )
            for worker in workers
        ]
        names = {f"{worker.name}@{socket.gethostname()}" for worker in workers}
        probe = Celery(broker=self.env["CELERY_BROKER_URL"])

        def all_answer() -> bool:
            if any(proc.poll() is not None for proc in self.workers):
                raise RuntimeError(f"a worker exited; see its log in {self.tmp}")
            replies = probe.control.ping(timeout=0.5)
            return names <= {name for reply in replies for name in reply}

        wait_for(all_answer, 60, f"workers {sorted(names)}", interval=0.2)

    def stop_workers(self) -> None:
        for proc in self.workers:
            self.children.stop(proc)
        self.workers = []


def bench_environment(
    database_url: str, redis_url: str, stand_in_url: str, tmp: Path
) -> dict[str, str]:
    """The settings every process of the run gets: async mode on the private Redis, the
    platforms' APIs at the stand-in, the rule brain, no rate limit (the bench's chats ask
    more than a person would)."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "AI_ASSISTANT_"))
    }
    return {
        **kept,
        "DJANGO_SETTINGS_MODULE": "better_laser_erp.settings",
        "PYTHONPATH": str(ROOT),
        "ENVIRONMENT": "development",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"ble_priority_{os.getpid()}",
        "CELERY_BROKER_URL": redis_url,
        "AI_ASSISTANT_USE_ASYNC": "true",
        "AI_ASSISTANT_PLATFORMS_STAND_IN": stand_in_url,
        "AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS": "5",
        "AI_ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        "AI_ASSISTANT_LLM_BASE_URL": "",
        "AI_ASSISTANT_LLM_MODEL": "",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *argv: str) -> float:
    """Run a manage.py command in the bench's environment; seconds it took."""
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "manage.py", *argv], cwd=ROOT, env=env, check=True, stdin=subprocess.DEVNULL
    )
    return time.monotonic() - started


def prepare_database(env: dict[str, str], items: int, warehouses: int) -> None:
    """Migrate, seed the demo company, grow it, and register the bench's Telegram bot; then
    set Django up in this process (it binds chat accounts and reads the jobs)."""
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "-v", "0")
    seconds = manage(
        env, "seed_scale", "--items", str(items), "--warehouses", str(warehouses), "-v", "0"
    )
    print(f"seed_scale --items {items} --warehouses {warehouses}: {seconds:.0f} s", flush=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from apps.ai_assistant.models import ChannelApp

    ChannelApp.objects.create_app(
        "telegram", BOT_APP_ID, bot_token=BOT_SECRET, webhook_secret=WEBHOOK_SECRET
    )
    connections.close_all()


def bind_senders(usernames: list[str]) -> list[int]:
    """A new Telegram chat account for each name, bound to that ERP user; their ids."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from apps.ai_assistant.models import ChannelIdentity

    users = get_user_model().objects.in_bulk(set(usernames), field_name="username")
    senders = [next(_sender_ids) for _ in usernames]
    ChannelIdentity.objects.bulk_create(
        ChannelIdentity(channel="telegram", external_user_id=str(sender), user=users[name])
        for sender, name in zip(senders, usernames, strict=True)
    )
    connections.close_all()
    return senders


def forget_report_files() -> None:
    """Count a change in every data area: no report asked after this comes from the cache."""
    from django.db import connections

    from apps.reporting.models import AREAS, bump

    for area in AREAS:
        bump(area)
    connections.close_all()


def company_size() -> str:
    from django.db import connections

    from apps.inventory.models import Item, StockLevel, Warehouse

    described = (
        f"{Item.objects.count():,} items, {StockLevel.objects.count():,} stock rows, "
        f"{Warehouse.objects.count()} warehouses"
    )
    connections.close_all()
    return described


# --- asking ------------------------------------------------------------------------------


@dataclass
class Ask:
    """One message sent: who, what, when (wall clock) and when its answer arrived."""

    sender: int
    text: str
    update_id: int
    sent_at: float = 0.0
    answered_at: float | None = None
    status: int = 0

    @property
    def seconds(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.sent_at


def post(base_url: str, ask: Ask) -> None:
    """Send the ask as a signed Telegram update; note when, and what the webhook answered."""
    from apps.ai_assistant.channels.telegram import testkit as telegram_kit
    from devtools import webhook_client

    app = argparse.Namespace(
        app_id=BOT_APP_ID, credentials=argparse.Namespace(webhook_secret=WEBHOOK_SECRET)
    )
    request = telegram_kit.telegram_text(app, ask.sender, ask.text, update_id=ask.update_id)
    ask.sent_at = time.time()
    try:
        ask.status = webhook_client.send(base_url, request, timeout=30).status_code
    except Exception:  # noqa: BLE001  (counted as not accepted)
        ask.status = -1


def new_asks(senders: list[int], texts: list[str]) -> list[Ask]:
    return [
        Ask(sender, text, next(_update_ids)) for sender, text in zip(senders, texts, strict=True)
    ]


def send_open_loop(base_url: str, asks: list[Ask], interval: float) -> None:
    """Send ask i at start + i × interval (a slow answer delays none of the others)."""
    started = time.monotonic() + 0.2

    def fire(index: int) -> None:
        delay = started + index * interval - time.monotonic()
        if delay > 0 and STOP.wait(delay):
            return
        post(base_url, asks[index])

    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="ask") as pool:
        list(pool.map(fire, range(len(asks))))
    check_stop()


def check_stop() -> None:
    if STOP.is_set():
        raise KeyboardInterrupt


def sent_by_platform(stand_in_url: str) -> list[dict[str, Any]]:
    import httpx

    response = httpx.get(
        f"{stand_in_url}/_control/sent", params={"platform": "telegram"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def await_answers(
    stand_in_url: str, asks: list[Ask], is_answer: Any, timeout: float, what: str
) -> None:
    """Wait until every accepted ask has a send to its chat that `is_answer(entry)`; the time
    of the first such send is its answer. Asks still unanswered at the timeout stay None."""
    by_chat = {str(ask.sender): ask for ask in asks if ask.status == 200}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_stop()
        for entry in sent_by_platform(stand_in_url):
            ask = by_chat.get(str(entry["recipient"]))
            if ask is None or not is_answer(entry):
                continue
            at = datetime.fromisoformat(entry["at"]).timestamp()
            ask.answered_at = at if ask.answered_at is None else min(ask.answered_at, at)
        if all(ask.answered_at is not None for ask in by_chat.values()):
            return
        time.sleep(0.25)
    missing = sum(ask.answered_at is None for ask in by_chat.values())
    print(f"  WARNING: {missing} of {len(by_chat)} {what} unanswered after {timeout:.0f} s")


def stock_answer(entry: dict[str, Any]) -> bool:
    return entry["kind"] == "text" and STOCK_ANSWER in entry["text"]


def report_file(entry: dict[str, Any]) -> bool:
    return entry["kind"] == "file"


def ask_questions(stack: Stack, count: int, interval: float, timeout: float) -> list[Ask]:
    """`count` stock questions, each from a new chat of wh1, `interval` apart; answered."""
    from bench.webhook_ack import QUERY

    asks = new_asks(bind_senders(["wh1"] * count), [QUERY] * count)
    send_open_loop(stack.base_url, asks, interval)
    await_answers(stack.stand_in_url, asks, stock_answer, timeout, "questions")
    return asks


def request_reports(stack: Stack, count: int) -> list[Ask]:
    """`count` report requests (REPORT_REQUESTS in turn), each from a new chat of its user,
    sent one after the other as fast as the webhook answers."""
    chosen = list(itertools.islice(itertools.cycle(REPORT_REQUESTS), count))
    senders = bind_senders([username for username, _ in chosen])
    asks = new_asks(senders, [text for _, text in chosen])
    for ask in asks:
        check_stop()
        post(stack.base_url, ask)
    return asks


def wait_for_jobs(asks: list[Ask], timeout: float) -> None:
    """Until every report request has its job (the chat turn that asked has run)."""
    from django.db import connections

    from apps.ai_assistant.models import ReportJob

    ids = [str(ask.update_id) for ask in asks if ask.status == 200]

    def all_made() -> bool:
        made = ReportJob.objects.filter(inbound__external_id__in=ids).count()
        connections.close_all()
        return made >= len(ids)

    wait_for(all_made, timeout, f"{len(ids)} report jobs", interval=0.1)


# --- one set-up ------------------------------------------------------------------------------


@dataclass
class Jobs:
    """What became of a round's report jobs (from the database)."""

    created: list[float] = field(default_factory=list)
    finished: list[float | None] = field(default_factory=list)
    run_seconds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    from_cache: int = 0


def read_jobs(asks: list[Ask]) -> Jobs:
    from collections import Counter

    from django.db import connections

    from apps.ai_assistant.models import ReportJob

    rows = list(
        ReportJob.objects.filter(
            inbound__external_id__in=[str(ask.update_id) for ask in asks]
        ).values("created_at", "started_at", "finished_at", "status", "from_cache")
    )
    connections.close_all()
    result = Jobs(statuses=dict(Counter(row["status"] for row in rows)))
    for row in rows:
        result.created.append(row["created_at"].timestamp())
        result.finished.append(row["finished_at"].timestamp() if row["finished_at"] else None)
        if row["started_at"] and row["finished_at"]:
            result.run_seconds.append((row["finished_at"] - row["started_at"]).total_seconds())
        result.from_cache += row["from_cache"]
    return result


def unfinished_at(jobs: Jobs, moment: float) -> int:
    """How many of the jobs had been asked for and were not finished at `moment`."""
    return sum(
        1
        for created, finished in zip(jobs.created, jobs.finished, strict=True)
        if created <= moment and (finished is None or finished > moment)
    )


@dataclass
class Round:
    """The figures of one set-up: questions idle, questions with reports, the reports."""

    setup: str
    workers: list[Worker]
    idle: list[Ask] = field(default_factory=list)
    loaded: list[Ask] = field(default_factory=list)
    reports: list[Ask] = field(default_factory=list)
    jobs: Jobs = field(default_factory=Jobs)


def run_setup(stack: Stack, setup: str, workers: list[Worker], args: argparse.Namespace) -> Round:
    result = Round(setup, workers)
    print(f"{setup}: {'; '.join(worker.describe() for worker in workers)}", flush=True)
    stack.start_workers(workers)
    try:
        ask_questions(stack, args.warmup, 0.1, timeout=60)  # connections, caches, imports
        print(f"  idle: {args.questions} questions, one every {args.interval} s", flush=True)
        result.idle = ask_questions(stack, args.questions, args.interval, timeout=120)
        forget_report_files()
        print(f"  {args.reports} report requests, then the same questions", flush=True)
        result.reports = request_reports(stack, args.reports)
        wait_for_jobs(result.reports, timeout=120)
        result.loaded = ask_questions(stack, args.questions, args.interval, timeout=600)
        await_answers(
            stack.stand_in_url, result.reports, report_file, args.report_timeout, "reports"
        )
        result.jobs = read_jobs(result.reports)
    finally:
        stack.stop_workers()
    return result


# --- the report ------------------------------------------------------------------------------


def ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:,.0f}"


def latencies(asks: list[Ask]) -> list[float]:
    return [ask.seconds for ask in asks if ask.seconds is not None]


def figures(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return float("nan"), float("nan"), float("nan")
    return pct(values, 50), pct(values, 95), max(values)


def print_report(rounds: list[Round], args: argparse.Namespace, loads: list[str]) -> None:
    print()
    print(f"company: {company_size()}; database: postgresql; cpus: {os.cpu_count()}")
    for moment, load in zip(("before", "after"), loads, strict=False):
        print(f"load {moment}: {load}")
    print(
        f"questions: {args.questions} × 'NZ-S1.5 库存', one every {args.interval} s, each "
        "from its own chat; time from the send to the reply recorded by the stand-in"
    )
    header = (
        f"{'set-up':<11}{'while':<13}{'answered':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'×p50':>7}{'×p95':>7}  reports unfinished when asked (min/median)"
    )
    print(header)
    print("-" * len(header))
    for result in rounds:
        idle = figures(latencies(result.idle))
        for label, asks in (("idle", result.idle), (f"{args.reports} reports", result.loaded)):
            p50, p95, top = figures(latencies(asks))
            answered = f"{len(latencies(asks))}/{len(asks)}"
            pending = [unfinished_at(result.jobs, ask.sent_at) for ask in asks]
            load = (
                f"{min(pending)}/{statistics.median(pending):.0f}"
                if asks is result.loaded and pending
                else ""
            )
            print(
                f"{result.setup:<11}{label:<13}{answered:>9}{ms(p50):>9}{ms(p95):>9}{ms(top):>9}"
                f"{p50 / idle[0]:>7.2f}{p95 / idle[1]:>7.2f}  {load}"
            )
    print()
    for result in rounds:
        print_reports(result)
        if args.each:
            for ask in result.reports:
                took = f"{ask.seconds:6.1f} s" if ask.seconds is not None else "     -  "
                print(f"    {took}  {ask.text}")
    print_verdict(rounds)


def print_reports(result: Round) -> None:
    took = [ask.seconds for ask in result.reports if ask.seconds is not None]
    files = [ask.answered_at for ask in result.reports if ask.answered_at is not None]
    first = min((ask.sent_at for ask in result.reports), default=0.0)
    total = f"{max(files) - first:.1f} s" if files else "-"
    runs = result.jobs.run_seconds
    print(
        f"{result.setup} reports: {len(files)}/{len(result.reports)} files in {total} "
        f"(first request to last file); request to file p50 {statistics.median(took):.1f} s, "
        f"max {max(took):.1f} s; job run p50 {statistics.median(runs):.1f} s; "
        f"jobs {result.jobs.statuses}, from the cache {result.jobs.from_cache}"
        if took and runs
        else f"{result.setup} reports: {len(files)}/{len(result.reports)} files; "
        f"jobs {result.jobs.statuses}"
    )


def print_verdict(rounds: list[Round]) -> None:
    """The issue's acceptance, in words: loaded p95 against idle p95 of each set-up."""
    print()
    for result in rounds:
        idle = figures(latencies(result.idle))
        loaded = figures(latencies(result.loaded))
        print(
            f"{result.setup}: with the reports running, chat p50 ×{loaded[0] / idle[0]:.2f}, "
            f"p95 ×{loaded[1] / idle[1]:.2f}, max ×{loaded[2] / idle[2]:.2f} of idle"
        )


def uptime() -> str:
    try:
        env = {**os.environ, "TZ": "UTC"}  # Django's set-up changes this process's TZ
        return subprocess.run(["uptime"], capture_output=True, text=True, env=env).stdout.strip()
    except OSError:
        return Path("/proc/loadavg").read_text().strip()


def positive(value: str) -> int:
    number = int(value)
    if not 0 < number <= 1000:
        raise argparse.ArgumentTypeError("must be 1..1000")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/report_priority.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--reports", type=positive, default=20, help="report requests (20)")
    parser.add_argument("--questions", type=positive, default=30, help="per phase (30)")
    parser.add_argument("--interval", type=float, default=0.5, help="between questions (0.5 s)")
    parser.add_argument("--warmup", type=positive, default=10, help="questions first (10)")
    parser.add_argument("--items", type=positive_items, default=5000, help="seed_scale (5000)")
    parser.add_argument("--warehouses", type=positive, default=20, help="seed_scale (20)")
    parser.add_argument("--chat-concurrency", type=positive, default=1)
    parser.add_argument("--reports-concurrency", type=positive, default=1)
    parser.add_argument(
        "--shared-concurrency",
        type=positive,
        default=None,
        help="processes of the one shared worker (default: chat + reports concurrency)",
    )
    parser.add_argument("--nice", type=int, default=19, help="workers' niceness, as deploy/ (19)")
    parser.add_argument(
        "--reports-idle",
        action="store_true",
        help="run the reports worker (dedicated set-up) under SCHED_IDLE (chrt --idle)",
    )
    parser.add_argument("--only", choices=["dedicated", "shared"], action="append")
    parser.add_argument("--report-timeout", type=float, default=900.0, help="seconds (900)")
    parser.add_argument("--each", action="store_true", help="each report's request to file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)
    if not 0.01 <= args.interval <= 10:
        parser.error("--interval must be 0.01..10 seconds")
    if args.shared_concurrency is None:
        args.shared_concurrency = args.chat_concurrency + args.reports_concurrency
    return args


def positive_items(value: str) -> int:
    number = int(value)
    if not 0 < number <= 100_000:
        raise argparse.ArgumentTypeError("must be 1..100000")
    return number


def setups(args: argparse.Namespace) -> list[tuple[str, list[Worker]]]:
    chosen = [
        (
            "dedicated",
            [
                Worker("chat", CHAT_QUEUES, args.chat_concurrency, nice=args.nice),
                Worker(
                    "reports",
                    "reports",
                    args.reports_concurrency,
                    nice=args.nice,
                    idle=args.reports_idle,
                ),
            ],
        ),
        ("shared", [Worker("all", ALL_QUEUES, args.shared_concurrency, nice=args.nice)]),
    ]
    return [(name, workers) for name, workers in chosen if not args.only or name in args.only]


def run(args: argparse.Namespace, body: Any, prefix: str = "ble_priority_") -> int:
    """Start the stack, run `body(stack)`, and stop and remove everything, on any exit."""

    def on_signal(signum: int, frame: Any) -> None:
        STOP.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    children = Children()
    database = Database(tmp)
    database.name = f"{prefix}{os.getpid()}"
    status = 0
    try:
        stack = Stack(children, tmp, database)
        stack.start(args.items, args.warehouses, max_sent=200_000)
        if database.vendor != "postgresql":
            print("WARNING: not on PostgreSQL; the figures mean little", file=sys.stderr)
        body(stack)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        status = 130
    except Exception as error:  # noqa: BLE001
        print(f"bench failed: {type(error).__name__}: {error}", file=sys.stderr)
        args.keep = True
        status = 1
    finally:
        shutdown(children, database, tmp, keep=args.keep)
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("redis-server"):
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    loads = [uptime()]

    def body(stack: Stack) -> None:
        rounds = [run_setup(stack, name, workers, args) for name, workers in setups(args)]
        loads.append(uptime())
        print_report(rounds, args, loads)

    return run(args, body)


if __name__ == "__main__":
    sys.exit(main())
