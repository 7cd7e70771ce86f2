"""Secrets encrypted at rest: chat apps' secrets, webhook tokens, AES keys, access tokens.

A database dump, a backup or a read-only SQL account must not hand out the keys to every
bot. Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the keys in the
SECRETS_ENCRYPTION_KEYS setting: the first key encrypts, every key decrypts, so a key is
rotated by putting a new one first, running `manage.py rotate_secrets_key` (which re-encrypts
every stored secret under it) and then dropping the old one.

An empty value stays empty (it means "not set"). Encryption is randomised, so these columns
cannot be searched or compared in SQL: compare in Python after reading.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("SECRETS_ENCRYPTION_KEYS is empty")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "SECRETS_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes each; "
            "make one with `manage.py rotate_secrets_key --new-key`)"
        ) from error


def keyring() -> MultiFernet:
    return _keyring(tuple(settings.SECRETS_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return keyring().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    try:
        return keyring().decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as error:
        # Never the value itself in the message: it may be a secret stored unencrypted.
        raise ImproperlyConfigured(
            "a stored secret cannot be decrypted: SECRETS_ENCRYPTION_KEYS lacks the key it "
            "was encrypted with"
        ) from error


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the plain value."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return value if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if value is None else encrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON object stored as one Fernet token; Python code sees the dict. Empty: {}."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return json.loads(decrypt(value)) if value else {}

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return value
        if not value:
            return ""
        return encrypt(json.dumps(value, sort_keys=True, ensure_ascii=False))

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), sort_keys=True)
