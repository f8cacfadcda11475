"""One dashboard page put together from its figures and lists (`dashboard`), and the same
with its trend chart read once per data version (`cached_dashboard`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from projects.models import Colour
from qiantang import colours
from qiantang_warnings.selectors import results_as_of

from .charts import trend_svg
from .figures import (
    Breakdown,
    ColourFigure,
    DepartmentItems,
    Headline,
    TrendPoint,
    breakdowns,
    coordination_by_department,
    count_projects,
    trend_points,
)
from .filters import base_projects, filter_values, query_string
from .lists import ProjectList, project_lists

COLOURS = colours.WORST_FIRST



@dataclass(frozen=True)
class Dashboard:
    headline: Headline
    breakdowns: list[Breakdown]
    lists: list[ProjectList]
    trend: list[TrendPoint]
    colour: str  # the colour filter, "" for all
    filters: dict[str, str]  # valid filter values as query parameters
    items: list[DepartmentItems]  # coordination items waiting, per department asked


def listed_colours(colour: str) -> tuple[str, ...]:
    """Red, then yellow; a colour filter shows that colour's list alone."""
    return (colour,) if colour else (Colour.RED.value, Colour.YELLOW.value)


def dashboard(cleaned: dict, *, today: date) -> Dashboard:
    """Everything the dashboard shows for the cleaned filter values."""
    base = base_projects(cleaned)
    chosen = cleaned.get("colour") or ""
    filters = filter_values(cleaned)
    counts, active_groups = count_projects(base)
    selected = {name: value for name, value in filters.items() if name != "colour"}
    trend = trend_points(base if selected else None, counts, today)
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
        as_of=results_as_of(counts),
        green_after_replan=counts["green_after_replan"],
    )
    return Dashboard(
        headline=headline,
        breakdowns=breakdowns(active_groups, filters),
        lists=project_lists(
            base, listed_colours(chosen), today=today, filters=filters, totals=counts
        ),
        trend=trend,
        colour=chosen,
        filters=filters,
        items=coordination_by_department(base, today=today),
    )


def cached_dashboard(cleaned: dict, *, today: date, stamp: str) -> tuple[Dashboard, SafeString]:
    """The dashboard's figures and trend chart for these filters, read once per stamp: the
    stamp (fingerprint.py) moves with every write the dashboard shows, so an entry is never
    stale; the language is in the key because the chart's labels are. The dashboard page and
    the meeting-room screens share the entries."""
    key = f"dashboard:{stamp}:{get_language()}"
    cached = cache.get(key)
    if cached is None:
        data = dashboard(cleaned, today=today)
        cached = (data, trend_svg(data.trend, labels={k: str(v) for k, v in Colour.choices}))
        cache.set(key, cached, settings.DASHBOARD_CACHE_SECONDS)
    return cached
