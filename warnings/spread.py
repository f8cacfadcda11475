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
recomputes in-process, in one transaction.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from projects.models import Project

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
        stamp, shared = inputs_stamp(), shared_inputs_stamp()
        # No input written since the last run of the day: a run of no chunks, finished at once.
        unchanged = nothing_changed_since_the_last_run(today, stamp)
        due_only = unchanged or only_due_projects(today, shared)
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
    *, run_id: int, index: int, project_ids: list[int], today: date, due_only: bool = False
) -> RecomputeSummary | None:
    """Recompute one chunk and record it, in one transaction; None when it was already done.
    `due_only`: the run's (RecomputeRun.due_only), the chunk's projects still due a recheck."""
    if RecomputeChunk.objects.filter(run_id=run_id, index=index).exists():
        return None
    try:
        with transaction.atomic():
            summary = recompute_projects(project_ids, today=today, in_run=True, due_only=due_only)
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
