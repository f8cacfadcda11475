"""The SQL floor (bench/floor.sql): the rules' results for every project in one statement.

`time_floor(today)` runs the statement (fetching every row, as a recompute reads its inputs)
and returns its wall time and its results; `disagreements(today)` compares them with the
stored results of every project (colour, reasons in order, needs_plan, baseline colour) and
lists the rows that differ. bench/run.py reports the recompute's time divided by the floor's.

Used with Django set up (DATABASE_URL on PostgreSQL).
"""
from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

STATEMENT = (Path(__file__).resolve().parent / "floor.sql").read_text(encoding="utf-8")


class FloorNotApplicable(Exception):
    """The policy asks for something the floor statement does not compute."""


def _params(today: date) -> dict:
    from projects.models import MilestoneType
    from qiantang_warnings.models import WarningPolicy

    policy = WarningPolicy.load()
    if policy.count_working_days or MilestoneType.objects.filter(count_working_days=True).exists():
        raise FloorNotApplicable("the floor counts calendar days; the policy counts working days")
    if policy.items_raise_colour:
        raise FloorNotApplicable("the floor leaves coordination items out; the policy counts them")
    return {"today": today, "yellow": policy.yellow_before_days, "red": policy.red_after_days}


def time_floor(today: date) -> tuple[float, dict[int, tuple]]:
    """Seconds for the statement, and {project id: (colour, reasons, needs_plan, baseline colour)}."""
    from django.db import connection

    params = _params(today)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(STATEMENT, params)
        rows = cursor.fetchall()
        elapsed = time.perf_counter() - started
    # Django's psycopg setup hands jsonb over as text: parse it after the clock stops.
    return elapsed, {
        row[0]: (row[1], json.loads(row[2]) if isinstance(row[2], str) else row[2], row[3], row[4])
        for row in rows
    }


def stored_results() -> dict[int, tuple]:
    from projects.models import Project

    return {
        row[0]: tuple(row[1:])
        for row in Project.objects.values_list(
            "id", "colour", "reasons", "needs_plan", "baseline_colour"
        ).iterator(chunk_size=10000)
    }


def disagreements(today: date, floor: dict[int, tuple] | None = None) -> list[tuple[int, tuple, tuple]]:
    """(project id, stored, floor) for every project where the two differ."""
    if floor is None:
        floor = time_floor(today)[1]
    stored = stored_results()
    return [
        (project_id, stored.get(project_id), floor.get(project_id))
        for project_id in sorted(set(stored) | set(floor))
        if stored.get(project_id) != floor.get(project_id)
    ]
