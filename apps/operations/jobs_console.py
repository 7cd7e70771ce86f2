"""Report jobs in the operations console, staff only: every job with its progress, the cache
hit it was, its timings, task id, file and error; one job's page; and the operator's cancel.

Cancelling needs the permission to change report jobs as well, and is a POST with Django's
CSRF protection; it calls jobs.cancel, so two clicks cancel once, and the log says who did it.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.ai_assistant import jobs
from apps.ai_assistant.models import ReportJob

from .console import staff_only

CANCEL_PERMISSION = "ai_assistant.change_reportjob"
JOBS_PER_PAGE = 50
# While a job is queued or running the list refreshes itself this often, otherwise slower,
# like the overview's figures.
LIVE_SECONDS, IDLE_SECONDS = 2, 10


@staff_only
def job_list(request: HttpRequest) -> HttpResponse:
    """All report jobs, newest first; filter by status and report; 50 a page."""
    found = ReportJob.objects.select_related("user", "repeats").order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status:
        found = found.filter(status=status)
    report = request.GET.get("report", "")
    if report:
        found = found.filter(report=report)
    page = Paginator(found, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    for job in page:
        described(job)
    running = ReportJob.objects.filter(status__in=jobs.UNFINISHED).exists()
    return render(
        request,
        "operations/jobs.html",
        {
            "page": page,
            "statuses": ReportJob.Status.choices,
            "reports": report_names(),
            "query": request.GET,
            "filters": filters_of(request),
            "refresh_seconds": LIVE_SECONDS if running else IDLE_SECONDS,
            "can_cancel": request.user.has_perm(CANCEL_PERMISSION),
        },
    )


@staff_only
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ReportJob.objects.select_related("user", "repeats", "inbound"), pk=pk)
    described(job)
    return render(
        request,
        "operations/job.html",
        {
            "job": job,
            "summary": json.dumps(job.summary, ensure_ascii=False, indent=1, default=str),
            "parts": job.parts.order_by("created_at"),
            "repeated_by": job.repeated_by.order_by("-created_at")[:20],
            "can_cancel": request.user.has_perm(CANCEL_PERMISSION),
        },
    )


@require_POST
@staff_only
def cancel_job(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(CANCEL_PERMISSION):
        raise PermissionDenied("cancelling report jobs needs change_reportjob")
    job = get_object_or_404(ReportJob, pk=pk)
    cancelled = jobs.cancel(job.pk, request.user)
    if cancelled is None:
        messages.warning(
            request, f"{job.reference} is not queued or running, or is already stopping."
        )
    elif cancelled.status == ReportJob.Status.CANCELLED:
        messages.success(request, f"{job.reference} cancelled.")
    else:
        messages.success(request, f"{job.reference} stops at its next step.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("operations:job", pk=job.pk)


def described(job: ReportJob) -> ReportJob:
    """The job with what its pages show besides its fields: the parameters as JSON and the
    file's signed download link ("" when there is none)."""
    job.parameters_text = json.dumps(job.parameters, ensure_ascii=False, sort_keys=True)
    has_file = job.status == ReportJob.Status.SUCCEEDED and bool(job.file)
    job.download = jobs.download_url(job) if has_file else ""
    return job


def report_names() -> list[str]:
    """The reports any job was made of, for the filter."""
    return list(ReportJob.objects.order_by("report").values_list("report", flat=True).distinct())


def filters_of(request: HttpRequest) -> str:
    """The list's filters as a query string, for its page links."""
    return urlencode(
        {name: request.GET[name] for name in ("status", "report") if request.GET.get(name)}
    )
