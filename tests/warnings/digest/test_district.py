"""The district's digest read as aggregates and bounded lists (digest/district.py: the preview,
one recipient's task) equals the one sliced in memory from the whole district (the weekly
run's snapshot, every project evaluated with the rules), field by field, on a generated
district; and a leader's preview takes as many queries for 500 projects as for 50."""
import random
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta

import pytest
from django.test import Client

from qiantang_warnings.digest import content as digest_content
from qiantang_warnings.digest.content import DISTRICT, DUE_SOON_DAYS, build_digest
from qiantang_warnings.digest.recipients import digest_for_user
from qiantang_warnings.digest.snapshot import EscalationRow, ProjectRow, district_snapshot

from .scenario import LAST_MONDAY, MONDAY, SHANGHAI, WEEK

pytestmark = pytest.mark.django_db
D = timedelta(days=1)
# Codes whose order differs between code points and a language's collation.
PREFIXES = ["A-", "A_", "A.", "a", "B", "Z", "项目", "0"]


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def build_district(n: int, *, seed: int, users: dict, working_days: bool = False, first: int = 0) -> None:
    """n projects in every state the digest reads: colours turned, recovered and first given in
    the week (and changed twice), overdue, due soon by a plan or by standard days after the
    previous milestone, unscheduled, not applicable, done later than today, rows missing
    (blank types), green only after re-planning, escalations, talks, coordination items, and
    re-plan proposals waiting."""
    from projects.models import CoordinationItem, Department, Milestone, MilestoneType, Project, ReplanProposal
    from qiantang_warnings.models import Escalation, Talk, WarningPolicy
    from qiantang_warnings.recompute import recompute_all

    rng = random.Random(seed)
    if working_days:
        policy = WarningPolicy.load()
        policy.count_working_days = True
        policy.save()
        # One type counts calendar days whatever the policy says, one has no yellow window.
        MilestoneType.objects.filter(code="signing").update(count_working_days=False)
        MilestoneType.objects.filter(code="land_transfer").update(yellow_window_disabled=True)
    types = list(MilestoneType.objects.order_by("order"))
    departments = [Department.objects.get_or_create(name=name)[0] for name in ("区发改局", "区住建局", "区资规分局")]
    cadres = [users["cadre1"], users["cadre2"], None]
    states = [Project.State.ACTIVE] * 17 + [Project.State.PAUSED, Project.State.COMPLETED, Project.State.TERMINATED]
    projects = Project.objects.bulk_create([
        Project(
            code=f"{rng.choice(PREFIXES)}{i:04d}".upper(), name=f"项目{i}", state=rng.choice(states),
            lead_department=rng.choice(departments + [None]), responsible_cadre=rng.choice(cadres),
        )
        for i in range(first, first + n)
    ])
    today = MONDAY
    milestones = []
    for project in projects:
        done = rng.randrange(len(types) + 1)  # the first `done` types are done
        previous_actual = today - rng.randrange(0, 400) * D
        for position, milestone_type in enumerate(types):
            baseline = None
            if rng.random() < 0.06:
                continue  # no row: a blank milestone of the catalogue
            planned = None if rng.random() < 0.45 else today + rng.randrange(-90, 60) * D
            actual = None
            if position < done:
                actual = previous_actual = previous_actual + rng.randrange(1, 40) * D
                if actual > today and rng.random() < 0.7:
                    actual = previous_actual = today - rng.randrange(0, 30) * D
            elif position == done and rng.random() < 0.1:
                # Green now, red against its first plan (调整后绿).
                planned, baseline = today + rng.randrange(40, 90) * D, today - rng.randrange(1, 30) * D
            elif position == done and milestone_type.standard_days and rng.random() < 0.6:
                # Due by its standard days after the previous one, around the window.
                planned = None
                if done:
                    milestones[-1].actual_date = today - (milestone_type.standard_days - rng.randrange(-5, 20)) * D
            if baseline is None and planned and rng.random() < 0.3:
                baseline = planned - rng.randrange(0, 60) * D
            milestones.append(Milestone(
                project=project, milestone_type=milestone_type, planned_date=planned, actual_date=actual,
                baseline_date=baseline, not_applicable=rng.random() < 0.08,
                owner_department=rng.choice(departments + [None]),
            ))
    Milestone.objects.bulk_create(milestones)
    recompute_all(today=LAST_MONDAY, now=at(LAST_MONDAY - D, 0))  # before the reported week

    def shake(share: float, day: date) -> None:
        """Move some plans and finish some milestones, reactivate some projects, pause others."""
        chosen = [p for p in projects if rng.random() < share]
        for project in projects:  # reactivated (a first colour is no turn) or paused
            if rng.random() < 0.05:
                Project.objects.filter(pk=project.pk).update(
                    state=Project.State.PAUSED if project.state == Project.State.ACTIVE else Project.State.ACTIVE
                )
        for project in chosen:
            Milestone.objects.filter(project=project, milestone_type=rng.choice(types)).update(
                planned_date=day + rng.randrange(-40, 30) * D, actual_date=None,
            )
            if rng.random() < 0.3:
                first_pending = Milestone.objects.filter(
                    project=project, actual_date__isnull=True, not_applicable=False
                ).order_by("milestone_type__order").first()
                if first_pending:
                    Milestone.objects.filter(pk=first_pending.pk).update(actual_date=day - rng.randrange(0, 20) * D)

    shake(0.3, LAST_MONDAY + 2 * D)
    recompute_all(today=LAST_MONDAY + 2 * D, now=at(LAST_MONDAY + 2 * D, 9))  # during the week
    shake(0.2, MONDAY)
    for project in projects:
        if rng.random() < 0.12:
            Escalation.objects.create(project=project, colour=rng.choice(["red", "yellow"]), reason=f"督办{project.code}",
                                      until=today + rng.randrange(-10, 60) * D, author=users["leader"])
        if rng.random() < 0.1:
            held = today - rng.randrange(1, 60) * D
            Talk.objects.create(project=project, held_on=held, participants="区领导、项目单位", agreed="按期推进",
                                follow_up_on=held + rng.randrange(0, 70) * D, recorded_by=users["office"])
        if rng.random() < 0.15:
            CoordinationItem.objects.create(
                project=project, need=f"协调{project.code}", department=rng.choice(departments + [None]),
                deadline=rng.choice([None, today + rng.randrange(-30, 30) * D]),
                state=rng.choice(list(CoordinationItem.State.values)),
            )
    pending = list(Milestone.objects.filter(project__in=projects, planned_date__isnull=False, actual_date__isnull=True)[: n // 20])
    ReplanProposal.objects.bulk_create([
        ReplanProposal(milestone=m, previous_planned_date=m.planned_date, proposed_planned_date=m.planned_date + 30 * D,
                       reason="调整", proposer=users["cadre1"])
        for m in pending
    ])
    recompute_all(today=MONDAY, now=at(MONDAY, 0))


def plain(value, depth=0):
    """A digest's content as plain values: rows by their fields, a project's escalations
    without the project again (the two point at each other)."""
    if isinstance(value, ProjectRow):
        return {
            f.name: [(e.colour, e.reason, e.until) for e in value.escalations] if f.name == "escalations"
            else getattr(value, f.name)
            for f in fields(value)
        }
    if isinstance(value, EscalationRow):
        return (plain(value.project), value.colour, value.reason, value.until)
    if is_dataclass(value):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def assert_same(new, old):
    new, old = plain(new), plain(old)
    assert new.keys() == old.keys()
    for name in old:
        assert new[name] == old[name], name


@pytest.mark.parametrize("seed, working_days, limit", [(1, False, 30), (2, False, 4), (3, True, 30), (4, True, 6)])
def test_the_district_read_as_aggregates_equals_the_whole_district_sliced(
    role_users, catalogue, monkeypatch, seed, working_days, limit
):
    build_district(300, seed=seed, users=role_users, working_days=working_days)
    monkeypatch.setattr(digest_content, "LIST_LIMIT", limit)
    for today in (MONDAY, MONDAY + 3 * D):
        whole = district_snapshot(week=WEEK, today=today)
        assert whole.whole_district
        # The generated district reaches what the digest lists: derived due dates in the
        # window, turns of colour, a first colour this week, green after re-planning.
        window = [m for m in whole.milestones if today <= m.due_date <= today + DUE_SOON_DAYS * D]
        assert any(m.due_derived for m in window) and any(not m.due_derived for m in window)
        rows = whole.projects.values()
        assert any(r.colour_before == "" and r.colour for r in rows)
        assert any(r.colour_before and r.colour_before != r.colour for r in rows)
        assert any(r.green_after_replan for r in rows)
        for username in ("leader", "office"):
            user = role_users[username]
            old = build_digest(whole, user=user, kinds=[DISTRICT])
            new = digest_for_user(user, week=WEEK, today=today)
            assert new.kinds == old.kinds == [DISTRICT]
            assert_same(new, old)
        assert old.turned_red and old.recovered and old.due_soon and old.needs_plan and old.escalations
        assert old.talks and old.items_by_department and old.green_after_replan and old.pending_replans
        if limit < 30:
            assert set(old.more) >= {"due_soon", "needs_plan", "escalations"}


def test_a_leader_previews_the_district_in_as_many_queries_for_500_projects_as_for_50(
    role_users, catalogue, monkeypatch, django_assert_max_num_queries
):
    from projects.models import Project

    monkeypatch.setattr("qiantang_warnings.digest.views.local_today", lambda: MONDAY)
    client = Client()
    client.force_login(role_users["leader"])

    def preview_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get("/digest/preview/")
        assert response.status_code == 200 and "全区概况" in response.content.decode()
        return len(captured)

    build_district(50, seed=5, users=role_users)
    small = preview_queries()
    build_district(450, seed=6, users=role_users, first=50)
    assert Project.objects.count() == 500
    with django_assert_max_num_queries(small):
        preview_queries()
    assert small <= 30
