"""manage.py demo_channels: the local demo's chat apps and bound chat accounts. DEV ONLY.

Creates (or resets) one ChannelApp per registered channel with the fixed, public, fake ids and
secrets of its test kit (apps/ai_assistant/channels/<name>/testkit.py), and binds the demo chat
accounts to the demo users wh1 and sales1 (run seed_demo first). Safe to run again. Refuses to
run outside ENVIRONMENT=development; `--delete` removes the demo apps and identities again.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.ai_assistant.channels import CHANNELS
from apps.ai_assistant.models import ChannelApp, ChannelIdentity
from devtools.webhook_client import testkit


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
        kits = {channel: testkit(channel) for channel in sorted(CHANNELS)}
        if delete:
            self._delete(kits)
            return
        users = get_user_model().objects.in_bulk(
            {name for kit in kits.values() for name in kit.DEMO_SENDERS}, field_name="username"
        )
        with transaction.atomic():
            for channel, kit in kits.items():
                self._create_app(channel, kit)
                for username, external_user_id in kit.DEMO_SENDERS.items():
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

    def _create_app(self, channel: str, kit) -> None:
        fields = dict(kit.DEMO_APP)
        app_id, name = fields.pop("app_id"), fields.pop("name", "")
        app = ChannelApp.objects.filter(channel=channel, app_id=app_id).first()
        created = app is None
        if created:
            app = ChannelApp(channel=channel, app_id=app_id)
        app.name, app.enabled, app.options, app.secrets = name, True, {}, {}
        app.configure(**fields)
        app.save()
        self.stdout.write(
            f"{'created' if created else 'updated'} {channel} app {app_id}: "
            f"webhook /webhooks/{channel}/{app_id}/"
        )

    def _delete(self, kits) -> None:
        with transaction.atomic():
            for channel, kit in kits.items():
                ChannelApp.objects.filter(channel=channel, app_id=kit.DEMO_APP["app_id"]).delete()
                ChannelIdentity.objects.filter(
                    channel=channel, external_user_id__in=kit.DEMO_SENDERS.values()
                ).delete()
        self.stdout.write("Removed the demo chat apps and their chat accounts.")
