"""Staff pages: the board at `/`, the project list, my projects, one project, and
the edits made from the project page (milestones, re-plan proposals, progress); the
escalation panel (督办) comes from qiantang_warnings (its form posts to qiantang_warnings.escalations.views).

Every write checks the permission module on the server first (403, nothing
changed), goes through a service that recomputes the project in the same
transaction, and answers HTMX with fragments (the edited piece plus out-of-band
swaps of the colour badge and the history) or a plain POST with a redirect.
"""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from qiantang.clock import local_today
from qiantang.forms import add_service_errors
from qiantang.htmx import append_partials, login_required, render_partials
from qiantang_warnings.selectors import escalation_panel

from . import permissions, replans, services
from .codes import is_valid_project_code, normalize_project_code
from .coordination.selectors import coordination_panel
from .filters import ProjectFilterForm
from .forms import (
    PROGRESS_KINDS,
    MilestoneEditForm,
    ProgressForm,
    ReplanProposalForm,
)
from .history import project_history
from .models import Milestone, ProgressEntry, Project
from .replans import proposals_of_project
from .selectors import (
    last_editor_of,
    latest_progress_entry_ids,
    listed_projects,
    progress_entries_of,
    project_board,
    team_of,
)
from .services import EditConflict
from .timeline import my_project_list, pending_for_departments, project_timeline, timeline_row

PAGE_SIZE = 50
DETAIL = "projects/detail.html"


@login_required
@require_GET
def home(request):
    """The board: counts per colour and one page of projects, worst colour first."""
    board = project_board(
        show=request.GET.get("show"), page=request.GET.get("page"), per_page=PAGE_SIZE
    )
    return render(request, "projects/home.html", board)


@login_required
@require_GET
def project_list(request):
    """All projects, filtered by the shared ProjectFilterForm, worst colour first."""
    form = ProjectFilterForm(request.GET or None)
    projects = form.filter(listed_projects())
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/list.html",
        {"form": form, "page": page, "projects": page.object_list, "query": form.query_string()},
    )


@login_required
@require_GET
def my_projects(request):
    """A cadre's projects most urgent first; a liaison's department's pending milestones."""
    user = request.user
    today = local_today()
    projects = (
        my_project_list(permissions.projects_of_cadre(user), today=today)
        if permissions.is_cadre(user)
        else []
    )
    pending = pending_for_departments(permissions.liaison_department_ids(user), today=today)
    return render(
        request,
        "projects/mine.html",
        {
            "entries": projects,
            "pending": pending,
            "is_cadre": permissions.is_cadre(user),
            "is_liaison": permissions.is_liaison(user),
        },
    )


# --- One project -------------------------------------------------------------------


def project_or_404(code: str) -> Project:
    # A hand-typed or pasted URL (qt-0001, a trailing zero-width space) finds the
    # project by its one spelling; a code the rule refuses cannot be stored, so it is
    # a 404 without a query (and a NUL byte never reaches the database).
    code = normalize_project_code(code)
    if not is_valid_project_code(code):
        raise Http404
    return get_object_or_404(
        Project.objects.select_related("lead_department", "responsible_cadre"), code=code
    )


def _milestone_or_404(project: Project, type_code: str) -> Milestone:
    return get_object_or_404(
        Milestone.objects.select_related("milestone_type", "owner_department", "project"),
        project=project,
        milestone_type__code=type_code,
    )


def _notes_context(project: Project, user) -> dict:
    return {
        **progress_entries_of(project),
        "can_edit_project": permissions.can_edit_project(user, project),
    }


