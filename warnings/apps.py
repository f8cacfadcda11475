"""The warnings app: policy, rules, recompute, status changes.

Imported as `qiantang_warnings` (the folder is `warnings/`, which must not be
a package called `warnings`); the app label stays `warnings`.
"""
from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarningsConfig(AppConfig):
    name = "qiantang_warnings"
    label = "warnings"
    path = str(Path(__file__).resolve().parent)
    verbose_name = _("三色预警")
    default_auto_field = "django.db.models.BigAutoField"
