#!/usr/bin/env python
"""Time the weekly digest: build (and render) every recipient's digest over N projects.

    .venv/bin/python bench/digest.py --projects 1000 10000 --recipients 500

DATABASE_URL defaults to its own database (created and migrated if missing). The projects
come from bench/recompute.py's generator; two recomputes (last Monday, then this Monday)
leave a week of StatusChange history. Recipients: 2% leaders and office, 80% cadres (each
project has a responsible cadre and two team members), 18% liaisons of 20 departments that
own the milestones. The SQL query count must not grow with N or with recipients' projects.
Then one leader's preview (`/digest/preview/`), as `digest_for_user` and as the page through
Django's test client: median of --preview-repeat runs, and its SQL queries.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qiantang_bench_digest")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import recompute as recompute_bench  # noqa: E402  (bench/recompute.py: database and generator)

D = timedelta(days=1)


def make_recipients(count: int, seed: int = 7) -> None:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction

    from projects.models import Department, Milestone, Project
    from projects.roles import CADRE, LEADER, LIAISON, OFFICE, ensure_role_groups

    rng = random.Random(seed)
    ensure_role_groups()
    groups = {g.name: g for g in Group.objects.all()}
    with transaction.atomic():
        User.objects.filter(username__startswith="bench-").delete()
        Department.objects.filter(name__startswith="压测单位").delete()
        leaders = max(2, count // 50)
        liaisons = count * 18 // 100
        cadres = count - leaders - liaisons
        password = make_password(None)
        rows = [(f"bench-leader{i}", LEADER if i % 2 else OFFICE) for i in range(leaders)]
        rows += [(f"bench-cadre{i}", CADRE) for i in range(cadres)]
        rows += [(f"bench-liaison{i}", LIAISON) for i in range(liaisons)]
        users = User.objects.bulk_create(
            [User(username=u, email=f"{u}@bench.example", password=password, last_name="压", first_name=u[6:])
             for u, _role in rows]
        )
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=user.id, group_id=groups[role].id) for user, (_u, role) in zip(users, rows)]
        )
        cadre_ids = [u.id for u, (_n, role) in zip(users, rows) if role == CADRE]
        liaison_ids = [u.id for u, (_n, role) in zip(users, rows) if role == LIAISON]
        departments = Department.objects.bulk_create([Department(name=f"压测单位{i:02}") for i in range(20)])
        Department.liaisons.through.objects.bulk_create(
            [Department.liaisons.through(department_id=departments[i % 20].id, user_id=uid)
             for i, uid in enumerate(liaison_ids)]
        )
        project_ids = list(Project.objects.values_list("id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE projects_project SET responsible_cadre_id = (%s::bigint[])[1 + (id %% %s)]",
                [cadre_ids, len(cadre_ids)],
            )
            cursor.execute(
                "UPDATE projects_milestone SET owner_department_id = (%s::bigint[])[1 + ((project_id + milestone_type_id) %% 20)]",
                [[d.id for d in departments]],
            )
        Project.team.through.objects.all().delete()
        Project.team.through.objects.bulk_create(
            [Project.team.through(project_id=pid, user_id=uid)
             for pid in project_ids for uid in rng.sample(cadre_ids, 2)],
            batch_size=10000,
        )
    print(f"  recipients: {leaders} leaders/office, {cadres} cadres, {liaisons} liaisons; "
          f"{Milestone.objects.count()} milestones owned by 20 departments")


def preview(monday: date, repeat: int) -> dict:
    """A leader opening /digest/preview/: the digest alone, then the whole page."""
    from statistics import median
    from unittest import mock

    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qiantang_warnings.digest.recipients import digest_for_user
    from qiantang_warnings.digest.weeks import week_label

    from projects.roles import LEADER

    leader = User.objects.filter(username__startswith="bench-leader", groups__name=LEADER).order_by("username").first()
    week = week_label(monday)
    built, pages = [], []
    with CaptureQueriesContext(connection) as captured:
        digest_for_user(leader, week=week, today=monday)
    digest_queries = len(captured)
    for _ in range(repeat):
        t0 = time.perf_counter()
        digest_for_user(leader, week=week, today=monday)
        built.append(time.perf_counter() - t0)
    client = Client()
    client.force_login(leader)
    # The page asks the clock for today: the bench's Monday.
    with mock.patch("qiantang_warnings.digest.views.local_today", return_value=monday):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/digest/preview/")
        assert response.status_code == 200, response.status_code
        page_queries = len(captured)
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get("/digest/preview/")
            pages.append(time.perf_counter() - t0)
    result = {
        "digest_ms": median(built) * 1000, "digest_queries": digest_queries,
        "page_ms": median(pages) * 1000, "page_queries": page_queries, "bytes": len(response.content),
    }
    print(f"  leader preview ({leader.username}): digest_for_user {result['digest_ms']:.1f} ms "
          f"({digest_queries} queries); page {result['page_ms']:.1f} ms ({page_queries} queries, "
          f"{result['bytes']:,} B); median of {repeat}")
    return result


def bench(n: int, recipient_count: int, monday: date, preview_repeat: int = 5) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from qiantang_warnings.digest.content import build_digest
    from qiantang_warnings.digest.delivery import render_message
    from qiantang_warnings.digest.recipients import recipients
    from qiantang_warnings.digest.snapshot import district_snapshot
    from qiantang_warnings.digest.weeks import week_label
    from qiantang_warnings.recompute import recompute_all

    started = time.perf_counter()
    recompute_bench.generate(n, monday - 7 * D)
    make_recipients(recipient_count)
    aware = lambda day: timezone.make_aware(datetime.combine(day, dtime(0, 5)))  # noqa: E731
    recompute_all(today=monday - 7 * D, now=aware(monday - 8 * D))
    recompute_all(today=monday, now=aware(monday - 3 * D))
    print(f"N = {n}: generated and recomputed twice in {time.perf_counter() - started:.1f} s")
    week = week_label(monday)

    with CaptureQueriesContext(connection) as captured:
        t0 = time.perf_counter()
        snapshot = district_snapshot(week=week, today=monday)
        t1 = time.perf_counter()
        people = recipients()
        digests = [build_digest(snapshot, user=r.user, kinds=r.kinds) for r in people]
        t2 = time.perf_counter()
    queries = len(captured)
    for digest, recipient in zip(digests, people):
        render_message(digest, to=recipient.user.email, msg_id="<bench@x>").message()
    t3 = time.perf_counter()
    sizes = sorted(len(d.projects) for d in digests if "cadre" in d.kinds)
    print(f"  snapshot {t1 - t0:5.2f} s ({len(snapshot.projects)} active projects, "
          f"{len(snapshot.milestones)} pending milestones)")
    print(f"  {len(digests)} digests built {t2 - t1:5.2f} s; rendered as MIME {t3 - t2:5.2f} s; "
          f"total {t3 - t0:5.2f} s; {queries} SQL queries")
    print(f"  cadres' red/yellow projects per digest: median {sizes[len(sizes) // 2]}, max {sizes[-1]}")
    if preview_repeat:
        preview(monday, preview_repeat)
    return queries, round(t3 - t0, 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[10000], metavar="N")
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--monday", type=date.fromisoformat, default=date(2026, 11, 23))
    parser.add_argument("--preview-repeat", type=int, default=5, help="leader preview runs (0: none)")
    args = parser.parse_args(argv)

    recompute_bench.ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = {n: bench(n, args.recipients, args.monday, args.preview_repeat) for n in args.projects}
    print("queries / seconds by N: " + ", ".join(f"{n}: {q} / {s}" for n, (q, s) in results.items()))


if __name__ == "__main__":
    main()
