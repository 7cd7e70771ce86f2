from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.reporting.models import INVENTORY, bump_on_change

        from .models import Item, ReorderRule, StockLevel, Warehouse

        # Reports cached on this area's data are made anew after any change to these.
        for model in (Item, Warehouse, StockLevel, ReorderRule):
            bump_on_change(model, INVENTORY)
