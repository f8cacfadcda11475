"""Selectors for the leaders' dashboard (/dashboard/): counts, breakdowns, lists, trend.

Every figure is read from the stored colours and the StatusChange history in a
fixed number of queries, whatever the number of projects. "Today" is passed
in; only the view reads the clock.

The shared filters (projects.filters) choose the projects. The colour filter
is special: the headline, the breakdowns and the trend always show the three
colours of the projects the *other* filters select (a count of "yellow among
the red projects" would say nothing); the colour chooses which lists are shown.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import ngettext

from projects.filters import FILTER_PARAMS, apply_filters
from projects.models import GREEN_AFTER_REPLAN, Colour, Project, is_green_after_replan
from qiantang import colours
from qiantang.people import person_name

from . import rules
from .models import Escalation, StatusChange
from .reasons import most_overdue_days, render_reason, soonest_due_days

COLOURS = colours.WORST_FIRST
TREND_WEEKS = 12
# Lists show the most urgent projects first; the rest are one click away in the project list.
LIST_LIMIT = 50
ACTIVE = Q(state=Project.State.ACTIVE)


# ---------------------------------------------------------------- filters


def filter_values(cleaned: dict) -> dict[str, str]:
    """Cleaned filter values as query parameters (ids for department and cadre)."""
    values = {}
    for name in FILTER_PARAMS:
        value = cleaned.get(name)
        if value in (None, ""):
            continue
        values[name] = str(getattr(value, "pk", value))
    return values


def query_string(values: dict[str, str], **changes) -> str:
    """`values` with some parameters replaced (None removes one), in a stable order."""
    merged = {**values, **changes}
    return urlencode([(name, merged[name]) for name in FILTER_PARAMS if merged.get(name)])


def base_projects(cleaned: dict) -> QuerySet:
    """The projects every filter but the colour selects."""
    return apply_filters(Project.objects.all(), {**cleaned, "colour": ""})


# ---------------------------------------------------------------- time


def week_boundary(today: date, weeks_back: int):
    """The end of the same weekday `weeks_back` weeks ago (local midnight after it)."""
    day = today - timedelta(days=7 * weeks_back - 1)
    return timezone.make_aware(datetime.combine(day, time.min))


# ---------------------------------------------------------------- headline


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


def _headline_counts(base: QuerySet) -> dict:
    aggregates = {}
    for colour in COLOURS:
        in_colour = ACTIVE & Q(colour=colour)
        aggregates[colour] = Count("id", filter=in_colour)
        aggregates[f"{colour}_investment"] = Sum("total_investment", filter=in_colour)
    return base.aggregate(
        **aggregates,
        active=Count("id", filter=ACTIVE),
        needs_plan=Count("id", filter=ACTIVE & Q(needs_plan=True)),
        green_after_replan=Count("id", filter=GREEN_AFTER_REPLAN),
        inactive=Count("id", filter=~ACTIVE),
        as_of=Max("computed_as_of"),
    )


# ---------------------------------------------------------------- trend


@dataclass(frozen=True)
class TrendPoint:
    day: date
    counts: dict  # colour -> count


def _trend(base: QuerySet, current: dict, today: date) -> list[TrendPoint]:
    """Counts per colour at the end of each of the last TREND_WEEKS weeks, oldest first.

    Walks the StatusChange history backwards from the current counts: a change
    after a week's end is undone for that week. One query, grouped by week,
    from and to colour, so its size does not depend on the number of projects.
    """
    boundaries = [week_boundary(today, k) for k in range(1, TREND_WEEKS)]
    bucket = Case(
        *[When(at__gte=boundary, then=Value(k)) for k, boundary in enumerate(boundaries, 1)],
        output_field=IntegerField(),
    )
    rows = (
        StatusChange.objects.filter(project__in=base.values("id"), at__gte=boundaries[-1])
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


# ---------------------------------------------------------------- breakdowns


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


def _breakdown(base: QuerySet, key, label, *, dimension: str, filters: dict) -> list[BreakdownRow]:
    colour_counts = {colour: Count("id", filter=Q(colour=colour)) for colour in COLOURS}
    rows = (
        base.filter(ACTIVE)
        .values(key_value=key, label_value=label)
        .annotate(**colour_counts, needs_plan=Count("id", filter=Q(needs_plan=True)))
        .order_by()
    )
    result = [
        BreakdownRow(
            key="" if row["key_value"] is None else str(row["key_value"]),
            label=row["label_value"] or "",
            counts={colour: row[colour] for colour in COLOURS},
            needs_plan=row["needs_plan"],
            links=_cell_links(filters, dimension, row["key_value"]),
        )
        for row in rows
    ]
    # Worst first: most red, then most yellow; then by name.
    result.sort(key=lambda r: (-r.counts["red"], -r.counts["yellow"], r.key == "", r.label))
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


def breakdowns(base: QuerySet, filters: dict) -> list[Breakdown]:
    """Active projects per sector, lead department and responsible cadre × colour."""
    dimensions = [
        ("sector", F("sector"), F("sector")),
        ("department", F("lead_department_id"), F("lead_department__name")),
        ("cadre", F("responsible_cadre_id"), person_name("responsible_cadre__")),
    ]
    return [
        Breakdown(
            dimension,
            tuple(_breakdown(base, key, label, dimension=dimension, filters=filters)),
        )
        for dimension, key, label in dimensions
    ]


# ---------------------------------------------------------------- lists


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
    """Sort key: red before yellow; overdue (most days first), then due soonest, then escalated only."""
    overdue = most_overdue_days(reasons)
    if overdue is not None:
        within = (0, -overdue)
    else:
        left = soonest_due_days(reasons)
        within = (1, left) if left is not None else (2, 0)
    return (0 if colour == Colour.RED else 1, *within)


@dataclass(frozen=True)
class ProjectList:
    colour: str
    projects: tuple[ListedProject, ...]
    total: int
    list_query: str = ""  # the project list of this colour, with the current filters

    @property
    def truncated(self) -> bool:
        return self.total > len(self.projects)


def _urgency_order():
    """Annotations that order one colour's projects as `urgency` does, in SQL.

    Reasons are stored sorted (red before yellow, escalations first within their
    colour, then most overdue, then due soonest), so the first reason that is not
    an escalation decides. Looking at the first two covers a project with one
    escalation, the way the office uses them (two at once would rank by the second).
    """
    escalated_first = Q(reasons__0__kind=rules.ESCALATED)
    days = Case(
        When(escalated_first, then=Cast(KT("reasons__1__days"), IntegerField())),
        default=Cast(KT("reasons__0__days"), IntegerField()),
    )
    group = Case(
        When(Q(reasons__0__kind=rules.OVERDUE) | (escalated_first & Q(reasons__1__kind=rules.OVERDUE)), then=Value(0)),
        When(Q(reasons__0__kind=rules.DUE_SOON) | (escalated_first & Q(reasons__1__kind=rules.DUE_SOON)), then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    signed = Case(
        When(urgency_group=0, then=-days),
        When(urgency_group=1, then=days),
        default=Value(0),
        output_field=IntegerField(),
    )
    return {"urgency_group": group}, {"urgency_days": signed}


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
    group, signed = _urgency_order()
    lists = []
    for colour in colours:
        projects = (
            base.filter(ACTIVE, colour=colour)
            .annotate(**group)
            .annotate(**signed)
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
            .order_by("urgency_group", "urgency_days", "code")[:LIST_LIMIT]
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


# ---------------------------------------------------------------- has anything changed?


def fingerprint(cleaned: dict, *, today: date) -> str:
    """A short digest of everything the live part shows for these filters.

    The open dashboard polls with the digest it holds; while nothing changed the
    server answers with the "updated at" line alone, and renders the whole live
    part only when the digest differs. Every recompute that changes a project and
    every edit of a project rewrites its row, so the digest covers the selected
    rows: on PostgreSQL their count and row versions (xmin, new on every UPDATE,
    read without touching the reasons), elsewhere (SQLite under `make run`) their
    values. Renaming a department or a cadre changes no project row: that shows at
    the next change or reload.
    """
    base = base_projects(cleaned)
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{today.isoformat()}|{cleaned.get('colour') or ''}|".encode())
    if connection.vendor == "postgresql":
        version = RawSQL(f'"{Project._meta.db_table}"."xmin"::text::bigint', [])
        state = base.annotate(version=version).aggregate(
            n=Count("id"), total=Sum("version"), latest=Max("version")
        )
        digest.update(repr(sorted(state.items())).encode())
    else:
        rows = base.order_by("id").values_list(
            "id", "state", "colour", "needs_plan", "computed_as_of", "colour_changed_at",
            "code", "name", "sector", "level", "total_investment", "lead_department_id",
            "responsible_cadre_id", "reasons", "baseline_colour", "replan_count",
        )
        for row in rows:
            digest.update(repr(row).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- the page


@dataclass(frozen=True)
class Dashboard:
    headline: Headline
    breakdowns: list[Breakdown]
    lists: list[ProjectList]
    trend: list[TrendPoint]
    colour: str  # the colour filter, "" for all
    filters: dict[str, str]  # valid filter values as query parameters


def listed_colours(colour: str) -> tuple[str, ...]:
    """Red, then yellow; a colour filter shows that colour's list alone."""
    return (colour,) if colour else (Colour.RED.value, Colour.YELLOW.value)


def dashboard(cleaned: dict, *, today: date) -> Dashboard:
    """Everything the dashboard shows for the cleaned filter values."""
    base = base_projects(cleaned)
    chosen = cleaned.get("colour") or ""
    filters = filter_values(cleaned)
    counts = _headline_counts(base)
    trend = _trend(base, counts, today)
    week_ago = trend[-2].counts
    figures = tuple(
        ColourFigure(
            colour=colour,
            count=counts[colour],
            investment=counts[f"{colour}_investment"] or Decimal("0"),
            week_ago=week_ago[colour],
            selected=colour == chosen,
            toggle_query=query_string(filters, colour=None if colour == chosen else colour),
        )
        for colour in COLOURS
    )
    headline = Headline(
        figures=figures,
        active=counts["active"],
        needs_plan=counts["needs_plan"],
        inactive=counts["inactive"],
        as_of=counts["as_of"],
        green_after_replan=counts["green_after_replan"],
    )
    return Dashboard(
        headline=headline,
        breakdowns=breakdowns(base, filters),
        lists=project_lists(
            base, listed_colours(chosen), today=today, filters=filters, totals=counts
        ),
        trend=trend,
        colour=chosen,
        filters=filters,
    )
