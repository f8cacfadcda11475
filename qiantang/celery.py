"""The Celery application: worker tasks and the beat schedule (in settings)."""
import os

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")

app = Celery("qiantang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["projects", "qiantang_warnings"])


@after_setup_logger.connect
def structured_worker_logs(logger, format=None, **kwargs):  # noqa: A002 (the signal's name)
    """The worker's and beat's root handlers print the records' fields too (qiantang.logging)."""
    from django.conf import settings

    from .logging import use_in_celery

    use_in_celery(logger, json=getattr(settings, "LOG_JSON", False), fmt=format)
