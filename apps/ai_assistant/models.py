"""State of the assistant: chat apps, identities, conversations, message intake and delivery,
tool logs, staged write actions and platform access tokens."""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .encrypted import EncryptedJSONField, EncryptedTextField

# Where messages come from besides the chat platforms' webhooks.
OTHER_SOURCES = {"cli": "Command line"}
# The chat channels, as the channels registry (channels/base.register) announces them:
# name → (label, credential schema). Models store data; they never import a channel.
REGISTERED_CHANNELS: dict[str, tuple[str, Any]] = {}


def channel_choices() -> list[tuple[str, str]]:
    """Every registered chat channel, then the other sources (a new channel needs no
    migration)."""
    registered = [(name, label) for name, (label, _) in sorted(REGISTERED_CHANNELS.items())]
    return registered + list(OTHER_SOURCES.items())


# What an app id may look like on every platform (wx…, ww…, ding…, a bot's username or id);
# the webhook looks up nothing else.
APP_ID_PATTERN = r"[A-Za-z0-9_.:@-]{1,100}"


class ChannelAppManager(models.Manager):
    def create_app(self, channel: str, app_id: str, **fields: Any) -> "ChannelApp":
        """Create an app, its credential fields given by name (`token=...`); name, enabled
        and other model fields pass through."""
        model_fields = {field.name for field in self.model._meta.get_fields()}
        app = self.model(channel=channel, app_id=app_id)
        credentials = {}
        for name, value in fields.items():
            if name in model_fields:
                setattr(app, name, value)
            else:
                credentials[name] = value
        app.configure(**credentials)
        app.save(force_insert=True)
        return app


class ChannelApp(models.Model):
    """One bot on one platform. Its configuration follows the channel's credential schema
    (`Channel.credentials`): secret fields in `secrets` (encrypted at rest, write-only in the
    admin, never logged), the others in `options`."""

    channel = models.CharField(max_length=20, choices=channel_choices)
    app_id = models.CharField(
        max_length=100,
        validators=[
            RegexValidator(
                f"^{APP_ID_PATTERN}$", "Letters, digits and _ . : @ - only, as the platform shows."
            )
        ],
        help_text="WeChat AppID, WeCom CorpID, DingTalk AppKey, Telegram bot username…",
    )
    name = models.CharField(max_length=100, blank=True)
    options = models.JSONField(default=dict, blank=True)
    secrets = EncryptedJSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChannelAppManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "app_id"], name="channelapp_channel_app_id"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.app_id}"

    def __repr__(self) -> str:
        return f"<ChannelApp {self.channel}:{self.app_id}>"

    def clean(self) -> None:
        from pydantic import ValidationError as SchemaError

        if self.channel not in REGISTERED_CHANNELS:
            raise ValidationError({"channel": "Unknown channel."})
        try:
            credentials = self.credentials
        except SchemaError as error:
            raise ValidationError([problem["msg"] for problem in error.errors()]) from None
        if problems := credentials.problems():
            raise ValidationError(problems)

    @property
    def schema(self) -> Any:
        """The credential schema of this app's channel (KeyError for an unknown channel)."""
        return REGISTERED_CHANNELS[self.channel][1]

    @property
    def credentials(self) -> Any:
        """The app's configuration read through its channel's schema; read-only. Cached on
        the instance: change `options`/`secrets` through `configure()` or by new dicts."""
        # Keyed by the dicts themselves: a reload or a new dict is read again.
        key = (id(self.options), id(self.secrets))
        cached = self.__dict__.get("_credentials")
        if cached is None or cached[0] != key:
            cached = (key, self.schema.model_validate({**self.options, **self.secrets}))
            self.__dict__["_credentials"] = cached
        return cached[1]

    def configure(self, **fields: Any) -> None:
        """Set credential fields by name: secret ones into `secrets`, the rest into
        `options` (not saved). Empty values clear a field."""
        secret_names = self.schema.secret_names()
        known = self.schema.model_fields
        for name, value in fields.items():
            if name not in known:
                raise ValueError(f"{self.channel} apps have no field {name!r}")
            target = self.secrets if name in secret_names else self.options
            if value in ("", None):
                target.pop(name, None)
            else:
                target[name] = value
        self.__dict__.pop("_credentials", None)


class ChannelIdentity(models.Model):
    """A chat account bound to an ERP user: the assistant acts as that user."""

    channel = models.CharField(max_length=20, choices=channel_choices)
    external_user_id = models.CharField(max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_identities"
    )
    display_name = models.CharField(max_length=100, blank=True)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "channel identities"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_user_id"], name="identity_channel_external_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_user_id} → {self.user}"


def new_binding_code() -> str:
    # 8 digits are easy to type on a phone; single use and a short lifetime limit guessing.
    return f"{secrets.randbelow(10**8):08d}"


