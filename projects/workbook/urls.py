"""The workbook's pages: import (office only) and export (every signed-in user)."""
from django.urls import path

from . import views

urlpatterns = [
    path("import/", views.import_upload, name="workbook_import"),
    path("import/confirm/", views.import_confirm, name="workbook_import_confirm"),
    path("import/progress/", views.import_progress, name="workbook_import_progress"),
    path("export/", views.export, name="workbook_export"),
]
