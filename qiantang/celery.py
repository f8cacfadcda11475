"""The Celery application: worker tasks and the beat schedule (in settings)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")

app = Celery("qiantang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["projects", "qiantang_warnings"])
