"""How long the report builders take: on the demo company, then on larger ones.

    .venv/bin/python bench/reports.py                          # demo, 1k and 10k items
    .venv/bin/python bench/reports.py --steps 1000:12,30000:50 --repeat 3

It makes a database `ble_reports_bench_<pid>` on PostgreSQL 127.0.0.1:5432 (dropped at the
end), migrates it and seeds the demo company (with its six months of history), then for each
step grows it with `manage.py seed_scale --items N --warehouses W` and measures, in a fresh
process each time:

- each builder, best of --repeat: the inventory valuation of every warehouse (and its
  largest warehouse part alone: what one parallel worker does), the sales report of this
  month, of the last 30 days and of this year, the reorder plan of every warehouse;
- the queries each build runs, the rows of its largest sheet;
- render_xlsx of the result (seconds and size);
- whether its totals are right: each is compared with a differently written aggregate.

Figures only: nothing here is a test, and the machine's load shows in them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"


# --- the measuring child ------------------------------------------------------------------


def measure(repeat: int) -> dict:
    import django

    django.setup()
    from decimal import Decimal

    from django.db import connection
    from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.inventory.models import Item, StockLevel
    from apps.inventory.reports import inventory_valuation, valuation_part
    from apps.purchasing.reports import reorder_plan
    from apps.reporting.xlsx import render_xlsx
    from apps.sales.models import SalesOrder
    from apps.sales.reports import BOOKED_STATUSES, period_for, sales_report

    today = timezone.localdate()
    cent = Decimal("0.01")

    def timed(build) -> dict:
        best, report, queries = None, None, 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                report = build()
                seconds = time.perf_counter() - started
            best = seconds if best is None else min(best, seconds)
            queries = len(captured)
        started = time.perf_counter()
        data = render_xlsx(report, "zh")
        return {
            "report": report,
            "seconds": best,
            "queries": queries,
            "rows": max((len(sheet.rows) for sheet in report.sheets), default=0),
            "xlsx_seconds": time.perf_counter() - started,
            "xlsx_kb": len(data) / 1024,
        }

    def stock_value(**filters) -> Decimal:
        value = ExpressionWrapper(
            F("actual_qty") * F("item__standard_cost"),
            output_field=DecimalField(max_digits=28, decimal_places=5),
        )
        total = StockLevel.objects.filter(**filters).aggregate(total=Sum(value))["total"]
        return (total or Decimal(0)).quantize(cent)

    def sales_total(start, end) -> Decimal:
        orders = SalesOrder.objects.filter(
            doc_type="order", status__in=BOOKED_STATUSES, order_date__range=(start, end)
        )
        return (orders.aggregate(total=Sum("grand_total"))["total"] or Decimal(0)).quantize(cent)

    results = {}
    run = timed(lambda: inventory_valuation())
    run["right"] = Decimal(run["report"].summary["total_value"]) == stock_value()
    results["inventory_valuation (all)"] = run

    largest = (
        StockLevel.objects.values("warehouse__code")
        .annotate(rows=Count("id"))
        .order_by("-rows")
        .values_list("warehouse__code", flat=True)
        .first()
    )
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        part = valuation_part(largest)
        seconds = time.perf_counter() - started
    results[f"valuation_part ({largest})"] = {
        "seconds": seconds,
        "queries": len(captured),
        "rows": len(part["items"]),
        "json_kb": len(json.dumps(part)) / 1024,
        "right": Decimal(part["value"]) == stock_value(warehouse__code=largest),
    }

    for name in ("this_month", "last_30_days", "this_year"):
        start, end = period_for(name, today)
        run = timed(lambda start=start, end=end: sales_report(start, end))
        run["right"] = Decimal(run["report"].summary["total"]) == sales_total(start, end)
        results[f"sales_report ({name})"] = run

    run = timed(lambda: reorder_plan())
    lines = run["report"].summary["lines"]
    run["right"] = lines == len(run["report"].sheet("Plan").rows)
    results["reorder_plan (all)"] = run

    for figures in results.values():
        figures.pop("report", None)
    return {
        "items": Item.objects.count(),
        "stock_rows": StockLevel.objects.count(),
        "orders": SalesOrder.objects.count(),
        "builders": results,
    }


# --- the parent ---------------------------------------------------------------------------


def manage(env: dict, *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="1000:12,10000:30", help="items:warehouses, …")
    parser.add_argument("--repeat", type=int, default=3, help="builds per figure (best kept)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.repeat)))
        return 0

    database = f"ble_reports_bench_{os.getpid()}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{database}",
        "DJANGO_SETTINGS_MODULE": "better_laser_erp.settings",
        "PYTHONPATH": str(ROOT),
    }
    try:
        manage(env, "migrate", "-v0")
        seconds = manage(env, "seed_demo", "-v0")
        print(f"seed_demo (with its history): {seconds:.1f} s", flush=True)
        steps = [("demo", None)] + [
            (step, tuple(int(n) for n in step.split(":"))) for step in args.steps.split(",")
        ]
        for label, size in steps:
            if size:
                seconds = manage(
                    env, "seed_scale", "--items", str(size[0]), "--warehouses", str(size[1])
                )
                print(f"seed_scale {label}: {seconds:.0f} s", flush=True)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", "--repeat", str(args.repeat)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            report(label, json.loads(child.stdout.decode().strip().splitlines()[-1]))
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", database], check=False)
    return 0


def report(label: str, figures: dict) -> None:
    print()
    print(
        f"{label}: {figures['items']} items, {figures['stock_rows']} stock rows, "
        f"{figures['orders']} sales orders"
    )
    print(f"  {'builder':<34} {'ms':>9} {'queries':>7} {'rows':>8} {'xlsx ms':>9} {'KB':>8} right")
    for name, f in figures["builders"].items():
        xlsx_ms = f"{f['xlsx_seconds'] * 1000:9.0f}" if "xlsx_seconds" in f else f"{'-':>9}"
        size = f.get("xlsx_kb", f.get("json_kb", 0))
        print(
            f"  {name:<34} {f['seconds'] * 1000:9.1f} {f['queries']:>7} {f['rows']:>8} "
            f"{xlsx_ms} {size:8.0f} {f['right']}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
