#!/usr/bin/env python
"""Time the recompute of N projects on PostgreSQL: a first full run, then an unchanged re-run.

    .venv/bin/python bench/recompute.py --projects 10000
    .venv/bin/python bench/recompute.py --projects 1000 10000   # query counts side by side

DATABASE_URL defaults to a dedicated database (created and migrated if missing); the
script empties its project tables and generates N projects with one milestone per type
of the catalogue (9 per project) and a believable colour mix, all as of --as-of.
Each run prints wall time, projects per second and the SQL queries it issued.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qiantang_bench")
os.environ.setdefault("LOG_LEVEL", "WARNING")

D = timedelta(days=1)


def ensure_database(url: str) -> None:
    """Create the bench database on its server when it does not exist yet."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"bench/recompute.py measures PostgreSQL; DATABASE_URL is {config['ENGINE']}")
    params = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")


def generate(n: int, today: date, seed: int = 20261125) -> None:
    """Replace every project with n generated ones (bulk inserts, one transaction)."""
    from django.db import connection, transaction

    from projects.models import Milestone, MilestoneType, Project
    from qiantang_warnings.models import Escalation

    rng = random.Random(seed)
    types = list(MilestoneType.objects.order_by("order"))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE projects_project, projects_milestone, projects_milestonereplan, "
                "warnings_statuschange, warnings_escalation, projects_project_team CASCADE"
            )
        states = ["active"] * 90 + ["paused"] * 5 + ["completed"] * 3 + ["terminated"] * 2
        projects = Project.objects.bulk_create(
            [
                Project(
                    code=f"BENCH-{i:06}",
                    name=f"压测项目{i}",
                    sector=rng.choice(["汽车及零部件", "生物医药", "集成电路", "人工智能", "新材料"]),
                    state=rng.choice(states),
                )
                for i in range(n)
            ],
            batch_size=5000,
        )
        milestones = []
        for project in projects:
            milestones.extend(_milestones(project, types, today, rng))
        Milestone.objects.bulk_create(milestones, batch_size=5000)
        Escalation.objects.bulk_create(
            [
                Escalation(project=project, colour=rng.choice(["red", "yellow"]),
                           reason="压测督办", until=today + rng.randint(-10, 30) * D)
                for project in rng.sample(projects, max(1, n // 100))
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def clear_results() -> None:
    """Forget every stored result, status change and run: the next recompute is a first run
    (writing results alone changes no input the next run would look for)."""
    from projects.models import Project
    from qiantang_warnings.models import RecomputeRun, StatusChange

    RecomputeRun.objects.all().delete()
    StatusChange.objects.all().delete()
    Project.objects.update(
        colour="", reasons=[], needs_plan=False, computed_as_of=None, baseline_colour="", replan_count=0,
        recheck_on=None,
    )


def _milestones(project, types, today, rng):
    """Done up to a stage, then the current milestone (its due date sets the colour)."""
    from projects.models import Milestone

    stage = rng.randint(0, len(types) - 1)
    # About 55% green, 25% yellow, 20% red among active projects.
    roll = rng.random()
    if roll < 0.20:
        current_due = today - rng.randint(1, 120) * D
    elif roll < 0.45:
        current_due = today + rng.randint(0, 15) * D
    else:
        current_due = today + rng.randint(16, 240) * D
    unscheduled = rng.random() < 0.05  # the current milestone has no plan: 待排期
    day = today - (stage * 45 + 30) * D
    rows = []
    for position, milestone_type in enumerate(types):
        fields = {}
        if position < stage:
            if rng.random() < 0.08:
                fields["not_applicable"] = True
            else:
                planned = day + rng.randint(-10, 10) * D
                fields.update(planned_date=planned, baseline_date=planned, actual_date=day)
            day += rng.randint(20, 45) * D
        elif position == stage:
            if not unscheduled:
                fields.update(planned_date=current_due, baseline_date=current_due)
        elif rng.random() < 0.6:  # later milestones: mostly planned, far enough ahead
            current_due += rng.randint(30, 200) * D
            fields.update(planned_date=current_due, baseline_date=current_due)
        rows.append(Milestone(project=project, milestone_type=milestone_type, **fields))
    return rows


def timed(label: str, n: int, run):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        summary = run()
        elapsed = time.perf_counter() - started
    kinds = Counter(q["sql"].lstrip().split(None, 1)[0].upper() for q in captured.captured_queries)
    print(
        f"  {label:<22} {elapsed:6.2f} s  {n / elapsed:8.0f} projects/s  "
        f"{len(captured):3d} queries ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})  "
        f"updated {summary.updated}, status changes {summary.status_changes}"
    )
    return elapsed, len(captured)


def bench(n: int, today: date, working_days: bool) -> dict:
    from projects.models import Milestone, Project
    from qiantang_warnings.models import WarningPolicy
    from qiantang_warnings.recompute import recompute_all

    started = time.perf_counter()
    generate(n, today)
    WarningPolicy.objects.update_or_create(
        pk=WarningPolicy.SINGLETON_ID,
        defaults={"yellow_before_days": 15, "red_after_days": 0, "count_working_days": working_days},
    )
    print(
        f"N = {n}: {Project.objects.count()} projects, {Milestone.objects.count()} milestones "
        f"generated in {time.perf_counter() - started:.1f} s; as of {today}, "
        f"{'working' if working_days else 'calendar'} days"
    )
    first = timed("first full recompute", n, lambda: recompute_all(today=today))
    colours = Counter(Project.objects.values_list("colour", flat=True))
    print(
        "  colours: "
        + ", ".join(f"{colour or '(none)'} {colours[colour]}" for colour in ["red", "yellow", "green", ""])
    )
    rerun = timed("unchanged re-run", n, lambda: recompute_all(today=today))
    next_day = timed("next day (all as-of)", n, lambda: recompute_all(today=today + D))
    return {"first": first, "rerun": rerun, "next_day": next_day}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[10000], metavar="N")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 25))
    parser.add_argument("--working-days", action="store_true", help="count China's working days")
    args = parser.parse_args(argv)

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"PostgreSQL {connection.cursor().connection.info.server_version}, database {connection.settings_dict['NAME']}")
    results = {n: bench(n, args.as_of, args.working_days) for n in args.projects}
    if len(results) > 1:
        print("queries (first / re-run / next day):")
        for n, result in results.items():
            print(f"  N = {n:>6}: {result['first'][1]} / {result['rerun'][1]} / {result['next_day'][1]}")


if __name__ == "__main__":
    main()
