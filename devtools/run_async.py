"""Run the async-mode stack locally, in the foreground, and stop all of it on Ctrl-C.

    python -m devtools.run_async        (what `make run-async` runs after setting up)

Starts, each as a child process with its output prefixed by its name:
  platforms  python -m devtools.platforms --port 9100 with the demo apps (devtools/demo.py)
  web        gunicorn better_laser_erp.wsgi:application on 127.0.0.1:8000
  worker     celery -A better_laser_erp worker -Q messages,tools,maintenance (chat turns,
             tools, periodic tasks) -l info -E (task events for Flower)
  reports    celery -A better_laser_erp worker -Q reports -c 1: report jobs, on a worker of
             their own so a chat turn never waits behind one (README "Sizing workers")
  beat       celery -A better_laser_erp beat -l info, schedule file under var/
  flower     celery -A better_laser_erp flower on 127.0.0.1:5555 (FLOWER_BASIC_AUTH)

Every child gets CELERY_BROKER_URL (default redis://127.0.0.1:6379/0),
AI_ASSISTANT_USE_ASYNC=true and the four platform API bases pointed at the stand-in, unless
the environment already sets them. Redis itself must be running (the Makefile starts it).
Ctrl-C or SIGTERM stops every child (SIGTERM, then SIGKILL after a grace period); if one
child exits on its own, the others are stopped too and the exit status is 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from devtools import demo

ROOT = Path(__file__).resolve().parents[1]
GRACE_SECONDS = 20
# The chat worker's queues; report jobs ("reports") have a worker of their own.
CHAT_QUEUES = "messages,tools,maintenance"
# Flower's login in the local demo (user:password) unless FLOWER_BASIC_AUTH is set.
DEMO_FLOWER_AUTH = "admin:demo-flower-2026"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> Child:
        # A session of its own: the terminal's Ctrl-C reaches only the supervisor, which then
        # stops the children in order (and can kill a child's whole group if it hangs).
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._relay, daemon=True).start()
        return self

    def _relay(self) -> None:
        assert self.process and self.process.stdout
        for line in iter(self.process.stdout.readline, b""):
            sys.stdout.write(f"{self.name:>9} | {line.decode('utf-8', 'replace').rstrip()}\n")
            sys.stdout.flush()

    def running(self) -> bool:
        return bool(self.process and self.process.poll() is None)

    def terminate(self) -> None:
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def kill_group(self) -> None:
        if self.process:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def environment(broker: str, platforms_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CELERY_BROKER_URL", broker)
    env.setdefault("AI_ASSISTANT_USE_ASYNC", "true")
    env.setdefault("AI_ASSISTANT_PLATFORMS_STAND_IN", platforms_url)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def main(argv: list[str] | None = None) -> int:
    demo._django()  # the demo apps come from the channels' test kits
    parser = argparse.ArgumentParser(prog="python -m devtools.run_async", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="gunicorn's address")
    parser.add_argument("--port", type=int, default=8000, help="gunicorn's port")
    parser.add_argument("--platforms-port", type=int, default=9100)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--flower-port", type=int, default=5555)
    parser.add_argument("--schedule", default=str(ROOT / "var" / "celerybeat-schedule"))
    args = parser.parse_args(argv)

    for what, port in (("gunicorn", args.port), ("the platforms stand-in", args.platforms_port)):
        if port_in_use("127.0.0.1", port):
            print(f"Port {port} is taken, {what} cannot start there. Is the stack running already?")
            return 1
    platforms_url = f"http://127.0.0.1:{args.platforms_port}"
    env = environment(args.broker, platforms_url)
    python = sys.executable
    bin_dir = Path(python).parent
    Path(args.schedule).parent.mkdir(parents=True, exist_ok=True)
    children = [
        Child(
            "platforms",
            [python, "-m", "devtools.platforms", "--port", str(args.platforms_port)]
            + demo.platform_args(),
            env,
        ),
        Child(
            "web",
            [str(bin_dir / "gunicorn"), "better_laser_erp.wsgi:application"]
            + ["--bind", f"{args.host}:{args.port}", "--workers", "2", "--threads", "4"]
            + ["--timeout", "120", "--access-logfile", "-"],
            env,
        ),
        Child(
            "worker",
            # -E: task events for Flower (the worker sends them; the webhook's ack is untouched)
            [str(bin_dir / "celery"), "-A", "better_laser_erp", "worker", "-l", "info", "-E"]
            + ["-Q", CHAT_QUEUES, "-n", "chat@%h"],
            env,
        ),
        Child(
            "reports",
            # Long CPU work: one process, at the lowest priority, so the chat's turns and the
            # web get the CPU first.
            ["nice", "-n", "19", str(bin_dir / "celery"), "-A", "better_laser_erp", "worker"]
            + ["-l", "info", "-E", "-Q", "reports", "-c", "1", "-n", "reports@%h"],
            env,
        ),
        Child(
            "flower",
            [str(bin_dir / "celery"), "-A", "better_laser_erp", "flower"]
            + ["--address=127.0.0.1", f"--port={args.flower_port}"],
            {**env, "FLOWER_BASIC_AUTH": env.get("FLOWER_BASIC_AUTH", DEMO_FLOWER_AUTH)},
        ),
        Child(
            "beat",
            [str(bin_dir / "celery"), "-A", "better_laser_erp", "beat", "-l", "info"]
            + ["--schedule", args.schedule],
            env,
        ),
    ]

    stopping = threading.Event()

    def request_stop(signum, frame) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    print(
        f"async stack: broker {env['CELERY_BROKER_URL']}, platform APIs at {platforms_url}, "
        f"ERP at http://{args.host}:{args.port}/  (Ctrl-C stops everything)",
        flush=True,
    )
    for child in children:
        child.start()
    announced = False
    status = 0
    while not stopping.is_set():
        dead = [child for child in children if not child.running()]
        if dead:
            for child in dead:
                print(f"{child.name} exited with status {child.process.returncode}; stopping.")
            status = 1
            break
        if not announced and port_in_use(args.host, args.port):
            announced = True
            print(
                f"Ready: http://{args.host}:{args.port}/admin/  — try `make demo-message` "
                "in another terminal.",
                flush=True,
            )
        stopping.wait(0.5)

    print("Stopping web, workers, beat and the platforms stand-in…", flush=True)
    for child in reversed(children):
        child.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children:
        while child.running() and time.monotonic() < deadline:
            time.sleep(0.1)
    for child in children:
        if child.running():
            print(f"{child.name} did not stop in {GRACE_SECONDS} s; killing it.")
        # Also takes down anything the child left behind in its group (pool processes).
        child.kill_group()
        child.process.wait()
    print("Stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
