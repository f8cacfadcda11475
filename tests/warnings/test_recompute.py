"""The recompute service: stored results, status changes, writes, locks, speed.

Every test passes "today" (and usually "now") in; nothing reads the wall clock.
"""
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from projects.models import Milestone, MilestoneType, Project
from qiantang_warnings import recompute
from qiantang_warnings.models import CalendarDay, Escalation, RecomputeRun, StatusChange, WarningPolicy
from qiantang_warnings.recompute import recompute_all, recompute_projects
from tests.concurrency import run_in_thread, waiting_for_a_lock

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = timedelta(days=1)


def at(day, hour=9):
    """An aware moment on `day` in Shanghai, passed as the recompute's `now`."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def reason(colour, kind, days, code="", name="", note=""):
    return {"colour": colour, "kind": kind, "days": days, "milestone": code, "name": name, "note": note}


def writes(captured):
    """The statements of a CaptureQueriesContext that change data."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


def changes(project):
    return list(
        StatusChange.objects.filter(project=project)
        .order_by("at", "id")
        .values_list("from_colour", "to_colour")
    )


# --- What is stored ---------------------------------------------------------


def test_stores_colour_reasons_needs_plan_and_as_of(make_project, today):
    late = make_project("QT-RED", milestones={
        "approval": {"actual_date": today - 60 * D}, "signing": {"planned_date": today - 3 * D},
    })
    unplanned = make_project("QT-PLAN", milestones={"approval": {}, "signing": {}})
    derived = make_project(
        "QT-STD",
        # 签约 has no planned date: due 30 days after 过会's actual date (按标准时限).
        milestones={"approval": {"actual_date": today - 40 * D}, "signing": {}},
    )

    summary = recompute_all(today=today, now=at(today))

    assert (summary.as_of, summary.examined, summary.updated, summary.status_changes) == (
        today, 3, 3, 3,
    )
    late.refresh_from_db()
    assert late.colour == "red"
    assert late.reasons == [reason("red", "overdue", 3, "signing", "项目签约")]
    assert late.headline_reason == "项目签约逾期3天"
    assert late.needs_plan is False
    assert late.computed_as_of == today
    assert late.colour_changed_at == at(today)

    unplanned.refresh_from_db()
    assert (unplanned.colour, unplanned.reasons, unplanned.needs_plan) == ("green", [], True)

    derived.refresh_from_db()
    assert derived.colour == "red"
    assert derived.reasons == [reason("red", "overdue", 10, "signing", "项目签约")]
    assert derived.needs_plan is False


def test_reasons_are_ordered_red_first_then_most_overdue(make_project, today):
    project = make_project(
        milestones={
            "signing": {"planned_date": today + 3 * D},  # yellow, due soon
            "land_listing": {"planned_date": today - 2 * D},  # red, 2 days
            "land_transfer": {"planned_date": today - 9 * D},  # red, 9 days
        }
    )
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.reason_texts == ["土地出让逾期9天", "土地挂牌逾期2天", "项目签约将于3天后到期"]


def run_record_only(statements):
    """The writes, besides the one row that records the run (RecomputeRun)."""
    return [sql for sql in statements if not sql.startswith('INSERT INTO "warnings_recomputerun"')]


def test_a_rerun_as_of_the_same_day_writes_nothing_but_its_run_record(make_project, today):
    for n in range(6):
        make_project(f"QT-{n}", milestones={"signing": {"planned_date": today + (n * 7 - 14) * D}})
    Escalation.objects.create(
        project=Project.objects.get(code="QT-5"), colour="red", reason="区领导督办", until=today
    )
    first = recompute_all(today=today, now=at(today))
    assert first.updated == 6
    stored = list(Project.objects.order_by("id").values())

    with CaptureQueriesContext(connection) as captured:
        again = recompute_all(today=today, now=at(today, 15))

    assert len(writes(captured)) == 1 and run_record_only(writes(captured)) == []
    assert RecomputeRun.objects.filter(as_of=today, finished_at__isnull=False).count() == 2
    assert (again.examined, again.updated, again.status_changes) == (6, 0, 0)
    assert list(Project.objects.order_by("id").values()) == stored
    assert StatusChange.objects.count() == 6


def test_the_next_day_writes_only_the_projects_whose_result_changed_and_records_the_day_once(
    make_project, today
):
    """The 00:05 run: a project far from any due date keeps its result, so its row is not
    rewritten only because the day moved; the day is the run's, read by results_as_of."""
    from qiantang_warnings.selectors import as_of_aggregates, results_as_of

    resting = make_project("QT-FAR", milestones={"signing": {"planned_date": today + 200 * D}})
    counting = make_project("QT-NEAR", milestones={"signing": {"planned_date": today + 5 * D}})
    recompute_all(today=today, now=at(today))
    resting_row = Project.objects.values().get(pk=resting.pk)

    with CaptureQueriesContext(connection) as captured:
        summary = recompute_all(today=today + D, now=at(today + D))

    # The far one is not even evaluated: its recheck day (the yellow window opening) is far off.
    assert (summary.examined, summary.updated) == (1, 1)
    assert resting_row["recheck_on"] == today + 185 * D
    assert Project.objects.values().get(pk=resting.pk) == resting_row, "untouched"
    assert Project.objects.get(pk=counting.pk).computed_as_of == today + D  # due in 4 days now
    assert len([sql for sql in writes(captured) if sql.startswith("UPDATE")]) == 1
    assert results_as_of(Project.objects.aggregate(**as_of_aggregates())) == today + D
    assert results_as_of(Project.objects.filter(pk=resting.pk).aggregate(**as_of_aggregates())) == today + D


