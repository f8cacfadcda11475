"""The workbook's pages: import (office only) and export (every signed-in user)."""
from django.urls import path

from . import workbook_views

urlpatterns = [
    path("export/", workbook_views.export, name="workbook_export"),
]
