"""The dashboard's figures: the headline counts per colour, the weekly trend from the
StatusChange history, and the breakdowns by sector, department and street. Each is a fixed
number of queries, whatever the number of projects; "today" is passed in.

The colour filter is special: the headline, the breakdowns and the trend always show the
three colours of the projects the *other* filters select (a count of "yellow among the
red projects" would say nothing)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.models import GREEN_AFTER_REPLAN, CoordinationItem, Project
from qiantang_warnings.selectors import as_of_aggregates
from qiantang import colours
from qiantang.people import person_name

from ..models import StatusChange
from .filters import ACTIVE, query_string

COLOURS = colours.WORST_FIRST
TREND_WEEKS = 12



def week_boundary(today: date, weeks_back: int):
    """The end of the same weekday `weeks_back` weeks ago (local midnight after it)."""
    day = today - timedelta(days=7 * weeks_back - 1)
    return timezone.make_aware(datetime.combine(day, time.min))




@dataclass(frozen=True)
class ColourFigure:
    colour: str
    count: int
    investment: Decimal
    week_ago: int
    selected: bool = False  # the colour filter is this colour
    toggle_query: str = ""  # the dashboard with this colour chosen, or unchosen

    @property
    def change(self) -> int:
        return self.count - self.week_ago

    @property
    def change_size(self) -> int:
        return abs(self.change)


@dataclass(frozen=True)
class Headline:
    figures: tuple[ColourFigure, ...]
    active: int
    needs_plan: int
    inactive: int
    as_of: date | None
    green_after_replan: int = 0  # 调整后绿: green only because plans were moved

    @property
    def by_colour(self) -> dict[str, ColourFigure]:
        return {figure.colour: figure for figure in self.figures}


def count_projects(base: QuerySet) -> tuple[dict, list[dict]]:
    """The headline's counts and the breakdowns' rows, from one scan of the projects.

    The projects are grouped by state, sector, lead department and responsible cadre: the
    groups are the combinations that occur (a cadre's projects lie in few sectors and
    departments), not the projects. Returns the headline aggregates (counts and investment
    per colour, active, needs_plan, green_after_replan, inactive, and the two that
    `results_as_of` reads) and the active groups, which `breakdowns` sums per dimension.
    Grouping by the projects' own columns lets PostgreSQL hash the groups (its extended
    statistics on them, migration projects 0010, tell it how few there are)."""
    in_colour = {colour: Q(colour=colour) for colour in COLOURS}
    groups = (
        base.order_by()
        .values("state", sector_key=F("sector"), department_key=F("lead_department_id"),
                cadre_key=F("responsible_cadre_id"))
        .annotate(
            **{colour: Count("id", filter=q) for colour, q in in_colour.items()},
            **{f"{colour}_investment": Sum("total_investment", filter=q) for colour, q in in_colour.items()},
            projects=Count("id"),
            needs_plan=Count("id", filter=Q(needs_plan=True)),
            green_after_replan=Count("id", filter=GREEN_AFTER_REPLAN),
            department_label=Max("lead_department__name"),
            cadre_label=Max(person_name("responsible_cadre__")),
            **as_of_aggregates(),
        )
    )
    counts = {
        **{colour: 0 for colour in COLOURS},
        **{f"{colour}_investment": None for colour in COLOURS},
        "active": 0, "needs_plan": 0, "green_after_replan": 0, "inactive": 0,
        "as_of": None, "run_as_of": None,
    }
    active_groups = []
    for group in groups:
        for key in ("as_of", "run_as_of"):
            if group[key] is not None and (counts[key] is None or group[key] > counts[key]):
                counts[key] = group[key]
        if group["state"] != Project.State.ACTIVE:
            counts["inactive"] += group["projects"]
            continue
        active_groups.append(group)
        counts["active"] += group["projects"]
        for key in ("needs_plan", "green_after_replan", *COLOURS):
            counts[key] += group[key]
        for colour in COLOURS:
            invested = group[f"{colour}_investment"]
            if invested is not None:
                counts[f"{colour}_investment"] = (counts[f"{colour}_investment"] or 0) + invested
    return counts, active_groups


@dataclass(frozen=True)
class TrendPoint:
    day: date
    counts: dict  # colour -> count


def trend_points(base: QuerySet | None, current: dict, today: date) -> list[TrendPoint]:
    """Counts per colour at the end of each of the last TREND_WEEKS weeks, oldest first.

    Walks the StatusChange history backwards from the current counts: a change
    after a week's end is undone for that week. One query, grouped by week,
    from and to colour, so its size does not depend on the number of projects.
    `base` None means every project: the history is then read without joining the
    projects (every change belongs to one), which at 100,000 projects halves the query.
    """
    boundaries = [week_boundary(today, k) for k in range(1, TREND_WEEKS)]
    bucket = Case(
        *[When(at__gte=boundary, then=Value(k)) for k, boundary in enumerate(boundaries, 1)],
        output_field=IntegerField(),
    )
    rows = (
        (StatusChange.objects if base is None else StatusChange.objects.filter(project__in=base.values("id")))
        .filter(at__gte=boundaries[-1])
        .annotate(week=bucket)
        .values("week", "from_colour", "to_colour")
        .annotate(n=Count("id"))
        .order_by()
    )
    net_by_week: dict[int, dict] = {}
    for row in rows:
        net = net_by_week.setdefault(row["week"], dict.fromkeys(COLOURS, 0))
        if row["to_colour"] in net:
            net[row["to_colour"]] += row["n"]
        if row["from_colour"] in net:
            net[row["from_colour"]] -= row["n"]
    counts = {colour: current[colour] for colour in COLOURS}
    points = [TrendPoint(today, dict(counts))]
    for k in range(1, TREND_WEEKS):
        for colour, n in net_by_week.get(k, {}).items():
            counts[colour] -= n
        points.append(TrendPoint(today - timedelta(days=7 * k), dict(counts)))
    return list(reversed(points))




@dataclass(frozen=True)
class BreakdownRow:
    key: str  # the filter value ("" when the projects have none)
    label: str
    counts: dict  # colour -> count
    needs_plan: int
    links: dict = field(default_factory=dict)  # colour or "total" -> project list query

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[tuple[str, int, str]]:
        """(colour, count, project list query) per colour, in the order red, yellow, green."""
        return [(colour, self.counts[colour], self.links.get(colour, "")) for colour in COLOURS]


@dataclass(frozen=True)
class Breakdown:
    dimension: str  # the filter parameter: sector, department or cadre
    rows: tuple[BreakdownRow, ...]


def _rows(dimension: str, totals: dict, filters: dict) -> list[BreakdownRow]:
    result = [
        BreakdownRow(
            key="" if key is None else str(key),
            label=label or "",
            counts=counts,
            needs_plan=needs_plan,
            links=_cell_links(filters, dimension, key),
        )
        for key, (label, counts, needs_plan) in totals.items()
    ]
    # Worst first: most red, then most yellow; then by name.
    result.sort(key=lambda r: (-r.counts[colours.RED], -r.counts[colours.YELLOW], r.key == "", r.label))
    return result


def _cell_links(filters: dict, dimension: str, key) -> dict:
    """Project list queries for a breakdown row: the current filters, this row, a colour."""
    if key in (None, ""):
        return {}  # projects without a sector, department or cadre: no filter reaches them
    links = {
        colour: query_string(filters, **{dimension: str(key), "colour": colour})
        for colour in COLOURS
    }
    links["total"] = query_string(
        filters, **{dimension: str(key), "colour": None, "state": Project.State.ACTIVE.value}
    )
    return links


DIMENSIONS = ("sector", "department", "cadre")  # the filter parameters, in the page's order


def breakdowns(active_groups: list[dict], filters: dict) -> list[Breakdown]:
    """Active projects per sector, lead department and responsible cadre × colour, summed
    from the groups `count_projects` read (no query of its own)."""
    totals = {dimension: {} for dimension in DIMENSIONS}
    for row in active_groups:
        labels = {"sector": row["sector_key"], "department": row["department_label"], "cadre": row["cadre_label"]}
        for dimension in DIMENSIONS:
            key = row[f"{dimension}_key"]
            label, counts, needs_plan = totals[dimension].get(key) or (labels[dimension], dict.fromkeys(COLOURS, 0), 0)
            for colour in COLOURS:
                counts[colour] += row[colour]
            totals[dimension][key] = (label, counts, needs_plan + row["needs_plan"])
    return [Breakdown(dimension, tuple(_rows(dimension, totals[dimension], filters))) for dimension in DIMENSIONS]


# ---------------------------------------------------------------- coordination items


@dataclass(frozen=True)
class DepartmentItems:
    department: str
    open: int
    overdue: int


COORDINATION_ROWS = 10


def coordination_by_department(base: QuerySet, *, today: date) -> list[DepartmentItems]:
    """Coordination items still waiting, per department asked, among the selected active
    projects: most overdue first (one query)."""
    rows = (
        CoordinationItem.objects.filter(
            project__in=base.filter(ACTIVE), state__in=CoordinationItem.OPEN_STATES
        )
        .values("department__name")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(deadline__lt=today)))
        .order_by("-overdue", "-open", "department__name")[:COORDINATION_ROWS]
    )
    return [
        DepartmentItems(row["department__name"] or str(_("待分派")), row["open"], row["overdue"]) for row in rows
    ]
