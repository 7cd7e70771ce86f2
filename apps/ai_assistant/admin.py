"""Admin for the assistant. A chat app's fields follow its channel's credential schema;
secrets are write-only (set or replaced, never shown), and access tokens never appear."""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html
from pydantic import ValidationError as SchemaError

from . import jobs
from .channels import CHANNELS
from .channels.base import Credentials
from .models import (
    AccessToken,
    BindingCode,
    ChannelApp,
    ChannelIdentity,
    Conversation,
    ConversationTurn,
    InboundMessage,
    OutboundMessage,
    PendingAction,
    ReportJob,
    SendCircuit,
    ToolExecutionLog,
)


class ChannelAppForm(forms.ModelForm):
    """The app's own fields; `for_channel` adds the fields of its channel's credential schema.
    Secret inputs start empty and, left empty, keep the stored value."""

    class Meta:
        model = ChannelApp
        fields = ("channel", "app_id", "name", "enabled")

    schema: type[Credentials] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, value in self.instance.options.items():
            self.initial.setdefault(name, value)

    def clean(self):
        cleaned = super().clean()
        if self.schema is None:
            return cleaned
        secret_names = self.schema.secret_names()
        stored = {**self.instance.options, **self.instance.secrets}
        values = {}
        for name in self.schema.model_fields:
            value = cleaned.get(name)
            if name in secret_names and not value:
                value = stored.get(name, "")
            values[name] = value
        try:
            self.schema.model_validate(values)
        except SchemaError as error:
            raise forms.ValidationError([problem["msg"] for problem in error.errors()]) from None
        # Onto the instance now, so the model's own validation (ChannelApp.clean) sees them.
        self.instance.options = {
            name: value for name, value in values.items() if value and name not in secret_names
        }
        self.instance.secrets = {
            name: value for name, value in values.items() if value and name in secret_names
        }
        return cleaned

    @classmethod
    def for_channel(cls, channel_name: str) -> type[ChannelAppForm]:
        """This form with the credential fields of `channel_name` (unknown: none)."""
        channel = CHANNELS.get(channel_name)
        if channel is None:
            return cls
        declared = {"schema": channel.credentials}
        secret_names = channel.credentials.secret_names()
        for name, field_info in channel.credentials.model_fields.items():
            declared[name] = _form_field(field_info, secret=name in secret_names)
        return type(f"{type(channel).__name__}AppForm", (cls,), declared)


def _form_field(field_info, secret: bool) -> forms.Field:
    label = field_info.title or ""
    help_text = field_info.description or ""
    if secret:
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.PasswordInput(render_value=False),
            help_text=f"{help_text} Secret: never shown; leave empty to keep it.",
        )
    if get_origin(field_info.annotation) is Literal:
        values = get_args(field_info.annotation)
        return forms.ChoiceField(
            label=label,
            choices=[(value, value) for value in values],
            initial=field_info.default,
            help_text=help_text,
        )
    return forms.CharField(label=label, required=False, help_text=help_text)


