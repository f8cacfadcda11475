"""The dashboard's lists: the most urgent red and yellow projects with their headline
reason, cadre and marks (the colour filter chooses which lists are shown)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.utils.translation import ngettext

from projects.models import Colour, is_green_after_replan
from qiantang.people import person_name

from ..models import Escalation, StatusChange
from ..reasons import most_overdue_days, render_reason, urgency_key
from .figures import week_boundary
from .filters import ACTIVE, query_string

# Lists show the most urgent projects first; the rest are one click away in the project list.
LIST_LIMIT = 50



@dataclass
class ListedProject:
    code: str
    name: str
    colour: str
    reasons: list
    sector: str
    department: str
    cadre: str
    escalated: bool
    newly_red: bool = False
    reason_texts: list = field(default_factory=list)
    baseline_colour: str = ""
    replan_count: int = 0

    @property
    def green_after_replan(self) -> bool:
        return is_green_after_replan(self.colour, self.baseline_colour)

    @property
    def baseline_colour_differs(self) -> bool:
        return bool(self.baseline_colour) and self.baseline_colour != self.colour

    def get_baseline_colour_display(self) -> str:
        return Colour(self.baseline_colour).label if self.baseline_colour else ""

    @property
    def headline_reason(self) -> str:
        return self.reason_texts[0] if self.reason_texts else ""

    @property
    def more_reasons(self) -> int:
        return max(0, len(self.reason_texts) - 1)

    @property
    def more_reasons_text(self) -> str:
        n = self.more_reasons
        return ngettext("另%(n)s项", "另%(n)s项", n) % {"n": n}

    @property
    def days_overdue(self) -> int | None:
        return most_overdue_days(self.reasons)


def urgency(colour: str, reasons: list) -> tuple:
    """Sort key: red before yellow, then the reasons' urgency (reasons.urgency_key: overdue,
    most days first; then due soonest; then escalated only), which Project.urgency stores."""
    return (0 if colour == Colour.RED else 1, urgency_key(reasons))


@dataclass(frozen=True)
class ProjectList:
    colour: str
    projects: tuple[ListedProject, ...]
    total: int
    list_query: str = ""  # the project list of this colour, with the current filters

    @property
    def truncated(self) -> bool:
        return self.total > len(self.projects)


def project_lists(
    base: QuerySet, colours: tuple[str, ...], *, today: date, filters: dict, totals: dict
) -> list[ProjectList]:
    """The LIST_LIMIT most urgent projects of each colour, with headline reason, cadre and marks.

    One query per colour, ranked and cut in SQL; `totals` are the colour counts
    the headline already holds.
    """
    week_ago = week_boundary(today, 1)
    first_change_this_week = (
        StatusChange.objects.filter(project=OuterRef("pk"), at__gte=week_ago)
        .order_by("at", "id").values("from_colour")[:1]
    )
    lists = []
    for colour in colours:
        projects = (
            base.filter(ACTIVE, colour=colour)
            .annotate(
                cadre_name=person_name("responsible_cadre__"),
                escalated=Exists(Escalation.objects.filter(project=OuterRef("pk"), until__gte=today)),
                colour_week_ago=Subquery(first_change_this_week),
            )
            .select_related("lead_department")
            .only(
                "code", "name", "colour", "reasons", "sector", "lead_department__name",
                "baseline_colour", "replan_count",
            )
            # Project.urgency is urgency() within one colour, stored by the recompute.
            .order_by("urgency", "code")[:LIST_LIMIT]
        )
        listed = tuple(
            ListedProject(
                code=p.code,
                name=p.name,
                colour=p.colour,
                reasons=p.reasons,
                sector=p.sector,
                department=p.lead_department.name if p.lead_department else "",
                cadre=p.cadre_name or "",
                escalated=p.escalated,
                # Red now, and something else at the end of the same day last week.
                newly_red=p.colour == Colour.RED
                and p.colour_week_ago is not None
                and p.colour_week_ago != Colour.RED,
                reason_texts=[render_reason(r) for r in p.reasons],
                baseline_colour=p.baseline_colour,
                replan_count=p.replan_count,
            )
            for p in projects
        )
        lists.append(
            ProjectList(
                colour, listed, totals[colour], list_query=query_string(filters, colour=colour)
            )
        )
    return lists