def test_an_edits_recompute_stamps_its_project_even_when_the_result_is_unchanged(make_project, today):
    """Outside a run (an edit), the examined project carries the day its result holds as of."""
    project = make_project(milestones={"signing": {"planned_date": today + 200 * D}})
    recompute_all(today=today, now=at(today))
    summary = recompute_projects([project.pk], today=today + 3 * D, now=at(today + 3 * D))
    project.refresh_from_db()
    assert summary.updated == 1 and project.computed_as_of == today + 3 * D
    assert RecomputeRun.objects.count() == 1, "only full recomputes are runs"


# --- Status changes ---------------------------------------------------------


def test_one_status_change_per_colour_change_and_none_for_a_new_reason(make_project):
    due = datetime(2026, 12, 10).date()
    project = make_project(milestones={"signing": {"planned_date": due}})

    def run(day):
        summary = recompute_all(today=day, now=at(day))
        project.refresh_from_db()
        return summary

    run(due - 20 * D)  # '' → green: the first colour counts as a change
    assert changes(project) == [("", "green")]
    assert project.colour_changed_at == at(due - 20 * D)

    run(due - 15 * D)  # green → yellow: 15 days before the due date
    assert project.reasons == [reason("yellow", "due_soon", 15, "signing", "项目签约")]
    assert changes(project) == [("", "green"), ("green", "yellow")]
    assert project.colour_changed_at == at(due - 15 * D)

    summary = run(due - 10 * D)  # still yellow, another reason: stored, but no change
    assert (summary.updated, summary.status_changes) == (1, 0)
    assert project.reasons == [reason("yellow", "due_soon", 10, "signing", "项目签约")]
    assert project.computed_as_of == due - 10 * D
    assert project.colour_changed_at == at(due - 15 * D)
    assert len(changes(project)) == 2

    run(due)
    assert project.headline_reason == "项目签约今天到期"
    assert project.colour == "yellow"

    run(due + D)  # yellow → red: the day after the due date
    assert project.reasons == [reason("red", "overdue", 1, "signing", "项目签约")]
    assert changes(project) == [("", "green"), ("green", "yellow"), ("yellow", "red")]
    assert project.colour_changed_at == at(due + D)

    summary = run(due + D)  # the same day again: nothing
    assert (summary.updated, summary.status_changes) == (0, 0)
    assert len(changes(project)) == 3


def test_a_status_change_records_from_to_when_and_reasons(make_project, today):
    project = make_project(milestones={"signing": {"planned_date": today - 5 * D}})
    recompute_all(today=today, now=at(today, 10))
    change = StatusChange.objects.get(project=project)
    assert (change.from_colour, change.to_colour) == ("", "red")
    assert change.at == at(today, 10)
    assert change.as_of == today
    assert change.reasons == [reason("red", "overdue", 5, "signing", "项目签约")]


@pytest.mark.parametrize("state", ["paused", "completed", "terminated"])
def test_projects_that_are_not_active_have_no_colour(make_project, today, state):
    resting = make_project(
        "QT-REST", state=state, milestones={"signing": {"planned_date": today - 30 * D}}
    )
    turning = make_project("QT-TURN", milestones={"signing": {"planned_date": today - 30 * D}})
    recompute_all(today=today, now=at(today))
    resting.refresh_from_db()
    assert (resting.colour, resting.reasons, resting.needs_plan) == ("", [], False)
    assert resting.computed_as_of == today
    assert changes(resting) == []  # '' → '' is no change
    assert resting.colour_changed_at is None

    Project.objects.filter(pk=turning.pk).update(state=state)
    summary = recompute_all(today=today, now=at(today, 11))
    turning.refresh_from_db()
    assert summary.status_changes == 1
    assert (turning.colour, turning.reasons) == ("", [])
    assert changes(turning) == [("", "red"), ("red", "")]
    assert turning.colour_changed_at == at(today, 11)


