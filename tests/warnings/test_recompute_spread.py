"""The full recompute spread over workers in chunks gives exactly the single-process result,
also when a chunk's worker dies and the work is repeated; beat firing twice runs once."""
from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import Project
from qiantang.celery import app
from qiantang_warnings import spread, tasks
from qiantang_warnings.models import RecomputeChunk, RecomputeRun, StatusChange
from qiantang_warnings.recompute import recompute_all, recompute_projects

pytestmark = pytest.mark.django_db

RESULT_FIELDS = ("code", "colour", "reasons", "needs_plan", "computed_as_of", "baseline_colour", "replan_count")


@pytest.fixture
def district(make_project, today, settings):
    """40 projects of every kind: late, due soon, on time, unscheduled, paused."""
    settings.RECOMPUTE_SPREAD_ABOVE = 10
    settings.RECOMPUTE_CHUNK_SIZE = 7
    for n in range(40):
        planned = today + timedelta(days=(n % 9) * 7 - 28)
        state = "paused" if n % 11 == 0 else "active"
        milestones = {"approval": {"planned_date": planned}} if n % 5 else {}
        make_project(f"QT-{n:04d}", state=state, milestones=milestones)


def results():
    return list(Project.objects.order_by("code").values_list(*RESULT_FIELDS))


def changes():
    return sorted(StatusChange.objects.values_list("project__code", "from_colour", "to_colour", "as_of"))


def forget_results():
    """As if nothing was ever computed: no results, no status changes, no runs (a run's own
    writes, these included, change no input; without its record the next run is a first)."""
    RecomputeRun.objects.all().delete()
    StatusChange.objects.all().delete()
    Project.objects.update(colour="", reasons=[], needs_plan=False, computed_as_of=None, baseline_colour="", replan_count=0,
                           recheck_on=None)


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def single_process(today):
    forget_results()
    recompute_all(today=today)
    return results(), changes()


def test_the_spread_run_gives_the_single_process_result(district, today, eager):
    expected = single_process(today)
    forget_results()
    answer = tasks.recompute_all_warnings()
    assert answer["chunks"] == 6  # 40 projects in chunks of 7
    assert (results(), changes()) == expected
    run = RecomputeRun.objects.get(chunks=6)  # besides the single-process run
    assert run.finished_at is not None
    assert (run.chunks, run.examined, run.updated, run.status_changes) == (6, 40, 40, len(expected[1]))


def test_a_chunk_whose_worker_dies_leaves_it_untouched_and_the_repeat_finishes_the_work(district, today, monkeypatch):
    expected = single_process(today)
    forget_results()
    run, chunks = spread.recompute_run_start(today=today)
    real = spread.recompute_projects

    def dies_in_chunk_2(project_ids, **kwargs):
        if project_ids == chunks[2]:
            real(project_ids, **kwargs)  # the work is done, then the worker is gone before commit
            raise SystemExit("worker killed")
        return real(project_ids, **kwargs)

    monkeypatch.setattr(spread, "recompute_projects", dies_in_chunk_2)
    for index, ids in enumerate(chunks):
        try:
            spread.recompute_chunk(run_id=run.pk, index=index, project_ids=ids, today=today)
        except SystemExit:
            pass
    untouched = Project.objects.filter(id__in=chunks[2])
    assert not untouched.exclude(computed_as_of=None).exists(), "no half chunk"
    run.refresh_from_db()
    assert run.finished_at is None and RecomputeChunk.objects.filter(run=run).count() == 5

    monkeypatch.setattr(spread, "recompute_projects", real)
    # The task comes back (or the next run repeats every chunk): done chunks are skipped.
    for index, ids in enumerate(chunks):
        spread.recompute_chunk(run_id=run.pk, index=index, project_ids=ids, today=today)
    run.refresh_from_db()
    assert run.finished_at is not None and run.examined == 40
    assert (results(), changes()) == expected


