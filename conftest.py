"""Test set-up shared by every app.

- The demo company (manage.py seed_demo) is seeded once per test database, so every test that
  uses the `db` fixture sees it and rolls its own changes back. Transactional tests
  (`django_db(transaction=True)`) empty the database when they finish; one that needs the
  demo data asks for the `demo` fixture, which seeds again when the data is gone.
- Tests marked `postgres` run only when the database is PostgreSQL (DATABASE_URL).
"""

import os

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason=f"needs PostgreSQL, the database is {connection.vendor} (set DATABASE_URL)"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Hash passwords cheaply in tests; the real hasher costs ~0.3 s per user."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, fast_password_hashing):
    """Create the test database as usual, then seed the demo company into it once."""
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)


@pytest.fixture
def demo(db):
    """The demo company, seeded again if a transactional test emptied the database."""
    from apps.inventory.models import Warehouse

    if not Warehouse.objects.filter(code="main").exists():
        call_command("seed_demo", verbosity=0)


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    """Tests send many messages from one chat account in a minute; the rate limit's own tests
    turn it back on."""
    settings.AI_ASSISTANT_RATE_LIMIT_PER_MINUTE = 0


# Property-based tests (Hypothesis): a fixed example budget per test keeps CI's time bounded;
# HYPOTHESIS_MAX_EXAMPLES raises it for a longer hunt. Each example runs a real webhook
# request against the database, so there is no per-example deadline.
hypothesis_settings.register_profile(
    "project",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
hypothesis_settings.load_profile("project")