def test_escalation_raises_the_colour_until_its_end_date_then_lapses(make_project, today):
    project = make_project(milestones={"signing": {"planned_date": today + 60 * D}})
    recompute_all(today=today, now=at(today, 8))
    project.refresh_from_db()
    assert project.colour == "green"

    until = today + 2 * D
    Escalation.objects.create(project=project, colour="red", reason="区长专题会督办", until=until)
    recompute_all(today=today, now=at(today))
    project.refresh_from_db()
    assert project.colour == "red"
    assert project.reasons == [reason("red", "escalated", 0, note="区长专题会督办")]
    assert project.headline_reason == "督办：区长专题会督办"

    recompute_all(today=until, now=at(until))  # still in force on its end date
    project.refresh_from_db()
    assert project.colour == "red"

    recompute_all(today=until + D, now=at(until + D))  # lapses by itself
    project.refresh_from_db()
    assert (project.colour, project.reasons) == ("green", [])
    assert changes(project) == [("", "green"), ("green", "red"), ("red", "green")]


def test_escalation_never_lowers_a_colour(make_project, today):
    project = make_project(milestones={"signing": {"planned_date": today - 4 * D}})
    Escalation.objects.create(project=project, colour="yellow", reason="提醒", until=today + 9 * D)
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    assert project.reasons == [
        reason("red", "overdue", 4, "signing", "项目签约"),
        reason("yellow", "escalated", 0, note="提醒"),
    ]


def test_escalation_of_an_inactive_project_gives_no_colour(make_project, today):
    project = make_project(state="paused")
    Escalation.objects.create(project=project, colour="red", reason="督办", until=today + 9 * D)
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == ""


# --- Scope ------------------------------------------------------------------


def test_recompute_projects_touches_only_the_given_projects(make_project, today, monkeypatch):
    first, second, third = (
        make_project(f"QT-{n}", milestones={"signing": {"planned_date": today - D}})
        for n in range(3)
    )
    written = []
    real_write = recompute._write_results
    monkeypatch.setattr(
        recompute, "_write_results",
        lambda changed: written.extend(row["id"] for row in changed) or real_write(changed),
    )

    summary = recompute_projects([third.id, first.id, first.id], today=today)

    assert (summary.examined, summary.updated, summary.status_changes) == (2, 2, 2)
    assert sorted(written) == sorted([first.id, third.id])
    second.refresh_from_db()
    assert (second.colour, second.computed_as_of) == ("", None)
    assert not StatusChange.objects.filter(project=second).exists()
    for project in (first, third):
        project.refresh_from_db()
        assert (project.colour, project.computed_as_of) == ("red", today)


def test_recompute_projects_of_nothing_or_of_unknown_ids_does_nothing(make_project, today):
    make_project(milestones={"signing": {"planned_date": today - D}})
    with CaptureQueriesContext(connection) as captured:
        assert recompute_projects([], today=today).examined == 0
        assert recompute_projects([987654], today=today).examined == 0
    assert writes(captured) == []
    assert StatusChange.objects.count() == 0


def test_only_projects_whose_result_changed_are_written(make_project, today, monkeypatch):
    projects = [
        make_project(f"QT-{n}", milestones={"signing": {"planned_date": today + 40 * D}})
        for n in range(4)
    ]
    recompute_all(today=today)
    Milestone.objects.filter(project=projects[2]).update(planned_date=today - 2 * D)
    written = []
    real_write = recompute._write_results
    monkeypatch.setattr(
        recompute, "_write_results",
        lambda changed: written.extend(row["id"] for row in changed) or real_write(changed),
    )

    with CaptureQueriesContext(connection) as captured:
        summary = recompute_all(today=today)

    assert written == [projects[2].id]
    assert (summary.updated, summary.status_changes) == (1, 1)
    # The project, its status change, the run's record.
    assert [sql.split()[0].upper() for sql in writes(captured)] == ["UPDATE", "INSERT", "INSERT"]


# --- Queries do not grow with the number of projects ------------------------


def _queries_for(n, make_project, today):
    """(first run, re-run, one-project run) query counts for n fresh projects, rolled back."""
    with transaction.atomic():
        ids = []
        for i in range(n):
            project = make_project(
                f"QT-N{n}-{i}",
                milestones={
                    "approval": {"actual_date": today - 100 * D},
                    "signing": {"planned_date": today + (i % 4 * 10 - 15) * D},
                    "land_listing": {},
                },
            )
            if i % 4 == 2:  # a yellow project, red until today: every n has one
                Escalation.objects.create(project=project, colour="red", reason="督办", until=today)
            ids.append(project.id)
        with CaptureQueriesContext(connection) as first:
            recompute_all(today=today)
        with CaptureQueriesContext(connection) as rerun:
            recompute_all(today=today)
        with CaptureQueriesContext(connection) as some:
            recompute_projects(ids, today=today + D)
        transaction.set_rollback(True)
    return len(first), len(rerun), len(some)


def test_the_number_of_queries_does_not_grow_with_the_number_of_projects(make_project, today):
    small = _queries_for(5, make_project, today)
    large = _queries_for(50, make_project, today)
    assert small == large
    # The run's record and its inputs (the inputs and shared inputs versions, the last run) included.
    assert max(large) <= 17, large


def test_queries_stay_flat_when_counting_working_days(make_project, today):
    WarningPolicy.objects.filter(pk=1).update(count_working_days=True)
    CalendarDay.objects.create(date=today + 3 * D, is_working_day=True, note="调休")
    assert _queries_for(5, make_project, today) == _queries_for(40, make_project, today)


