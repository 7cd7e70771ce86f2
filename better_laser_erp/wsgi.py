import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "better_laser_erp.settings")
application = get_wsgi_application()


def _load_and_freeze() -> None:
    """Import what the first requests would (every view, channel and task module), then
    freeze it all: what lives as long as the process is never walked by the garbage
    collector again. Full collections took 20-70 ms per web process without this, a pause
    that every request in flight there waited out."""
    from django.urls import get_resolver

    from better_laser_erp.celery import app as celery_app

    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    celery_app.loader.import_default_modules()
    gc.freeze()


_load_and_freeze()
