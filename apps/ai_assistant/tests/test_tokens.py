"""The token service against the platforms' stand-in, over real HTTP."""

import logging
import threading
from datetime import timedelta

import httpx
import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.ai_assistant import platform_http
from apps.ai_assistant.channels import tokens
from apps.ai_assistant.channels.base import PlatformError, get_channel
from apps.ai_assistant.channels.dingtalk.adapter import dingtalk_error
from apps.ai_assistant.models import AccessToken, ChannelApp

SECRETS = {
    "wechat": ("wx-token-test", "wechat-secret"),
    "wecom": ("corp-token-test", "wecom-secret"),
    "dingtalk": ("ding-token-test", "dingtalk-secret"),
    "telegram": ("token_test_bot", "4242:BOT-token"),
}
TOKEN_CHANNELS = ["wechat", "wecom", "dingtalk"]


@pytest.fixture
def stand_in(platforms, settings):
    """The stand-in with one app per platform registered, and an empty token cache."""
    settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS = 2
    settings.AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS = 300
    for channel, (app_id, secret) in SECRETS.items():
        platforms.state.register_app(channel, app_id, secret, expires_in=7200, agent_id="")
    cache.clear()
    yield platforms
    cache.clear()


# The credential field that holds what the platform's token endpoint checks.
SECRET_FIELD = {"wechat": "app_secret", "wecom": "secret", "dingtalk": "app_secret"}


def make_app(channel: str) -> ChannelApp:
    app_id, secret = SECRETS[channel]
    if channel == "telegram":
        return ChannelApp.objects.create_app(channel, app_id, bot_token=secret)
    return ChannelApp.objects.create_app(channel, app_id, **{SECRET_FIELD[channel]: secret})


def token_requests(stand_in, channel: str) -> int:
    return stand_in.state.token_request_count(channel, SECRETS[channel][0])


def send_with(stand_in, app: ChannelApp, token: str) -> dict:
    """One real send of the app's platform with `token`; raises PlatformError like a channel."""
    base = stand_in.base_url
    if app.channel == "dingtalk":
        response = platform_http.platform_request(
            "POST",
            f"{base}/v1.0/robot/oToMessages/batchSend",
            headers={"x-acs-dingtalk-access-token": token},
            json={
                "robotCode": app.app_id,
                "userIds": ["staff-1"],
                "msgKey": "sampleText",
                "msgParam": '{"content": "hi"}',
            },
        )
        if response.status_code != 200:
            raise dingtalk_error(response)
        return response.data
    path = "/cgi-bin/message/custom/send" if app.channel == "wechat" else "/cgi-bin/message/send"
    response = platform_http.platform_request(
        "POST",
        base + path,
        params={"access_token": token},
        json={"touser": "user-1", "msgtype": "text", "agentid": 1, "text": {"content": "hi"}},
    )
    if response.data["errcode"] != 0:
        raise PlatformError(response.data["errcode"], response.data["errmsg"])
    return response.data


@pytest.mark.django_db
@pytest.mark.parametrize("channel", TOKEN_CHANNELS)
def test_it_fetches_caches_and_persists_the_token(stand_in, channel):
    app = make_app(channel)
    token = tokens.get_access_token(app)
    assert token
    assert tokens.get_access_token(app) == token
    assert token_requests(stand_in, channel) == 1
    row = AccessToken.objects.get(app=app)
    assert row.token == token
    assert abs((row.expires_at - timezone.now()).total_seconds() - 7200) < 5


@pytest.mark.django_db
def test_it_falls_back_to_the_stored_row_when_the_cache_is_empty(stand_in):
    app = make_app("wecom")
    token = tokens.get_access_token(app)
    cache.clear()
    assert tokens.get_access_token(app) == token
    assert token_requests(stand_in, "wecom") == 1


