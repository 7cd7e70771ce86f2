"""Document numbers like ST-2026-0007 that stay unique when two users create at once."""

from __future__ import annotations

import zlib

from django.db import IntegrityError, connections, models, router, transaction
from django.db.models.functions import Length
from django.utils import timezone

ATTEMPTS = 10


def yearly_prefix(code: str) -> str:
    return f"{code}-{timezone.localdate().year}-"


def next_number(model: type[models.Model], prefix: str) -> str:
    """The number after the highest one with this prefix (4 digits, more when needed)."""
    numbers = model.objects.filter(number__startswith=prefix)
    last = numbers.order_by(Length("number").desc(), "-number").values_list("number", flat=True)
    latest = last.first()
    sequence = int(latest.rsplit("-", 1)[1]) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


def _wait_for_numbering_turn(model: type[models.Model], prefix: str) -> None:
    """On PostgreSQL, queue writers of one number series until their transaction ends.

    Without it, concurrent writers read the same highest number and all but one fail on
    the unique key. SQLite needs nothing: it runs one write transaction at a time.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return
    key = zlib.crc32(f"{model._meta.db_table}:{prefix}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def create_numbered(model: type[models.Model], code: str, **fields) -> models.Model:
    """Create a row with the next free number; a clash with another writer retries."""
    prefix = yearly_prefix(code)
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                _wait_for_numbering_turn(model, prefix)
                return model.objects.create(number=next_number(model, prefix), **fields)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
