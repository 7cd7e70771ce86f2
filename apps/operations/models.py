"""What operations remembers: when the moving parts last showed life, and alert incidents."""

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last sign of life of a part of the system ("beat", "worker")."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"

    @classmethod
    def touch(cls, name: str, detail: str = "") -> None:
        cls.objects.update_or_create(
            name=name, defaults={"beat_at": timezone.now(), "detail": detail[:200]}
        )


class Alert(models.Model):
    """One incident of one condition (backlog, dead letters, worker, sends): raised once when
    the condition crosses its threshold, resolved once when it clears."""

    class State(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    condition = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=State.choices, default=State.FIRING)
    summary = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Below its threshold since: it resolves after staying there a while (no flapping).
    clear_since = models.DateTimeField(null=True, blank=True)
    # The operators still to be told of the last change (raised or resolved), how many
    # times that was tried, and why it did not reach everyone.
    notice_pending = models.BooleanField(default=True)
    notice_tries = models.PositiveSmallIntegerField(default=0)
    notice_problems = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["condition"],
                condition=models.Q(state="firing"),
                name="alert_one_firing_per_condition",
            )
        ]

    def __str__(self) -> str:
        return f"{self.condition} ({self.state})"