# --- Policy overrides per milestone type -------------------------------------


def test_a_milestone_type_can_widen_its_yellow_window(make_project, catalogue, today):
    MilestoneType.objects.filter(code="signing").update(yellow_before_days=30)
    signing = make_project("QT-S", milestones={"signing": {"planned_date": today + 20 * D}})
    listing = make_project("QT-L", milestones={"land_listing": {"planned_date": today + 20 * D}})
    recompute_all(today=today)
    signing.refresh_from_db()
    listing.refresh_from_db()
    assert signing.reasons == [reason("yellow", "due_soon", 20, "signing", "项目签约")]
    assert listing.colour == "green"  # the global 15 days still applies to 土地挂牌


def test_a_milestone_type_can_allow_days_overdue_before_red(make_project, today):
    MilestoneType.objects.filter(code="completion").update(red_after_days=5)
    at_five = make_project("QT-5", milestones={"completion": {"planned_date": today - 5 * D}})
    at_six = make_project("QT-6", milestones={"completion": {"planned_date": today - 6 * D}})
    other = make_project("QT-O", milestones={"signing": {"planned_date": today - D}})
    recompute_all(today=today)
    for project in (at_five, at_six, other):
        project.refresh_from_db()
    assert at_five.reasons == [reason("yellow", "overdue", 5, "completion", "竣工验收")]
    assert at_six.colour == "red"
    assert other.colour == "red"


def test_a_milestone_type_can_switch_off_its_yellow_window(make_project, today):
    MilestoneType.objects.filter(code="signing").update(yellow_window_disabled=True)
    soon = make_project("QT-S", milestones={"signing": {"planned_date": today}})
    late = make_project("QT-L", milestones={"signing": {"planned_date": today - D}})
    recompute_all(today=today)
    soon.refresh_from_db()
    late.refresh_from_db()
    assert (soon.colour, soon.reasons) == ("green", [])
    assert late.colour == "red"


def test_changing_the_global_policy_changes_the_result(make_project, today):
    project = make_project(milestones={"signing": {"planned_date": today - 3 * D}})
    recompute_all(today=today)
    WarningPolicy.objects.filter(pk=1).update(red_after_days=3)
    summary = recompute_all(today=today, now=at(today))
    project.refresh_from_db()
    assert summary.status_changes == 1
    assert project.reasons == [reason("yellow", "overdue", 3, "signing", "项目签约")]


# --- Working days, with the office's calendar from the database ---------------

WEDNESDAY = datetime(2026, 11, 25).date()  # the fixture's today


def test_working_days_are_counted_when_the_policy_says_so(make_project):
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3, count_working_days=True)
    # Due Monday 11-30: Thu, Fri, Mon = 3 working days (5 calendar days).
    soon = make_project("QT-SOON", milestones={"signing": {"planned_date": WEDNESDAY + 5 * D}})
    # Due Friday 11-20: overdue Mon, Tue, Wed = 3 working days (5 calendar days).
    late = make_project("QT-LATE", milestones={"signing": {"planned_date": WEDNESDAY - 5 * D}})
    recompute_all(today=WEDNESDAY)
    soon.refresh_from_db()
    late.refresh_from_db()
    assert soon.reasons == [reason("yellow", "due_soon", 3, "signing", "项目签约")]
    assert late.reasons == [reason("red", "overdue", 3, "signing", "项目签约")]

    WarningPolicy.objects.filter(pk=1).update(count_working_days=False)
    recompute_all(today=WEDNESDAY)
    soon.refresh_from_db()
    assert soon.colour == "green"  # 5 calendar days > 3


def test_the_office_calendar_overrides_the_package(make_project):
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3, count_working_days=True)
    project = make_project(milestones={"signing": {"planned_date": WEDNESDAY + 5 * D}})
    recompute_all(today=WEDNESDAY)
    project.refresh_from_db()
    assert project.colour == "yellow"

    # Saturday 11-28 declared a working day (调休): 4 working days → no longer yellow.
    CalendarDay.objects.create(date=WEDNESDAY + 3 * D, is_working_day=True, note="调休上班")
    recompute_all(today=WEDNESDAY)
    project.refresh_from_db()
    assert project.colour == "green"

    # Thursday and Friday declared days off: 2 working days left.
    CalendarDay.objects.create(date=WEDNESDAY + D, is_working_day=False)
    CalendarDay.objects.create(date=WEDNESDAY + 2 * D, is_working_day=False)
    recompute_all(today=WEDNESDAY)
    project.refresh_from_db()
    assert project.reasons == [reason("yellow", "due_soon", 2, "signing", "项目签约")]


