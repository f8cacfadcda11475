"""A real Celery worker process picks up the recompute task and colours a late project red.

Once on Redis (production and CI) and once on kombu's embedded filesystem broker (what
`make run` uses when no CELERY_BROKER_URL is set). The rows are committed (transactional
test) so the worker, a separate process, reads them from pytest-django's test database.
"""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from projects.models import Project
from qiantang_warnings.models import StatusChange

from .celery_processes import (
    TEST_REDIS_URL,
    celery_process,
    child_database_url,
    child_env,
    enqueue_recompute,
    forget_redis_queue,
    wait_until,
)

# Real worker processes read the wall clock, so these tests do too (tests/conftest.py).
pytestmark = [pytest.mark.real_clock, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEADLINE_SECONDS = 60


def late_project(make_project):
    # The worker asks the wall clock for "today" (as beat's runs do), so this one test builds
    # its dates from the real date. The outcome does not depend on which day it is: a first
    # milestone planned 30 days ago and not done is red on any day under the default policy.
    real_today = timezone.localdate()
    project = make_project(
        "QT-WORKER", milestones={"approval": {"planned_date": real_today - timedelta(days=30)}}
    )
    project.refresh_from_db()
    assert project.colour == "" and project.computed_as_of is None, "nothing computed yet"
    return project


def colour_of(project) -> str:
    return Project.objects.values_list("colour", flat=True).get(pk=project.pk)


def assert_recomputed_by_worker(project):
    project.refresh_from_db()
    assert project.colour == "red"
    assert project.reasons, "the reasons are stored with the colour"
    changes = list(StatusChange.objects.filter(project=project).values_list("from_colour", "to_colour"))
    assert changes == [("", "red")]


@pytest.mark.services
def test_worker_on_redis_recomputes_a_late_project(make_project, tmp_path):
    project = late_project(make_project)
    # A queue of its own: concurrent runs sharing this Redis never take each other's messages.
    queue = f"test-recompute-{uuid.uuid4().hex[:12]}"
    env = child_env(
        DATABASE_URL=child_database_url(),
        CELERY_BROKER_URL=TEST_REDIS_URL,
        QIANTANG_VAR_DIR=str(tmp_path / "var"),
    )
    log_path = tmp_path / "worker.log"
    try:
        with celery_process(
            ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-Q", queue, "-n", f"{queue}@%h"],
            env=env,
            log_path=log_path,
        ) as worker:
            enqueue_recompute(env, queue=queue)
            wait_until(
                lambda: colour_of(project) == "red",
                timeout=DEADLINE_SECONDS,
                process=worker,
                log_path=log_path,
                what="the worker turning QT-WORKER red",
            )
    finally:
        forget_redis_queue(TEST_REDIS_URL, queue)
    assert_recomputed_by_worker(project)
    assert "Task qiantang_warnings.tasks.recompute_all_warnings[" in log_path.read_text()


def test_worker_on_the_embedded_broker_recomputes_a_late_project(make_project, tmp_path):
    project = late_project(make_project)
    var_dir = tmp_path / "var"
    env = child_env(
        DATABASE_URL=child_database_url(),
        CELERY_BROKER_URL="filesystem://",
        QIANTANG_VAR_DIR=str(var_dir),
    )
    # Sent before any worker runs, as after a restart: it waits in the folder until one starts.
    enqueue_recompute(env)
    assert list((var_dir / "broker" / "queue").iterdir()), "the message is on disk under var/"
    log_path = tmp_path / "worker.log"
    with celery_process(
        ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-n", f"fs-{uuid.uuid4().hex[:8]}@%h"],
        env=env,
        log_path=log_path,
    ) as worker:
        wait_until(
            lambda: colour_of(project) == "red",
            timeout=DEADLINE_SECONDS,
            process=worker,
            log_path=log_path,
            what="the worker turning QT-WORKER red",
        )
    assert_recomputed_by_worker(project)


@pytest.mark.services
def test_two_workers_share_a_spread_recompute(make_project, tmp_path):
    """Above RECOMPUTE_SPREAD_ABOVE projects beat's task cuts the work into chunks: two real
    workers on one Redis queue both take chunks, and the run finishes with every project done."""
    from qiantang_warnings.models import RecomputeRun

    real_today = timezone.localdate()
    for n in range(12):
        make_project(f"QT-SPREAD{n:02d}", milestones={"approval": {"planned_date": real_today - timedelta(days=30)}})
    queue = f"test-spread-{uuid.uuid4().hex[:12]}"
    env = child_env(
        DATABASE_URL=child_database_url(), CELERY_BROKER_URL=TEST_REDIS_URL,
        QIANTANG_VAR_DIR=str(tmp_path / "var"), RECOMPUTE_SPREAD_ABOVE="5", RECOMPUTE_CHUNK_SIZE="2",
    )
    args = ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-Q", queue]
    try:
        with celery_process([*args, "-n", f"{queue}-1@%h"], env=env, log_path=tmp_path / "one.log") as one, \
                celery_process([*args, "-n", f"{queue}-2@%h"], env=env, log_path=tmp_path / "two.log") as two:
            for worker, log in ((one, "one.log"), (two, "two.log")):  # both consuming before any work
                wait_until(lambda log=log: " ready." in (tmp_path / log).read_text(errors="replace"),
                           timeout=DEADLINE_SECONDS, process=worker, log_path=tmp_path / log, what="a worker starting")
            enqueue_recompute(env, queue=queue)
            wait_until(
                lambda: RecomputeRun.objects.exclude(finished_at=None).exists(),
                timeout=DEADLINE_SECONDS, process=one, log_path=tmp_path / "one.log",
                what="the spread run finishing",
            )
    finally:
        forget_redis_queue(TEST_REDIS_URL, queue)
    run = RecomputeRun.objects.get()
    assert (run.chunks, run.examined, run.status_changes) == (6, 12, 12)
    assert Project.objects.filter(code__startswith="QT-SPREAD", colour="red").count() == 12
    chunk_task = "Task qiantang_warnings.tasks.recompute_warnings_chunk["
    assert chunk_task in (tmp_path / "one.log").read_text() and chunk_task in (tmp_path / "two.log").read_text(), \
        "both workers took chunks"
