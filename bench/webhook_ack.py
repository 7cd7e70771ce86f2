"""Webhook ack latency under load: a trivial view, the webhook in sync mode, the webhook in
async mode (Celery worker), each served by gunicorn and driven open-loop at a fixed rate.

    .venv/bin/python bench/webhook_ack.py [--requests 2000] [--rate 200] [--only async]

Everything it needs it starts itself, on loopback only, and stops at the end (also on Ctrl-C):
a private redis-server on a free port, the platforms' stand-in (devtools/platforms.py, in a
child process so it does not share the load generator's GIL), a fresh database (PostgreSQL
database ble_bench_<pid> on 127.0.0.1:5432 as user postgres, dropped at the end; SQLite in a
temporary directory if PostgreSQL is unreachable), gunicorn, and for async a Celery worker.

The requests are real Telegram updates signed with the app's secret token, from 50 senders
bound to the demo user wh1, each with its own update_id, asking "NZ-S1.5 库存". Latency is
measured from the time a request was scheduled to be sent (open loop: a slow answer does not
delay the following sends), so queueing anywhere — client pool, gunicorn, the app — counts.

Async mode also reports the time from the scheduled send to the stand-in recording the reply,
replies delivered, duplicates (a reply part sent more than once), and the InboundMessage status
counts at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
BOT_APP_ID = "ble_bench_bot"
BOT_SECRET = "7000000099:AAH-bench-bot-token"
WEBHOOK_SECRET = "bench-webhook-secret_01"
QUERY = "NZ-S1.5 库存"
SENDERS = 50
FIRST_SENDER = 7_100_000_001
ACK_TEXT = "收到消息，正在处理中喵～"
TARGETS = ("baseline", "sync", "async")
# update_id ranges: warm-up and measured requests of each target never collide.
ID_BASE = {"baseline": 1_000_000, "sync": 2_000_000, "async": 3_000_000}
WARMUP_OFFSET = 500_000
# Set by Ctrl-C / SIGTERM; every wait and every scheduled send checks it, so an interrupt that
# some library swallows still stops the run.
STOP = threading.Event()


def check_stop() -> None:
    if STOP.is_set():
        raise KeyboardInterrupt


# --- children ------------------------------------------------------------------------------


class Children:
    """Every process this bench starts, each in its own session (so its workers are in its
    process group); stopped by pid / process group of that child only."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.logs: list = []

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path, **kw):
        out = open(log, "ab")  # noqa: SIM115  (closed in stop_all)
        self.logs.append(out)
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=kw.pop("stdout", out),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kw,
        )
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 15) -> None:
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        # Leftover members of its group (e.g. pool children of a killed master).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                self.stop(proc)
        self.procs.clear()
        for out in self.logs:
            with contextlib.suppress(Exception):
                out.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_stop()
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def start_redis(children: Children, tmp: Path) -> str:
    """A private redis-server on a free loopback port (no persistence); its URL, once it
    answers a ping."""
    import redis

    port = free_port()
    proc = children.start(
        "redis-server",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--loglevel", "warning", "--maxclients", "1000"],
        dict(os.environ),
        tmp / "redis.log",
    )  # fmt: skip
    wait_for(lambda: _ping(redis, port), 10, f"redis-server on port {port}", proc=proc)
    return f"redis://127.0.0.1:{port}/0"


def start_gunicorn(
    children: Children,
    env: dict[str, str],
    port: int,
    log: Path,
    workers: int = 2,
    threads: int = 8,
    name: str = "gunicorn",
) -> subprocess.Popen:
    """gunicorn serving the project on 127.0.0.1:port (gthread workers), as the benches run it."""
    return children.start(
        name,
        [str(Path(PYTHON).parent / "gunicorn"), "better_laser_erp.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread",
         "--threads", str(threads), "--backlog", "2048", "--keep-alive", "5",
         "--graceful-timeout", "5", "--timeout", "60", "--log-level", "warning"],
        env,
        log,
    )  # fmt: skip


# --- the platforms' stand-in (child process mode) -------------------------------------------