def test_the_package_supplies_statutory_holidays_and_the_office_corrects_them(make_project):
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3, count_working_days=True)
    day = datetime(2026, 9, 30).date()
    # Due Friday 10-09: National Day holiday 10-01..10-07, then Thu 10-08, Fri 10-09.
    project = make_project(milestones={"signing": {"planned_date": datetime(2026, 10, 9).date()}})
    recompute_all(today=day)
    project.refresh_from_db()
    assert project.reasons == [reason("yellow", "due_soon", 2, "signing", "项目签约")]

    # The office says Monday 10-05 is worked after all: 3 working days.
    CalendarDay.objects.create(date=datetime(2026, 10, 5).date(), is_working_day=True)
    recompute_all(today=day)
    project.refresh_from_db()
    assert project.reasons == [reason("yellow", "due_soon", 3, "signing", "项目签约")]


def test_a_year_no_source_covers_falls_back_to_weekends_without_crashing(make_project):
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3, count_working_days=True)
    day = datetime(2026, 12, 30).date()  # Wednesday; chinese-calendar stops at 2026
    # Due Monday 2027-01-04: Thu 12-31, Fri 01-01 (no source: a weekday), Mon = 3.
    project = make_project(milestones={"signing": {"planned_date": datetime(2027, 1, 4).date()}})
    recompute_all(today=day)
    project.refresh_from_db()
    assert project.reasons == [reason("yellow", "due_soon", 3, "signing", "项目签约")]

    CalendarDay.objects.create(date=datetime(2027, 1, 1).date(), is_working_day=False, note="元旦")
    recompute_all(today=day)
    project.refresh_from_db()
    assert project.reasons == [reason("yellow", "due_soon", 2, "signing", "项目签约")]


def test_one_milestone_type_can_count_working_days_alone(make_project):
    MilestoneType.objects.filter(code="signing").update(count_working_days=True)
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3)
    signing = make_project("QT-S", milestones={"signing": {"planned_date": WEDNESDAY + 5 * D}})
    listing = make_project("QT-L", milestones={"land_listing": {"planned_date": WEDNESDAY + 5 * D}})
    recompute_all(today=WEDNESDAY)
    signing.refresh_from_db()
    listing.refresh_from_db()
    assert signing.colour == "yellow"  # 3 working days
    assert listing.colour == "green"  # 5 calendar days


# --- The bulk write -------------------------------------------------------------


@pytest.mark.services
def test_postgresql_writes_in_chunks_of_one_json_document_each(make_project, today, monkeypatch):
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    monkeypatch.setattr(recompute, "CHUNK", 3)
    note = '限期 "整改" \'O\'Brien\' \\ 反斜杠 %s %(x)s'
    reds = []
    for n in range(5):
        project = make_project(f"QT-R{n}", milestones={"signing": {"planned_date": today + 10 * D}})
        Escalation.objects.create(project=project, colour="red", reason=note, until=today + D)
        reds.append(project)
    recompute_all(today=today, now=at(today))
    yellows = [
        make_project(f"QT-Y{n}", milestones={"signing": {"planned_date": today + 12 * D}})
        for n in range(4)
    ]
    recompute_all(today=today, now=at(today))
    # Next day: reds stay red with a new reason; yellows stay yellow with a new reason.
    with CaptureQueriesContext(connection) as captured:
        summary = recompute_all(today=today + D, now=at(today + D))

    assert (summary.updated, summary.status_changes) == (9, 0)
    updates = [sql for sql in writes(captured) if sql.startswith("UPDATE")]
    assert len(updates) == 3  # 9 rows, chunks of 3
    assert all("FROM jsonb_to_recordset(" in sql for sql in updates)
    for project in reds:
        project.refresh_from_db()
        assert project.colour == "red"
        assert project.reasons == [
            reason("red", "escalated", 0, note=note),
            reason("yellow", "due_soon", 9, "signing", "项目签约"),
        ]
        assert project.computed_as_of == today + D
        assert project.colour_changed_at == at(today)

    # Colour changes and reason-only changes in one run, both across chunk borders.
    Escalation.objects.all().delete()
    with CaptureQueriesContext(connection) as captured:
        summary = recompute_all(today=today + 2 * D, now=at(today + 2 * D))
    assert (summary.updated, summary.status_changes) == (9, 5)
    assert len([sql for sql in writes(captured) if sql.startswith("UPDATE")]) == 2 + 2
    for project in reds:
        project.refresh_from_db()
        assert (project.colour, project.colour_changed_at) == ("yellow", at(today + 2 * D))
    for project in yellows:
        project.refresh_from_db()
        assert project.reasons == [reason("yellow", "due_soon", 10, "signing", "项目签约")]
        assert project.colour_changed_at == at(today)


# --- Two recomputes at the same time -------------------------------------------


def _hold_first_recompute(monkeypatch):
    """Make the recompute running in thread "first" pause while it holds its locks."""
    holding, release = threading.Event(), threading.Event()
    real_context = recompute.rules_context

    def rules_context(today):
        # Called inside the transaction, after the project rows are locked.
        if threading.current_thread().name == "first":
            holding.set()
            assert release.wait(30), "the test never released the first recompute"
        return real_context(today)

    monkeypatch.setattr(recompute, "rules_context", rules_context)
    return holding, release


