"""manage.py seed_demo: create or update the demo company (safe to run again)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.demo.roles import DEMO_USERS, demo_password
from apps.demo.seed import row_counts, seed


class Command(BaseCommand):
    help = "Create or update the demo company: users, items, stock, orders, tickets."

    def handle(self, *args, **options):
        created_users = seed()
        if options["verbosity"] == 0:
            return
        self.stdout.write("Demo company ready. Rows per table:")
        for label, count in sorted(row_counts().items()):
            self.stdout.write(f"  {label:<32}{count:>6}")
        if settings.DEBUG or settings.ENVIRONMENT == "development":
            self.stdout.write("Demo users (passwords are set only when a user is created):")
            for username in DEMO_USERS:
                note = " (new)" if username in created_users else ""
                self.stdout.write(f"  {username:<8} {demo_password(username)}{note}")
        else:
            self.stdout.write("Demo passwords are shown only in development.")
