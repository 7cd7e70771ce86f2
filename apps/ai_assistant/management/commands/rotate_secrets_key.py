"""Re-encrypt every stored secret under the first of SECRETS_ENCRYPTION_KEYS.

Rotation: put a new key first in SECRETS_ENCRYPTION_KEYS (keep the old one after it), restart
web and workers, run this command, then remove the old key and restart again.
`--new-key` prints a freshly generated key and changes nothing.
"""

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.ai_assistant.encrypted import EncryptedJSONField, EncryptedTextField
from apps.ai_assistant.models import AccessToken, ChannelApp


class Command(BaseCommand):
    help = "Re-encrypt chat apps' secrets and access tokens under the first configured key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key", action="store_true", help="Print a new key and change nothing."
        )

    def handle(self, *args, **options):
        if options["new_key"]:
            self.stdout.write(Fernet.generate_key().decode("ascii"))
            return
        rows = sum(self._rotate(model) for model in (ChannelApp, AccessToken))
        self.stdout.write(f"Re-encrypted the secrets of {rows} rows under the first key.")

    def _rotate(self, model) -> int:
        """Read each row (decrypted with any configured key) and write its secrets back
        (encrypted with the first key)."""
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField | EncryptedJSONField)
        ]
        rows = 0
        with transaction.atomic():
            for pk, *values in model.objects.select_for_update().values_list("pk", *columns):
                model.objects.filter(pk=pk).update(**dict(zip(columns, values, strict=True)))
                rows += 1
        return rows
