"""The in-process full recompute in short transactions (settings.SHORT_TRANSACTIONS, on for
SQLite, where one transaction locks the whole database): the spread run's chunks done one after
another in-process give the one-transaction result, row for row and change for change, and keep
its run records (what it began from, due-only runs, runs with nothing to do) right. Here on
PostgreSQL with the setting on; tests/test_sqlite_long_work.py runs it on SQLite beside another
writer."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from projects.models import Milestone, Project
from qiantang_warnings import spread
from qiantang_warnings.models import RecomputeChunk, RecomputeRun, StatusChange
from qiantang_warnings.recompute import recompute_all

from .districts import bulk_district

pytestmark = pytest.mark.django_db

D = timedelta(days=1)
RESULT_FIELDS = ("code", "colour", "reasons", "urgency", "needs_plan", "computed_as_of", "baseline_colour",
                 "replan_count", "recheck_on")


def at(day, hour=9):
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("Asia/Shanghai"))


def results():
    return list(Project.objects.order_by("code").values_list(*RESULT_FIELDS))


def changes():
    return sorted(StatusChange.objects.values_list("project__code", "from_colour", "to_colour", "as_of", "at"))


def latest_run():
    return RecomputeRun.objects.order_by("-started_at", "-id").first()


def forget_results():
    RecomputeRun.objects.all().delete()
    StatusChange.objects.all().delete()
    Project.objects.update(colour="", reasons=[], urgency=0, needs_plan=False, computed_as_of=None,
                           baseline_colour="", replan_count=0, recheck_on=None, colour_changed_at=None)


def days_of_runs(today, *, short: bool, settings):
    """Results and changes after a first run, a same-day re-run, the next day, an edit and the
    run after it, and a --full run: each step's figures too."""
    settings.SHORT_TRANSACTIONS = short
    forget_results()
    figures = []
    steps = [(today, 9, False), (today, 11, False), (today + D, 9, False), ("edit", 0, False),
             (today + D, 12, False), (today + 2 * D, 9, True)]
    for day, hour, full in steps:
        if day == "edit":
            Milestone.objects.filter(project__code="QT-B00002", milestone_type__code="approval").update(
                actual_date=None, planned_date=today - 5 * D)
            continue
        summary = recompute_all(today=day, now=at(day, hour), evaluate_all=full)
        run = latest_run()
        figures.append(((summary.examined, summary.updated, summary.status_changes),
                        (run.as_of, run.examined, run.updated, run.status_changes, run.due_only,
                         run.finished_at is not None)))
    return results(), changes(), figures


@pytest.fixture
def district(today, settings):
    settings.RECOMPUTE_CHUNK_SIZE = 200
    bulk_district(1500, today=today)


def test_day_after_day_the_short_transactions_give_the_one_transaction_results_and_run_records(
    district, today, settings
):
    edited = Milestone.objects.filter(project__code="QT-B00002", milestone_type__code="approval")
    before = edited.values("planned_date", "actual_date").get()
    expected = days_of_runs(today, short=False, settings=settings)
    edited.update(**before)  # as it was, for the second pass
    got = days_of_runs(today, short=True, settings=settings)
    assert got[0] == expected[0], "every stored result"
    assert got[1] == expected[1], "every status change"
    assert got[2] == expected[2], "every step's figures and run record"
    assert {colour for _code, colour, *_ in got[0]} == {"red", "yellow", "green", ""}
    # The short runs were chunked runs: 1,500 projects in chunks of 200, each recorded.
    first = RecomputeRun.objects.order_by("started_at", "id").first()
    assert (first.chunks, first.done_chunks.count(), first.examined) == (8, 8, 1500)
    unchanged = RecomputeRun.objects.order_by("started_at", "id")[1]
    assert (unchanged.chunks, unchanged.examined, unchanged.due_only) == (0, 1500, True)


def test_each_chunk_commits_alone_and_a_run_cut_short_is_finished_by_the_next(district, today, settings, monkeypatch):
    """A process that dies mid-run (here: in its fourth chunk) leaves the chunks before it
    written and the run unfinished; the next run finishes the work, exactly."""
    settings.SHORT_TRANSACTIONS = False
    forget_results()
    recompute_all(today=today, now=at(today))
    expected = results(), changes()

    settings.SHORT_TRANSACTIONS = True
    forget_results()
    real = spread.recompute_projects
    calls = []

    def dies_in_chunk_4(project_ids, **kwargs):
        calls.append(project_ids)
        summary = real(project_ids, **kwargs)
        if len(calls) == 4:
            raise SystemExit("killed")  # after the work, before the chunk's commit
        return summary

    monkeypatch.setattr(spread, "recompute_projects", dies_in_chunk_4)
    with pytest.raises(SystemExit):
        recompute_all(today=today, now=at(today))
    run = latest_run()
    assert run.finished_at is None and RecomputeChunk.objects.filter(run=run).count() == 3
    done = [project_id for ids in calls[:3] for project_id in ids]
    assert not Project.objects.filter(id__in=done, computed_as_of=None).exists(), "three chunks committed"
    assert not Project.objects.filter(id__in=calls[3]).exclude(computed_as_of=None).exists(), "not the fourth"

    monkeypatch.setattr(spread, "recompute_projects", real)
    recompute_all(today=today, now=at(today))
    assert (results(), changes()) == expected


def test_an_input_written_while_the_run_is_under_way_is_evaluated_by_the_next_run(
    district, today, settings, monkeypatch
):
    """A milestone written between two chunks, of a project whose chunk is done: the run's
    inputs stamp is older than the write, so the next run of the day is not skipped, and the
    written project is due a recheck (its day was emptied), so it is evaluated."""
    settings.SHORT_TRANSACTIONS = True
    forget_results()
    project = Project.objects.get(code="QT-B00047")  # in the first chunk; 过会 due in 17 days
    real = spread.recompute_projects
    calls = []

    def writes_after_the_first_chunk(project_ids, **kwargs):
        calls.append(project_ids)
        if len(calls) == 2:
            Milestone.objects.filter(project=project, milestone_type__code="approval").update(
                actual_date=None, planned_date=today - 9 * D)
        return real(project_ids, **kwargs)

    monkeypatch.setattr(spread, "recompute_projects", writes_after_the_first_chunk)
    recompute_all(today=today, now=at(today))
    assert project.pk in calls[0]
    project.refresh_from_db()
    assert project.colour != "red" and project.recheck_on is None

    monkeypatch.setattr(spread, "recompute_projects", real)
    summary = recompute_all(today=today, now=at(today, 10))
    assert summary.examined == 1 and latest_run().due_only
    project.refresh_from_db()
    assert project.colour == "red"
