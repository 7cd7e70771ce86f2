"""Data versions: bump counts a change in the caller's transaction; versions reads them."""

import pytest
from django.db import transaction

from apps.reporting.models import AREAS, DataVersion, bump, versions

pytestmark = pytest.mark.django_db


def test_every_area_has_a_version():
    assert set(versions(AREAS)) == set(AREAS)


def test_bump_raises_only_that_areas_version_by_one():
    before = versions(AREAS)
    bump("sales")
    after = versions(AREAS)
    assert after == {**before, "sales": before["sales"] + 1}


def test_a_bump_rolled_back_with_its_transaction_leaves_the_version():
    before = versions(["inventory"])
    with pytest.raises(RuntimeError), transaction.atomic():
        bump("inventory")
        raise RuntimeError("the change failed")
    assert versions(["inventory"]) == before


def test_bump_creates_a_missing_area_row():
    DataVersion.objects.filter(area="purchasing").delete()
    bump("purchasing")
    assert versions(["purchasing"]) == {"purchasing": 1}


def test_an_unknown_area_is_refused():
    with pytest.raises(ValueError, match="Unknown data area"):
        bump("invetory")
    with pytest.raises(ValueError, match="Unknown data areas"):
        versions(["stock"])
