"""URLs of operations: health, metrics, the front door, the web chat and the console."""

from django.urls import path

from . import health, metrics_view

app_name = "operations"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
]