def _concurrent(monkeypatch, first, second):
    holding, release = _hold_first_recompute(monkeypatch)
    results = {}
    threads = [run_in_thread("first", first, results)]
    assert holding.wait(10), results
    threads.append(run_in_thread("second", second, results))
    blocked = waiting_for_a_lock()
    release.set()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    for value in results.values():
        if isinstance(value, BaseException):
            raise value
    return blocked, results


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_full_recomputes_at_once_record_each_change_once(make_project, today, monkeypatch):
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    projects = [
        make_project(f"QT-{n}", milestones={"signing": {"planned_date": today + (n - 3) * 5 * D}})
        for n in range(8)
    ]

    blocked, results = _concurrent(
        monkeypatch,
        lambda: recompute_all(today=today, now=at(today, 9)),
        lambda: recompute_all(today=today, now=at(today, 10)),
    )

    for project in projects:
        assert StatusChange.objects.filter(project=project).count() == 1
        project.refresh_from_db()
        assert project.colour_changed_at == at(today, 9)
    assert results["first"].status_changes == 8
    assert (results["second"].updated, results["second"].status_changes) == (0, 0)
    assert blocked, "the second recompute never waited for the first one's row locks"


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_project_recompute_waits_for_a_full_one(make_project, today, monkeypatch):
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    projects = [
        make_project(f"QT-{n}", milestones={"signing": {"planned_date": today - D}})
        for n in range(4)
    ]
    blocked, results = _concurrent(
        monkeypatch,
        lambda: recompute_all(today=today),
        lambda: recompute_projects([projects[3].id, projects[1].id], today=today),
    )
    assert StatusChange.objects.count() == 4
    assert results["second"].status_changes == 0
    assert blocked


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_recompute_after_a_change_made_while_locked_sees_the_change(
    make_project, today, monkeypatch
):
    """The second recompute reads milestones only after it holds the locks."""
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    project = make_project(milestones={"signing": {"planned_date": today + 60 * D}})
    milestone = Milestone.objects.get(project=project, milestone_type__code="signing")

    def first():
        return recompute_all(today=today, now=at(today, 9))

    def second():
        # Like an admin save: change the milestone, then recompute the project.
        with transaction.atomic():
            Milestone.objects.filter(pk=milestone.pk).update(planned_date=today - D)
            return recompute_projects([project.id], today=today, now=at(today, 10))

    blocked, results = _concurrent(monkeypatch, first, second)
    project.refresh_from_db()
    assert project.colour == "red"
    assert changes(project) == [("", "green"), ("green", "red")]
    assert blocked


@pytest.mark.services
def test_the_moment_of_a_change_is_read_while_holding_the_locks(make_project, today, monkeypatch):
    """A recompute that waited for another records its changes after that one's."""
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    from django.utils import timezone

    make_project(milestones={"signing": {"planned_date": today - D}})
    seen = []
    real_now = timezone.now

    def now():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND relation = 'projects_project'::regclass AND mode = 'RowShareLock'"
            )
            seen.append(cursor.fetchone()[0])
        return real_now()

    monkeypatch.setattr(recompute.timezone, "now", now)
    assert recompute_all(today=today).status_changes == 1
    assert seen == [1]


# --- The baseline colour and the re-plan count ----------------------------------------


def test_a_re_planned_red_is_green_now_and_red_against_its_baseline(make_project, today):
    from projects.models import MilestoneReplan

    project = make_project("QT-REPLAN", milestones={
        "approval": {"actual_date": today - 60 * D},
        # First planned 5 days ago (the baseline), then moved 40 days out.
        "signing": {"planned_date": today + 40 * D, "baseline_date": today - 5 * D},
    })
    signing = project.milestones.get(milestone_type__code="signing")
    MilestoneReplan.objects.create(
        milestone=signing, old_planned_date=today - 5 * D, new_planned_date=today + 40 * D,
        reason="土地指标调整",
    )
    steady = make_project("QT-STEADY", milestones={
        "approval": {"actual_date": today - 60 * D},
        "signing": {"planned_date": today + 40 * D, "baseline_date": today + 40 * D},
    })

    recompute_all(today=today)

    project.refresh_from_db()
    steady.refresh_from_db()
    assert (project.colour, project.baseline_colour, project.replan_count) == ("green", "red", 1)
    assert (steady.colour, steady.baseline_colour, steady.replan_count) == ("green", "green", 0)
    # Only the current colour is a change of colour; the baseline colour is beside it.
    assert changes(project) == [("", "green")]
    # Nothing changed: nothing written.
    assert recompute_all(today=today).updated == 0


def test_a_plan_without_a_baseline_is_its_own_baseline(make_project, today):
    project = make_project("QT-OLDPLAN", milestones={
        "approval": {"planned_date": today - 2 * D, "baseline_date": None},
    })
    recompute_all(today=today)
    project.refresh_from_db()
    assert (project.colour, project.baseline_colour, project.replan_count) == ("red", "red", 0)


