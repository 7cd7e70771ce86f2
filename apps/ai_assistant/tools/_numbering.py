"""Document numbers like ST-2026-0007 that stay unique when two users create at once."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction
from django.db.models.functions import Length
from django.utils import timezone

ATTEMPTS = 5


def yearly_prefix(code: str) -> str:
    return f"{code}-{timezone.localdate().year}-"


def next_number(model: type[models.Model], prefix: str) -> str:
    """The number after the highest one with this prefix (4 digits, more when needed)."""
    numbers = model.objects.filter(number__startswith=prefix)
    last = numbers.order_by(Length("number").desc(), "-number").values_list("number", flat=True)
    latest = last.first()
    sequence = int(latest.rsplit("-", 1)[1]) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


def create_numbered(model: type[models.Model], code: str, **fields) -> models.Model:
    """Create a row with the next free number; a clash with a concurrent insert retries."""
    prefix = yearly_prefix(code)
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return model.objects.create(number=next_number(model, prefix), **fields)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
