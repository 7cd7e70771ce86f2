"""Report jobs in the console over real HTTP (Django's test client): the list with its
filters and pages, a job's page, the overview's counts and the operator's cancel."""

from __future__ import annotations

import html
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from apps.ai_assistant import jobs
from apps.ai_assistant.models import ReportJob
from apps.ai_assistant.tests.job_helpers import made_in_sync_mode, queued, running

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def operator(username: str = "ops1", may_cancel: bool = True):
    user = get_user_model().objects.create_user(username, password="ops-pass", is_staff=True)
    if may_cancel:
        user.user_permissions.add(Permission.objects.get(codename="change_reportjob"))
    return user


def page(client, url: str, **params) -> str:
    """The page's HTML with its entities read (the parameters' JSON quotes)."""
    response = client.get(url, params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def rows(listing: str) -> list[str]:
    """The ids of the jobs listed, in their order (each row is <tr id="job-<id>">)."""
    return [chunk.split('"', 1)[0] for chunk in listing.split('<tr id="job-')[1:]]


def test_the_jobs_pages_are_staff_only(client):
    job = queued("wh1")
    pages = ["/console/jobs/", f"/console/jobs/{job.pk}/"]
    for page in pages:
        assert client.get(page).status_code == 302  # to the login
    client.force_login(get_user_model().objects.get(username="wh1"))
    for page in pages:
        assert client.get(page).status_code == 403
    assert client.post(f"/console/jobs/{job.pk}/cancel").status_code == 403
    assert ReportJob.objects.get(pk=job.pk).status == "queued"


def test_the_list_shows_every_job_newest_first_with_what_became_of_it(client, settings):
    made = made_in_sync_mode("sales1")
    again = made_in_sync_mode("sales1")
    settings.AI_ASSISTANT_SYNC_REPORT_SECONDS = 1e-6
    too_long = made_in_sync_mode("wh1", "inventory_valuation_report", {})
    waiting = queued("wh1")
    client.force_login(operator())

    listing = page(client, "/console/jobs/")

    assert rows(listing) == [str(job.pk) for job in (waiting, too_long, again, made)]
    assert f'hit: <a href="/console/jobs/{made.pk}/">{made.reference}</a>' in listing
    assert "too large to make while the chat waits" in listing
    assert waiting.celery_task_id in listing and "0 %" in listing
    assert f'"period": "this_month", "start": "{made.parameters["start"]}"' in listing
    assert '<a href="http://127.0.0.1:8000/reports/' in listing
    assert f">{made.filename}</a>" in listing
    assert listing.count(">Cancel</button>") == 1  # only the queued one
    assert 'hx-trigger="every 2s"' in listing  # a job is queued: refreshed often


def test_the_list_filters_by_status_and_report_and_pages_fifty_at_a_time(client, settings):
    made_in_sync_mode("sales1")
    settings.AI_ASSISTANT_SYNC_REPORT_SECONDS = 1e-6
    failed = made_in_sync_mode("wh1", "inventory_valuation_report", {})
    waiting = [queued("wh1", parameters={"warehouses": [f"w{n:02}"]}) for n in range(51)]
    client.force_login(operator())

    assert rows(page(client, "/console/jobs/", status="failed")) == [str(failed.pk)]
    plans = page(client, "/console/jobs/", report="reorder_plan")
    assert rows(plans) == [str(job.pk) for job in reversed(waiting[1:])]
    assert "51 jobs, page 1 of 2" in plans
    assert 'href="?report=reorder_plan&page=2">older' in plans
    second = page(client, "/console/jobs/", report="reorder_plan", page=2)
    assert rows(second) == [str(waiting[0].pk)]
    neither = page(client, "/console/jobs/", report="reorder_plan", status="failed")
    assert rows(neither) == [] and "No report jobs found." in neither


def test_a_finished_list_refreshes_slowly_and_a_jobs_page_says_everything(client):
    made = made_in_sync_mode("sales1")
    again = made_in_sync_mode("sales1")
    client.force_login(operator())

    assert 'hx-trigger="every 10s"' in page(client, "/console/jobs/")
    detail = page(client, f"/console/jobs/{made.pk}/")
    assert "Succeeded" in detail and "miss: made anew" in detail and "100 % · done" in detail
    assert f'<a href="/console/jobs/{again.pk}/">{again.reference}</a>' in detail  # repeats
    assert made.summary_text in detail and "hx-trigger" not in detail  # finished: stays still
    assert made.celery_task_id in detail and "Cancel</button>" not in detail
    repeat = page(client, f"/console/jobs/{again.pk}/")
    assert f'hit: the file of <a href="/console/jobs/{made.pk}/">{made.reference}</a>' in repeat


def test_the_overview_counts_queued_running_and_recently_failed_jobs(client, settings):
    queued("wh1")
    running("wh1", parameters={"warehouses": ["main"]})
    settings.AI_ASSISTANT_SYNC_REPORT_SECONDS = 1e-6
    made_in_sync_mode("wh1", "inventory_valuation_report", {})
    old = made_in_sync_mode("wh1", "inventory_valuation_report", {"warehouses": ["main"]})
    ReportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=2))
    client.force_login(operator())

    overview = page(client, "/console/")

    assert (
        '<a href="/console/jobs/">Report jobs</a>: queued 1 · running 1 · '
        '<a href="/console/jobs/?status=failed">failed in the last 24 h</a> 1.'
    ) in overview