def test_a_chunk_delivered_twice_is_done_and_counted_once(district, today):
    run, chunks = spread.recompute_run_start(today=today)
    assert spread.recompute_chunk(run_id=run.pk, index=0, project_ids=chunks[0], today=today) is not None
    assert spread.recompute_chunk(run_id=run.pk, index=0, project_ids=chunks[0], today=today) is None
    assert RecomputeChunk.objects.filter(run=run).count() == 1


def test_beat_firing_twice_starts_one_run_and_a_finished_or_abandoned_one_lets_the_next_start(district, today):
    first, _chunks = spread.recompute_run_start(today=today)
    assert spread.recompute_run_start(today=today) == (None, [])
    later = timezone.now() + spread.ABANDONED_AFTER + timedelta(minutes=1)
    abandoned_then_new, _ = spread.recompute_run_start(today=today, now=later)
    assert abandoned_then_new is not None and abandoned_then_new.pk != first.pk


def test_a_district_is_recomputed_at_once_in_one_chunk(make_project, today, settings):
    settings.RECOMPUTE_SPREAD_ABOVE = 5000
    make_project("QT-0001", milestones={"approval": {"planned_date": today - timedelta(days=3)}})
    answer = tasks.recompute_all_warnings()
    assert answer["examined"] == 1 and not RecomputeChunk.objects.exists()
    (run,) = RecomputeRun.objects.all()
    assert (run.as_of, run.chunks, run.examined, run.finished_at is not None) == (today, 1, 1, True)


def test_a_chunk_read_as_an_id_range_recomputes_only_its_own_projects(district, today):
    """A chunk is read as the range of its first to its last id; a project inside that range
    but not in the chunk (created or left out since the run began) is neither examined nor
    written."""
    forget_results()
    first, between, last = Project.objects.order_by("id").values_list("id", flat=True)[:3]
    summary = recompute_projects([first, last], today=today, in_run=True)
    assert summary.examined == 2
    assert Project.objects.get(id=between).computed_as_of is None
    assert not Project.objects.filter(id__in=[first, last], computed_as_of=None).exists()


def test_at_a_few_thousand_projects_the_spread_run_with_a_dead_chunk_gives_the_single_process_result(
    today, settings, monkeypatch
):
    """3,000 projects of every kind (tests/warnings/districts.py) in 12 chunks: the chunk a
    worker dies in leaves nothing behind, repeating the run's chunks finishes the work, and
    the result is row for row, status change for status change, the single-process one."""
    from .districts import bulk_district

    settings.RECOMPUTE_SPREAD_ABOVE = 1000
    settings.RECOMPUTE_CHUNK_SIZE = 250
    bulk_district(3000, today=today)
    expected = single_process(today)
    assert {colour for _code, colour, *_rest in expected[0]} == {"red", "yellow", "green", ""}
    assert any(row[5] != row[1] for row in expected[0]), "some baseline colours differ"

    forget_results()
    run, chunks = spread.recompute_run_start(today=today)
    assert len(chunks) == 12
    real = spread.recompute_projects

    def dies_in_chunk_7(project_ids, **kwargs):
        summary = real(project_ids, **kwargs)
        if project_ids == chunks[7]:
            raise SystemExit("worker killed")  # after the work, before the chunk's commit
        return summary

    monkeypatch.setattr(spread, "recompute_projects", dies_in_chunk_7)
    for index, ids in enumerate(chunks):
        try:
            spread.recompute_chunk(run_id=run.pk, index=index, project_ids=ids, today=today)
        except SystemExit:
            pass
    assert not Project.objects.filter(id__in=chunks[7]).exclude(computed_as_of=None).exists()
    assert not StatusChange.objects.filter(project_id__in=chunks[7]).exists()

    monkeypatch.setattr(spread, "recompute_projects", real)
    for index, ids in enumerate(chunks):  # redelivered, or repeated by the next run
        spread.recompute_chunk(run_id=run.pk, index=index, project_ids=ids, today=today)
    run.refresh_from_db()
    assert run.finished_at is not None and run.examined == 3000
    assert (results(), changes()) == expected
