"""/healthz, /readyz and /metrics over real HTTP (Django's test client)."""

import pytest

from apps.ai_assistant.channels.telegram import testkit as telegram_kit
from apps.ai_assistant.tests.channel_helpers import make_test_app
from apps.operations.models import Heartbeat
from devtools import webhook_client

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_in_sync_mode_checks_the_database(client, settings):
    settings.AI_ASSISTANT_USE_ASYNC = False
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True
    assert set(response.json()["checks"]) == {"database"}


def test_readyz_in_async_mode_names_the_missing_worker_and_beat(client, settings, private_redis):
    settings.AI_ASSISTANT_USE_ASYNC = True
    settings.CELERY_BROKER_URL = private_redis.url
    from apps.ai_assistant.tests.async_support import point_celery_at

    point_celery_at(private_redis.url)
    response = client.get("/readyz")
    checks = response.json()["checks"]
    assert response.status_code == 503
    assert checks["broker"]["ok"] is True
    assert checks["worker"]["ok"] is False and "worker" in checks["worker"]["detail"]
    assert checks["beat"]["ok"] is False


def test_readyz_is_ready_with_a_recent_worker_and_beat(client, settings, private_redis):
    settings.AI_ASSISTANT_USE_ASYNC = True
    settings.CELERY_BROKER_URL = private_redis.url
    Heartbeat.touch("worker", "1 answered")
    Heartbeat.touch("beat")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()


def test_metrics_need_the_token_or_an_allowed_network(client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    settings.METRICS_ALLOWED_NETWORKS = ["10.9.9.0/24"]
    assert client.get("/metrics").status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.9.9.7").status_code == 200


def test_metrics_count_webhooks_and_show_the_state(client, settings, platforms):
    settings.METRICS_TOKEN = "scrape-me"
    app = make_test_app("telegram")
    request = telegram_kit.telegram_text(app, 5012345678, "NZ-S1.5 库存", update_id=4242)
    webhook_client.with_test_client(client, request)
    webhook_client.with_test_client(client, request._replace(headers={}))
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").content.decode()
    assert 'ble_webhook_requests_total{channel="telegram",status="200"}' in text
    assert 'ble_webhook_requests_total{channel="telegram",status="403"}' in text
    assert "ble_webhook_request_seconds_bucket" in text
    assert "ble_turn_seconds_count" in text
    assert 'ble_messages{status="dead"} 0.0' in text
    assert "ble_oldest_waiting_seconds" in text
