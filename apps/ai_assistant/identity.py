"""Who a chat account is in the ERP, and binding an account to a user with a code."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import BindingCode, ChannelIdentity

User = get_user_model()


def user_for(channel: str, external_user_id: str) -> User | None:
    """The ERP user this chat account is bound to (active or not), or None if unbound."""
    identity = (
        ChannelIdentity.objects.select_related("user")
        .filter(channel=channel, external_user_id=external_user_id)
        .first()
    )
    return identity.user if identity else None


def bind(channel: str, external_user_id: str, code: str, display_name: str = "") -> User | None:
    """Use a binding code for this chat account; the bound user, or None if the code is not
    valid (unknown, used or expired). An account already bound is re-bound to the new user."""
    with transaction.atomic():
        binding = (
            BindingCode.objects.select_for_update()
            .select_related("user")
            .filter(code=code.strip())
            .first()
        )
        if binding is None or not binding.is_usable or not binding.user.is_active:
            return None
        identity, _ = ChannelIdentity.objects.update_or_create(
            channel=channel,
            external_user_id=external_user_id,
            defaults={
                "user": binding.user,
                "display_name": display_name[:100],
                "linked_at": timezone.now(),
            },
        )
        binding.used_at = timezone.now()
        binding.used_by_identity = identity
        binding.save(update_fields=["used_at", "used_by_identity"])
        return binding.user
