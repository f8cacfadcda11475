"""The health checks, each answering whether one part works and, where it helps, a figure."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from projects.models import Project
from qiantang.celery import app

from ..models import RecomputeRun
from ..selectors import as_of_aggregates, results_as_of

# The beat runs the full recompute every 15 minutes and at 00:05: its last finished run older
# than settings.HEALTH_RECOMPUTE_MAX_AGE_MINUTES, or a board computed before yesterday, means
# beat or the worker stopped. (A staff save recomputes its own project and stamps it with today,
# so the board's day alone cannot show a dead beat: the run's time can.)
STALE_AFTER_DAYS = 1
BROKER_TIMEOUT_SECONDS = 3


@dataclass
class Check:
    ok: bool
    milliseconds: int = 0
    detail: dict = field(default_factory=dict)


@dataclass
class Health:
    database: Check
    broker: Check
    recompute: Check

    @property
    def serving(self) -> bool:
        """Can the site serve and record edits (the database), and hand work to the worker?"""
        return self.database.ok and self.broker.ok

    @property
    def status(self) -> str:
        if not self.serving:
            return "failing"
        return "ok" if self.recompute.ok else "degraded"

    def as_dict(self) -> dict:
        return {"status": self.status, "checks": {name: asdict(getattr(self, name)) for name in ("database", "broker", "recompute")}}


def _timed(probe) -> Check:
    started = time.monotonic()
    try:
        detail = probe() or {}
        ok = True
    except Exception as error:  # any failure is the answer; its class, never its message (it may name hosts)
        detail, ok = {"error": type(error).__name__}, False
    return Check(ok=ok, milliseconds=round((time.monotonic() - started) * 1000), detail=detail)


def database_check() -> Check:
    def probe():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed(probe)


def broker_check() -> Check:
    def probe():
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)

    return _timed(probe)


def recompute_check(*, today: date, now: datetime | None = None) -> Check:
    """The age of the last finished full recompute (RecomputeRun) in minutes, and the day the
    active projects' stored results hold as of (预警计算日期) with its age in days."""
    now = now or timezone.now()
    max_age = settings.HEALTH_RECOMPUTE_MAX_AGE_MINUTES
    try:
        latest = results_as_of(Project.objects.filter(state=Project.State.ACTIVE).aggregate(**as_of_aggregates()))
        last_run = RecomputeRun.finished_latest_first().values_list("finished_at", flat=True).first()
        has_active = latest is not None or Project.objects.filter(state=Project.State.ACTIVE).exists()
    except Exception as error:
        return Check(ok=False, detail={"error": type(error).__name__})
    run_age = None if last_run is None else max(0, int((now - last_run) / timedelta(minutes=1)))
    detail = {
        "last_full_run_finished_at": None if last_run is None else timezone.localtime(last_run).isoformat(timespec="seconds"),
        "last_full_run_age_minutes": run_age,
        "max_age_minutes": max_age,
        "computed_as_of": None if latest is None else latest.isoformat(),
    }
    if latest is None:  # no active project, or none computed yet
        return Check(ok=not has_active, detail=detail)
    age = (today - latest).days
    detail["age_days"] = age
    fresh_run = run_age is not None and run_age <= max_age
    return Check(ok=fresh_run and age <= STALE_AFTER_DAYS, detail=detail)


def health(*, today: date) -> Health:
    return Health(database=database_check(), broker=broker_check(), recompute=recompute_check(today=today))
