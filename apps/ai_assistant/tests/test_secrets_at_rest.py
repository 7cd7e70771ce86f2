"""Chat apps' secrets and access tokens are encrypted in the database, and the key rotates."""

from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.ai_assistant.models import AccessToken, ChannelApp

SECRETS = {"token": "tok-SECRET-1", "encoding_aes_key": "k" * 43, "app_secret": "app-SECRET-2"}


def stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def app(db):
    return ChannelApp.objects.create_app("wechat", "wx1", **SECRETS)


def test_the_database_holds_no_secret_in_plain_text(app):
    raw = stored("ai_assistant_channelapp", "secrets", app.pk)
    assert raw.startswith("gAAAAA")
    for value in SECRETS.values():
        assert value not in raw
    assert ChannelApp.objects.get(pk=app.pk).credentials.app_secret == SECRETS["app_secret"]


def test_an_access_token_is_encrypted_too(app):
    row = AccessToken.objects.create(
        app=app, token="ACCESS-TOKEN-VALUE", expires_at=timezone.now() + timedelta(hours=2)
    )
    assert "ACCESS-TOKEN-VALUE" not in stored("ai_assistant_accesstoken", "token", row.pk)
    assert AccessToken.objects.get(pk=row.pk).token == "ACCESS-TOKEN-VALUE"


def test_no_secrets_are_stored_as_nothing(db):
    app = ChannelApp.objects.create_app("dingtalk", "ding1")
    assert stored("ai_assistant_channelapp", "secrets", app.pk) == ""
    assert ChannelApp.objects.get(pk=app.pk).secrets == {}


def test_the_key_rotates_without_losing_a_secret(app, settings):
    old_key = settings.SECRETS_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = stored("ai_assistant_channelapp", "secrets", app.pk)
    settings.SECRETS_ENCRYPTION_KEYS = [new_key, old_key]
    output = StringIO()
    call_command("rotate_secrets_key", stdout=output)
    assert "1 rows" in output.getvalue()
    assert stored("ai_assistant_channelapp", "secrets", app.pk) != before
    settings.SECRETS_ENCRYPTION_KEYS = [new_key]
    assert ChannelApp.objects.get(pk=app.pk).secrets == SECRETS


def test_a_missing_key_is_a_clear_error_that_shows_no_secret(app, settings):
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured) as error:
        ChannelApp.objects.get(pk=app.pk)
    assert "SECRETS_ENCRYPTION_KEYS" in str(error.value)
    assert "gAAAA" not in str(error.value)


def test_new_key_prints_a_usable_key(db):
    output = StringIO()
    call_command("rotate_secrets_key", "--new-key", stdout=output)
    Fernet(output.getvalue().strip().encode())
