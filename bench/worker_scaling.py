"""Throughput of chat turns and of reports against the number of worker processes.

    .venv/bin/python bench/worker_scaling.py                    # 1 … cores processes
    .venv/bin/python bench/worker_scaling.py --messages 600 --reports 20 --max-processes 3

The same stack as bench/report_priority.py, started and stopped by itself on loopback (a
private Redis, the platforms' stand-in, a scratch PostgreSQL database `ble_scaling_<pid>`
grown with `seed_scale`, gunicorn), then, one configuration at a time, in one run:

  chat     a worker `-Q messages,tools,maintenance`, prefork `-c 1` … `-c <cores>`, and the
           threads pool `-c 8` (a turn's sends and an LLM's answers are waits, not CPU):
           --messages stock questions ("NZ-S1.5 库存"), each from its own chat, sent
           open-loop at --rate (faster than any worker answers), end to end: messages/s
           from the first send to the last reply the stand-in recorded;
  reports  a reports worker `-Q reports`, prefork `-c 1` … `-c <cores>` (and a chat worker
           `-c 1` for the turns that ask and the deliveries of the files): the --reports
           different report requests of bench/report_priority.py in a burst, reports/min
           from the first request to the last file received.

Every worker runs at `nice -n 19`, as deploy/ runs it. Figures only, never a test; the
machine's load is printed (`uptime`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report_priority import (  # noqa: E402  (the bench's own helpers, after the path)
    CHAT_QUEUES,
    Stack,
    Worker,
    ask_questions,
    await_answers,
    company_size,
    forget_report_files,
    latencies,
    positive,
    positive_items,
    read_jobs,
    report_file,
    request_reports,
    run,
    uptime,
    wait_for_jobs,
)
from bench.webhook_ack import pct  # noqa: E402


@dataclass
class Row:
    """One configuration's figures."""

    queue: str
    pool: str
    concurrency: int
    done: int
    asked: int
    seconds: float
    p50: float = float("nan")
    p95: float = float("nan")
    note: str = ""

    @property
    def throughput(self) -> float:
        per = 60 if self.queue == "reports" else 1
        return self.done / self.seconds * per if self.seconds else float("nan")


def chat_round(stack: Stack, pool: str, concurrency: int, args: argparse.Namespace) -> Row:
    """Stock questions at a rate above capacity through one chat worker: messages/s."""
    stack.start_workers([Worker("chat", CHAT_QUEUES, concurrency, pool, args.nice)])
    try:
        ask_questions(stack, max(10, concurrency * 2), 0.05, timeout=60)  # warm every process
        asks = ask_questions(stack, args.messages, 1 / args.rate, timeout=args.timeout)
    finally:
        stack.stop_workers()
    answered = [ask.answered_at for ask in asks if ask.answered_at is not None]
    seconds = max(answered) - min(ask.sent_at for ask in asks) if answered else 0.0
    times = latencies(asks)
    return Row(
        "chat", pool, concurrency, len(answered), len(asks), seconds,
        pct(times, 50), pct(times, 95),
    )  # fmt: skip


def report_round(stack: Stack, concurrency: int, args: argparse.Namespace) -> Row:
    """The report requests in a burst through a reports worker of `concurrency` processes:
    reports/min."""
    workers = [
        Worker("chat", CHAT_QUEUES, 1, nice=args.nice),
        Worker("reports", "reports", concurrency, nice=args.nice),
    ]
    stack.start_workers(workers)
    try:
        ask_questions(stack, 5, 0.05, timeout=60)
        forget_report_files()  # the same requests as the last round: none from the cache
        asks = request_reports(stack, args.reports)
        wait_for_jobs(asks, timeout=120)
        await_answers(stack.stand_in_url, asks, report_file, args.timeout, "reports")
        jobs = read_jobs(asks)
    finally:
        stack.stop_workers()
    answered = [ask.answered_at for ask in asks if ask.answered_at is not None]
    seconds = max(answered) - min(ask.sent_at for ask in asks) if answered else 0.0
    times = latencies(asks)
    note = f"from the cache {jobs.from_cache}" + (
        f", jobs {jobs.statuses}" if set(jobs.statuses) != {"succeeded"} else ""
    )
    return Row(
        "reports", "prefork", concurrency, len(answered), len(asks), seconds,
        pct(times, 50), pct(times, 95), note,
    )  # fmt: skip


def configurations(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    processes = range(1, args.max_processes + 1)
    chosen = [("chat", "prefork", n) for n in processes]
    chosen += [("chat", "threads", args.threads)]
    chosen += [("reports", "prefork", n) for n in processes]
    return [c for c in chosen if not args.only or c[0] in args.only]


def print_table(rows: list[Row], args: argparse.Namespace, loads: list[str]) -> None:
    print()
    print(f"company: {company_size()}; database: postgresql; cpus: {os.cpu_count()}")
    for moment, load in zip(("before", "after"), loads, strict=False):
        print(f"load {moment}: {load}")
    print(
        f"chat: {args.messages} × 'NZ-S1.5 库存' sent at {args.rate:.0f}/s, each from its own "
        f"chat; reports: {args.reports} different ones in a burst; workers at nice {args.nice}"
    )
    header = (
        f"{'queue':<9}{'pool':<9}{'-c':>4}{'done':>10}{'seconds':>9}{'throughput':>22}"
        f"{'p50 s':>8}{'p95 s':>8}  note"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        unit = "reports/min" if row.queue == "reports" else "msg/s"
        print(
            f"{row.queue:<9}{row.pool:<9}{row.concurrency:>4}{f'{row.done}/{row.asked}':>10}"
            f"{row.seconds:>9.1f}{row.throughput:>10.1f} {unit:<11}{row.p50:>8.2f}{row.p95:>8.2f}"
            f"  {row.note}"
        )
    print("p50/p95: a message's (a report's) time from its send to its reply (file).")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/worker_scaling.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=positive, default=400, help="chat, per row (400)")
    parser.add_argument("--rate", type=float, default=100.0, help="chat sends per second (100)")
    parser.add_argument("--reports", type=positive, default=20, help="reports, per row (20)")
    parser.add_argument(
        "--max-processes", type=positive, default=os.cpu_count() or 1, help="(the cores)"
    )
    parser.add_argument("--threads", type=positive, default=8, help="threads pool row (8)")
    parser.add_argument("--items", type=positive_items, default=5000, help="seed_scale (5000)")
    parser.add_argument("--warehouses", type=positive, default=20, help="seed_scale (20)")
    parser.add_argument("--nice", type=int, default=19, help="workers' niceness (19)")
    parser.add_argument("--only", choices=["chat", "reports"], action="append")
    parser.add_argument("--timeout", type=float, default=900.0, help="per row, seconds (900)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)
    if not 1 <= args.rate <= 1000:
        parser.error("--rate must be 1..1000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("redis-server"):
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    loads = [uptime()]

    def body(stack: Stack) -> None:
        rows = []
        for queue, pool, concurrency in configurations(args):
            print(f"{queue}: -P {pool} -c {concurrency} ...", flush=True)
            if queue == "chat":
                rows.append(chat_round(stack, pool, concurrency, args))
            else:
                rows.append(report_round(stack, concurrency, args))
        loads.append(uptime())
        print_table(rows, args, loads)

    return run(args, body, prefix="ble_scaling_")


if __name__ == "__main__":
    sys.exit(main())
