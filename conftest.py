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

from apps.ai_assistant.brain import rules_entities
from apps.ai_assistant.channel_apps import forget_channel_apps
from apps.ai_assistant.circuits import forget_clean_circuits
from apps.ai_assistant.tests.async_support import RedisServer, point_celery_at, worker_thread
from devtools.platforms import start_platforms


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


# --- the assistant's fixtures: a private Redis, the platforms' stand-in, async mode with a real
# Celery worker (never eager) ---


@pytest.fixture(autouse=True)
def fresh_vocabulary():
    """Each test's rule brain sees that test's records: a rolled-back test sends no signal."""
    rules_entities.vocabulary_changed()
    yield


@pytest.fixture(autouse=True)
def fresh_channel_apps():
    """Each test's webhooks see that test's apps, not a cached one of a rolled-back test,
    and each test's sends see that test's circuits."""
    forget_channel_apps()
    forget_clean_circuits()
    yield


@pytest.fixture(scope="session")
def private_redis():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def platform_server():
    server, _base_url = start_platforms(port=0)
    yield server
    server.stop()


@pytest.fixture
def platforms(platform_server, settings):
    """The chat platforms' stand-in, fresh for the test, with every API base pointed at it."""
    platform_server.state.reset()
    settings.AI_ASSISTANT_PLATFORMS_STAND_IN = platform_server.base_url
    return platform_server


@pytest.fixture
def reseed_after_flush(django_db_blocker):
    """Transactional tests empty the database when they end; seed the demo company again
    afterwards so the tests that follow in this process still find it."""
    yield
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)


@pytest.fixture
def worker_db(reseed_after_flush, transactional_db):
    """A database that a worker thread or process sees: committed, demo data included."""
    from apps.inventory.models import Warehouse

    if not Warehouse.objects.filter(code="main").exists():
        call_command("seed_demo", verbosity=0)


@pytest.fixture
def async_mode(settings, private_redis, platforms, worker_db):
    """Async processing on, Celery on the private Redis, short retry delays for tests."""
    settings.CELERY_BROKER_URL = private_redis.url
    settings.AI_ASSISTANT_USE_ASYNC = True
    settings.AI_ASSISTANT_RETRY_DELAY_SECONDS = 1
    settings.AI_ASSISTANT_REQUEUE_AFTER_SECONDS = 0
    point_celery_at(private_redis.url)
    private_redis_client = __import__("redis").Redis.from_url(private_redis.url)
    private_redis_client.flushall()
    return settings


@pytest.fixture
def celery_worker(async_mode):
    """A worker_thread() for the whole test."""
    with worker_thread() as worker:
        yield worker