def detail_context(request, project: Project, **extra) -> dict:
    user = request.user
    today = local_today()
    editable_ids = permissions.editable_milestone_ids(user, project)
    rows = project_timeline(project, today=today, editable_ids=editable_ids)
    notes = _notes_context(project, user)
    context = {
        "project": project,
        "today": today,
        "rows": rows,
        "team": team_of(project),
        **escalation_panel(project, user=user, today=today),
        **coordination_panel(
            project, user=user, today=today, may_raise=notes["can_edit_project"],
            milestones=[row.milestone for row in rows],
        ),
        "history": project_history(project),
        "proposals": proposals_of_project(project),
        **notes,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def project_detail(request, code):
    project = project_or_404(code)
    if code != project.code:
        return redirect("project_detail", code=project.code)
    return render(request, DETAIL, detail_context(request, project))


def _fragments(request, *parts) -> HttpResponse:
    """Partials of the project page as one HTMX response (the first swapped in place)."""
    return render_partials(request, DETAIL, *parts)


def project_oob_parts(project: Project, *, colour: bool = True, history: bool = True) -> list:
    """The project page's colour badge and reasons and/or its history, as out-of-band parts
    for render_partials / append_partials (with DETAIL): the one way a view that changed
    what they show sends them. `project` as it is now (the caller refreshes it after a save)."""
    parts = []
    if colour:
        parts.append(("project-colour-oob", {"project": project, "oob": True}))
    if history:
        parts.append(("history-oob", {"project": project, "history": project_history(project), "oob": True}))
    return parts


# --- Milestones ----------------------------------------------------------------------


def _editable_milestone(request, code, type_code) -> Milestone:
    project = project_or_404(code)
    milestone = _milestone_or_404(project, type_code)
    if not permissions.can_edit_milestone(request.user, milestone):
        raise PermissionDenied(_("您无权修改该节点"))
    return milestone


@login_required
@require_http_methods(["GET"])
def milestone_row(request, code, type_code):
    """The row as shown (Escape / 取消 in the HTMX editor)."""
    project = project_or_404(code)
    milestone = _milestone_or_404(project, type_code)
    if not request.htmx:
        return redirect(_row_url(project, type_code))
    can_edit = permissions.can_edit_milestone(request.user, milestone)
    row = timeline_row(milestone, today=local_today(), can_edit=can_edit)
    return render(request, f"{DETAIL}#milestone-row", {"project": project, "row": row})


def _row_url(project, type_code) -> str:
    return reverse("project_detail", kwargs={"code": project.code}) + f"#m-{type_code}"


def _render_row_form(request, milestone, form, *, partial, form_name, editing, status=200, **extra):
    """A form that takes a milestone's row on the project page: the row alone for HTMX,
    else the whole page with that row open (400 when a submitted form is sent back)."""
    project = milestone.project
    if request.htmx:
        row = timeline_row(milestone, today=local_today(), can_edit=True)
        return render(
            request, f"{DETAIL}#{partial}",
            {"project": project, "row": row, form_name: form, **extra}, status=status,
        )
    context = detail_context(
        request, project, **{editing: milestone.milestone_type.code, form_name: form}, **extra
    )
    return render(request, DETAIL, context, status=400 if status == 200 and form.is_bound else status)


def _render_milestone_form(request, milestone, form, *, status=200, conflict=None):
    return _render_row_form(
        request, milestone, form, partial="milestone-form", form_name="milestone_form",
        editing="editing", status=status, conflict=conflict,
    )


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request, code, type_code):
    milestone = _editable_milestone(request, code, type_code)
    today = local_today()
    proposes = not permissions.may_replan_directly(request.user, milestone)
    if request.method == "GET":
        form = MilestoneEditForm(milestone=milestone, today=today, replan_by_proposal=proposes)
        return _render_milestone_form(request, milestone, form)

    form = MilestoneEditForm(request.POST, milestone=milestone, today=today, replan_by_proposal=proposes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            milestone = services.milestone_edit(
                milestone,
                planned_date=data["planned_date"],
                actual_date=data["actual_date"],
                not_applicable=data["not_applicable"],
                replan_reason=data["replan_reason"],
                not_applicable_reason=data["not_applicable_reason"],
                expected_updated_at=data["updated_at"],
                by=request.user,
                today=today,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except EditConflict as conflict:
            current = conflict.current
            response = _render_milestone_form(
                request, current, _conflict_form(form, current, today),
                conflict=_conflict_info(current), status=200 if request.htmx else 409,
            )
            if request.htmx:
                # The other editor's save may have changed the colour: show it as it is now.
                current.project.refresh_from_db()
                append_partials(response, request, DETAIL, *project_oob_parts(current.project, history=False))
            return response
        else:
            project = milestone.project
            if not request.htmx:
                messages.success(
                    request, _("已保存：%(name)s") % {"name": milestone.milestone_type.name}
                )
                return redirect(_row_url(project, type_code))
            project.refresh_from_db()  # the save recomputed its colour
            rows = project_timeline(
                project, today=today,
                editable_ids=permissions.editable_milestone_ids(request.user, project),
            )
            edited = next(row for row in rows if row.milestone.id == milestone.id)
            # The other rows too: a new actual date moves the next milestone's derived due date.
            others = [("milestone-row-oob", {"project": project, "row": row, "oob": True}) for row in rows if row is not edited]
            return _fragments(
                request,
                ("milestone-row", {"project": project, "row": edited, "saved": True}),
                *others,
                *project_oob_parts(project),
            )
    return _render_milestone_form(request, milestone, form)


def _conflict_info(current: Milestone) -> dict:
    return {"by": last_editor_of(current), "at": current.updated_at}


def _conflict_form(submitted, current, today):
    """The current stored values (and version) to look at before trying again."""
    form = MilestoneEditForm(milestone=current, today=today, replan_by_proposal=submitted.replan_by_proposal)
    form.conflict_values = submitted.cleaned_data
    return form


# --- 申请调整计划: a re-plan proposed for the office to decide ------------------------------


def _proposable_milestone(request, code, type_code) -> Milestone:
    project = project_or_404(code)
    milestone = _milestone_or_404(project, type_code)
    if not permissions.can_propose_replan(request.user, milestone):
        raise PermissionDenied(_("您无权为该节点申请调整计划"))
    return milestone


def _render_replan_form(request, milestone, form):
    return _render_row_form(
        request, milestone, form, partial="replan-form", form_name="replan_form",
        editing="editing_replan",
    )


@login_required
@require_http_methods(["GET", "POST"])
def replan_propose(request, code, type_code):
    """The form (GET) and the proposal (POST). The milestone keeps its plan and colour
    until the office approves; the row then shows the pending proposal."""
    milestone = _proposable_milestone(request, code, type_code)
    today = local_today()
    if request.method == "GET":
        return _render_replan_form(request, milestone, ReplanProposalForm())
    form = ReplanProposalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            replans.replan_propose(
                milestone,
                proposed_planned_date=data["proposed_planned_date"],
                reason=data["reason"],
                document_number=data["document_number"],
                by=request.user,
                today=today,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            project = milestone.project
            if not request.htmx:
                messages.success(request, _("已提交调整计划申请：%(name)s，待投资管理科审核") % {
                    "name": milestone.milestone_type.name,
                })
                return redirect(_row_url(project, type_code))
            project.refresh_from_db()
            row = timeline_row(
                milestone, today=today,
                can_edit=permissions.can_edit_milestone(request.user, milestone),
            )
            return _fragments(
                request,
                ("milestone-row", {"project": project, "row": row, "saved": True}),
                ("replans-oob", {"project": project, "proposals": proposals_of_project(project), "oob": True}),
                *project_oob_parts(project),
            )
    return _render_replan_form(request, milestone, form)


# --- Progress note and open problems -----------------------------------------------------


def _editable_project(request, code) -> Project:
    project = project_or_404(code)
    if not permissions.can_edit_project(request.user, project):
        raise PermissionDenied(_("您无权修改该项目"))
    return project


def _kind_or_404(kind: str) -> str:
    if kind not in PROGRESS_KINDS:
        raise Http404
    return kind


def _render_notes(request, project, *, editing=None, form=None, conflict=False, status=200):
    context = {
        "project": project,
        "editing_kind": editing,
        "notes_form": form,
        "conflict_notes": conflict,
        **_notes_context(project, request.user),
    }
    if request.htmx:
        return render(request, f"{DETAIL}#notes", context, status=status)
    context.pop("project")
    full = detail_context(request, project, **context)
    return render(request, DETAIL, full, status=400 if form is not None and form.is_bound else status)


@login_required
@require_http_methods(["GET", "POST"])
def progress_edit(request, code, kind):
    kind = _kind_or_404(kind)
    project = _editable_project(request, code)
    latest = latest_progress_entry_ids(project).get(kind)
    field = "progress_note" if kind == ProgressEntry.Kind.PROGRESS else "open_problems"
    if request.method == "GET":
        if request.GET.get("cancel") and request.htmx:
            return _render_notes(request, project)
        form = ProgressForm(initial={"text": getattr(project, field), "based_on": latest})
        return _render_notes(request, project, editing=kind, form=form)

    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            services.project_progress_save(
                project, kind=kind, text=form.cleaned_data["text"],
                based_on=form.cleaned_data["based_on"], by=request.user, today=local_today(),
            )
        except EditConflict as conflict:
            project = conflict.current
            fresh = ProgressForm(initial={"text": getattr(project, field), "based_on": latest})
            return _render_notes(request, project, editing=kind, form=fresh, conflict=True)
        project.refresh_from_db()
        if not request.htmx:
            messages.success(request, _("已保存"))
            return redirect(reverse("project_detail", kwargs={"code": project.code}) + "#notes")
        return append_partials(
            _render_notes(request, project), request, DETAIL, *project_oob_parts(project, colour=False)
        )
    return _render_notes(request, project, editing=kind, form=form)
