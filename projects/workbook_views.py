"""Workbook pages: import for the investment office, export for every signed-in user.

Import: upload → preview (a dry run, nothing written) → confirm (re-read the
same file, plan again and apply in one transaction) → summary. The upload is
kept between preview and confirm under VAR_DIR/imports, named by a random
token that only this user's session knows.
"""
from __future__ import annotations

from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from .filters import ProjectFilterForm
from .models import Project
from .roles import OFFICE, has_role
from .workbook_export import build_workbook, export_filename

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def may_import(user) -> bool:
    """投资管理科 (office) and superusers import; everyone else is refused."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or has_role(user, OFFICE)


def require_import_permission(user) -> None:
    if not may_import(user):
        raise PermissionDenied


@login_required
def export(request):
    """The 三色预警表 of the projects the current filters select (?sector=…&colour=…)."""
    form = ProjectFilterForm(request.GET or None)
    projects = form.filter(Project.objects.all())
    book = build_workbook(projects)
    stream = BytesIO()
    book.save(stream)
    as_of = projects.exclude(computed_as_of=None).order_by("-computed_as_of").values_list(
        "computed_as_of", flat=True
    ).first()
    response = HttpResponse(stream.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=export_filename(as_of)
    )
    return response
