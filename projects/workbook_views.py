"""Workbook pages: import for the investment office, export for every signed-in user.

Import: upload → preview (a dry run, nothing written) → confirm (re-read the
same file, plan again and apply in one transaction) → summary. The upload is
kept between preview and confirm under VAR_DIR/imports, named by a random
token that only this user's session knows.
"""
from __future__ import annotations

import secrets
import time
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiantang.clock import local_today
from qiantang.htmx import login_required

from .filters import ProjectFilterForm
from .models import Project
from .permissions import can_import_replacing
from .roles import OFFICE, has_role
from .workbook_export import build_workbook, export_filename
from .workbook_import import MAX_BYTES, import_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def may_import(user) -> bool:
    """投资管理科 (office) and superusers import; everyone else is refused."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or has_role(user, OFFICE)


NAV_SESSION_KEY = "may_import_workbook"


def remember_import_permission(sender, request, user, **kwargs) -> None:
    """At sign-in, note in the session whether to show the import link: the nav of
    every page then costs no query (the views still check on every request)."""
    if request is not None and hasattr(request, "session"):
        request.session[NAV_SESSION_KEY] = may_import(user)


def require_import_permission(user, *, replace: bool = False) -> None:
    """Refuse an import, and the replace mode (覆盖模式) to anyone but the office: it
    overwrites planned dates without review, so whoever else may ever import proposes."""
    if not may_import(user) or (replace and not can_import_replacing(user)):
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


# ---------------------------------------------------------------- import

SESSION_KEY = "workbook_imports"
KEEP_UPLOADS = timedelta(hours=12)
TEMPLATE = "projects/workbook_import.html"


def uploads_dir() -> Path:
    folder = Path(settings.VAR_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_old_uploads(now: float | None = None) -> None:
    """Forget uploads nobody confirmed (previews abandoned for half a day)."""
    limit = (now or time.time()) - KEEP_UPLOADS.total_seconds()
    for path in uploads_dir().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def _upload_path(token: str) -> Path:
    return uploads_dir() / f"{token}.xlsx"


def _render(request, stage: str, context: dict, status: int = 200):
    """The whole page, or (for htmx) just the panel's partial for this stage."""
    context = {
        "stage": stage, "max_mb": MAX_BYTES // (1024 * 1024),
        "may_replace": can_import_replacing(request.user), **context,
    }
    template = f"{TEMPLATE}#{stage}" if request.htmx else TEMPLATE
    return render(request, template, context, status=status)


@login_required
def import_upload(request):
    """GET: the upload form. POST: keep the file, preview it (nothing is written)."""
    require_import_permission(request.user)
    if request.method != "POST":
        return _render(request, "upload", {})
    upload = request.FILES.get("workbook")
    replace = request.POST.get("replace") == "1"
    require_import_permission(request.user, replace=replace)
    if upload is None:
        return _render(request, "upload", {"refusal": _("请选择要导入的三色预警表（.xlsx）。")}, 400)
    if upload.size > MAX_BYTES:
        return _render(request, "upload", {"refusal": _("文件超过10 MB，无法导入。")}, 400)
    data = upload.read()
    result = import_workbook(
        data, today=local_today(), by=request.user, replace=replace, dry_run=True,
        source_name=upload.name[:200],
    )
    if result.refusal:
        return _render(request, "upload", {"refusal": result.refusal, "replace": replace}, 400)
    clean_old_uploads()
    token = secrets.token_urlsafe(24)
    _upload_path(token).write_bytes(data)
    kept = request.session.get(SESSION_KEY, {})
    kept[token] = {"replace": replace, "filename": upload.name[:200]}
    request.session[SESSION_KEY] = dict(list(kept.items())[-5:])
    return _render(
        request, "preview", {"result": result, "token": token, "filename": upload.name}
    )


@login_required
@require_POST
def import_confirm(request):
    """Import the previewed file in one transaction, then show the summary."""
    require_import_permission(request.user)
    token = request.POST.get("token", "")
    kept = request.session.get(SESSION_KEY, {})
    entry = kept.get(token) if isinstance(kept, dict) else None
    path = _upload_path(token) if entry and token.replace("-", "").replace("_", "").isalnum() else None
    if path is None or not path.exists():
        return _render(
            request, "upload", {"refusal": _("预览已失效，请重新上传工作簿。")}, 400
        )
    require_import_permission(request.user, replace=entry["replace"])
    result = import_workbook(
        path.read_bytes(), today=local_today(), by=request.user,
        replace=entry["replace"], dry_run=False, source_name=entry["filename"],
    )
    if not result.applied:
        # The data changed since the preview and an error appeared: show it, keep the file.
        return _render(
            request, "preview",
            {"result": result, "token": token, "filename": entry["filename"]}, 400,
        )
    path.unlink(missing_ok=True)
    kept.pop(token, None)
    request.session[SESSION_KEY] = kept
    return _render(request, "summary", {"result": result, "filename": entry["filename"]})