@pytest.mark.django_db
def test_telegram_uses_the_bot_token_without_any_request(stand_in):
    app = make_app("telegram")
    assert tokens.get_access_token(app) == "4242:BOT-token"
    assert stand_in.state.stats()["token_requests_total"] == 0
    assert tokens.refresh_for("telegram", app.app_id)["expires_at"] is None


@pytest.mark.django_db
def test_a_stored_token_inside_the_refresh_margin_is_refreshed_ahead_of_expiry(stand_in):
    app = make_app("dingtalk")
    AccessToken.objects.create(
        app=app, token="old-token", expires_at=timezone.now() + timedelta(seconds=100)
    )
    token = tokens.get_access_token(app)
    assert token != "old-token"
    assert token_requests(stand_in, "dingtalk") == 1
    assert AccessToken.objects.get(app=app).token == token


@pytest.mark.django_db
def test_a_stored_token_well_before_expiry_is_used_as_is(stand_in):
    app = make_app("dingtalk")
    AccessToken.objects.create(
        app=app, token="good-token", expires_at=timezone.now() + timedelta(seconds=1000)
    )
    assert tokens.get_access_token(app) == "good-token"
    assert token_requests(stand_in, "dingtalk") == 0


@pytest.mark.django_db
def test_the_margin_is_a_setting(stand_in, settings):
    settings.AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS = 2000
    app = make_app("wecom")
    AccessToken.objects.create(
        app=app, token="good-token", expires_at=timezone.now() + timedelta(seconds=1000)
    )
    assert tokens.get_access_token(app) != "good-token"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("channel", TOKEN_CHANNELS)
def test_eight_threads_at_once_make_exactly_one_token_request(
    stand_in, reseed_after_flush, channel
):
    from django.db import connection

    app = make_app(channel)
    start = threading.Barrier(8)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(tokens.get_access_token(app))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    assert token_requests(stand_in, channel) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("channel", TOKEN_CHANNELS)
def test_an_expired_token_is_refreshed_once_and_the_call_retried_once(stand_in, channel):
    app = make_app(channel)
    tokens.get_access_token(app)
    stand_in.state.add_fault(channel, "expired_token", count=1)
    seen = []

    def request_fn(token):
        seen.append(token)
        return send_with(stand_in, app, token)

    tokens.call_with_token(app, request_fn)
    assert len(seen) == 2 and seen[0] != seen[1]
    assert token_requests(stand_in, channel) == 2
    assert len(stand_in.state.sent_messages(channel)) == 1
    assert tokens.get_access_token(app) == seen[1]


@pytest.mark.django_db
@pytest.mark.parametrize("channel", TOKEN_CHANNELS)
def test_a_second_token_failure_surfaces_as_platform_error(stand_in, channel):
    app = make_app(channel)
    stand_in.state.add_fault(channel, "expired_token", count=2)
    calls = []

    def request_fn(token):
        calls.append(token)
        return send_with(stand_in, app, token)

    with pytest.raises(PlatformError) as raised:
        tokens.call_with_token(app, request_fn)
    assert get_channel(channel).is_token_error(raised.value)
    assert len(calls) == 2
    assert token_requests(stand_in, channel) == 2
    assert stand_in.state.sent_messages(channel) == []


@pytest.mark.django_db
def test_other_platform_errors_are_not_retried(stand_in):
    app = make_app("wechat")
    stand_in.state.add_fault("wechat", "rate_limit", endpoint="api")
    calls = []

    def request_fn(token):
        calls.append(token)
        return send_with(stand_in, app, token)

    with pytest.raises(PlatformError) as raised:
        tokens.call_with_token(app, request_fn)
    assert raised.value.code == 45009
    assert len(calls) == 1


@pytest.mark.django_db
def test_invalidate_spares_a_token_that_was_already_replaced(stand_in):
    app = make_app("wecom")
    token = tokens.get_access_token(app)
    tokens.invalidate(app, "some-older-token")
    assert tokens.get_access_token(app) == token
    tokens.invalidate(app, token)
    assert AccessToken.objects.get(app=app).expires_at <= timezone.now()
    assert token_requests(stand_in, "wecom") == 1