def serve_platforms(port: int, max_sent: int) -> None:
    """Run the stand-in with room for every reply; exit when the parent is gone."""
    from devtools import platforms

    platforms.MAX_SENT = max_sent  # read when the state's deque is made
    server, base_url = platforms.start_platforms(
        port, apps=[{"platform": "telegram", "app_id": BOT_APP_ID, "secret": BOT_SECRET}]
    )
    parent = os.getppid()
    print(f"platform stand-in listening on {base_url}", flush=True)
    try:
        while os.getppid() == parent:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def start_stand_in(children: Children, tmp: Path, max_sent: int, nice: int = 0) -> str:
    """The platforms' stand-in with the bench's Telegram bot (serve_platforms) in a child
    process on a free port (at niceness `nice`), keeping `max_sent` sends; its URL, once it
    answers."""
    port = free_port()
    proc = children.start(
        "platform stand-in",
        [*(["nice", "-n", str(nice)] if nice else []),
         PYTHON, str(Path(__file__).resolve()), "--serve-platforms", str(port),
         "--max-sent", str(max_sent)],
        dict(os.environ),
        tmp / "platforms.log",
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_ok(f"{url}/_control/apps"), 20, "the stand-in", proc=proc)
    return url


# --- database ------------------------------------------------------------------------------


class Database:
    def __init__(self, tmp: Path) -> None:
        self.name = f"ble_bench_{os.getpid()}"
        self.vendor = ""
        self.url = ""
        self.tmp = tmp

    def create(self) -> None:
        try:
            import psycopg

            with psycopg.connect(
                "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3",
                autocommit=True,
            ) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.vendor = "postgresql"
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.name}"
        except Exception as error:  # noqa: BLE001
            print(
                f"WARNING: PostgreSQL at 127.0.0.1:5432 unusable ({type(error).__name__}: "
                f"{str(error).strip()[:120]}); falling back to SQLite — figures are not "
                "representative of production",
                file=sys.stderr,
            )
            self.vendor = "sqlite"
            self.url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"

    def drop(self) -> None:
        if self.vendor != "postgresql":
            return
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3",
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- requests ------------------------------------------------------------------------------


def telegram_request(update_id: int, sender: int, path: str | None = None):
    from apps.ai_assistant.channels.telegram import testkit as telegram_kit

    app = argparse.Namespace(
        app_id=BOT_APP_ID, credentials=argparse.Namespace(webhook_secret=WEBHOOK_SECRET)
    )
    request = telegram_kit.telegram_text(app, sender, QUERY, update_id=update_id)
    if path:
        request = request._replace(path=path)
    return request


def build_requests(target: str, count: int, warmup: bool = False):
    base = ID_BASE[target] + (WARMUP_OFFSET if warmup else 0)
    path = "/bench/ok/" if target == "baseline" else None
    return [
        (
            base + i,
            FIRST_SENDER + i % SENDERS,
            telegram_request(base + i, FIRST_SENDER + i % SENDERS, path),
        )
        for i in range(count)
    ]


def check_answer(target: str, response) -> bool:
    if response.status_code != 200:
        return False
    if target == "baseline":
        return response.content == b"ok"
    try:
        body = response.json()
    except ValueError:
        return False
    text = body.get("text", "") if isinstance(body, dict) else ""
    if target == "async":
        return text == ACK_TEXT
    return "NZ-S1.5" in text and text != ACK_TEXT


class LoadResult:
    def __init__(self, target, n, rate):
        self.target, self.n, self.rate = target, n, rate
        self.latency = [None] * n  # seconds from the scheduled send to the answer
        self.sched_wall = [0.0] * n  # wall-clock time each request was scheduled for
        self.errors = Counter()
        self.duration = 0.0


