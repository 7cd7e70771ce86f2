"""manage.py demo_channels: the local demo's chat apps and bound chat accounts. DEV ONLY.

Creates (or resets) one ChannelApp per platform with the fixed, public, fake ids and secrets
of devtools/demo.py, and binds the demo chat accounts to the demo users wh1 and sales1 (run
seed_demo first). Safe to run again. Refuses to run outside ENVIRONMENT=development; `--delete`
removes the demo apps and identities again.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.ai_assistant.models import ChannelApp, ChannelIdentity
from devtools.demo import DEMO_APPS, DEMO_IDENTITIES


class Command(BaseCommand):
    help = "Create the demo chat apps (one per platform) and bind demo chat accounts (dev only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete", action="store_true", help="remove the demo apps and identities"
        )

    def handle(self, *args, delete: bool = False, **options):
        if settings.ENVIRONMENT != "development":
            raise CommandError(
                "demo_channels creates apps with public, fake secrets: development only "
                f"(ENVIRONMENT is {settings.ENVIRONMENT!r})."
            )
        if delete:
            self._delete()
            return
        users = get_user_model().objects.in_bulk(
            {name for accounts in DEMO_IDENTITIES.values() for name in accounts},
            field_name="username",
        )
        with transaction.atomic():
            for channel, fields in DEMO_APPS.items():
                defaults = {"agent_id": "", "token": "", "encoding_aes_key": "", **fields}
                app_id = defaults.pop("app_id")
                app, created = ChannelApp.objects.update_or_create(
                    channel=channel, app_id=app_id, defaults={**defaults, "enabled": True}
                )
                self.stdout.write(
                    f"{'created' if created else 'updated'} {channel} app {app_id}: "
                    f"webhook /webhooks/{channel}/{app_id}/"
                )
                for username, external_user_id in DEMO_IDENTITIES[channel].items():
                    user = users.get(username)
                    if user is None:
                        raise CommandError(f"no user {username!r}: run manage.py seed_demo first")
                    ChannelIdentity.objects.update_or_create(
                        channel=channel,
                        external_user_id=external_user_id,
                        defaults={"user": user, "display_name": f"demo {username}"},
                    )
                    self.stdout.write(f"  {channel} account {external_user_id} → {username}")
        self.stdout.write(self.style.WARNING("These apps use public demo secrets: dev only."))

    def _delete(self) -> None:
        with transaction.atomic():
            for channel, fields in DEMO_APPS.items():
                ChannelIdentity.objects.filter(
                    channel=channel, external_user_id__in=DEMO_IDENTITIES[channel].values()
                ).delete()
                ChannelApp.objects.filter(channel=channel, app_id=fields["app_id"]).delete()
        self.stdout.write("Removed the demo chat apps and identities.")