@pytest.mark.django_db
def test_wechat_force_refresh_gets_a_new_stable_token(stand_in):
    app = make_app("wechat")
    token = tokens.get_access_token(app)
    assert tokens.refresh_access_token(app) == token  # the stable token is not rotated
    forced = tokens.refresh_access_token(app, force=True)
    assert forced != token
    assert tokens.get_access_token(app) == forced


@pytest.mark.django_db
def test_refresh_for_reports_the_expiry_and_never_the_token(stand_in):
    app = make_app("dingtalk")
    result = tokens.refresh_for("dingtalk", app.app_id)
    assert set(result) == {"channel", "app_id", "expires_at"}
    assert result["channel"] == "dingtalk" and result["app_id"] == app.app_id
    assert AccessToken.objects.get(app=app).token not in str(result)
    with pytest.raises(ValueError):
        tokens.refresh_for("dingtalk", "no-such-app")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "code"),
    [("wechat", 40125), ("wecom", 40001), ("dingtalk", "invalidClientIdOrSecret")],
)
def test_a_wrong_secret_is_a_permanent_error(stand_in, channel, code):
    app = make_app(channel)
    app.configure(**{SECRET_FIELD[channel]: "wrong"})
    with pytest.raises(PlatformError) as raised:
        tokens.get_access_token(app)
    assert raised.value.code == code
    assert raised.value.retryable is False


@pytest.mark.django_db
@pytest.mark.parametrize("channel", TOKEN_CHANNELS)
@pytest.mark.parametrize("kind", ["rate_limit", "server_error"])
def test_token_endpoint_faults_are_retryable(stand_in, channel, kind):
    app = make_app(channel)
    stand_in.state.add_fault(channel, kind, endpoint="token")
    with pytest.raises(PlatformError) as raised:
        tokens.get_access_token(app)
    assert raised.value.retryable is True
    assert tokens.get_access_token(app)


@pytest.mark.django_db
def test_a_token_endpoint_timeout_is_retryable(stand_in, settings):
    settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS = 0.3
    app = make_app("wecom")
    stand_in.state.add_fault("wecom", "timeout", endpoint="token", seconds=1.5)
    with pytest.raises(PlatformError) as raised:
        tokens.get_access_token(app)
    assert raised.value.code == "network" and raised.value.retryable is True


@pytest.mark.django_db
def test_waiters_give_up_when_the_lock_holder_never_finishes(stand_in, settings):
    settings.AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS = 0.1
    app = make_app("wecom")
    cache.add(tokens._lock_key(app), "someone-else", timeout=30)
    with pytest.raises(PlatformError) as raised:
        tokens.get_access_token(app)
    assert raised.value.code == "token_refresh_busy" and raised.value.retryable
    assert token_requests(stand_in, "wecom") == 0


def test_redact_url_hides_tokens_and_secrets():
    url = "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=SECRET1&x=1"
    assert "SECRET1" not in platform_http.redact_url(url)
    assert "x=1" in platform_http.redact_url(url)
    gettoken = "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=SECRET2"
    assert "SECRET2" not in platform_http.redact_url(gettoken)
    telegram = "https://api.telegram.org/bot123:SECRET3/sendMessage"
    assert platform_http.redact_url(telegram) == "https://api.telegram.org/bot***/sendMessage"


@pytest.mark.django_db
def test_no_token_or_secret_reaches_the_logs(stand_in, caplog):
    app = make_app("wecom")
    # Settings keep httpx at WARNING; lower it here to prove the redaction filter as well.
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="httpx"):
        token = tokens.get_access_token(app)
        tokens.call_with_token(app, lambda t: send_with(stand_in, app, t))
        httpx.get(f"{stand_in.base_url}/cgi-bin/gettoken?corpid=x&corpsecret=wecom-secret")
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "HTTP Request" in caplog.text  # httpx did log its requests
    assert token not in text
    assert "wecom-secret" not in text
