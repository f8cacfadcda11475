"""The health checks, each answering whether one part works and, where it helps, a figure."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date

from django.db import connection

from projects.models import Project
from qiantang.celery import app

from ..selectors import as_of_aggregates, results_as_of

# The beat runs the recompute every 15 minutes and at 00:05: a board computed before
# yesterday means beat or the worker stopped.
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


def recompute_check(*, today: date) -> Check:
    """The day the active projects' stored results hold as of (预警计算日期), and how many days old it is."""
    try:
        latest = results_as_of(Project.objects.filter(state=Project.State.ACTIVE).aggregate(**as_of_aggregates()))
    except Exception as error:
        return Check(ok=False, detail={"error": type(error).__name__})
    if latest is None:  # no active project, or none computed yet
        has_active = Project.objects.filter(state=Project.State.ACTIVE).exists()
        return Check(ok=not has_active, detail={"computed_as_of": None})
    age = (today - latest).days
    return Check(ok=age <= STALE_AFTER_DAYS, detail={"computed_as_of": latest.isoformat(), "age_days": age})


def health(*, today: date) -> Health:
    return Health(database=database_check(), broker=broker_check(), recompute=recompute_check(today=today))
