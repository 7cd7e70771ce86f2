"""Admin of the assistant: pages load, secrets are write-only, access tokens never shown."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ai_assistant.models import AccessToken, ChannelApp

SECRETS = {"token": "tok-SECRET-1", "encoding_aes_key": "k" * 43, "app_secret": "app-SECRET-2"}


@pytest.fixture
def app(db):
    return ChannelApp.objects.create_app("wechat", "wx1", **SECRETS)


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_channel_app_pages_never_show_secrets(admin_client, app):
    for url in (
        "/admin/ai_assistant/channelapp/",
        f"/admin/ai_assistant/channelapp/{app.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        for value in SECRETS.values():
            assert value not in response.content.decode()


def test_saving_with_empty_secret_fields_keeps_them(admin_client, app):
    response = admin_client.post(
        f"/admin/ai_assistant/channelapp/{app.pk}/change/",
        {
            "channel": "wechat",
            "app_id": "wx1",
            "name": "renamed",
            "security_mode": "safe",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.name == "renamed"
    assert app.secrets == SECRETS


def test_a_new_secret_replaces_the_old_one(admin_client, app):
    admin_client.post(
        f"/admin/ai_assistant/channelapp/{app.pk}/change/",
        {
            "channel": "wechat",
            "app_id": "wx1",
            "app_secret": "new-secret",
            "security_mode": "safe",
            "enabled": "on",
        },
    )
    app.refresh_from_db()
    assert app.credentials.app_secret == "new-secret"
    assert app.credentials.token == SECRETS["token"]


def test_access_tokens_are_never_displayed(admin_client, app):
    token = AccessToken.objects.create(
        app=app, token="ACCESS-TOKEN-VALUE", expires_at=timezone.now() + timedelta(hours=2)
    )
    for url in (
        "/admin/ai_assistant/accesstoken/",
        f"/admin/ai_assistant/accesstoken/{token.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert "ACCESS-TOKEN-VALUE" not in response.content.decode()


@pytest.mark.parametrize(
    "model",
    [
        "channelidentity",
        "bindingcode",
        "conversation",
        "inboundmessage",
        "outboundmessage",
        "toolexecutionlog",
        "pendingaction",
    ],
)
def test_list_and_add_pages_load(admin_client, model):
    assert admin_client.get(f"/admin/ai_assistant/{model}/").status_code == 200


def test_a_new_app_gets_its_channels_credential_fields_then_saves_them(admin_client, db):
    first = admin_client.post(
        "/admin/ai_assistant/channelapp/add/",
        {"channel": "dingtalk", "app_id": "dingnew01", "enabled": "on"},
    )
    assert first.status_code == 200
    page = first.content.decode()
    assert "The AppSecret is required." in page and 'name="app_secret"' in page
    second = admin_client.post(
        "/admin/ai_assistant/channelapp/add/",
        {"channel": "dingtalk", "app_id": "dingnew01", "enabled": "on", "app_secret": "s-1"},
    )
    assert second.status_code == 302
    app = ChannelApp.objects.get(app_id="dingnew01")
    assert app.secrets == {"app_secret": "s-1"} and app.options == {}


def test_a_required_credential_left_out_is_refused(admin_client, db):
    response = admin_client.post(
        "/admin/ai_assistant/channelapp/add/?channel=wechat",
        {"channel": "wechat", "app_id": "wxnew", "enabled": "on", "security_mode": "safe"},
    )
    assert response.status_code == 200
    assert "The Token is required." in response.content.decode()
    assert not ChannelApp.objects.filter(app_id="wxnew").exists()


def test_report_jobs_are_listed_filtered_found_by_reference_and_read_only(
    admin_client, db, settings, tmp_path
):
    from apps.ai_assistant.models import ReportJob

    from .job_helpers import made_in_sync_mode, queued

    settings.MEDIA_ROOT = tmp_path
    made = made_in_sync_mode("sales1")
    again = made_in_sync_mode("sales1")
    waiting = queued("wh1")
    changelist = "/admin/ai_assistant/reportjob/"

    page = admin_client.get(changelist).content.decode()
    for job in (made, again, waiting):
        assert f">{job.reference}<" in page
    assert "sales_report" in page and "reorder_plan" in page and "100 % done" in page
    queued_only = admin_client.get(changelist, {"status": "queued"}).content.decode()
    assert f">{waiting.reference}<" in queued_only and f">{made.reference}<" not in queued_only
    cached = admin_client.get(changelist, {"from_cache__exact": "1"}).content.decode()
    assert f">{again.reference}<" in cached and f">{made.reference}<" not in cached
    by_report = admin_client.get(changelist, {"report": "reorder_plan"}).content.decode()
    assert f">{waiting.reference}<" in by_report and f">{made.reference}<" not in by_report
    found = admin_client.get(changelist, {"q": made.reference}).content.decode()
    assert f">{made.reference}<" in found and f">{again.reference}<" not in found
    by_user = admin_client.get(changelist, {"q": "wh1"}).content.decode()
    assert f">{waiting.reference}<" in by_user and f">{made.reference}<" not in by_user

    detail = admin_client.get(f"{changelist}{made.pk}/change/").content.decode()
    link = re.search(r'href="http://127\.0\.0\.1:8000(/reports/[^"]+)">', detail)
    assert link and f">{made.filename}</a>" in detail
    download = admin_client.get(link.group(1))
    with made.file.open("rb") as stored:
        assert b"".join(download.streaming_content) == stored.read()
    assert 'name="status"' not in detail  # nothing to edit
    assert admin_client.get(f"{changelist}add/").status_code == 403
    admin_client.post(f"{changelist}{waiting.pk}/change/", {"status": "succeeded"})
    assert admin_client.post(f"{changelist}{waiting.pk}/delete/").status_code == 403
    assert ReportJob.objects.get(pk=waiting.pk).status == "queued"
