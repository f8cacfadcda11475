"""seed_demo: a believable, deterministic demo portfolio and its accounts."""
import re
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from projects.demo import SECTORS, STREETS, DemoDataRefused, seed_demo
from projects.models import Department, Milestone, MilestoneReplan, MilestoneType, Project
from projects.roles import CADRE, LEADER, LIAISON, OFFICE
from qiantang_warnings.models import Escalation, RecomputeRun, StatusChange
from qiantang_warnings.selectors import as_of_aggregates, results_as_of

PASSWORD = "demo-pass-for-tests"


def run(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def groups_of(username):
    user = get_user_model().objects.get(username=username)
    return set(user.groups.values_list("name", flat=True))


def snapshot():
    """Everything the demo generates, in a comparable form."""
    projects = list(
        Project.objects.order_by("code").values_list(
            "code", "name", "sector", "level", "total_investment", "state", "colour",
            "reasons", "needs_plan", "lead_department__name", "responsible_cadre__username",
            "progress_note", "open_problems",
        )
    )
    teams = sorted(Project.team.through.objects.values_list("project__code", "user__username"))
    milestones = list(
        Milestone.objects.order_by("project__code", "milestone_type__order").values_list(
            "project__code", "milestone_type__code", "planned_date", "baseline_date",
            "actual_date", "not_applicable", "owner_department__name",
        )
    )
    escalations = sorted(Escalation.objects.values_list("project__code", "colour", "reason", "until"))
    return projects, teams, milestones, escalations


def wipe_demo():
    Project.objects.all().delete()
    get_user_model().objects.all().delete()


def test_default_portfolio_has_260_projects_with_one_milestone_per_type(db, today):
    output = run("--as-of", today.isoformat(), "--password", PASSWORD)

    types = MilestoneType.objects.count()
    assert types == 9
    assert Project.objects.count() == 260
    assert Milestone.objects.count() == 260 * types
    per_project = Project.objects.annotate(
        types=Count("milestones__milestone_type", distinct=True)
    ).values_list("types", flat=True)
    assert set(per_project) == {types}
    assert not Milestone.objects.filter(owner_department=None).exists()
    assert "260个项目" in output


def test_projects_look_like_the_district(db, today):
    seed_demo(projects=260, password=PASSWORD, today=today)

    projects = list(Project.objects.select_related("lead_department", "responsible_cadre"))
    assert {p.sector for p in projects} == set(SECTORS)
    assert {p.level for p in projects} == set(Project.Level.values)
    for project in projects:
        assert re.search(r"[\u4e00-\u9fff]", project.name), project.name
        assert project.name.endswith(("项目", "基地")), project.name
        assert Decimal("1.00") <= project.total_investment <= Decimal("120.00")
        assert project.total_investment.as_tuple().exponent == -2
        assert project.lead_department is not None
        assert project.responsible_cadre is not None
        assert project.progress_note
    assert len({p.name for p in projects}) == len(projects)
    streets = set(Department.objects.filter(kind=Department.Kind.STREET).values_list("name", flat=True))
    assert set(STREETS) <= streets
    assert {"区发改局", "区经信局", "区住建局", "规划资源钱塘分局", "区投资促进局", "生态环境钱塘分局"} <= set(
        Department.objects.filter(kind=Department.Kind.BUREAU).values_list("name", flat=True)
    )
    # Milestones are owned by the departments that handle them.
    owners = dict(
        Milestone.objects.filter(milestone_type__code__in=["land_listing", "construction_permit"])
        .values_list("milestone_type__code", "owner_department__name").distinct()
    )
    assert owners == {"land_listing": "规划资源钱塘分局", "construction_permit": "区住建局"}
    assert set(
        Milestone.objects.filter(milestone_type__code="groundbreaking")
        .values_list("owner_department__name", flat=True)
    ) <= set(STREETS)


def test_accounts_for_every_role(db, today):
    seed_demo(projects=260, password=PASSWORD, today=today)
    User = get_user_model()

    leader = User.objects.get(username="leader")
    assert groups_of("leader") == {LEADER}
    assert leader.is_staff and not leader.is_superuser
    office = User.objects.get(username="office")
    assert groups_of("office") == {OFFICE}
    assert office.is_staff

    cadres = list(User.objects.filter(groups__name=CADRE).order_by("id"))
    assert [c.username for c in cadres] == [f"cadre{i}" for i in range(1, 13)]
    for cadre in cadres:
        assert re.fullmatch(r"[\u4e00-\u9fff]", cadre.last_name), cadre.last_name
        assert re.fullmatch(r"[\u4e00-\u9fff]{1,2}", cadre.first_name), cadre.first_name
        assert not cadre.is_staff
        # Each is answerable for some projects and works on others.
        assert cadre.responsible_projects.exists(), cadre.username
        assert cadre.team_projects.exclude(responsible_cadre=cadre).exists(), cadre.username
    assert not Project.team.through.objects.filter(
        project__responsible_cadre_id=F("user_id")
    ).exists()

    liaisons = User.objects.filter(groups__name=LIAISON)
    assert liaisons.count() >= 3
    for liaison in liaisons:
        assert liaison.liaison_departments.exists(), liaison.username

    for username in ["leader", "office", "cadre1", "cadre12", liaisons[0].username]:
        assert authenticate(username=username, password=PASSWORD) is not None, username
    assert authenticate(username="cadre1", password="wrong") is None


@pytest.mark.parametrize("as_of", [date(2026, 11, 25), date(2031, 6, 30)])
def test_believable_colour_mix_as_of_any_day(db, as_of):
    summary = seed_demo(projects=260, password=PASSWORD, today=as_of)

    active = Project.objects.filter(state=Project.State.ACTIVE)
    n = active.count()
    assert 0.80 * 260 <= n <= 0.95 * 260
    red = active.filter(colour="red").count()
    yellow = active.filter(colour="yellow").count()
    green = active.filter(colour="green").count()
    assert red + yellow + green == n
    assert 0.15 <= red / n <= 0.25, red
    assert 0.15 <= yellow / n <= 0.25, yellow
    assert green / n >= 0.5, green
    assert 1 <= active.filter(needs_plan=True).count() <= 0.06 * n
    assert summary.colours == {"red": red, "yellow": yellow, "green": green}
    # Paused, completed and terminated projects exist and carry no colour.
    for state in ("paused", "completed", "terminated"):
        assert Project.objects.filter(state=state).exists(), state
    assert not Project.objects.exclude(state=Project.State.ACTIVE).exclude(colour="").exists()
    # Everything was computed for the day asked, after a replayed history: one
    # recompute per past week, then today. The latest change of every active
    # project is its colour now, and some changes lie in the past.
    # A project is written only when its result changed, so its computed date is the day of
    # that change; the results hold as of the last run's day (results_as_of).
    assert results_as_of(Project.objects.aggregate(**as_of_aggregates())) == as_of
    assert RecomputeRun.objects.order_by("-started_at").values_list("as_of", flat=True)[0] == as_of
    assert {d for d in Project.objects.values_list("computed_as_of", flat=True)} <= {
        as_of - timedelta(weeks=w) for w in range(13)
    }
    latest = {}
    for change in StatusChange.objects.order_by("at", "id"):
        latest[change.project_id] = change.to_colour
    assert latest == dict(active.values_list("id", "colour"))
    assert StatusChange.objects.filter(as_of__lt=as_of).exists()
    # No completion in the future.
    assert not Milestone.objects.filter(actual_date__gt=as_of).exists()


def test_projects_at_every_stage_with_replans_and_escalations(db, today):
    seed_demo(projects=260, password=PASSWORD, today=today)

    first_pending = set()
    for project in Project.objects.filter(state="active").prefetch_related("milestones__milestone_type"):
        pending = [m for m in project.milestones.all() if m.actual_date is None and not m.not_applicable]
        if pending:
            first_pending.add(pending[0].milestone_type.code)
    assert first_pending == set(MilestoneType.objects.values_list("code", flat=True))
    completed = Project.objects.filter(state="completed")
    assert not Milestone.objects.filter(
        project__in=completed, actual_date=None, not_applicable=False
    ).exists()

    replanned = Milestone.objects.exclude(planned_date=None).exclude(baseline_date=None).filter(
        planned_date__gt=F("baseline_date")
    )
    assert replanned.count() >= 10
    assert MilestoneReplan.objects.count() == replanned.count()
    assert all(r.reason for r in MilestoneReplan.objects.all())
    # Some due dates come from the standard days (no planned date, previous one done).
    assert Milestone.objects.filter(
        planned_date=None, actual_date=None, not_applicable=False, project__state="active"
    ).exists()
    assert Milestone.objects.filter(not_applicable=True).exists()

    escalations = Escalation.objects.all()
    assert 3 <= escalations.count() <= 15
    assert {e.author.username for e in escalations} == {"leader"}
    live = escalations.filter(until__gte=today)
    assert escalations.filter(until__lt=today).exists()  # one has lapsed by itself
    for escalation in live:
        project = escalation.project
        assert any(r["kind"] == "escalated" for r in project.reasons), project.code
        if escalation.colour == "red":
            assert project.colour == "red"
    assert Project.objects.exclude(open_problems="").filter(colour="red").count() == (
        Project.objects.filter(colour="red").count()
    )


def test_same_seed_same_data_other_seed_other_data(db, today):
    seed_demo(projects=80, password=PASSWORD, today=today, rng_seed=7)
    first = snapshot()
    wipe_demo()
    seed_demo(projects=80, password="another-password", today=today, rng_seed=7)
    assert snapshot() == first
    wipe_demo()
    seed_demo(projects=80, password=PASSWORD, today=today, rng_seed=8)
    assert snapshot() != first


def test_command_prints_counts_and_logins_and_a_random_password_once(db, today):
    output = run("--projects", "30", "--as-of", today.isoformat())

    for colour in ("red", "yellow", "green"):
        count = Project.objects.filter(state="active", colour=colour).count()
        label = {"red": "红", "yellow": "黄", "green": "绿"}[colour]
        assert f"{label} {count}" in output
    for username in ("leader", "office", "cadre1", "cadre12", "liaison1"):
        assert re.search(rf"^\s+{username}\s", output, re.M), username
    assert "王建国" in output
    password = re.search(r"只显示这一次）：(\S+)", output).group(1)
    assert len(password) >= 10
    assert output.count(password) == 1
    assert authenticate(username="office", password=password) is not None


def test_given_password_is_not_printed(db, today):
    output = run("--projects", "10", "--as-of", today.isoformat(), "--password", PASSWORD)
    assert PASSWORD not in output
    assert authenticate(username="leader", password=PASSWORD) is not None


def test_if_empty_seeds_an_empty_database(db, today):
    run("--projects", "12", "--as-of", today.isoformat(), "--if-empty", "--password", PASSWORD)
    assert Project.objects.count() == 12


def test_if_empty_does_nothing_when_projects_exist(db, today, make_project):
    make_project("QT-EXIST")
    output = run("--if-empty", "--as-of", today.isoformat())
    assert "跳过" in output
    assert Project.objects.count() == 1
    assert not get_user_model().objects.exists()


def test_refuses_to_seed_twice(db, today):
    run("--projects", "15", "--as-of", today.isoformat(), "--password", PASSWORD)
    with pytest.raises(CommandError, match="已有15个项目"):
        run("--projects", "15", "--as-of", today.isoformat(), "--password", PASSWORD)
    assert Project.objects.count() == 15
    assert get_user_model().objects.filter(username="leader").count() == 1


def test_refuses_when_a_demo_account_exists_and_saves_nothing(db, today):
    get_user_model().objects.create_user("office", password="kept-as-is-123")
    with pytest.raises(DemoDataRefused, match="office"):
        seed_demo(projects=10, password=PASSWORD, today=today)
    assert not Project.objects.exists()
    assert authenticate(username="office", password="kept-as-is-123") is not None


@pytest.mark.parametrize("args", [["--projects", "0"], ["--as-of", "2026-13-01"], ["--as-of", "1999-12-31"]])
def test_bad_arguments_are_refused(db, args):
    with pytest.raises(CommandError):
        run(*args)
    assert not Project.objects.exists()


def count_seed_queries(projects: int, today) -> int:
    with CaptureQueriesContext(connection) as queries:
        seed_demo(projects=projects, password=PASSWORD, today=today)
    return len(queries.captured_queries)


def test_seeding_is_bulk(db, today):
    # bulk_create and one recompute per replayed week (13 in all, each recorded by one
    # RecomputeRun row, after reading its inputs' and shared inputs' versions and the last
    # run): queries grow only by batching
    # (SQLite's parameter limit), nowhere
    # near one per project.
    small = count_seed_queries(26, today)
    wipe_demo()
    large = count_seed_queries(260, today)
    assert Project.objects.count() == 260
    assert small <= 300, small
    assert large - small < (260 - 26) / 5, (small, large)
