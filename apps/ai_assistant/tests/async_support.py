"""Real parts for the async-mode tests: a private redis-server per test session, Celery
workers (in a thread, or as a separate process that a test may kill -9), and waiting."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis
from celery.contrib.testing.worker import start_worker
from django.db import connection

from better_laser_erp.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port, so stopping it touches nothing else."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed; .ci/run installs and starts it")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05):
    """Poll until condition() is truthy; its value, or AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def database_url() -> str:
    """The URL of the database this test runs on, for a worker in another process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


class WorkerProcess:
    """`celery -A better_laser_erp worker` as a child process, with the test's settings."""

    def __init__(self, environment: dict[str, str], log_path: Path) -> None:
        self.environment = environment
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        env = {**os.environ, **self.environment, "DATABASE_URL": database_url()}
        self.log = open(self.log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "better_laser_erp", "worker"]
            + ["-l", "info", "-P", "solo", "-c", "1", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        """kill -9: no shutdown, no acks, exactly like a crashed machine."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def point_celery_at(broker_url: str) -> None:
    celery_app.conf.update(broker_url=broker_url, result_backend=broker_url)
    # Forget connections and the result backend made for an earlier broker URL.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)
    for task in celery_app.tasks.values():
        task.backend = None


ALL_QUEUES = ("messages", "tools", "maintenance", "reports")
# What a chat worker consumes in deploy/ (the reports worker takes "reports").
CHAT_QUEUES = ("messages", "tools", "maintenance")


def worker_thread(queues: tuple[str, ...] = ALL_QUEUES):
    """A real Celery worker in a thread of this process, consuming `queues` (every one)."""
    return start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=15,
        queues=list(queues),
    )
