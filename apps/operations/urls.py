"""URLs of operations: health, metrics, the front door, the web chat and the console."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import console, health, jobs_console, metrics_view, webchat

app_name = "operations"

urlpatterns = [
    path("", console.home, name="home"),
    path("chat/", webchat.chat, name="chat"),
    path("chat/replies/<str:page_id>", webchat.replies, name="chat-replies"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="operations/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", console.overview, name="overview"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("console/messages/<int:pk>/", console.message_detail, name="message"),
    path("console/messages/<int:pk>/replay", console.replay_message, name="replay-message"),
    path("console/messages/<int:pk>/discard", console.discard_message, name="discard-message"),
    path("console/alerts/<int:pk>/", console.alert_detail, name="alert"),
    path("console/alerts/<int:pk>/replay", console.replay_incident, name="replay-incident"),
    path("console/jobs/", jobs_console.job_list, name="jobs"),
    path("console/jobs/<int:pk>/", jobs_console.job_detail, name="job"),
    path("console/jobs/<int:pk>/cancel", jobs_console.cancel_job, name="cancel-job"),
]
