"""Chaos run of the whole async stack: thousands of signed messages from many group chats on
two platforms, while workers are killed, Redis restarts and the platforms fail.

    .venv/bin/python bench/chaos.py                         # 10,000 messages, everything on
    .venv/bin/python bench/chaos.py --messages 300 --chats 20 --rate 40 --kill-every 150 \\
        --outage 8 --json result.json                       # the CI-sized run (tests/)

It starts everything itself, on loopback, and stops it at the end: a private redis-server, the
platforms' stand-in (devtools/platforms.py), a fresh database (PostgreSQL ble_bench_<pid>, or
SQLite), gunicorn, Celery worker processes and beat. Messages are Telegram group messages and
Feishu group messages (the assistant answers both as a reply to the asker's message), so every
reply the stand-in records names its message: nothing is matched from the project's own tables.

Injected, while sending: platform retries (a share of the requests sent twice); `kill -9` of a
worker every N accepted messages (restarted at once); one Redis restart (its queues lost); a
platform outage (every API call answers 5xx for a while); hangs (calls that never answer);
a burst of 429 with Retry-After; an expired Feishu token.

It prints, from the platform side: lost (accepted, never answered, no dead letter), duplicated
(answered more than once), out of order (a chat's answers not in the order it asked), dead
letters with their reasons, and how long the backlog took to drain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook_ack import (  # noqa: E402  (the bench's own helpers, after the path)
    PYTHON,
    STOP,
    Children,
    Database,
    _ping,
    free_port,
    http_ok,
    shutdown,
    wait_for,
)

TELEGRAM_BOT = "ble_chaos_bot"
TELEGRAM_TOKEN = "7000000777:AAH-chaos-bot-token"
TELEGRAM_SECRET = "chaos-webhook-secret_01"
FEISHU_APP = "cli_chaos00000000001"
FEISHU = {
    "app_secret": "chaos-feishu-secret",
    "verification_token": "chaos-verification-token",
    "encrypt_key": "chaos-encrypt-key",
}
QUESTIONS = ["NZ-S1.5 库存", "PW-D37-T7 库存", "CR-32 库存", "how many CH-BT240S in main"]


class Message:
    """One message a chat sends: its platform request and how it is recognised in replies."""

    def __init__(self, index: int, chat: int, channel: str, reply_key: str, request) -> None:
        self.index = index
        self.chat = chat
        self.channel = channel
        self.reply_key = reply_key
        self.request = request
        self.accepted = False
        self.sent_at = 0.0  # wall clock


def build_messages(count: int, chats: int) -> list[Message]:
    from types import SimpleNamespace

    from apps.ai_assistant.channels.feishu import testkit as feishu_kit
    from apps.ai_assistant.channels.feishu.adapter import FeishuCredentials
    from apps.ai_assistant.channels.telegram import testkit as telegram_kit
    from apps.ai_assistant.channels.telegram.adapter import TelegramCredentials

    telegram_app = SimpleNamespace(
        app_id=TELEGRAM_BOT,
        credentials=TelegramCredentials(bot_token=TELEGRAM_TOKEN, webhook_secret=TELEGRAM_SECRET),
    )
    feishu_app = SimpleNamespace(app_id=FEISHU_APP, credentials=FeishuCredentials(**FEISHU))
    messages = []
    for index in range(count):
        chat = index % chats
        question = QUESTIONS[(index // chats) % len(QUESTIONS)]
        if chat % 2 == 0:
            request = telegram_kit.telegram_text(
                telegram_app,
                telegram_sender(chat),
                question,
                update_id=index + 1,
                chat_id=-(1_000_000 + chat),
                chat_type="group",
                message_id=index + 1,
            )
            messages.append(Message(index, chat, "telegram", str(index + 1), request))
        else:
            message_id = f"om_chaos{index:07d}"
            event = feishu_kit.text_event(
                feishu_app,
                feishu_sender(chat),
                question,
                message_id,
                chat_type="group",
                chat_id=f"oc_chaos_{chat}",
            )
            request = feishu_kit.event_request(feishu_app, event)
            messages.append(Message(index, chat, "feishu", message_id, request))
    return messages


def telegram_sender(chat: int) -> int:
    return 7_200_000_000 + chat


def feishu_sender(chat: int) -> str:
    return f"ou_chaos_{chat}"


# --- the stack -------------------------------------------------------------------------------


class Stack:
    """The processes of one run, and the operations the chaos needs on them."""

    def __init__(self, args, tmp: Path, children: Children, env: dict[str, str]) -> None:
        self.args = args
        self.tmp = tmp
        self.children = children
        self.env = env
        self.workers: list[subprocess.Popen] = []
        self.redis_port = int(env["CELERY_BROKER_URL"].rsplit(":", 1)[1].split("/")[0])
        self.redis = None
        self.kills = 0
        self.redis_restarts = 0

    def start_redis(self) -> None:
        import redis

        self.redis = self.children.start(
            "redis-server",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            dict(os.environ),
            self.tmp / "redis.log",
        )  # fmt: skip
        wait_for(lambda: _ping(redis, self.redis_port), 10, "redis", proc=self.redis)

    def restart_redis(self) -> None:
        """Kill Redis (everything queued in it is lost) and start it again on its port."""
        os.kill(self.redis.pid, signal.SIGKILL)
        self.redis.wait(timeout=10)
        time.sleep(1)
        self.start_redis()
        self.redis_restarts += 1

    def start_worker(self, number: int) -> subprocess.Popen:
        return self.children.start(
            f"worker {number}",
            [PYTHON, "-m", "celery", "-A", "better_laser_erp", "worker", "-l", "warning",
             "-P", "prefork", "-c", "1", "-n", f"chaos{number}@%h", "-Q",
             "messages,tools,maintenance", "--without-gossip", "--without-mingle"],
            self.env,
            self.tmp / f"worker-{number}.log",
        )  # fmt: skip

    def start(self, base_port: int) -> str:
        self.workers = [self.start_worker(n) for n in range(self.args.workers)]
        self.children.start(
            "beat",
            [PYTHON, "-m", "celery", "-A", "better_laser_erp", "beat", "-l", "warning",
             "--schedule", str(self.tmp / "celerybeat-schedule")],
            self.env,
            self.tmp / "beat.log",
        )  # fmt: skip
        gunicorn = self.children.start(
            "gunicorn",
            [str(Path(PYTHON).parent / "gunicorn"), "better_laser_erp.wsgi:application",
             "--bind", f"127.0.0.1:{base_port}", "--workers", "2", "--worker-class", "gthread",
             "--threads", "8", "--timeout", "60", "--log-level", "warning"],
            self.env,
            self.tmp / "gunicorn.log",
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{base_port}"
        wait_for(lambda: http_ok(f"{base_url}/webhooks/x/y/"), 30, "gunicorn", proc=gunicorn)
        return base_url

    def kill_a_worker(self) -> None:
        """`kill -9` one worker (its whole process group) and start a new one at once."""
        number = self.kills % len(self.workers)
        victim = self.workers[number]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        self.workers[number] = self.start_worker(number)
        self.kills += 1


def stand_in_apps() -> list[str]:
    return [
        "--app", f"telegram:{TELEGRAM_BOT}:{TELEGRAM_TOKEN}",
        "--app", f"feishu:{FEISHU_APP}:{FEISHU['app_secret']}",
    ]  # fmt: skip


def setup_database(env: dict[str, str], chats: int) -> None:
    for argv in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "-v", "0"]):
        subprocess.run([PYTHON, "manage.py", *argv], cwd=ROOT, env=env, check=True, timeout=600)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    from apps.ai_assistant.models import ChannelApp, ChannelIdentity

    ChannelApp.objects.create_app(
        "telegram", TELEGRAM_BOT, bot_token=TELEGRAM_TOKEN, webhook_secret=TELEGRAM_SECRET
    )
    ChannelApp.objects.create_app("feishu", FEISHU_APP, **FEISHU)
    wh1 = get_user_model().objects.get(username="wh1")
    identities = []
    for chat in range(chats):
        if chat % 2 == 0:
            identities.append(("telegram", str(telegram_sender(chat))))
        else:
            identities.append(("feishu", feishu_sender(chat)))
    ChannelIdentity.objects.bulk_create(
        ChannelIdentity(channel=channel, external_user_id=external, user=wh1)
        for channel, external in identities
    )
    connections.close_all()


# --- faults ------------------------------------------------------------------------------


def schedule_faults(stand_in_url: str, args, send_seconds: float) -> list[str]:
    """Ask the stand-in for the platform faults of this run; what was scheduled, in words."""
    import httpx

    plans = []
    if args.outage:
        start = send_seconds * args.outage_at
        for platform in ("telegram", "feishu"):
            plans.append({"platform": platform, "kind": "server_error", "endpoint": "api",
                          "start_in": start, "duration": args.outage})  # fmt: skip
    if args.hangs:
        plans.append({"platform": "telegram", "kind": "timeout", "endpoint": "api",
                      "count": args.hangs, "seconds": args.hang_seconds,
                      "start_in": send_seconds * 0.15})  # fmt: skip
    if args.rate_limit_burst:
        plans.append({"platform": "telegram", "kind": "rate_limit", "endpoint": "api",
                      "count": args.rate_limit_burst, "retry_after": 2,
                      "start_in": send_seconds * 0.6})  # fmt: skip
    if args.expired_token:
        plans.append({"platform": "feishu", "kind": "expired_token", "endpoint": "api",
                      "count": 1, "start_in": send_seconds * 0.7})  # fmt: skip
    described = []
    for plan in plans:
        httpx.post(f"{stand_in_url}/_control/faults", json=plan, timeout=5).raise_for_status()
        what = f"{plan['platform']} {plan['kind']}"
        if "duration" in plan:
            what += f" for {plan['duration']:.0f} s"
        else:
            what += f" ×{plan['count']}"
        described.append(f"{what} at {plan['start_in']:.0f} s")
    return described


# --- driving -------------------------------------------------------------------------------


def drive(base_url: str, messages: list[Message], stack: Stack, args) -> None:
    """Send every message open-loop at the rate, each chat's in order (like a platform, a
    chat's next message goes out once the previous one got its 200); a share is sent twice
    (the platform's retry); the worker kills and the Redis restart happen as messages are
    accepted."""
    from devtools import webhook_client

    accepted = 0
    lock = threading.Lock()
    retry = random.Random(7)
    redis_restart_at = int(len(messages) * args.redis_restart_at) if args.redis_restart else -1
    previous_done: dict[int, threading.Event] = {}

    def post(message: Message, after: threading.Event | None, done: threading.Event) -> None:
        nonlocal accepted
        try:
            if after is not None:
                after.wait()
            for _attempt in range(5):  # a platform retries a request that got no 200
                try:
                    response = webhook_client.send(base_url, message.request, timeout=10)
                    if response.status_code == 200:
                        break
                except Exception:  # noqa: BLE001  (a dropped connection is a non-200 too)
                    pass
                time.sleep(1)
            else:
                return
            if retry.random() < args.platform_retries:
                webhook_client.send(base_url, message.request, timeout=10)
        finally:
            done.set()
        with lock:
            message.accepted = True
            accepted += 1
            count = accepted
        if args.kill_every and count % args.kill_every == 0:
            stack.kill_a_worker()
        if count == redis_restart_at:
            stack.restart_redis()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(32, args.chats + 8)) as pool:
        for number, message in enumerate(messages):
            due = started + number / args.rate
            while (delay := due - time.monotonic()) > 0:
                time.sleep(min(delay, 0.05))
            if STOP.is_set():
                break
            message.sent_at = time.time()
            done = threading.Event()
            pool.submit(post, message, previous_done.get(message.chat), done)
            previous_done[message.chat] = done


def replies(stand_in_url: str) -> list[dict]:
    import httpx

    return httpx.get(f"{stand_in_url}/_control/sent", timeout=30).json()


def drain(stand_in_url: str, messages: list[Message], timeout: float) -> float:
    """Wait until every accepted message has a reply or is a dead letter; seconds waited."""
    from apps.ai_assistant.models import InboundMessage

    wanted = {message.reply_key for message in messages if message.accepted}
    started = time.monotonic()
    while time.monotonic() - started < timeout and not STOP.is_set():
        answered = {str(sent.get("reply_to")) for sent in replies(stand_in_url)}
        dead = set(
            InboundMessage.objects.filter(status="dead").values_list("external_id", flat=True)
        )
        if wanted <= answered | dead:
            break
        time.sleep(1)
    return time.monotonic() - started


# --- the verdict ---------------------------------------------------------------------------


def verdict(messages: list[Message], sent: list[dict]) -> dict:
    from apps.ai_assistant.models import InboundMessage

    by_key = {message.reply_key: message for message in messages}
    answers = Counter(str(entry.get("reply_to")) for entry in sent)
    dead = dict(InboundMessage.objects.filter(status="dead").values_list("external_id", "error"))
    accepted = [message for message in messages if message.accepted]
    lost = [m for m in accepted if answers[m.reply_key] == 0 and m.reply_key not in dead]
    duplicated = [m for m in accepted if answers[m.reply_key] > 1]
    order = defaultdict(list)
    for entry in sent:
        message = by_key.get(str(entry.get("reply_to")))
        if message is not None:
            order[(message.channel, message.chat)].append(message.index)
    disordered = {
        f"{channel}:{chat}": indexes
        for (channel, chat), indexes in order.items()
        if any(b < a for a, b in zip(indexes, indexes[1:], strict=False))
    }
    out_of_order = sum(
        1 for indexes in order.values() for a, b in zip(indexes, indexes[1:], strict=False) if b < a
    )
    reasons = Counter(error.split(":")[0][:60] for error in dead.values())
    latencies = sorted(
        datetime.fromisoformat(entry["at"]).timestamp() - by_key[str(entry["reply_to"])].sent_at
        for entry in sent
        if str(entry.get("reply_to")) in by_key
    )
    return {
        "messages": len(messages),
        "accepted": len(accepted),
        "replies": len(sent),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "out_of_order": out_of_order,
        "dead_letters": len(dead),
        "dead_letter_reasons": dict(reasons),
        "reply_seconds": {
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "max": latencies[-1] if latencies else 0.0,
        },
        "lost_examples": [m.reply_key for m in lost[:10]],
        "duplicated_examples": [f"{m.channel}:{m.reply_key}" for m in duplicated[:10]],
        "out_of_order_examples": dict(list(disordered.items())[:5]),
    }


def percentile(values: list[float], share: float) -> float:
    return values[min(int(len(values) * share), len(values) - 1)] if values else 0.0


def report(summary: dict) -> None:
    print()
    print(f"messages sent {summary['messages']}, accepted {summary['accepted']}, "
          f"replies recorded by the platforms {summary['replies']}")  # fmt: skip
    print(f"chaos: {summary['kills']} worker kills (kill -9), {summary['redis_restarts']} Redis "
          f"restart(s), faults: {'; '.join(summary['faults']) or 'none'}")  # fmt: skip
    print(f"lost {summary['lost']}   duplicated {summary['duplicated']}   "
          f"out of order {summary['out_of_order']}   dead letters {summary['dead_letters']} "
          f"{summary['dead_letter_reasons'] or ''}")  # fmt: skip
    seconds = summary["reply_seconds"]
    print(f"sending took {summary['send_seconds']:.1f} s; drained "
          f"{summary['drain_seconds']:.1f} s after the last send; reply after "
          f"p50 {seconds['p50']:.1f} s, p95 {seconds['p95']:.1f} s, "
          f"max {seconds['max']:.1f} s")  # fmt: skip
    met = summary["lost"] == summary["duplicated"] == summary["out_of_order"] == 0
    print(f"verdict: {'0 lost, 0 duplicated, 0 out of order' if met else 'FAILED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/chaos.py", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--kill-every", type=int, default=500, help="0: no kills")
    parser.add_argument("--platform-retries", type=float, default=0.05)
    parser.add_argument("--redis-restart", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--redis-restart-at", type=float, default=0.5)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds of 5xx; 0: none")
    parser.add_argument("--outage-at", type=float, default=0.3)
    parser.add_argument("--hangs", type=int, default=3)
    parser.add_argument("--hang-seconds", type=float, default=12.0)
    parser.add_argument("--rate-limit-burst", type=int, default=20)
    parser.add_argument("--expired-token", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--json", help="also write the summary to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)

    def on_signal(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, on_signal)
    tmp = Path(tempfile.mkdtemp(prefix="ble_chaos_"))
    children = Children()
    database = Database(tmp)
    try:
        database.create()
        redis_port = free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        stand_in_port = free_port()
        stand_in_url = f"http://127.0.0.1:{stand_in_port}"
        env = {
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("DJANGO_", "CELERY_", "AI_ASSISTANT_"))
            },
            "DJANGO_SETTINGS_MODULE": "better_laser_erp.settings",
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "development",
            "SECRET_KEY": "chaos-" + os.urandom(24).hex(),
            "VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": database.url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": f"ble_chaos_{os.getpid()}",
            "CELERY_BROKER_URL": redis_url,
            "AI_ASSISTANT_USE_ASYNC": "true",
            "AI_ASSISTANT_PLATFORMS_STAND_IN": stand_in_url,
            "AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS": "5",
            "AI_ASSISTANT_RATE_LIMIT_PER_MINUTE": "0",
            "AI_ASSISTANT_LLM_BASE_URL": "",
            "LOG_LEVEL": "WARNING",
        }
        stack = Stack(args, tmp, children, env)
        stack.start_redis()
        stand_in = children.start(
            "platform stand-in",
            [PYTHON, "-m", "devtools.platforms", "--port", str(stand_in_port),
             "--max-sent", str(args.messages * 3 + 1000), *stand_in_apps()],
            env,
            tmp / "platforms.log",
        )  # fmt: skip
        wait_for(lambda: http_ok(f"{stand_in_url}/_control/apps"), 30, "stand-in", proc=stand_in)
        print(
            f"setting up: {database.vendor} database, {args.workers} workers, "
            f"{args.messages} messages from {args.chats} chats at {args.rate}/s",
            flush=True,
        )
        setup_database(env, args.chats)
        messages = build_messages(args.messages, args.chats)
        base_url = stack.start(free_port())
        send_seconds = args.messages / args.rate
        faults = schedule_faults(stand_in_url, args, send_seconds)
        started = time.monotonic()
        drive(base_url, messages, stack, args)
        sent_for = time.monotonic() - started
        print(f"sent for {sent_for:.1f} s; draining ...", flush=True)
        drained = drain(stand_in_url, messages, args.drain_timeout)
        summary = verdict(messages, replies(stand_in_url))
        summary.update(
            kills=stack.kills,
            redis_restarts=stack.redis_restarts,
            faults=faults,
            send_seconds=sent_for,
            drain_seconds=drained,
            database=database.vendor,
        )
        report(summary)
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=2))
        return 0 if summary["lost"] == summary["duplicated"] == summary["out_of_order"] == 0 else 1
    finally:
        shutdown(children, database, tmp, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
