"""The workbook's pages: import (office only) and export (every signed-in user)."""
from django.urls import path

from . import workbook_views

urlpatterns = [
    path("import/", workbook_views.import_upload, name="workbook_import"),
    path("import/confirm/", workbook_views.import_confirm, name="workbook_import_confirm"),
    path("export/", workbook_views.export, name="workbook_export"),
]