@admin.register(ChannelApp)
class ChannelAppAdmin(admin.ModelAdmin):
    list_display = ("channel", "app_id", "name", "enabled", "secrets_set", "warnings", "created_at")
    list_filter = ("channel", "enabled")
    search_fields = ("app_id", "name")

    def get_form(self, request, obj=None, change=False, **kwargs):
        channel_name = request.POST.get("channel") or request.GET.get("channel")
        if obj is not None:
            channel_name = obj.channel
        kwargs["form"] = ChannelAppForm.for_channel(channel_name or "")
        kwargs["fields"] = None
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        form = self.get_form(request, obj)
        return list(form.base_fields)

    @admin.display(description="secrets set")
    def secrets_set(self, app: ChannelApp) -> str:
        return ", ".join(sorted(app.secrets)) or "—"

    @admin.display(description="warnings")
    def warnings(self, app: ChannelApp) -> str:
        found = CHANNELS[app.channel].warnings(app) if app.channel in CHANNELS else []
        return "⚠ " + " ".join(found) if found else "—"

    def changelist_view(self, request, extra_context=None):
        self._warn(request, ChannelApp.objects.all())
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            self._warn(request, ChannelApp.objects.filter(pk=object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._warn(request, [obj])

    def _warn(self, request, apps) -> None:
        for app in apps:
            if app.channel in CHANNELS:
                for warning in CHANNELS[app.channel].warnings(app):
                    messages.warning(request, warning)


@admin.register(ChannelIdentity)
class ChannelIdentityAdmin(admin.ModelAdmin):
    list_display = ("channel", "external_user_id", "user", "display_name", "linked_at")
    list_filter = ("channel",)
    search_fields = ("external_user_id", "display_name", "user__username")
    raw_id_fields = ("user",)


@admin.register(BindingCode)
class BindingCodeAdmin(admin.ModelAdmin):
    list_display = ("user", "created_by", "created_at", "expires_at", "used_at")
    readonly_fields = ("code", "created_at", "used_at", "used_by_identity")
    raw_id_fields = ("user", "created_by")
    search_fields = ("user__username",)

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ConversationTurnInline(admin.TabularInline):
    model = ConversationTurn
    extra = 0
    can_delete = False
    fields = ("created_at", "message_id", "user_text", "reply_text", "language", "brain")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("channel", "external_conversation_id", "user", "state", "last_active_at")
    list_filter = ("channel", "state")
    search_fields = ("external_conversation_id", "user__username")
    raw_id_fields = ("user",)
    inlines = [ConversationTurnInline]


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = (
        "channel",
        "app",
        "external_id",
        "user",
        "status",
        "attempts",
        "failures",
        "next_attempt_at",
        "received_at",
    )
    list_filter = ("channel", "status")
    search_fields = ("external_id",)
    raw_id_fields = ("user",)
    readonly_fields = (
        "channel",
        "app",
        "external_id",
        "message_data",
        "reply_context",
        "reply",
        "received_at",
        "queued_at",
        "claimed_at",
        "finished_at",
    )


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("idempotency_key", "app", "recipient", "part_index", "status", "attempts")
    list_filter = ("status",)
    search_fields = ("idempotency_key", "recipient")
    raw_id_fields = ("inbound",)
    readonly_fields = ("idempotency_key", "platform_message_id", "created_at", "sent_at")


@admin.register(ToolExecutionLog)
class ToolExecutionLogAdmin(admin.ModelAdmin):
    list_display = ("tool", "user", "channel", "status", "duration_ms", "created_at")
    list_filter = ("status", "tool", "channel")
    search_fields = ("tool", "user__username")
    raw_id_fields = ("user", "conversation")


@admin.register(PendingAction)
class PendingActionAdmin(admin.ModelAdmin):
    list_display = ("tool", "user", "status", "target_repr", "created_at", "expires_at")
    list_filter = ("status", "tool")
    raw_id_fields = ("user", "conversation")
    readonly_fields = ("nonce", "resolved_args", "result", "created_at", "decided_at")


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    """Shows whose token it is and when it expires; the token itself never."""

    list_display = ("app", "expires_at", "refreshed_at")
    fields = ("app", "expires_at", "refreshed_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SendCircuit)
class SendCircuitAdmin(admin.ModelAdmin):
    """Read-only: the circuit breaker of each chat app's sends (circuits.py)."""

    list_display = ("app", "state", "consecutive_failures", "trips", "retry_at", "updated_at")
    list_filter = ("state",)
    readonly_fields = (
        "app",
        "state",
        "consecutive_failures",
        "trips",
        "opened_at",
        "retry_at",
        "last_error",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False


@admin.register(ReportJob)
class ReportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are made by the system (jobs.py); the console cancels them."""

    list_display = (
        "reference",
        "report",
        "user",
        "status",
        "progress",
        "from_cache",
        "created_at",
        "duration",
        "size",
    )
    list_filter = ("status", "report", "from_cache")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = (
        "reference",
        "user",
        "report",
        "parameters",
        "language",
        "channel",
        "inbound",
        "status",
        "percent",
        "stage",
        "from_cache",
        "repeats",
        "cache_key",
        "data_versions",
        "download",
        "filename",
        "size",
        "summary_text",
        "summary",
        "error",
        "celery_task_id",
        "queue",
        "attempts",
        "progress_notices",
        "created_at",
        "started_at",
        "finished_at",
        "cancel_requested_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="job", ordering="pk")
    def reference(self, job: ReportJob) -> str:
        return job.reference

    @admin.display(description="progress")
    def progress(self, job: ReportJob) -> str:
        return f"{job.percent} % {job.stage}".strip()

    @admin.display(description="ran")
    def duration(self, job: ReportJob) -> str:
        return f"{job.ran.total_seconds():.1f} s" if job.ran is not None else "—"

    @admin.display(description="file")
    def download(self, job: ReportJob) -> str:
        if job.status != ReportJob.Status.SUCCEEDED or not job.file:
            return "—"
        url = jobs.download_url(job)
        if not url:
            return f"{job.filename} (no link: AI_ASSISTANT_PUBLIC_BASE_URL is not set)"
        return format_html('<a href="{}">{}</a>', url, job.filename)

    def get_search_results(self, request, queryset, search_term):
        """ "J-12" (or "12") finds job 12, besides the users whose name matches."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = search_term.strip().upper().removeprefix("J-")
        if number.isdigit():
            found = queryset.filter(Q(pk=int(number)) | Q(pk__in=found.values("pk")))
        return found, may_have_duplicates
