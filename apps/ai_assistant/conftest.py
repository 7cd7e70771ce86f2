"""Fixtures for the async-mode tests: a private Redis, the platforms' stand-in, async
settings and a real Celery worker (never eager)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.ai_assistant.brain import rules_entities
from apps.ai_assistant.channel_apps import forget_channel_apps
from apps.ai_assistant.tests.async_support import RedisServer, point_celery_at, worker_thread
from devtools.platforms import start_platforms


@pytest.fixture(autouse=True)
def fresh_vocabulary():
    """Each test's rule brain sees that test's records: a rolled-back test sends no signal."""
    rules_entities.vocabulary_changed()
    yield


@pytest.fixture(autouse=True)
def fresh_channel_apps():
    """Each test's webhooks see that test's apps, not a cached one of a rolled-back test."""
    forget_channel_apps()
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