@pytest.mark.parametrize("offsets", [
    # (baseline, planned) offsets from today of signing and land listing; None: no plan.
    ((-5, 40), (None, None)),
    ((-20, 10), (30, 30)),
    ((-3, -3), (50, 200)),
    ((12, -40), (None, None)),  # re-planned earlier: the baseline is the kinder one
    ((100, 100), (-2, 14)),
])
def test_the_baseline_colour_is_the_rules_function_on_the_baselines(make_project, today, offsets):
    """The stored baseline colour is exactly what the one rules function says for the same
    project with every plan put back to its baseline, the rest unchanged."""
    from projects.models import MilestoneReplan
    from qiantang_warnings.selectors import rules_context

    (signing_base, signing_plan), (listing_base, listing_plan) = offsets
    at = lambda offset: None if offset is None else today + offset * D  # noqa: E731
    project = make_project("QT-BASE", milestones={
        "approval": {"actual_date": today - 60 * D},
        "signing": {"planned_date": at(signing_plan), "baseline_date": at(signing_base)},
        "land_listing": {"planned_date": at(listing_plan), "baseline_date": at(listing_base)},
    })
    for milestone in project.milestones.exclude(planned_date=None):
        if milestone.planned_date != milestone.baseline_date:
            MilestoneReplan.objects.create(
                milestone=milestone, old_planned_date=milestone.baseline_date,
                new_planned_date=milestone.planned_date, reason="调整",
            )

    recompute_all(today=today)

    project.refresh_from_db()
    context = rules_context(today)
    milestones = list(project.milestones.all())
    for milestone in milestones:
        milestone.planned_date = milestone.baseline_date or milestone.planned_date
    against_baselines = context.evaluate_project(
        state=project.state, milestones=[context.facts_of(m) for m in milestones], today=today,
    )
    assert project.baseline_colour == (against_baselines.colour or "")
    assert project.replan_count == MilestoneReplan.objects.filter(milestone__project=project).count()


def test_every_recompute_logs_one_line_with_its_figures_and_duration(make_project, today, caplog):
    import logging

    make_project("QT-LOG", milestones={"signing": {"planned_date": today}})
    with caplog.at_level(logging.INFO, logger="qiantang_warnings.recompute"):
        recompute_all(today=today)
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "recompute"]
    assert (record.as_of, record.examined, record.updated, record.scope) == (today.isoformat(), 1, 1, "all")
    assert record.seconds >= 0 and "1 examined, 1 updated" in record.getMessage()


def test_overdue_coordination_items_count_only_when_the_policy_says_so(make_project, today, role_users):
    from projects.coordination import services as items
    from projects.models import Department
    from qiantang_warnings.models import WarningPolicy
    from qiantang_warnings.reasons import render_reason

    housing = Department.objects.create(name="区住建局")
    housing.liaisons.add(role_users["liaison1"])
    project = make_project(
        "QT-ITEM", responsible_cadre=role_users["cadre1"],
        milestones={"approval": {"planned_date": today + timedelta(days=60)}},
    )
    item = items.item_raise(project=project, need="施工许可需消防审查意见", department=housing,
                            deadline=today - timedelta(days=4), by=role_users["cadre1"], today=today)
    project.refresh_from_db()
    assert project.colour == "green", "off by default: the item has its own colour only"

    policy = WarningPolicy.load()
    policy.items_raise_colour = True
    policy.save()
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    assert render_reason(project.reasons[0]) == "协调事项逾期4天（区住建局）：施工许可需消防审查意见"

    items.item_step(item=item, kind="handled", by=role_users["liaison1"], today=today)
    project.refresh_from_db()
    assert (project.colour, project.reasons) == ("green", []), "handled: the project recomputed at once"


# --- A run with nothing to do -------------------------------------------------------------


def _board(make_project, today):
    for n in range(4):
        make_project(f"QT-S{n}", milestones={"signing": {"planned_date": today + (n * 9 - 10) * D}})
    recompute_all(today=today, now=at(today))  # writes every result
    recompute_all(today=today, now=at(today, 11))  # its own writes changed no input: nothing to do


def test_a_run_of_the_same_day_with_nothing_written_since_evaluates_nothing(make_project, today):
    _board(make_project, today)
    with CaptureQueriesContext(connection) as captured:
        summary = recompute_all(today=today, now=at(today, 12))
    assert (summary.examined, summary.updated, summary.status_changes) == (4, 0, 0)
    assert not any("projects_milestone" in q["sql"] for q in captured.captured_queries), "no input read"
    assert run_record_only(writes(captured)) == []
    latest = RecomputeRun.objects.order_by("-started_at", "-id").first()
    assert (latest.as_of, latest.chunks, latest.examined) == (today, 0, 4)


