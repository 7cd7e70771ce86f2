from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "apps.service"
    default_auto_field = "django.db.models.BigAutoField"
