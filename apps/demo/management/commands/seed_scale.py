"""manage.py seed_scale: grow the demo company into a large one, for scale tests. DEV ONLY.

Deterministic for a seed and sizes, and safe to run again: the same sizes add nothing, larger
ones add the difference. Run seed_demo first. See apps/demo/scale.py.
"""

import time
from io import StringIO

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.demo.scale import Sizes, default_stock_rows, grow


class Command(BaseCommand):
    help = "Add a large, deterministic catalogue, stock and sales history (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=1000, help="catalogue items (1000)")
        parser.add_argument("--warehouses", type=int, default=12, help="warehouses (12)")
        parser.add_argument(
            "--stock-rows",
            type=int,
            help="item × warehouse stock rows (a quarter of all pairs, at most all of them)",
        )
        parser.add_argument("--orders", type=int, help="sales orders (3 per item)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (1)")

    def handle(self, *args, **options):
        if settings.ENVIRONMENT != "development":
            raise CommandError(
                "seed_scale fills the database with made-up records: development only "
                f"(ENVIRONMENT is {settings.ENVIRONMENT!r})."
            )
        sizes = self._sizes(options)
        log = self.stdout.write if options["verbosity"] else lambda line: None
        log(
            f"Growing to {sizes.items} items, {sizes.warehouses} warehouses, "
            f"{sizes.stock_rows} stock rows, {sizes.orders} sales orders (seed {options['seed']})"
        )
        started = time.monotonic()
        try:
            created = grow(sizes, seed=options["seed"], today=timezone.localdate(), log=log)
        except LookupError as error:
            raise CommandError(str(error)) from error
        log(f"Created in {time.monotonic() - started:.1f} s:")
        for label, count in sorted(created.items()):
            log(f"  {label:<32}{count:>8}")
        if not created:
            log("  nothing: the database already has these sizes")
        elif "index_names" in get_commands():
            # The assistant's index of record names is kept by signals, which bulk_create
            # skips; its own command rebuilds it (called by name: apps.demo does not import
            # the assistant).
            started = time.monotonic()
            call_command("index_names", stdout=self.stdout if options["verbosity"] else StringIO())
            log(f"Name index rebuilt in {time.monotonic() - started:.1f} s")

    @staticmethod
    def _sizes(options) -> Sizes:
        items, warehouses = options["items"], options["warehouses"]
        stock_rows, orders = options["stock_rows"], options["orders"]
        if stock_rows is None:
            stock_rows = default_stock_rows(items, warehouses)
        if orders is None:
            orders = items * 3
        if min(items, warehouses, stock_rows, orders) < 0:
            raise CommandError("Sizes cannot be negative.")
        return Sizes(items, warehouses, min(stock_rows, items * warehouses), orders)
