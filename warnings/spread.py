"""The full recompute spread over Celery workers: a run (RecomputeRun) of chunks of projects.

`recompute_run_start` opens a run, unless one for the same day is under way (beat firing
twice, or a second beat), and cuts the projects into chunks of RECOMPUTE_CHUNK_SIZE ids;
`recompute_chunk` recomputes one chunk in one transaction (the same service as every other
recompute, `recompute_projects`) and records the chunk in the same transaction, so:

- a worker killed mid-chunk leaves that chunk untouched; its task comes back (Redis) or the
  next run does the work;
- a chunk delivered twice is done once (the second finds its record and does nothing);
- the run is finished when every chunk has its record; its figures are the chunks' sums.

A run records the inputs it starts from (`inputs_stamp`: the inputs version and the rules'
code); a run of the same day that finds them unchanged since the last finished run has no
chunks to send; a run that finds the shared inputs as the last run left them cuts its chunks
from the projects due a recheck only (`only_due_projects`). Any number of workers share the
chunks. Small districts never spread: below RECOMPUTE_SPREAD_ABOVE projects the beat's task
recomputes in-process, in one transaction, or where one transaction would lock everyone out
(SHORT_TRANSACTIONS: SQLite) as a run of the same chunks done in-process, one after another
(`recompute_in_short_transactions`).
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from projects.models import Project
from qiantang.transactions import let_others_write

from .models import RecomputeChunk, RecomputeRun
from .recompute import (
    RecomputeSummary,
    due_for_recheck,
    inputs_stamp,
    nothing_changed_since_the_last_run,
    only_due_projects,
    recompute_projects,
    shared_inputs_stamp,
)

logger = logging.getLogger(__name__)

# A run older than this with chunks missing is abandoned (a chunk lost with its worker on a
# broker that cannot give it back): the next run starts afresh.
ABANDONED_AFTER = timedelta(minutes=30)
# One run at a time, whoever asks (PostgreSQL advisory lock key; SQLite serialises writers).
RUN_LOCK_KEY = 0x51A7_0001


def chunk_size() -> int:
    return max(1, settings.RECOMPUTE_CHUNK_SIZE)


def spreads(project_count: int) -> bool:
    return project_count > settings.RECOMPUTE_SPREAD_ABOVE


def _lock_runs() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_LOCK_KEY])


def recompute_run_start(*, today: date, now: datetime | None = None) -> tuple[RecomputeRun | None, list[list[int]]]:
    """A new run and its chunks of project ids, or (None, []) while a run for `today` is under way."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_runs()
        under_way = RecomputeRun.objects.filter(
            as_of=today, finished_at=None, started_at__gte=now - ABANDONED_AFTER
        ).exists()
        if under_way:
            return None, []
        return _open_run(today=today, now=now)


def _open_run(*, today: date, now: datetime, evaluate_all: bool = False) -> tuple[RecomputeRun, list[list[int]]]:
    """Record a run and cut its chunks (inside the caller's transaction). `evaluate_all`:
    every project, whatever the last run began from (the command's --full)."""
    stamp, shared = inputs_stamp(), shared_inputs_stamp()
    # No input written since the last run of the day: a run of no chunks, finished at once.
    unchanged = not evaluate_all and nothing_changed_since_the_last_run(today, stamp)
    due_only = unchanged or (not evaluate_all and only_due_projects(today, shared))
    projects = Project.objects.order_by("id")
    if due_only and not unchanged:
        projects = projects.filter(due_for_recheck(today))
    ids = list(projects.values_list("id", flat=True))
    size = chunk_size()
    chunks = [] if unchanged else [ids[start : start + size] for start in range(0, len(ids), size)]
    run = RecomputeRun.objects.create(
        as_of=today, started_at=now, chunks=len(chunks), inputs=stamp, shared_inputs=shared, due_only=due_only,
        examined=len(ids) if unchanged else 0, finished_at=None if chunks else now,
    )
    return run, chunks


def recompute_chunk(
    *, run_id: int, index: int, project_ids: list[int], today: date, due_only: bool = False,
    now: datetime | None = None,
) -> RecomputeSummary | None:
    """Recompute one chunk and record it, in one transaction; None when it was already done.
    `due_only`: the run's (RecomputeRun.due_only), the chunk's projects still due a recheck.
    `now`: the moment of its changes (default: when it holds its projects' locks)."""
    if RecomputeChunk.objects.filter(run_id=run_id, index=index).exists():
        return None
    try:
        with transaction.atomic():
            summary = recompute_projects(project_ids, today=today, now=now, in_run=True, due_only=due_only)
            RecomputeChunk.objects.create(
                run_id=run_id, index=index, examined=summary.examined, updated=summary.updated,
                status_changes=summary.status_changes, done_at=timezone.now(),
            )
    except IntegrityError:  # the same chunk, delivered twice, committed first elsewhere
        return None
    _finish_if_complete(run_id)
    return summary


def _finish_if_complete(run_id: int) -> None:
    with transaction.atomic():
        run = RecomputeRun.objects.select_for_update().get(pk=run_id)
        if run.finished_at is not None:
            return
        if run.done_chunks.count() < run.chunks:
            return
        done = run.done_chunks.aggregate(
            examined=Sum("examined"), updated=Sum("updated"), status_changes=Sum("status_changes")
        )
        run.examined, run.updated, run.status_changes = done["examined"], done["updated"], done["status_changes"]
        run.finished_at = timezone.now()
        run.save(update_fields=["examined", "updated", "status_changes", "finished_at"])


def recompute_in_short_transactions(
    *, today: date, now: datetime | None = None, evaluate_all: bool = False
) -> RecomputeSummary:
    """The in-process full recompute (`recompute_all`) where one transaction would lock everyone
    out (qiantang/transactions.py: SQLite): the same run as the workers', its chunks done here
    one after another, each one transaction (`recompute_chunk`: it locks and writes only its
    own projects and records itself), with a pause between them for other writers.

    The run's bookkeeping is the spread run's, and as correct: it records the inputs it began
    from before it reads any; an input written while it runs makes its stamp older than what a
    later chunk read (the next run evaluates again, never skips), and empties the day of its
    project (a project whose chunk is done is due at the next run). It does not wait for, nor
    skip for, another run under way: a chunk done twice writes nothing the second time (its
    projects are read again under the lock). A process that dies mid-run leaves the chunks done
    so far committed and the run unfinished; the next run does the rest."""
    now_of_run = now or timezone.now()
    with transaction.atomic():
        run, chunks = _open_run(today=today, now=now_of_run, evaluate_all=evaluate_all)
    for index, project_ids in enumerate(chunks):
        let_others_write()
        recompute_chunk(run_id=run.pk, index=index, project_ids=project_ids, today=today, due_only=run.due_only,
                        now=now)
    run.refresh_from_db()
    logger.info(
        "recompute run as of %s: %d examined, %d updated, %d status changes in %d chunks",
        today, run.examined, run.updated, run.status_changes, run.chunks,
        extra={"event": "recompute", "as_of": today.isoformat(), "examined": run.examined, "updated": run.updated,
               "status_changes": run.status_changes, "scope": "all", "chunks": run.chunks,
               "due_only": run.due_only},
    )
    return RecomputeSummary(today, run.examined, run.updated, run.status_changes)
