"""The dashboard's selectors: counts, week-on-week change, trend, breakdowns and lists.

Each count is checked against a count made independently, in plain Python over
the stored rows, for many filter combinations.
"""
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from projects.filters import ProjectFilterForm
from projects.models import Department, Project
from qiantang_warnings.dashboard import charts, figures, lists, page
from qiantang_warnings.dashboard.page import COLOURS
from qiantang_warnings.models import Escalation, StatusChange

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def overdue(name, days, colour="red"):
    return {"colour": colour, "kind": "overdue", "days": days, "milestone": "x", "name": name, "note": ""}


def due_soon(name, days):
    return {"colour": "yellow", "kind": "due_soon", "days": days, "milestone": "x", "name": name, "note": ""}


def cleaned(params):
    form = ProjectFilterForm(params)
    form.is_valid()
    return form.cleaned_data


@pytest.fixture
def people(db):
    return {
        "bureau": Department.objects.create(name="区经信局"),
        "street": Department.objects.create(name="下沙街道", kind=Department.Kind.STREET),
        "wang": User.objects.create_user("cadre1", last_name="王", first_name="建国"),
        "li": User.objects.create_user("cadre2", last_name="李", first_name="娜"),
    }


@pytest.fixture
def portfolio(people):
    """Sixteen projects over two sectors, two departments, two cadres and every state."""
    sectors = ["集成电路", "生物医药"]
    departments = [people["bureau"], people["street"]]
    cadres = [people["wang"], people["li"]]
    shapes = [
        ("active", "red", False), ("active", "yellow", False), ("active", "green", True),
        ("active", "green", False), ("active", "red", False), ("paused", "", False),
        ("completed", "", False), ("active", "yellow", True),
    ]
    projects = []
    for i, ((state, colour, needs_plan), sector) in enumerate(product(shapes, sectors)):
        projects.append(
            Project(
                code=f"QT-{i:03d}",
                name=f"{sector}测试项目{i}",
                sector=sector,
                lead_department=departments[i % 2],
                responsible_cadre=cadres[(i // 2) % 2],
                level=["provincial", "municipal", "district"][i % 3],
                state=state,
                colour=colour,
                needs_plan=needs_plan,
                total_investment=Decimal(i + 1) / 4,
                reasons=[overdue("开工", i + 1)] if colour == "red" else [],
            )
        )
    Project.objects.bulk_create(projects)
    return people


def independent_counts(params, people):
    """Colour counts and investments of the projects the filters select, counted in Python."""
    rows = list(
        Project.objects.values(
            "sector", "lead_department_id", "responsible_cadre_id", "level", "state", "colour",
            "needs_plan", "total_investment", "code", "name",
        )
    )

    def selected(row):
        return (
            (not params.get("sector") or row["sector"] == params["sector"])
            and (not params.get("department") or row["lead_department_id"] == params["department"])
            and (not params.get("cadre") or row["responsible_cadre_id"] == params["cadre"])
            and (not params.get("level") or row["level"] == params["level"])
            and (not params.get("state") or row["state"] == params["state"])
            and (not params.get("q") or params["q"] in row["name"] or params["q"] in row["code"])
        )

    chosen = [row for row in rows if selected(row)]
    active = [row for row in chosen if row["state"] == "active"]
    return {
        "counts": {c: sum(1 for r in active if r["colour"] == c) for c in COLOURS},
        "investment": {
            c: sum((r["total_investment"] for r in active if r["colour"] == c), Decimal("0"))
            for c in COLOURS
        },
        "needs_plan": sum(1 for r in active if r["needs_plan"]),
        "inactive": len(chosen) - len(active),
    }


FILTER_COMBINATIONS = [
    {},
    {"sector": "集成电路"},
    {"sector": "生物医药", "level": "district"},
    {"department": "bureau"},
    {"cadre": "li"},
    {"cadre": "wang", "sector": "集成电路"},
    {"department": "street", "cadre": "wang", "level": "provincial"},
    {"state": "active"},
    {"state": "paused"},
    {"q": "集成电路测试项目1"},
    {"q": "QT-00"},
    {"sector": "集成电路", "colour": "red"},
    {"colour": "yellow", "state": "active"},
]


@pytest.mark.parametrize("params", FILTER_COMBINATIONS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all")
def test_headline_counts_equal_independent_counts_for_every_filter(portfolio, params, today):
    resolved = {
        key: portfolio[value].pk if key in ("department", "cadre") else value
        for key, value in params.items()
    }
    expected = independent_counts(resolved, portfolio)

    data = page.dashboard(cleaned({k: str(v) for k, v in resolved.items()}), today=today)

    figures = data.headline.by_colour
    assert {c: figures[c].count for c in COLOURS} == expected["counts"]
    assert {c: figures[c].investment for c in COLOURS} == expected["investment"]
    assert data.headline.needs_plan == expected["needs_plan"]
    assert data.headline.inactive == expected["inactive"]
    # Every breakdown adds up to the headline.
    for breakdown in data.breakdowns:
        for colour in COLOURS:
            assert sum(row.counts[colour] for row in breakdown.rows) == expected["counts"][colour]
    # The lists hold every red and yellow project selected (fewer than the list limit here).
    listed = {lst.colour: lst.total for lst in data.lists}
    for colour, total in listed.items():
        assert total == expected["counts"][colour]


def test_the_colour_filter_chooses_the_lists_not_the_counts(portfolio, today):
    everything = page.dashboard({}, today=today)
    red_only = page.dashboard(cleaned({"colour": "red"}), today=today)

    assert [lst.colour for lst in everything.lists] == ["red", "yellow"]
    assert [lst.colour for lst in red_only.lists] == ["red"]
    counts = lambda data: {f.colour: (f.count, f.investment, f.week_ago) for f in data.headline.figures}  # noqa: E731
    assert counts(red_only) == counts(everything)
    assert red_only.headline.by_colour["red"].selected
    assert red_only.headline.by_colour["red"].toggle_query == ""  # a second click unchooses it
    assert everything.headline.by_colour["red"].toggle_query == "colour=red"


def test_an_invalid_filter_value_is_ignored(portfolio, today):
    everything = page.dashboard({}, today=today)
    data = page.dashboard(cleaned({"department": "99999", "colour": "purple"}), today=today)
    assert data.headline == everything.headline
    assert data.filters == {}


def test_needs_plan_is_counted_apart_and_also_in_its_colour(portfolio, today):
    data = page.dashboard({}, today=today)
    # Two needs_plan shapes × two sectors; both also count in their colour (green, yellow).
    assert data.headline.needs_plan == 4
    assert data.headline.active == sum(f.count for f in data.headline.figures) == 12


# ---------------------------------------------------------------- history


@pytest.fixture
def history(make_project, today):
    """Three projects with a colour history over the last weeks (consistent with now)."""
    a = make_project("QT-A", colour="red", reasons=[overdue("开工", 3)])
    b = make_project("QT-B", colour="red", reasons=[overdue("签约", 40)])
    c = make_project("QT-C", colour="green")
    d = make_project("QT-D", colour="", state="paused")
    changes = [
        # A: green five weeks ago, yellow two weeks ago, red two days ago.
        (a, "", "green", today - timedelta(days=35)),
        (a, "green", "yellow", today - timedelta(days=14)),
        (a, "yellow", "red", today - timedelta(days=2)),
        # B: red for a month; went yellow and back to red this week (not newly red).
        (b, "", "red", today - timedelta(days=30)),
        (b, "red", "yellow", today - timedelta(days=4)),
        (b, "yellow", "red", today - timedelta(days=3)),
        # C: green since ten weeks ago.
        (c, "", "green", today - timedelta(days=70)),
        # D: red until it was paused this week (no colour now).
        (d, "", "red", today - timedelta(days=20)),
        (d, "red", "", today - timedelta(days=1)),
    ]
    StatusChange.objects.bulk_create(
        [
            StatusChange(project=p, from_colour=f, to_colour=t, at=at(day), as_of=day)
            for p, f, t, day in changes
        ]
    )
    return {"a": a, "b": b, "c": c, "d": d}


def test_the_trend_replays_the_history_week_by_week(history, today):
    trend = page.dashboard({}, today=today).trend

    assert len(trend) == figures.TREND_WEEKS == 12
    assert [p.day for p in trend] == [today - timedelta(days=7 * k) for k in range(11, -1, -1)]
    by_day = {p.day: p.counts for p in trend}
    assert by_day[today] == {"red": 2, "yellow": 0, "green": 1}
    # A week ago: A yellow, B red, C green, D red.
    assert by_day[today - timedelta(days=7)] == {"red": 2, "yellow": 1, "green": 1}
    # Two weeks ago (end of that day): A had just turned yellow; B and D red.
    assert by_day[today - timedelta(days=14)] == {"red": 2, "yellow": 1, "green": 1}
    # Three weeks ago: A green, B red; D turned red only the day after.
    assert by_day[today - timedelta(days=21)] == {"red": 1, "yellow": 0, "green": 2}
    # Five weeks ago: A green (turned green that day), C green, nothing red yet.
    assert by_day[today - timedelta(days=35)] == {"red": 0, "yellow": 0, "green": 2}
    assert by_day[today - timedelta(days=77)] == {"red": 0, "yellow": 0, "green": 0}


def test_the_change_since_last_week_comes_from_the_history(history, today):
    figures = page.dashboard({}, today=today).headline.by_colour
    assert (figures["red"].count, figures["red"].week_ago, figures["red"].change) == (2, 2, 0)
    assert (figures["yellow"].week_ago, figures["yellow"].change) == (1, -1)
    assert (figures["green"].week_ago, figures["green"].change) == (1, 0)


def test_a_change_on_the_same_day_last_week_counts_as_last_week(make_project, today):
    project = make_project("QT-E", colour="red", reasons=[overdue("开工", 1)])
    last_week = today - timedelta(days=7)
    StatusChange.objects.create(
        project=project, from_colour="", to_colour="red", at=at(last_week, 23), as_of=last_week
    )
    data = page.dashboard({}, today=today)
    assert data.headline.by_colour["red"].week_ago == 1
    assert not data.lists[0].projects[0].newly_red


def test_newly_red_marks_projects_that_were_not_red_a_week_ago(history, today):
    red = page.dashboard({}, today=today).lists[0]
    marks = {p.code: p.newly_red for p in red.projects}
    assert marks == {"QT-A": True, "QT-B": False}


def test_the_trend_follows_the_filters(history, today):
    trend = page.dashboard(cleaned({"q": "QT-A"}), today=today).trend
    assert [p.counts["red"] for p in trend][-3:] == [0, 0, 1]
    assert [p.counts["yellow"] for p in trend][-3:] == [1, 1, 0]


# ---------------------------------------------------------------- lists


def test_lists_show_red_then_yellow_most_urgent_first_with_cadre_and_marks(
    make_project, people, today
):
    make_project("QT-R1", colour="red", reasons=[overdue("开工", 5)], responsible_cadre=people["wang"],
                 lead_department=people["bureau"], sector="集成电路")
    make_project("QT-R2", colour="red", reasons=[overdue("签约", 60), overdue("土地挂牌", 2)])
    escalated = make_project(
        "QT-R3", colour="red",
        reasons=[{"colour": "red", "kind": "escalated", "days": 0, "milestone": "", "name": "", "note": "区领导批示"}],
    )
    make_project(
        "QT-R4", colour="red",
        reasons=[{"colour": "red", "kind": "escalated", "days": 0, "milestone": "", "name": "", "note": "限期"},
                 overdue("竣工验收", 100)],
    )
    make_project("QT-Y1", colour="yellow", reasons=[due_soon("开工", 9)])
    make_project("QT-Y2", colour="yellow", reasons=[overdue("过会", 1, colour="yellow")])
    make_project("QT-Y3", colour="yellow", reasons=[due_soon("竣工验收", 0)])
    make_project("QT-G", colour="green")
    Escalation.objects.create(project=escalated, colour="red", reason="区领导批示", until=today)
    Escalation.objects.create(
        project=Project.objects.get(code="QT-R1"), colour="red", reason="已过期", until=today - timedelta(days=1)
    )

    red, yellow = page.dashboard({}, today=today).lists

    # Most overdue first (an escalation ranks by the milestone behind it), escalation alone last.
    assert [p.code for p in red.projects] == ["QT-R4", "QT-R2", "QT-R1", "QT-R3"]
    assert [p.code for p in yellow.projects] == ["QT-Y2", "QT-Y3", "QT-Y1"]
    # The database's order is the documented one.
    for listed in (red, yellow):
        keys = [lists.urgency(p.colour, p.reasons) for p in listed.projects]
        assert keys == sorted(keys)
    first = red.projects[1]
    assert (first.headline_reason, first.more_reasons, first.days_overdue) == ("签约逾期60天", 1, 60)
    r1 = red.projects[2]
    assert (r1.cadre, r1.department, r1.sector, r1.escalated) == ("王建国", "区经信局", "集成电路", False)
    r3 = red.projects[3]
    assert (r3.escalated, r3.days_overdue, r3.headline_reason) == (True, None, "督办：区领导批示")


def test_a_long_list_is_cut_with_a_link_to_the_whole_list(make_project, monkeypatch, today):
    monkeypatch.setattr(lists, "LIST_LIMIT", 2)
    for i in range(3):
        make_project(f"QT-{i}", colour="red", reasons=[overdue("开工", 10 + i)], sector="集成电路")
    red = page.dashboard(cleaned({"sector": "集成电路"}), today=today).lists[0]
    assert [p.code for p in red.projects] == ["QT-2", "QT-1"]
    assert red.truncated and red.total == 3
    assert red.list_query == "sector=%E9%9B%86%E6%88%90%E7%94%B5%E8%B7%AF&colour=red"


# ---------------------------------------------------------------- breakdowns


def test_breakdown_cells_link_to_the_list_with_the_current_filters(portfolio, today):
    data = page.dashboard(cleaned({"level": "district"}), today=today)
    sector = next(b for b in data.breakdowns if b.dimension == "sector")
    row = next(r for r in sector.rows if r.key == "集成电路")
    assert row.links["red"] == "sector=%E9%9B%86%E6%88%90%E7%94%B5%E8%B7%AF&level=district&colour=red"
    assert row.links["total"] == "sector=%E9%9B%86%E6%88%90%E7%94%B5%E8%B7%AF&level=district&state=active"

    cadre = next(b for b in data.breakdowns if b.dimension == "cadre")
    labels = {r.label: r.key for r in cadre.rows}
    assert labels == {"王建国": str(portfolio["wang"].pk), "李娜": str(portfolio["li"].pk)}
    department = next(b for b in data.breakdowns if b.dimension == "department")
    assert {r.label for r in department.rows} == {"区经信局", "下沙街道"}


def test_breakdown_rows_are_worst_first_and_projects_without_a_sector_get_no_link(make_project, today):
    make_project("QT-1", colour="green", sector="生物医药")
    make_project("QT-2", colour="red", sector="集成电路")
    make_project("QT-3", colour="red", sector="")
    sector = page.dashboard({}, today=today).breakdowns[0]
    assert [(r.label, r.counts["red"]) for r in sector.rows] == [("集成电路", 1), ("", 1), ("生物医药", 0)]
    assert sector.rows[1].links == {}


# ---------------------------------------------------------------- chart


def test_the_trend_chart_names_each_colour_with_a_shape_and_a_label(history, today):
    trend = page.dashboard({}, today=today).trend
    svg = str(charts.trend_svg(trend, labels={"red": "红", "yellow": "黄", "green": "绿"}))
    assert svg.startswith('<svg class="trend-chart"') and 'role="img"' in svg
    for colour in COLOURS:
        assert f'<g class="series {colour}">' in svg
    assert "<rect" in svg and "<circle" in svg and "<path" in svg  # square, circle, triangle
    assert 'stroke-dasharray="7 4"' in svg and 'stroke-dasharray="2 4"' in svg
    assert ">红 2</text>" in svg and ">黄 0</text>" in svg and ">绿 1</text>" in svg
    assert "11-25" in svg


@pytest.mark.parametrize("value, ceiling", [(0, 4), (3, 4), (5, 8), (9, 20), (52, 80), (131, 200), (2000, 2000)])
def test_the_count_axis_ends_on_a_round_number(value, ceiling):
    assert charts._nice_ceiling(value) == ceiling


@pytest.mark.django_db
def test_postgresql_keeps_statistics_on_the_columns_the_dashboard_groups_by():
    """Without them its planner expects thousands of groups and sorts every project
    (migration projects 0010); SQLite (`make run`) has no such statistics."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.attname FROM pg_statistic_ext s JOIN pg_attribute a"
                " ON a.attrelid = s.stxrelid AND a.attnum = ANY(s.stxkeys)"
                " WHERE s.stxname = 'projects_project_dashboard_groups'"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "state", "sector", "lead_department_id", "responsible_cadre_id"
            }
