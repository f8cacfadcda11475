#!/usr/bin/env python
"""Time the staff pages on the demo data: my projects, the project list, one project,
and the HTMX save that brings a late milestone up to date (save + recompute + fragments).

    .venv/bin/python bench/staff_pages.py                      # 260 demo projects
    .venv/bin/python bench/staff_pages.py --projects 260 2600  # both sizes

DATABASE_URL defaults to a dedicated PostgreSQL database (created and migrated if
missing); the script empties it and seeds the demo data for each size. Requests go
through Django's test client (middleware, session, templates), signed in as cadre1.
Prints the median of --repeat runs and the SQL queries of one run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qiantang_bench_staff")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

AS_OF = date(2026, 11, 25)


def fresh_database(url: str) -> None:
    """Drop and create the bench database (migrations' data, e.g. the catalogue, come back)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        return
    params = {"host": config["HOST"] or None, "port": config["PORT"] or None,
              "user": config["USER"] or None, "password": config["PASSWORD"] or None,
              "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def timed(fn, repeat):
    from django.db import connection, reset_queries

    times = []
    queries = 0
    for i in range(repeat):
        reset_queries()
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
        queries = len(connection.queries)
    return statistics.median(times), queries


def run(n: int, repeat: int) -> list[tuple]:
    import time_machine
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from projects.demo import seed_demo
    from projects.models import Milestone
    from projects.permissions import projects_of_cadre

    from django.db import connections

    connections.close_all()
    fresh_database(os.environ["DATABASE_URL"])
    call_command("migrate", verbosity=0)
    settings.DEBUG = True  # collect queries
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(f"{AS_OF.isoformat()} 10:00 +08:00", tick=True):
        seed_demo(projects=n, password="bench-pw-1", today=AS_OF)
        cadre = get_user_model().objects.get(username="cadre1")
        client = Client()
        client.force_login(cadre)
        # The cadre's late milestones (projects run or on the team of), one per save run (pending, overdue: the reasons say which).
        late = []
        for project in projects_of_cadre(cadre).filter(colour="red"):
            for reason in project.reasons:
                if reason.get("kind") == "overdue":
                    late.append((project.code, reason["milestone"]))
        if len(late) < repeat:
            sys.exit(f"only {len(late)} late milestones for cadre1 at {n} projects; lower --repeat")
        detail_code = late[0][0]

        def save(i):
            code, type_code = late[i]
            milestone = Milestone.objects.get(project__code=code, milestone_type__code=type_code)
            response = client.post(
                f"/projects/{code}/milestones/{type_code}/",
                {"planned_date": milestone.planned_date.isoformat() if milestone.planned_date else "",
                 "actual_date": "", "done_today": "1", "updated_at": milestone.updated_at.isoformat()},
                HTTP_HX_REQUEST="true",
            )
            assert response.status_code == 200 and b'data-status="done"' in response.content, response.content[:300]

        def get(path):
            def fn(_i):
                response = client.get(path)
                assert response.status_code == 200, path
            return fn

        results = [
            ("my projects (/projects/mine/)", *timed(get("/projects/mine/"), repeat)),
            ("project list, first page (/projects/)", *timed(get("/projects/"), repeat)),
            ("project list, red + sector filter", *timed(get("/projects/?colour=red&sector=生物医药"), repeat)),
            ("project page (/projects/<code>/)", *timed(get(f"/projects/{detail_code}/"), repeat)),
            ("HTMX save: 今天完成 on a late milestone", *timed(save, repeat)),
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[260])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    for n in args.projects:
        print(f"\n{n} projects (median of {args.repeat})")
        for name, seconds, queries in run(n, args.repeat):
            print(f"  {name:45s} {seconds * 1000:8.1f} ms  {queries:3d} queries")


if __name__ == "__main__":
    main()
