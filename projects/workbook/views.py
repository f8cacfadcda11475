"""Workbook pages: import for the investment office, export for every signed-in user.

Import: upload → preview (a dry run, nothing written) → confirm (re-read the
same file, check it again and apply it: in one transaction, or on SQLite in batches of
short transactions, see importer.py) → summary. Between preview and
confirm the upload is staged (staging.py) under a token only this session knows.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiantang.clock import local_today
from qiantang.htmx import login_required

from ..filters import ProjectFilterForm
from ..models import Project
from ..permissions import can_import_replacing, can_import_workbook
from .exporter import workbook_download
from .importer import MAX_BYTES, import_workbook
from .progress import progress_forget, progress_reporter, progress_text
from .staging import upload_discard, upload_find, upload_stage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = "projects/workbook/import.html"


def require_import_permission(user, *, replace: bool = False) -> None:
    """Refuse an import, and the replace mode (覆盖模式) to anyone but the office: it
    overwrites planned dates without review, so whoever else may ever import proposes."""
    if not can_import_workbook(user) or (replace and not can_import_replacing(user)):
        raise PermissionDenied


@login_required
@require_GET
def export(request):
    """The 三色预警表 of the projects the current filters select (?sector=…&colour=…)."""
    form = ProjectFilterForm(request.GET or None)
    data, filename = workbook_download(form.filter(Project.objects.all()))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


# ---------------------------------------------------------------- import


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
    filename = upload.name[:200]
    result = import_workbook(
        data, today=local_today(), by=request.user, replace=replace, dry_run=True,
        source_name=filename,
    )
    if result.refusal:
        return _render(request, "upload", {"refusal": result.refusal, "replace": replace}, 400)
    token = upload_stage(request.session, data=data, replace=replace, filename=filename)
    return _render(request, "preview", {"result": result, "token": token, "filename": upload.name})


@login_required
@require_POST
def import_confirm(request):
    """Import the previewed file (importer.import_workbook), then show the summary."""
    require_import_permission(request.user)
    staged = upload_find(request.session, token=request.POST.get("token", ""))
    if staged is None:
        return _render(request, "upload", {"refusal": _("预览已失效，请重新上传工作簿。")}, 400)
    require_import_permission(request.user, replace=staged.replace)
    try:
        result = import_workbook(
            staged.read(), today=local_today(), by=request.user,
            replace=staged.replace, dry_run=False, source_name=staged.filename,
            progress=progress_reporter(staged.token),
        )
    finally:
        progress_forget(staged.token)
    if not result.applied:
        # The data changed since the preview and an error appeared: show it, keep the file.
        return _render(
            request, "preview",
            {"result": result, "token": staged.token, "filename": staged.filename}, 400,
        )
    upload_discard(request.session, upload=staged)
    return _render(request, "summary", {"result": result, "filename": staged.filename})


@login_required
@require_GET
def import_progress(request):
    """How far the import of this session's staged upload is (plain text), asked every second
    by the confirm page while its request runs; 204 while nothing was reported."""
    require_import_permission(request.user)
    staged = upload_find(request.session, token=request.GET.get("token", ""))
    text = progress_text(staged.token) if staged is not None else None
    if text is None:
        return HttpResponse(status=204)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
