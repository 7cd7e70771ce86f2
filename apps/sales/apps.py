from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "apps.sales"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.reporting.models import SALES, bump_on_change

        from .models import Customer, SalesOrder, SalesOrderLine

        # Reports cached on this area's data are made anew after any change to these.
        for model in (Customer, SalesOrder, SalesOrderLine):
            bump_on_change(model, SALES)
