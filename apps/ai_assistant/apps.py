from django.apps import AppConfig


class AiAssistantConfig(AppConfig):
    name = "apps.ai_assistant"
    verbose_name = "AI assistant"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from apps.inventory.models import Warehouse
        from apps.purchasing.models import Supplier
        from apps.sales.models import Customer

        from . import channels  # noqa: F401  (registers every channel with the models)
        from .brain import names
        from .brain.rules_entities import vocabulary_changed
        from .channel_apps import forget_channel_apps
        from .models import ChannelApp
        from .permission_cache import permissions_changed

        # The names the rule brain finds records by are rewritten with the record.
        for kind, model in names.KINDS.items():
            post_save.connect(names.record_saved, sender=model, dispatch_uid=f"names-{kind}")
            post_delete.connect(
                names.record_deleted, sender=model, dispatch_uid=f"names-del-{kind}"
            )
        # Each process holds the few warehouses, customers and suppliers (not the items).
        for model in (Warehouse, Customer, Supplier):
            post_save.connect(vocabulary_changed, sender=model, dispatch_uid=f"vocab-{model}")
            post_delete.connect(vocabulary_changed, sender=model, dispatch_uid=f"vocab-del-{model}")

        post_save.connect(forget_channel_apps, sender=ChannelApp, dispatch_uid="channel-apps")
        post_delete.connect(forget_channel_apps, sender=ChannelApp, dispatch_uid="channel-apps-del")

        # Kept permission sets (permission_cache.py) are read again after any change.
        user_model = get_user_model()
        for relation in (
            user_model.groups.through,
            user_model.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(
                permissions_changed, sender=relation, dispatch_uid=f"perms-{relation}"
            )
        for model in (Group, Permission):
            post_save.connect(permissions_changed, sender=model, dispatch_uid=f"perms-{model}")
            post_delete.connect(
                permissions_changed, sender=model, dispatch_uid=f"perms-del-{model}"
            )
