"""Recheck days in the recompute: a full run evaluates only the projects due a recheck, and
its results are exactly those of evaluating every project.

A project's recheck day (Project.recheck_on, from rules.recheck_on) is emptied by database
triggers with every write of its own inputs, whichever way it is written; a write of an input
every project shares moves SharedInputsVersion, and the next run evaluates every project."""
import random
from datetime import date

import pytest
from django.db import connection

from projects.models import CoordinationItem, Department, Milestone, MilestoneReplan, MilestoneType, Project
from qiantang_warnings import recompute, spread
from qiantang_warnings.models import CalendarDay, Escalation, RecomputeRun, WarningPolicy
from qiantang_warnings.recompute import recompute_all, recompute_projects
from qiantang_warnings.rules_context import NEVER

from .test_recompute import D, _concurrent, at, project_columns_watched_by, project_input_columns

RESULTS = ("colour", "reasons", "needs_plan", "baseline_colour", "replan_count", "urgency")


def results():
    return {row["code"]: row for row in Project.objects.values("code", *RESULTS)}


def latest_run():
    return RecomputeRun.objects.order_by("-started_at", "-id").first()


def _district(make_project, today, count=40, seed=7):
    """Projects with plans, actual dates, escalations and items spread around `today`."""
    chance = random.Random(seed)
    codes = ["approval", "signing", "land_listing", "land_transfer", "groundbreaking"]
    for n in range(count):
        milestones, offset = {}, chance.randint(-200, 0)
        for code in codes:
            offset += chance.randint(5, 60)
            values = {"planned_date": today + offset * D} if chance.random() < 0.8 else {}
            if chance.random() < 0.35:
                values["actual_date"] = today + (offset + chance.randint(-20, 20)) * D
            milestones[code] = values
        project = make_project(f"QT-{n:03d}", milestones=milestones)
        if n % 9 == 0:
            Escalation.objects.create(project=project, colour="red", reason="督办", until=today + n * D)


@pytest.mark.parametrize("days_later", [1, 9, 20, 35])  # within the year: a new year evaluates all
def test_a_run_of_only_the_projects_due_gives_the_results_of_evaluating_every_one(make_project, today, days_later):
    _district(make_project, today)
    recompute_all(today=today, now=at(today))
    later = today + days_later * D
    due = Project.objects.filter(recheck_on__lte=later).count()
    summary = recompute_all(today=later, now=at(later))
    assert latest_run().due_only and summary.examined == due < Project.objects.count()
    partial = results()
    everything = recompute_all(today=later, now=at(later, 10), evaluate_all=True)
    assert not latest_run().due_only and everything.examined == Project.objects.count()
    assert (everything.updated, everything.status_changes) == (0, 0) and results() == partial


def test_day_after_day_with_edits_between_the_runs_stays_exact(make_project, today):
    _district(make_project, today, count=30, seed=11)
    chance = random.Random(3)
    milestones = list(Milestone.objects.values_list("id", flat=True))
    for step in range(12):
        day = today + step * 5 * D
        for milestone_id in chance.sample(milestones, 4):  # edits no recompute follows (a bulk UPDATE)
            Milestone.objects.filter(pk=milestone_id).update(actual_date=day - chance.randint(0, 9) * D)
        recompute_all(today=day, now=at(day))
        partial = results()
        recompute_all(today=day, now=at(day, 10), evaluate_all=True)
        assert results() == partial, day


def test_a_spread_run_of_the_projects_due_gives_the_same_results(make_project, today, settings):
    settings.RECOMPUTE_CHUNK_SIZE = 7
    _district(make_project, today)
    recompute_all(today=today, now=at(today))
    later = today + 30 * D
    run, chunks = spread.recompute_run_start(today=later, now=at(later))
    assert run.due_only and sum(map(len, chunks)) == Project.objects.filter(recheck_on__lte=later).count()
    for index, ids in enumerate(chunks):
        spread.recompute_chunk(run_id=run.pk, index=index, project_ids=ids, today=later, due_only=True)
    run.refresh_from_db()
    assert run.finished_at is not None
    partial = results()
    assert recompute_all(today=later, now=at(later, 10), evaluate_all=True).updated == 0
    assert results() == partial


