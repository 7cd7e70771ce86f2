"""Admin for the assistant. Secrets are write-only: a chat app's token, AES key and secret can
be set or replaced but are never shown, and access tokens never appear at all."""

from django import forms
from django.contrib import admin, messages

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
    ToolExecutionLog,
)

SECRET_FIELDS = ("token", "encoding_aes_key", "secret")


class ChannelAppForm(forms.ModelForm):
    """Secret inputs start empty; left empty, the stored value is kept."""

    token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="WeChat/WeCom: the callback Token; Telegram: the webhook secret_token. "
        "Leave empty to keep the current value.",
    )
    encoding_aes_key = forms.CharField(
        required=False,
        max_length=43,
        min_length=43,
        widget=forms.PasswordInput(render_value=False),
        help_text="WeChat/WeCom EncodingAESKey (43 characters). Leave empty to keep it.",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="AppSecret / app Secret / Telegram bot token. Leave empty to keep it.",
    )

    class Meta:
        model = ChannelApp
        fields = (
            "channel",
            "app_id",
            "name",
            "agent_id",
            *SECRET_FIELDS,
            "security_mode",
            "enabled",
        )

    def clean(self):
        cleaned = super().clean()
        for name in SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


PLAINTEXT_WARNING = (
    "{app} is in plaintext mode: its messages are signed by a signature that does not cover "
    "them, so anyone who sees one request's URL can send messages as your users for a few "
    "minutes. Switch the app to safe mode on the WeChat console and here."
)


@admin.register(ChannelApp)
class ChannelAppAdmin(admin.ModelAdmin):
    form = ChannelAppForm
    list_display = (
        "channel",
        "app_id",
        "name",
        "agent_id",
        "enabled",
        "security",
        "secrets_set",
        "created_at",
    )
    list_filter = ("channel", "enabled", "security_mode")
    search_fields = ("app_id", "name")

    @admin.display(description="secrets set")
    def secrets_set(self, app: ChannelApp) -> str:
        return ", ".join(name for name in SECRET_FIELDS if getattr(app, name)) or "—"

    @admin.display(description="security", ordering="security_mode")
    def security(self, app: ChannelApp) -> str:
        if app.channel not in ("wechat", "wecom"):
            return "—"
        if app.accepts_plaintext:
            return "⚠ plaintext"
        return app.get_security_mode_display()

    def changelist_view(self, request, extra_context=None):
        self._warn_about_plaintext(request, ChannelApp.objects.all())
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            self._warn_about_plaintext(request, ChannelApp.objects.filter(pk=object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._warn_about_plaintext(request, [obj])

    def _warn_about_plaintext(self, request, apps) -> None:
        for app in apps:
            if app.channel == "wechat" and app.accepts_plaintext and app.enabled:
                messages.warning(request, PLAINTEXT_WARNING.format(app=app))


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
    list_display = ("channel", "app", "external_id", "user", "status", "attempts", "received_at")
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
