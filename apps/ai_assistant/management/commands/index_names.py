"""manage.py index_names: rebuild the table of names the rule brain finds records by.

Saving or deleting a record keeps its names current by itself; run this after writes that
skip model signals (bulk_create, queryset.update, loaddata, `seed_scale`).
"""

import time

from django.core.management.base import BaseCommand

from apps.ai_assistant.brain import names


class Command(BaseCommand):
    help = "Rebuild the rule brain's name index (NameTerm) from items, warehouses and parties."

    def handle(self, *args, **options):
        started = time.monotonic()
        written = names.rebuild()
        elapsed = time.monotonic() - started
        self.stdout.write(f"indexed {written} names in {elapsed:.1f} s")
