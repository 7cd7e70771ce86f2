"""Data versions: one counter per area of ERP data, raised by every service that changes it.

A cache of reports keys on the versions of the areas a report reads: a report made at
versions {inventory: 41} is still right while inventory is at 41.

`bump(area)` is an UPDATE … SET version = version + 1 in the caller's transaction, so the
count and the change commit or roll back together. The row stays locked until the caller's
transaction ends: writers of one area queue on it. Services bump before they lock the
rows they change, and areas in the order inventory, purchasing, sales, so two writers never
wait on each other in opposite orders.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.db.models import F

INVENTORY = "inventory"
SALES = "sales"
PURCHASING = "purchasing"
AREAS = (INVENTORY, PURCHASING, SALES)


class DataVersion(models.Model):
    area = models.CharField(max_length=30, unique=True)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["area"]

    def __str__(self) -> str:
        return f"{self.area} v{self.version}"


def bump(area: str) -> None:
    """Count one change to the area's data, inside the caller's transaction."""
    if area not in AREAS:
        raise ValueError(f"Unknown data area {area!r}; one of {AREAS}.")
    if DataVersion.objects.filter(area=area).update(version=F("version") + 1):
        return
    # The row is missing (a database flushed by a test, say): the first writer makes it.
    try:
        with transaction.atomic():
            DataVersion.objects.create(area=area, version=1)
    except IntegrityError:
        DataVersion.objects.filter(area=area).update(version=F("version") + 1)


def versions(areas: Iterable[str]) -> dict[str, int]:
    """The current version of each area (0 for one never changed)."""
    wanted = list(areas)
    unknown = set(wanted) - set(AREAS)
    if unknown:
        raise ValueError(f"Unknown data areas {sorted(unknown)}; one of {AREAS}.")
    found = dict(DataVersion.objects.filter(area__in=wanted).values_list("area", "version"))
    return {area: found.get(area, 0) for area in wanted}


def bump_on_change(model: type[models.Model], area: str) -> None:
    """Raise the area's version whenever a row of `model` is saved or deleted through the
    ORM (the admin, a shell): the services bump on their own, but an edit made beside them
    must not leave a cached report standing. Before the write, so the version row is locked
    before the changed row, in the order the services take them."""
    from django.db.models.signals import pre_delete, pre_save

    def changed(**_signal_arguments: object) -> None:
        bump(area)

    uid = f"data-version-{model._meta.label}"
    pre_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    pre_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"{uid}-delete")
