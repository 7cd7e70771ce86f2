from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "apps.purchasing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.reporting.models import PURCHASING, bump_on_change

        from .models import PurchaseOrder, PurchaseOrderLine, Supplier

        # Reports cached on this area's data are made anew after any change to these.
        for model in (Supplier, PurchaseOrder, PurchaseOrderLine):
            bump_on_change(model, PURCHASING)
