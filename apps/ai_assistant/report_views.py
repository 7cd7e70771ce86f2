"""The signed, expiring download link of a report file (jobs.download_url).

WeChat Official Accounts have no file message, and any platform gets the link when a file is
too large for it, so the link must work without an ERP login: the signature (Django's
signing, the site's SECRET_KEY) names the job, and the link expires after
AI_ASSISTANT_REPORT_LINK_HOURS. A bad, expired or cancelled link is a 404 that says nothing
about which jobs exist. Every download is logged.
"""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from . import jobs

logger = logging.getLogger(__name__)


@require_GET
def report_file(request: HttpRequest, token: str) -> FileResponse:
    job = jobs.job_for_link(token)
    if job is None or not job.file.storage.exists(job.file.name):
        raise Http404("no such report, or its link has expired")
    logger.info("%s downloaded by link (%s)", job.reference, request.META.get("REMOTE_ADDR", ""))
    response = FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=jobs.XLSX
    )
    response["Cache-Control"] = "private, no-store"
    return response
