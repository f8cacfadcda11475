"""Project-level reads of the staff pages: the board and the project list (filtered, worst
colour first, paged), their counts, and the projects a user may see. Milestone-level reads
(a project's timeline, my projects, a liaison's milestones) are in projects.timeline."""
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When

from qiantang import colours
from qiantang.people import person_name

from qiantang_warnings.selectors import as_of_aggregates, results_as_of

from .models import GREEN_AFTER_REPLAN, Colour, Milestone, ProgressEntry, Project

# colours.position() in SQL: worst first, uncoloured (paused, completed, terminated) last.
COLOUR_RANK = Case(
    *[When(colour=colour, then=Value(colours.position(colour))) for colour in colours.WORST_FIRST],
    default=Value(colours.position(None)),
    output_field=IntegerField(),
)

# The board's filters: a colour, the projects waiting for a plan, or the inactive ones.
NEEDS_PLAN = "needs_plan"
GREEN_AFTER_REPLAN_FILTER = "green_after_replan"
INACTIVE = "inactive"
BOARD_FILTERS = {
    Colour.RED.value: Q(state=Project.State.ACTIVE, colour=Colour.RED),
    Colour.YELLOW.value: Q(state=Project.State.ACTIVE, colour=Colour.YELLOW),
    Colour.GREEN.value: Q(state=Project.State.ACTIVE, colour=Colour.GREEN),
    NEEDS_PLAN: Q(state=Project.State.ACTIVE, needs_plan=True),
    GREEN_AFTER_REPLAN_FILTER: GREEN_AFTER_REPLAN,
    INACTIVE: ~Q(state=Project.State.ACTIVE),
}


def listed_projects():
    """Projects as the board and the project list show them: worst colour first,
    with the lead department and the cadre's name, in one query."""
    return (
        Project.objects.select_related("lead_department")
        .annotate(colour_rank=COLOUR_RANK, cadre_name=person_name("responsible_cadre__"))
        .order_by("colour_rank", "code")
        .only(
            "code", "name", "sector", "level", "total_investment", "state", "colour",
            "reasons", "needs_plan", "lead_department__name", "baseline_colour", "replan_count",
        )
    )


def project_board(*, per_page: int, show: str | None = None, page: str | None = None) -> dict:
    """One page of projects with their stored colour, worst first, and the counts per colour.

    `show` is one of BOARD_FILTERS (anything else shows every project); `page` is the
    page number as typed in the URL (a bad one gives the first or the last page).
    Two queries whatever the number of projects: the counts and the page's rows.
    """
    show = show if show in BOARD_FILTERS else None
    projects = listed_projects()
    if show:
        projects = projects.filter(BOARD_FILTERS[show])
    active = Q(state=Project.State.ACTIVE)
    counts = Project.objects.aggregate(
        red=Count("id", filter=active & Q(colour=Colour.RED)),
        yellow=Count("id", filter=active & Q(colour=Colour.YELLOW)),
        green=Count("id", filter=active & Q(colour=Colour.GREEN)),
        needs_plan=Count("id", filter=active & Q(needs_plan=True)),
        green_after_replan=Count("id", filter=GREEN_AFTER_REPLAN),
        active=Count("id", filter=active),
        inactive=Count("id", filter=~active),
        total=Count("id"),
        **as_of_aggregates(),
    )
    as_of = results_as_of(counts)
    paginator = Paginator(projects, per_page)
    # Every filter's count is one of the counts above (same condition, see BOARD_FILTERS),
    # so the paginator takes it from there instead of running a COUNT of its own.
    paginator.count = counts[show or "total"]
    board_page = paginator.get_page(page)
    return {
        "page": board_page,
        "projects": board_page.object_list,
        "counts": counts,
        "as_of": as_of,
        "show": show,
        "query": urlencode({"show": show}) if show else "",  # kept in the pager's links
    }


# --- One project's page: its team, progress notes and who last edited a milestone ------------

PROGRESS_ENTRIES_SHOWN = 40


def team_of(project: Project):
    """The project's team (工作专班), surname first."""
    return project.team.order_by("last_name", "first_name", "username")


def progress_entries_of(project: Project) -> dict:
    """The latest dated entries of the progress note and of the open problems (one query)."""
    entries = list(
        ProgressEntry.objects.filter(project=project).select_related("author")[:PROGRESS_ENTRIES_SHOWN]
    )
    return {
        "progress_entries": [e for e in entries if e.kind == ProgressEntry.Kind.PROGRESS],
        "problem_entries": [e for e in entries if e.kind == ProgressEntry.Kind.PROBLEMS],
    }


def latest_progress_entry_ids(project: Project) -> dict:
    """The newest progress entry id per kind: the version a notes form is built on."""
    latest = {}
    for kind, entry_id in ProgressEntry.objects.filter(project=project).order_by(
        "-created_at", "-id"
    ).values_list("kind", "id"):
        latest.setdefault(kind, entry_id)
    return latest


def last_editor_of(milestone: Milestone):
    """Who saved the milestone last (its newest history record), or None."""
    last = Milestone.history.filter(id=milestone.id).select_related("history_user").first()
    return last.history_user if last else None