def test_a_runs_own_writes_leave_nothing_for_the_next_run_of_the_day(make_project, today):
    for n in range(4):
        make_project(f"QT-S{n}", milestones={"signing": {"planned_date": today + (n * 9 - 10) * D}})
    assert recompute_all(today=today, now=at(today)).updated == 4  # every result written
    with CaptureQueriesContext(connection) as captured:
        summary = recompute_all(today=today, now=at(today, 11))
    assert not any("projects_milestone" in q["sql"] for q in captured.captured_queries), "nothing evaluated"
    assert (summary.examined, summary.updated) == (4, 0)
    # The edit path's recompute of one project writes results only, too.
    recompute_projects([Project.objects.get(code="QT-S1").id], today=today)
    with CaptureQueriesContext(connection) as captured:
        recompute_all(today=today, now=at(today, 12))
    assert not any("projects_milestone" in q["sql"] for q in captured.captured_queries), "nothing evaluated"


@pytest.mark.django_db
def test_the_inputs_trigger_watches_every_project_column_but_the_results():
    """A column added to the project table must be watched (migration 0012's note): the
    trigger's columns are every concrete column of the model but what a recompute writes."""
    assert project_columns_watched_by("qiantang_inputs_version") == project_input_columns()


def project_input_columns() -> set[str]:
    """Every concrete column of the project table but what a recompute writes."""
    return {f.column for f in Project._meta.concrete_fields} - {
        Project._meta.get_field(name).column for name in recompute.RESULT_FIELDS
    }


def project_columns_watched_by(trigger: str) -> set[str]:
    """The project columns whose UPDATE fires `trigger` (SQLite: its `_projects_project_update`)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_column FROM information_schema.triggered_update_columns"
                " WHERE trigger_name = %s AND event_object_table = 'projects_project'", [trigger]
            )
            return {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [f"{trigger}_projects_project_update"])
        (sql,) = cursor.fetchone()
        return {name.strip().strip('"') for name in sql.split(" UPDATE OF ", 1)[1].split(" ON ", 1)[0].split(",")}


@pytest.mark.parametrize("write", ["milestone", "policy", "calendar", "escalation", "rules code", "project",
                                   "project bulk update", "coordination item", "department"])
def test_any_write_the_rules_read_or_new_rules_make_the_next_run_evaluate(
    make_project, today, write, monkeypatch, role_users
):
    _board(make_project, today)
    late = Project.objects.get(code="QT-S0")  # signing due 10 days ago: red
    if write == "milestone":  # a bulk UPDATE no signal sees
        Milestone.objects.filter(project=late, milestone_type__code="signing").update(actual_date=today)
        expected = "green"
    elif write == "project":  # a staff save writes every column
        late.state = Project.State.PAUSED
        late.save()
        expected = ""
    elif write == "project bulk update":  # an input column alone
        Project.objects.filter(pk=late.pk).update(state=Project.State.PAUSED)
        expected = ""
    elif write in ("coordination item", "department"):
        from projects.models import CoordinationItem, Department

        housing = Department.objects.create(name="区住建局")
        if write == "coordination item":
            CoordinationItem.objects.create(
                project=late, need="施工许可", department=housing, deadline=today + D,
                raised_by=role_users["cadre1"],
            )
        expected = "red"  # the policy leaves items out of the colour, but the run evaluated
    elif write == "policy":
        WarningPolicy.objects.filter(pk=WarningPolicy.SINGLETON_ID).update(red_after_days=30)
        expected = "yellow"
    elif write == "calendar":
        CalendarDay.objects.create(date=today + 40 * D, is_working_day=False, note="假日")
        expected = "red"  # calendar days are counted: the colour stays, but the run evaluated
    elif write == "escalation":
        Escalation.objects.create(project=Project.objects.get(code="QT-S3"), colour="red", reason="督办",
                                  until=today + D)
        expected = "red"
    else:
        monkeypatch.setattr(recompute, "RULES_CODE", "0123456789abcdef")
        expected = "red"
    with CaptureQueriesContext(connection) as captured:
        recompute_all(today=today, now=at(today, 12))
    assert any("projects_milestone" in q["sql"] for q in captured.captured_queries), "evaluated"
    late.refresh_from_db()
    assert late.colour == expected
    if write == "escalation":
        assert Project.objects.get(code="QT-S3").colour == "red"


def test_a_new_day_is_always_evaluated(make_project, today):
    _board(make_project, today)
    summary = recompute_all(today=today + D, now=at(today + D))
    assert summary.updated >= 1  # days overdue moved
    assert RecomputeRun.objects.order_by("-started_at", "-id").first().chunks == 1


def test_a_spread_run_with_nothing_written_since_sends_no_chunks(make_project, today):
    from qiantang_warnings import spread

    _board(make_project, today)
    run, chunks = spread.recompute_run_start(today=today, now=at(today, 12))
    assert chunks == [] and run.finished_at is not None and run.examined == 4
    Milestone.objects.filter(project__code="QT-S1").update(actual_date=today)
    run, chunks = spread.recompute_run_start(today=today, now=at(today, 13))
    # Only the project written since is due a recheck: the run's one chunk is that project.
    assert chunks == [[Project.objects.get(code="QT-S1").pk]] and run.due_only