def binding_code_expiry():
    return timezone.now() + timedelta(minutes=settings.AI_ASSISTANT_BINDING_CODE_TTL_MINUTES)


class BindingCode(models.Model):
    """A single-use code a user sends as `/bind CODE` to link a chat account to themselves."""

    code = models.CharField(max_length=16, unique=True, default=new_binding_code)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="binding_codes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=binding_code_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by_identity = models.ForeignKey(
        ChannelIdentity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"binding code for {self.user}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class Conversation(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    channel = models.CharField(max_length=20, choices=channel_choices)
    external_conversation_id = models.CharField(max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    # What the user talked about last (item sku, warehouse, order no.), for follow-up questions.
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_active_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_conversation_id", "user"],
                condition=Q(state="active"),
                name="conversation_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_conversation_id} ({self.user})"


class ConversationTurn(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    message_id = models.CharField(max_length=128, blank=True)
    user_text = models.TextField()
    reply_text = models.TextField()
    language = models.CharField(max_length=10, default="zh")
    brain = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"turn {self.pk} of {self.conversation_id}"


class InboundMessage(models.Model):
    """A verified platform message, stored before any work so nothing is lost or done twice."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        WAITING = "waiting", "Waiting for an earlier message of its chat"
        PROCESSING = "processing", "Processing"
        REPLIED = "replied", "Replied, delivering"
        DONE = "done", "Done"
        DEAD = "dead", "Dead letter"
        DISCARDED = "discarded", "Discarded by an operator"

    channel = models.CharField(max_length=20, choices=channel_choices)
    app = models.ForeignKey(ChannelApp, on_delete=models.CASCADE, related_name="inbound_messages")
    external_id = models.CharField(max_length=190)
    # The chat this message belongs to (IncomingMessage.conversation_key): its turns run in order.
    conversation_key = models.CharField(max_length=190, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    message_data = models.JSONField()
    # What the channel needs to answer later (ParsedWebhook.reply_context).
    reply_context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    # Claims of the message by a worker (a crash counts too).
    attempts = models.PositiveSmallIntegerField(default=0)
    # Failed deliveries that count towards the backoff (rate limits and expired tokens don't).
    failures = models.PositiveSmallIntegerField(default=0)
    # Nobody works on the message before this time (a retry's backoff, an open circuit).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    reply = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The process that claimed it last ("host/pid"; "web host/pid" for a sync webhook), and
    # when that claim began (claimed_at is the claim's lease: renewed, and cleared at the end).
    claimed_by = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "app", "external_id"], name="inbound_channel_app_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["app", "conversation_key", "status"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id} ({self.status})"


class MessageEvent(models.Model):
    """What happened to a message beyond its timestamps (the console's timeline): another
    claim (a retry, or a takeover from a dead worker), a retry put off, a dead letter, an
    operator's replay or discard. The common path (received, claimed, replied, done) writes
    no event."""

    class Kind(models.TextChoices):
        CLAIMED_AGAIN = "claimed_again", "Claimed again"
        RETRY = "retry", "Retry scheduled"
        DEAD = "dead", "Dead letter"
        REPLAYED = "replayed", "Replayed"
        DISCARDED = "discarded", "Discarded"

    inbound = models.ForeignKey(InboundMessage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    detail = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.inbound_id}"


class SendCircuit(models.Model):
    """A circuit breaker per chat app: while the platform keeps failing (timeouts, 5xx), sends
    pause instead of burning every message's retries; after a cool-down one send probes."""

    class State(models.TextChoices):
        CLOSED = "closed", "Closed (sending)"
        OPEN = "open", "Open (paused)"
        HALF_OPEN = "half_open", "Half open (probing)"

    app = models.OneToOneField(ChannelApp, on_delete=models.CASCADE, related_name="circuit")
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # How many times it opened in a row without a successful probe (the cool-down doubles).
    trips = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"circuit of {self.app}: {self.state}"


class ReportJob(models.Model):
    """A long-running request (a report) from a user: what, with which parameters, how far it
    is, and the file it made. A job answered from the cache is a job too (from_cache, the
    file of the job it repeats), so /jobs and the console show every request."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_jobs"
    )
    # The chat message that asked for it: the file goes back to that chat (none: nowhere).
    inbound = models.ForeignKey(
        "InboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    channel = models.CharField(max_length=20, blank=True)
    report = models.CharField(max_length=60)  # the report tool's name
    parameters = models.JSONField(default=dict)
    language = models.CharField(max_length=8, default="zh")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=120, blank=True)
    # Same report, same parameters, same data versions, same language: the same file.
    cache_key = models.CharField(max_length=64, db_index=True)
    data_versions = models.JSONField(default=dict)
    from_cache = models.BooleanField(default=False)
    repeats = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeated_by"
    )
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    filename = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    summary_text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    queue = models.CharField(max_length=30, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The progress notice sent to the chat (edited in place where the platform can).
    progress_message_id = models.CharField(max_length=128, blank=True)
    progress_notices = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Renewed while one of its tasks runs: a running job nobody renews has lost its worker
    # (or waits in the reports queue for its parts' turn).
    renewed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.report} ({self.status})"

    @property
    def reference(self) -> str:
        """How the user and the operators name the job: "J-12"."""
        return f"J-{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (
            self.Status.SUCCEEDED,
            self.Status.FAILED,
            self.Status.CANCELLED,
        )

    @property
    def waited(self) -> timedelta | None:
        """From the request to a worker taking it (None: not taken)."""
        return self.started_at - self.created_at if self.started_at else None

    @property
    def ran(self) -> timedelta | None:
        """From a worker taking it to the end (None: not started or not finished)."""
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class OutboundMessage(models.Model):
    """One reply part sent through a platform's send API; the key makes a resend a no-op. A
    part with a job is that job's file (sent as the platform's file message)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        DEAD = "dead", "Dead letter"

    inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound"
    )
    app = models.ForeignKey(ChannelApp, on_delete=models.CASCADE, related_name="outbound_messages")
    idempotency_key = models.CharField(max_length=190, unique=True)
    recipient = models.CharField(max_length=190)
    part_index = models.PositiveSmallIntegerField(default=0)
    content = models.TextField()
    job = models.ForeignKey(
        ReportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="parts"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    platform_message_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["inbound", "part_index"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"


class ToolExecutionLog(models.Model):
    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"
        DENIED = "denied", "Denied"
        INVALID = "invalid", "Invalid"
        STAGED = "staged", "Staged for confirmation"

    tool = models.CharField(max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    channel = models.CharField(max_length=20, blank=True)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="tool_logs"
    )
    # The message whose turn called the tool (none for a tool run outside a chat turn).
    inbound = models.ForeignKey(
        "InboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="tool_logs"
    )
    parameters = models.JSONField(default=dict)
    result_summary = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tool} {self.status}"


def pending_action_expiry():
    return timezone.now() + timedelta(minutes=settings.AI_ASSISTANT_CONFIRMATION_TTL_MINUTES)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class PendingAction(models.Model):
    """A write tool call staged until the user says yes; executed at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        EXECUTED = "executed", "Executed"
        FAILED = "failed", "Failed"

    nonce = models.CharField(max_length=40, unique=True, default=new_nonce)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_actions"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="pending_actions"
    )
    channel = models.CharField(max_length=20, blank=True)
    tool = models.CharField(max_length=60)
    resolved_args = models.JSONField()
    target_repr = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=pending_action_expiry)
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tool} ({self.status})"


class AccessToken(models.Model):
    """The current platform access token of one chat app."""

    app = models.OneToOneField(ChannelApp, on_delete=models.CASCADE, related_name="access_token")
    token = EncryptedTextField()
    expires_at = models.DateTimeField()
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"access token of {self.app} until {self.expires_at:%Y-%m-%d %H:%M}"

    def __repr__(self) -> str:
        return f"<AccessToken {self.app} expires={self.expires_at.isoformat()}>"


class WebhookProof(models.Model):
    """A webhook signature that does not cover the body (WeChat plaintext mode's `signature`,
    DingTalk's `timestamp` + `sign`), bound to the body it first came with.

    The same proof with the same body again is the platform retrying; with any other body it
    is someone who saw the proof (a proxy log, a screenshot) and is refused. Rows outlive the
    timestamp window, after which the proof is refused anyway, and are then deleted.
    """

    app = models.ForeignKey(ChannelApp, on_delete=models.CASCADE, related_name="+")
    proof_digest = models.CharField(max_length=64)
    body_digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "proof_digest"], name="webhookproof_app_proof"),
        ]

    def __str__(self) -> str:
        return f"proof {self.proof_digest[:12]}… of {self.app}"


class NameTerm(models.Model):
    """One name an ERP record is called by, as the rule brain finds it in a sentence
    (apps/ai_assistant/brain/names.py keeps the table current)."""

    text = models.CharField(max_length=64)
    kind = models.CharField(max_length=10)  # item | warehouse | customer | supplier
    record_id = models.BigIntegerField()
    value = models.CharField(max_length=40)  # the SKU or code the tools take
    tier = models.PositiveSmallIntegerField()  # 2: the record's own name, 1: part of one
    length = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["text", "tier", "kind", "value"]),
            models.Index(fields=["kind", "record_id"]),
            models.Index(fields=["kind", "tier", "length", "text"]),
        ]

    def __str__(self) -> str:
        return f"{self.text} → {self.kind} {self.value}"
