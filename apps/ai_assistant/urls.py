"""URLs of the assistant: the chat platforms' webhooks and the report files' signed links."""

from django.urls import path

from . import report_views, webhook_views

app_name = "ai_assistant"

urlpatterns = [
    path("webhooks/<str:channel>/<str:app_id>/", webhook_views.webhook, name="webhook"),
    # Platforms do not follow a redirect for a POST: the form without the slash is served too.
    path("webhooks/<str:channel>/<str:app_id>", webhook_views.webhook),
    path("reports/<str:token>/", report_views.report_file, name="report-file"),
]
