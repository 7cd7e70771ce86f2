"""The seeds write rows directly, around the services: each run raises every data version."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from apps.reporting.models import AREAS, versions

pytestmark = pytest.mark.django_db


def test_seed_demo_raises_every_data_version():
    before = versions(AREAS)
    call_command("seed_demo", verbosity=0)
    after = versions(AREAS)
    assert all(after[area] > before[area] for area in AREAS)


@override_settings(ENVIRONMENT="development")
def test_seed_scale_raises_every_data_version_when_it_adds_rows():
    before = versions(AREAS)
    call_command("seed_scale", items=5, warehouses=2, orders=3, stdout=StringIO())
    after = versions(AREAS)
    assert all(after[area] > before[area] for area in AREAS)