def _written(kind, project, today, role_users):
    """One write of the project's own inputs, of the given kind."""
    signing = Milestone.objects.get(project=project, milestone_type__code="signing")
    if kind == "milestone bulk update":
        Milestone.objects.filter(pk=signing.pk).update(planned_date=today + 3 * D)
    elif kind == "milestone save":
        signing.actual_date = today
        signing.save()
    elif kind == "milestone delete":
        signing.delete()
    elif kind == "re-plan":
        MilestoneReplan.objects.create(milestone=signing, old_planned_date=today, new_planned_date=today + 9 * D,
                                       reason="调整", author=role_users["office"])
    elif kind == "coordination item":
        CoordinationItem.objects.create(project=project, need="腾地", department=Department.objects.get(name="区住建局"),
                                        deadline=today + D, raised_by=role_users["cadre1"])
    elif kind == "escalation":
        Escalation.objects.create(project=project, colour="red", reason="督办", until=today + D)
    elif kind == "project save":
        project.state = Project.State.PAUSED
        project.save()
    elif kind == "project bulk update":
        Project.objects.filter(pk=project.pk).update(state=Project.State.PAUSED)


OWN_WRITES = ["milestone bulk update", "milestone save", "milestone delete", "re-plan", "coordination item",
              "escalation", "project save", "project bulk update"]


@pytest.mark.parametrize("kind", OWN_WRITES)
def test_a_write_of_a_project_s_own_inputs_empties_its_recheck_day_and_only_its(make_project, today, kind,
                                                                                  role_users):
    written = make_project("QT-W", milestones={"signing": {"planned_date": today + 100 * D}})
    other = make_project("QT-O", milestones={"signing": {"planned_date": today + 100 * D}})
    Department.objects.create(name="区住建局")  # a shared input: written before the run
    recompute_all(today=today, now=at(today))
    assert set(Project.objects.values_list("recheck_on", flat=True)) == {today + 85 * D}
    _written(kind, written, today, role_users)
    assert Project.objects.get(pk=written.pk).recheck_on is None
    assert Project.objects.get(pk=other.pk).recheck_on == today + 85 * D
    summary = recompute_all(today=today + D, now=at(today + D))
    assert latest_run().due_only and summary.examined == 1


MANY_WRITES = ["items bulk create", "milestones bulk update", "items bulk delete", "item moved to another project"]


@pytest.mark.parametrize("kind", MANY_WRITES)
def test_one_statement_writing_several_projects_inputs_empties_each_one_s_day_and_no_other(
    make_project, today, kind, role_users
):
    """On PostgreSQL the triggers run once per statement over the rows it wrote (old and new)."""
    first, second, other = (make_project(code, milestones={"signing": {"planned_date": today + 100 * D}})
                            for code in ("QT-A", "QT-B", "QT-O"))
    department = Department.objects.create(name="区住建局")
    item = {"need": "腾地", "department": department, "deadline": today + 100 * D, "raised_by": role_users["cadre1"]}
    if kind in ("items bulk delete", "item moved to another project"):
        CoordinationItem.objects.create(project=first, **item)
        if kind == "items bulk delete":
            CoordinationItem.objects.create(project=second, **item)
    recompute_all(today=today, now=at(today))
    assert set(Project.objects.values_list("recheck_on", flat=True)) == {today + 85 * D}
    if kind == "items bulk create":
        CoordinationItem.objects.bulk_create([CoordinationItem(project=first, **item),
                                              CoordinationItem(project=second, **item)])
    elif kind == "milestones bulk update":
        Milestone.objects.filter(project__in=[first, second], milestone_type__code="signing").update(
            planned_date=today - 2 * D)
    elif kind == "items bulk delete":
        CoordinationItem.objects.filter(project__in=[first, second]).delete()
    else:
        CoordinationItem.objects.filter(project=first).update(project=second)
    days = dict(Project.objects.values_list("code", "recheck_on"))
    assert days == {"QT-A": None, "QT-B": None, "QT-O": today + 85 * D}
    summary = recompute_all(today=today + D, now=at(today + D))
    assert latest_run().due_only and summary.examined == 2