def test_two_clicks_on_cancel_cancel_a_queued_job_once_and_the_log_says_who(client, caplog):
    job = queued("wh1")
    client.force_login(operator())

    with caplog.at_level(logging.INFO, logger="apps.ai_assistant.jobs"):
        first = client.post(f"/console/jobs/{job.pk}/cancel", {"next": "/console/jobs/"})
        second = client.post(f"/console/jobs/{job.pk}/cancel", follow=True)

    assert first.status_code == 302 and first["Location"] == "/console/jobs/"
    assert f"{job.reference} is not queued or running" in second.content.decode()
    job.refresh_from_db()
    assert job.status == "cancelled" and job.stage == "cancelled"
    said = [record.getMessage() for record in caplog.records if "cancelled by" in record.msg]
    assert said == [f"{job.reference} cancelled by ops1 (queued)"]
    assert jobs.start(job.pk) is None  # no worker makes it now


def test_two_clicks_on_cancel_ask_a_running_job_to_stop_once(client, caplog):
    job = running("wh1")
    client.force_login(operator())

    with caplog.at_level(logging.INFO, logger="apps.ai_assistant.jobs"):
        first = client.post(f"/console/jobs/{job.pk}/cancel", follow=True)
        asked_at = ReportJob.objects.get(pk=job.pk).cancel_requested_at
        second = client.post(f"/console/jobs/{job.pk}/cancel", follow=True)

    assert f"{job.reference} stops at its next step." in first.content.decode()
    assert "is already stopping" in second.content.decode()
    assert "asked to cancel at" in second.content.decode()
    assert ReportJob.objects.get(pk=job.pk).cancel_requested_at == asked_at is not None
    said = [record.getMessage() for record in caplog.records if "cancelled by" in record.msg]
    assert said == [f"{job.reference} cancelled by ops1 (running: stops at its next step)"]
    with pytest.raises(jobs.JobCancelled):
        jobs.record_progress(job, 40, "rules")  # the worker's next step stops it


def test_cancel_needs_the_permission_to_change_report_jobs(client):
    job = queued("wh1")
    client.force_login(operator(may_cancel=False))

    assert "Cancel</button>" not in client.get("/console/jobs/").content.decode()
    assert client.post(f"/console/jobs/{job.pk}/cancel").status_code == 403
    assert client.get(f"/console/jobs/{job.pk}/cancel").status_code == 405
    assert ReportJob.objects.get(pk=job.pk).status == "queued"


def test_cancel_is_refused_without_the_csrf_token(client):
    from django.test import Client

    job = queued("wh1")
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(operator())

    assert checked.post(f"/console/jobs/{job.pk}/cancel").status_code == 403
    assert ReportJob.objects.get(pk=job.pk).status == "queued"