def drive(base_url: str, target: str, requests, rate: float, threads: int, timeout: float):
    """Send each request at its scheduled time t0 + i/rate, from a bounded pool of threads
    (one keep-alive http.client connection each, opened before the clock starts); latency
    counts from the scheduled time, so time spent waiting for a free thread counts too."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    result = LoadResult(target, len(requests), rate)
    local = threading.local()
    prepared = [
        (
            req.method,
            f"{req.path}?{urlencode(req.query)}" if req.query else req.path,
            req.body,
            req.headers,
        )
        for _, _, req in requests
    ]

    def connection() -> http.client.HTTPConnection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.connect()
            local.conn = conn
        return conn

    mono0 = time.monotonic() + 1.0
    wall0 = time.time() + (mono0 - time.monotonic())

    def fire(i: int) -> None:
        method, url, body, headers = prepared[i]
        scheduled = mono0 + i / rate
        result.sched_wall[i] = wall0 + i / rate
        try:
            conn = connection()  # opened outside the timed part on first use (t < t0)
        except OSError as error:
            result.errors[type(error).__name__] += 1
            return
        delay = scheduled - time.monotonic()
        if delay > 0 and STOP.wait(delay):
            return
        if STOP.is_set():
            return
        ok = False
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            try:
                conn.request(method, url, body=body, headers=headers)
                response = conn.getresponse()
                answer = Answer(response.status, response.read())
                ok = check_answer(target, answer)
                if not ok:
                    result.errors[
                        f"HTTP {answer.status_code}" if answer.status_code != 200 else "bad answer"
                    ] += 1
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                conn.close()
                if attempt == 2:
                    result.errors[type(error).__name__] += 1
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                local.conn = None
                result.errors[type(error).__name__] += 1
                break
        result.latency[i] = time.monotonic() - scheduled if ok else None

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="load") as pool:
        list(pool.map(fire, range(len(requests))))
    result.duration = time.monotonic() - mono0
    check_stop()
    return result


class Answer:
    def __init__(self, status: int, content: bytes) -> None:
        self.status_code, self.content = status, content

    def json(self):
        return json.loads(self.content)


def pct(values, q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- one target ----------------------------------------------------------------------------


def run_target(target: str, args, env_base: dict, children: Children, tmp: Path, stand_in_url: str):
    env = dict(env_base)
    async_mode = target == "async"
    env["AI_ASSISTANT_USE_ASYNC"] = "true" if async_mode else "false"
    env["CELERY_BROKER_URL"] = env_base["BENCH_REDIS_URL"] if async_mode else ""
    worker = None

    def start_worker():
        return children.start(
            "celery worker",
            [
                *(["nice", "-n", str(args.worker_nice)] if args.worker_nice else []),
                PYTHON,
                "-m",
                "celery",
                "-A",
                "better_laser_erp",
                "worker",
                "-l",
                "warning",
                "-P",
                args.worker_pool,
                "-c",
                str(args.worker_concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
            tmp / "worker.log",
        )

    def worker_ready(proc):
        from celery import Celery

        probe = Celery(broker=env["CELERY_BROKER_URL"])
        wait_for(
            lambda: probe.control.ping(timeout=0.5),
            60,
            "the celery worker",
            interval=0.2,
            proc=proc,
        )

    if async_mode and not args.defer_worker:
        worker = start_worker()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    gunicorn = start_gunicorn(
        children,
        env,
        port,
        tmp / f"gunicorn-{target}.log",
        workers=args.gunicorn_workers,
        threads=args.gunicorn_threads,
        name=f"gunicorn ({target})",
    )
    wait_for(lambda: http_ok(f"{base_url}/bench/ok/"), 30, "gunicorn", proc=gunicorn)
    if worker is not None:
        worker_ready(worker)

    requests = build_requests(target, args.requests if target != "sync" else args.sync_requests)
    rate = args.rate if target != "sync" else args.sync_rate
    # Warm-up: every gunicorn thread opens its DB connection, imports, caches.
    warm = build_requests(target, args.warmup, warmup=True)
    drive(base_url, target, warm, min(rate, 50.0), threads=16, timeout=args.timeout)
    if worker is not None:
        wait_done(ID_BASE[target] + WARMUP_OFFSET, args.warmup, timeout=120)

    result = drive(
        base_url, target, requests, rate, threads=args.client_threads, timeout=args.timeout
    )
    if async_mode:
        if worker is None:  # --defer-worker: the backlog is worked off only now
            worker = start_worker()
        budget = 60 + len(requests) / 10
        result.drain_seconds = wait_done(
            ID_BASE[target], len(requests), timeout=budget, tolerate=True
        )
        wait_done(ID_BASE[target] + WARMUP_OFFSET, args.warmup, timeout=60, tolerate=True)
        collect_async(result, requests, warm, stand_in_url)
    children.stop(gunicorn)
    if worker is not None:
        children.stop(worker)
    return result


def wait_done(first_id: int, count: int, timeout: float, tolerate: bool = False) -> float:
    """Wait until no message of the range is still in the works; seconds waited."""
    from django.db import connections

    from apps.ai_assistant.models import InboundMessage

    ids = [str(first_id + i) for i in range(count)]
    started = time.monotonic()

    def settled() -> bool:
        finished = InboundMessage.objects.filter(
            external_id__in=ids, status__in=["done", "dead"]
        ).count()
        connections.close_all()
        return finished >= count

    try:
        wait_for(settled, timeout, f"{count} messages to be answered", interval=0.5)
    except RuntimeError:
        if not tolerate:
            raise
    return time.monotonic() - started


def collect_async(result: LoadResult, requests, warmup, stand_in_url: str) -> None:
    import httpx
    from django.db import connections

    from apps.ai_assistant.models import InboundMessage, OutboundMessage

    sent = httpx.get(
        f"{stand_in_url}/_control/sent", params={"platform": "telegram"}, timeout=30
    ).json()
    ids = {str(update_id): i for i, (update_id, _, _) in enumerate(requests)}
    # Every stored part that was sent (warm-up included), by the message id the stand-in gave.
    parts = {
        row["platform_message_id"]: row
        for row in OutboundMessage.objects.filter(status="sent").values(
            "pk", "platform_message_id", "inbound__external_id"
        )
    }
    seen_parts: Counter = Counter()
    first_reply: dict[int, float] = {}
    unmatched = 0
    for record in sent:
        part = parts.get(str(record["message_id"]))
        if part is None:
            unmatched += 1  # a send no stored part owns: a resend of some part
            continue
        seen_parts[part["pk"]] += 1
        i = ids.get(part["inbound__external_id"])
        if i is None:
            continue  # a warm-up message
        at = datetime.fromisoformat(record["at"]).timestamp()
        first_reply[i] = min(first_reply.get(i, at), at)
    expected = Counter(sender for _, sender, _ in requests) + Counter(
        sender for _, sender, _ in warmup
    )
    got = Counter(str(record["recipient"]) for record in sent)
    excess = sum(max(0, count - expected[int(r)]) for r, count in got.items() if r.isdigit())
    result.e2e = [first_reply[i] - result.sched_wall[i] for i in first_reply]
    result.delivered = len(first_reply)
    result.sends = len(sent)
    result.duplicates = unmatched + sum(c - 1 for c in seen_parts.values() if c > 1)
    result.excess_per_recipient = excess
    result.status_counts = dict(
        Counter(
            InboundMessage.objects.filter(external_id__in=list(ids)).values_list(
                "status", flat=True
            )
        )
    )
    result.status_counts_all = dict(
        Counter(InboundMessage.objects.values_list("status", flat=True))
    )
    connections.close_all()


# --- setup and report ----------------------------------------------------------------------


def setup_django(env: dict, children: Children, tmp: Path) -> None:
    for argv in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "-v", "0"]):
        subprocess.run(
            [PYTHON, "manage.py", *argv],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    from apps.ai_assistant.models import ChannelApp, ChannelIdentity

    ChannelApp.objects.create_app(
        "telegram", BOT_APP_ID, bot_token=BOT_SECRET, webhook_secret=WEBHOOK_SECRET
    )
    wh1 = get_user_model().objects.get(username="wh1")
    ChannelIdentity.objects.bulk_create(
        ChannelIdentity(channel="telegram", external_user_id=str(FIRST_SENDER + i), user=wh1)
        for i in range(SENDERS)
    )
    connections.close_all()


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.1f}"


def report(results: list[LoadResult], args, db: Database) -> None:
    print()
    print(
        f"server: gunicorn --workers {args.gunicorn_workers} --worker-class gthread "
        f"--threads {args.gunicorn_threads}; database: {db.vendor}; cpus: {os.cpu_count()}; "
        f"worker: nice -n {args.worker_nice} celery -P {args.worker_pool} "
        f"-c {args.worker_concurrency}"
        f"{' (started after the load: --defer-worker)' if args.defer_worker else ''}; "
        f"stand-in: nice -n {args.stand_in_nice}"
    )
    header = (
        f"{'target':<9}{'requests':>9}{'rate/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'achieved/s':>11}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ok = [v for v in r.latency if v is not None]
        answered = len(ok)
        achieved = answered / r.duration if r.duration else 0.0
        print(
            f"{r.target:<9}{r.n:>9}{r.rate:>8.0f}{ms(pct(ok, 50)):>9}{ms(pct(ok, 95)):>9}"
            f"{ms(pct(ok, 99)):>9}{ms(max(ok) if ok else float('nan')):>9}{achieved:>11.1f}"
            f"{sum(r.errors.values()):>8}"
        )
    for r in results:
        if r.errors:
            print(f"  {r.target} errors: {dict(r.errors)}")
    for r in results:
        if r.target != "async":
            continue
        e2e = r.e2e
        print()
        print("async end to end (scheduled send -> reply recorded by the platform stand-in):")
        print(
            f"  p50 {ms(pct(e2e, 50))} ms  p95 {ms(pct(e2e, 95))} ms  p99 {ms(pct(e2e, 99))} ms"
            f"  max {ms(max(e2e) if e2e else float('nan'))} ms"
        )
        print(
            f"  replies delivered: {r.delivered}/{r.n}   sends recorded: {r.sends}   "
            f"duplicates: {r.duplicates} (per-recipient excess: {r.excess_per_recipient})"
        )
        print(f"  drained {r.drain_seconds:.1f} s after the last send was scheduled")
        print(f"  InboundMessage status (measured): {r.status_counts}")
        print(f"  InboundMessage status (whole db, incl. sync + warm-up): {r.status_counts_all}")
        ok = [v for v in r.latency if v is not None]
        verdict = pct(ok, 99) <= 0.025 and r.delivered == r.n and r.duplicates == 0 and not r.errors
        print(
            f"  target (p99 ack <= 25 ms at {args.rate:.0f}/s, all delivered, none twice): "
            f"{'MET' if verdict else 'MISSED'}"
        )
    print_ratios(results, args)


def print_ratios(results: list[LoadResult], args) -> None:
    """The same run's targets side by side: async end-to-end capacity against sync mode's,
    and async's ack p99 against the bare view's."""
    by_target = {r.target: r for r in results}
    sync, base, async_ = (by_target.get(t) for t in ("sync", "baseline", "async"))
    print()
    if sync and async_:
        sync_ok = [v for v in sync.latency if v is not None]
        sync_capacity = len(sync_ok) / sync.duration if sync.duration else 0.0
        async_capacity = async_.delivered / (async_.duration + async_.drain_seconds)
        ratio = async_capacity / sync_capacity if sync_capacity else float("nan")
        print(
            f"capacity: async end to end {async_capacity:.1f} msg/s, sync {sync_capacity:.1f} "
            f"msg/s, ratio {ratio:.2f} (target >= 1): {'MET' if ratio >= 1 else 'MISSED'}"
        )
    if base and async_:
        base_p99 = pct([v for v in base.latency if v is not None], 99)
        async_p99 = pct([v for v in async_.latency if v is not None], 99)
        ratio = async_p99 / base_p99 if base_p99 else float("nan")
        print(
            f"ack p99: async {ms(async_p99)} ms, bare view {ms(base_p99)} ms, ratio "
            f"{ratio:.1f} (target <= 3): {'MET' if ratio <= 3 else 'MISSED'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="baseline and async (2000)")
    parser.add_argument("--rate", type=float, default=200.0, help="req/s, baseline and async (200)")
    parser.add_argument("--sync-requests", type=int, default=400)
    parser.add_argument(
        "--sync-rate", type=float, default=None, help="req/s for sync (default --rate)"
    )
    parser.add_argument("--only", choices=TARGETS, action="append")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=8)
    parser.add_argument("--worker-pool", default="prefork", choices=["prefork", "threads", "solo"])
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=19,
        help="run the worker at this niceness, as deploy/ does, so acks get the CPU first (19)",
    )
    parser.add_argument(
        "--stand-in-nice",
        type=int,
        default=19,
        help="run the platforms' stand-in at this niceness (19): the platforms' servers are "
        "remote in production, and their stand-in must not take the CPU the web needs",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=1,
        help="worker processes (1): rule-brain turns are CPU work, and this machine's two "
        "cores are the web's and PostgreSQL's too (README, Deployment)",
    )
    parser.add_argument(
        "--defer-worker",
        action="store_true",
        help="async: start the Celery worker only after the last request (ack cost without "
        "the worker competing for CPU; the end-to-end times then include the wait)",
    )
    parser.add_argument("--client-threads", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument("--serve-platforms", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-sent", type=int, default=20000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_platforms is not None:
        serve_platforms(args.serve_platforms, args.max_sent)
        return 0
    args.sync_rate = args.sync_rate or args.rate
    targets = [t for t in TARGETS if not args.only or t in args.only]
    for name in ("requests", "sync_requests", "warmup"):
        if not 0 < getattr(args, name) <= 20000 and not (name == "warmup" and args.warmup == 0):
            parser.error(f"--{name.replace('_', '-')} must be 1..20000")
    if not 0 < args.rate <= 5000 or not 0 < args.sync_rate <= 5000:
        parser.error("rates must be in 0..5000")
    if not shutil.which("redis-server"):
        parser.error("redis-server is not installed (apt-get install redis-server)")

    def on_signal(signum, frame):
        STOP.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tmp = Path(tempfile.mkdtemp(prefix="ble_bench_"))
    children = Children()
    db = Database(tmp)
    results: list[LoadResult] = []
    status = 0
    try:
        redis_url = start_redis(children, tmp)
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        stand_in_url = start_stand_in(
            children,
            tmp,
            max_sent=max(args.requests, args.sync_requests) * 2 + 1000,
            nice=args.stand_in_nice,
        )
        stand_in_port = int(stand_in_url.rsplit(":", 1)[1])

        db.create()
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "CELERY_", "AI_ASSISTANT_"))
            },
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "development",
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": db.url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": f"ble_bench_{os.getpid()}",
            "BENCH_REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            "AI_ASSISTANT_PLATFORMS_STAND_IN": stand_in_url,
            "AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS": "5",
            "AI_ASSISTANT_LLM_BASE_URL": "",
            "AI_ASSISTANT_LLM_MODEL": "",
            # 50 senders at 200/s write 4 messages a second each: capacity, not abuse.
            "AI_ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
        }
        print(
            f"setting up: {db.vendor} database, redis :{redis_port}, stand-in :{stand_in_port}",
            flush=True,
        )
        setup_django(env, children, tmp)
        for target in targets:
            n = args.sync_requests if target == "sync" else args.requests
            rate = args.sync_rate if target == "sync" else args.rate
            print(f"running {target}: {n} requests at {rate:.0f}/s ...", flush=True)
            results.append(run_target(target, args, env, children, tmp, stand_in_url))
        report(results, args, db)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        status = 130
    except Exception as error:  # noqa: BLE001
        print(f"bench failed: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"logs in {tmp}", file=sys.stderr)
        args.keep = True
        status = 1
    finally:
        shutdown(children, db, tmp, keep=args.keep)
    return status


def shutdown(children: Children, database: Database, tmp: Path, keep: bool = False) -> None:
    """Stop every child, drop the scratch database, remove the temp dir (unless `keep`):
    what every bench does at its end, also after Ctrl-C (a second one is ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children.stop_all()
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    try:
        database.drop()
    except Exception as error:  # noqa: BLE001
        print(f"WARNING: could not drop database {database.name}: {error}", file=sys.stderr)
    if keep:
        print(f"kept {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def _ping(redis, port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_timeout=0.5).ping()
    except redis.RedisError:
        return False


if __name__ == "__main__":
    sys.exit(main())