def test_the_recompute_s_own_writes_keep_the_day_it_wrote(make_project, today):
    project = make_project("QT-W", milestones={"signing": {"planned_date": today - 3 * D}})  # red
    recompute_projects([project.pk], today=today, now=at(today))
    project.refresh_from_db()
    assert (project.colour, project.recheck_on) == ("red", today + D)  # days overdue move tomorrow
    project.state = Project.State.FINISHED if hasattr(Project.State, "FINISHED") else Project.State.PAUSED
    project.save()
    recompute_projects([project.pk], today=today, now=at(today))
    project.refresh_from_db()
    assert (project.colour, project.recheck_on) == ("", NEVER)  # not active: no day changes it


SHARED_WRITES = ["policy", "milestone type", "calendar day", "department"]


@pytest.mark.parametrize("kind", SHARED_WRITES)
def test_a_write_of_an_input_every_project_shares_makes_the_next_run_evaluate_every_project(
    make_project, today, kind
):
    for n in range(3):
        make_project(f"QT-{n}", milestones={"signing": {"planned_date": today + 100 * D}})
    recompute_all(today=today, now=at(today))
    if kind == "policy":
        WarningPolicy.objects.filter(pk=WarningPolicy.SINGLETON_ID).update(yellow_before_days=120)
    elif kind == "milestone type":
        MilestoneType.objects.filter(code="signing").update(yellow_before_days=120)
    elif kind == "calendar day":
        CalendarDay.objects.create(date=today + 40 * D, is_working_day=False, note="假日")
    else:
        Department.objects.create(name="区住建局")
    summary = recompute_all(today=today + D, now=at(today + D))
    assert not latest_run().due_only and summary.examined == 3
    if kind in ("policy", "milestone type"):  # a wider window: yellow at once, though no day was due
        assert set(Project.objects.values_list("colour", flat=True)) == {"yellow"}


@pytest.mark.parametrize("case", ["new rules code", "a day before the last run", "a new year", "--full"])
def test_every_project_is_evaluated_when_the_last_run_cannot_vouch_for_them(make_project, today, case, monkeypatch):
    make_project("QT-1", milestones={"signing": {"planned_date": today + 100 * D}})
    make_project("QT-2", milestones={"signing": {"planned_date": today + 200 * D}})
    recompute_all(today=today, now=at(today))
    day, full = today + D, False
    if case == "new rules code":
        monkeypatch.setattr(recompute, "RULES_CODE", "0123456789abcdef")
    elif case == "a day before the last run":
        day = today - D
    elif case == "a new year":
        day = date(today.year + 1, 1, 1)
    else:
        full = True
    summary = recompute_all(today=day, now=at(day), evaluate_all=full)
    assert not latest_run().due_only and summary.examined == 2


@pytest.mark.django_db
def test_the_project_trigger_watches_every_project_column_but_the_results():
    """A column added to the project table must be watched (migration 0013's note)."""
    assert project_columns_watched_by("qiantang_recheck") == project_input_columns()


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_while_a_run_holds_the_project_empties_the_day_after_the_run_wrote_it(
    make_project, today, monkeypatch
):
    """The run reads the inputs before the write commits and writes a day from them; the
    write's trigger waits for the run's row lock, so the day it empties is the run's."""
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    project = make_project("QT-1", milestones={"signing": {"planned_date": today + 100 * D}})
    recompute_all(today=today, now=at(today))
    Project.objects.filter(pk=project.pk).update(progress_note="进展")  # the day is empty: due
    later = today + D
    blocked, _results = _concurrent(
        monkeypatch,
        lambda: recompute_all(today=later, now=at(later, 9)),
        lambda: Milestone.objects.filter(project=project, milestone_type__code="signing").update(
            planned_date=later - 5 * D),  # overdue now: red
    )
    assert blocked, "the write never waited for the run's row lock"
    assert Project.objects.get(pk=project.pk).recheck_on is None
    recompute_all(today=later, now=at(later, 10))
    assert Project.objects.get(pk=project.pk).colour == "red"
