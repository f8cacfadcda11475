"""Staff pages: the board at `/`, the project list, my projects, one project."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from qiantang_warnings.selectors import local_today

from . import permissions
from .filters import ProjectFilterForm
from .models import Project
from .selectors import COLOUR_RANK, person_name, project_board
from .timeline import my_project_list, pending_for_departments, project_timeline

PAGE_SIZE = 50


@login_required
def home(request):
    return render(request, "projects/home.html", project_board(show=request.GET.get("show")))


@login_required
def project_list(request):
    """All projects, filtered by the shared ProjectFilterForm, worst colour first."""
    form = ProjectFilterForm(request.GET or None)
    projects = form.filter(
        Project.objects.select_related("lead_department")
        .annotate(colour_rank=COLOUR_RANK, cadre_name=person_name("responsible_cadre__"))
        .order_by("colour_rank", "code")
        .only(
            "code", "name", "sector", "level", "total_investment", "state", "colour",
            "reasons", "needs_plan", "lead_department__name",
        )
    )
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/list.html",
        {"form": form, "page": page, "projects": page.object_list, "query": form.query_string()},
    )


@login_required
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


def _project_or_404(code: str) -> Project:
    return get_object_or_404(
        Project.objects.select_related("lead_department", "responsible_cadre"), code=code
    )


def detail_context(request, project: Project) -> dict:
    user = request.user
    today = local_today()
    editable_ids = permissions.editable_milestone_ids(user, project)
    return {
        "project": project,
        "today": today,
        "rows": project_timeline(project, today=today, editable_ids=editable_ids),
        "team": project.team.order_by("last_name", "first_name", "username"),
        "escalations": project.escalations.select_related("author"),
        "can_edit_project": permissions.can_edit_project(user, project),
        "can_escalate": permissions.can_escalate(user),
    }


@login_required
def project_detail(request, code):
    project = _project_or_404(code)
    return render(request, "projects/detail.html", detail_context(request, project))
