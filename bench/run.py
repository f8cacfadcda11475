#!/usr/bin/env python
"""`make bench`: build data at each size on PostgreSQL and print one table of every figure.

    .venv/bin/python bench/run.py                          # 260, 10,000 and 100,000 projects
    .venv/bin/python bench/run.py --sizes 10000 --requests 50
    make bench BENCH_SIZES="260 10000"

For each N, in its own database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/qiantang_bench_run, created and migrated if missing):

1. **Data.** N generated projects (bench/recompute.py: 9 milestones each, a believable colour
   mix, 1% escalated), 40 leaders and 10 cadres (each responsible for 20 projects) with
   signed-in sessions; then VACUUM ANALYZE, as autovacuum would (it may be off locally).
2. **Recompute**, in-process and with 1 and 2 real Celery workers on Redis (the spread run,
   chunks of RECOMPUTE_CHUNK_SIZE): the first run (no stored results), an unchanged re-run
   (only the first run's own results were written since, which move no input: it evaluates
   nothing, as the beat's run every 15 minutes on a quiet board), a re-run after an input
   write that changes no result (a milestone type saved as it was: every project is
   evaluated, nothing is written) and the next-day run (results stored as of yesterday).
   "Today" is the real local date, because the workers ask the clock.
3. **SQL floor** (bench/floor.sql), best of three, and its agreement with the stored results
   on every row, checked after the first run and after the next-day run; the table gives our
   time ÷ the floor's.
4. **Dashboard** (after VACUUM ANALYZE: the recompute runs leave the project table several
   times its size in dead rows, which autovacuum clears in a deployment): full page, live partial and no-change poll as the signed-in leader through
   gunicorn (one sync worker, DEBUG off), median and p95 of --requests sequential requests,
   each with no cache (a miss every time) and with the Redis cache (the repeat view), against
   a static file of exactly the same size from the same server.
5. **Load**: locust, headless on loopback (bench/locustfile.py), 40 leaders polling and 10
   cadres editing for --load-seconds against gunicorn with --load-workers sync workers and
   the Redis cache: requests per second, p50/p95/p99, errors.

The table is printed as Markdown at the end (bench/README.md keeps the figures measured).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qiantang_bench_run")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10")
os.environ["RECOMPUTE_SPREAD_ABOVE"] = "0"  # the workers' task always spreads here
os.environ["QIANTANG_ENV_FILE"] = ""  # a checkout's .env (DEBUG=1) must not change the figures

from bench import dashboard as page_bench  # noqa: E402  (sets DEBUG off, STATIC_ROOT, var/)
from bench import floor  # noqa: E402
from bench.recompute import clear_results, ensure_database, generate  # noqa: E402
from bench.recompute_workers import start_workers  # noqa: E402

D = timedelta(days=1)
LEADERS, CADRES, PROJECTS_PER_CADRE = 40, 10, 20
LOAD_PORT = 8113


# ---------------------------------------------------------------- data


def build(n: int, today) -> dict:
    """N generated projects and the people of the load run; returns their sessions."""
    from django.db import connection

    started = time.perf_counter()
    generate(n, today)
    people = _people()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"N = {n:,}: data built in {time.perf_counter() - started:.1f} s", flush=True)
    return people


def _people() -> dict:
    from django.contrib.auth.models import Group, User

    from projects.models import Project
    from projects.roles import CADRE, LEADER, ensure_role_groups

    ensure_role_groups()
    User.objects.filter(username__startswith="bench-").delete()
    leader_group, cadre_group = Group.objects.get(name=LEADER), Group.objects.get(name=CADRE)
    leaders, cadres = [], []
    for i in range(LEADERS):
        user = User.objects.create_user(f"bench-leader-{i:02}", password=None)
        user.groups.add(leader_group)
        leaders.append(page_bench.session_cookie(user))
    active = list(Project.objects.filter(state="active").order_by("id").values_list("id", "code"))
    for i in range(CADRES):
        user = User.objects.create_user(f"bench-cadre-{i:02}", password=None)
        user.groups.add(cadre_group)
        mine = active[i * PROJECTS_PER_CADRE : (i + 1) * PROJECTS_PER_CADRE]
        Project.objects.filter(id__in=[pk for pk, _code in mine]).update(responsible_cadre=user)
        # The first milestone type of each: its actual date toggles (see locustfile.py).
        cadres.append({**page_bench.session_cookie(user), "milestones": [(code, "approval") for _pk, code in mine]})
    return {"leaders": leaders, "cadres": cadres}


# ---------------------------------------------------------------- recompute and floor


def _seconds(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def best_floor(today, tries: int = 3) -> tuple[float, dict]:
    best, results = None, None
    for _ in range(tries):
        seconds, results = floor.time_floor(today)
        best = seconds if best is None else min(best, seconds)
    return best, results


def check_agreement(today, results, where: str) -> None:
    wrong = floor.disagreements(today, results)
    if wrong:
        project_id, stored, computed = wrong[0]
        sys.exit(f"{where}: the SQL floor disagrees with the stored results on {len(wrong)} rows, "
                 f"e.g. project {project_id}: stored {stored}, floor {computed}")


def write_an_input_that_changes_nothing() -> None:
    """A write the rules read that changes no result (a milestone type saved as it was): the
    next run must evaluate every project again, and writes nothing."""
    from django.db.models import F

    from projects.models import MilestoneType

    first = MilestoneType.objects.order_by("pk").values("pk")[:1]
    MilestoneType.objects.filter(pk__in=first).update(name=F("name"))


def recompute_in_process(today) -> dict:
    from qiantang_warnings.recompute import recompute_all

    clear_results()
    first = _seconds(lambda: recompute_all(today=today))
    unchanged = _seconds(lambda: recompute_all(today=today))
    write_an_input_that_changes_nothing()
    evaluated = _seconds(lambda: recompute_all(today=today))
    recompute_all(today=today - D)
    next_day = _seconds(lambda: recompute_all(today=today))
    return {"first": first, "unchanged": unchanged, "evaluated": evaluated, "next_day": next_day}


def recompute_with_workers(count: int, today) -> dict:
    from qiantang_warnings.models import RecomputeRun
    from qiantang_warnings.recompute import recompute_all
    from qiantang_warnings.tasks import recompute_all_warnings

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    workers = start_workers(count, queue, logs)

    def spread_run() -> float:
        last = RecomputeRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        recompute_all_warnings.apply_async(queue=queue)
        while not RecomputeRun.objects.filter(id__gt=last).exclude(finished_at=None).exists():
            if time.perf_counter() - started > 1800:
                sys.exit(f"the spread run did not finish in 30 minutes; see {logs}")
            time.sleep(0.05)
        return time.perf_counter() - started

    try:
        clear_results()
        first = spread_run()
        unchanged = spread_run()
        write_an_input_that_changes_nothing()
        evaluated = spread_run()
        recompute_all(today=today - D)
        next_day = spread_run()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    return {"first": first, "unchanged": unchanged, "evaluated": evaluated, "next_day": next_day}


# ---------------------------------------------------------------- pages


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def dashboard_rows(cookie: dict, requests: int) -> list[dict]:
    import http.client

    import redis

    cookie_header = f"{cookie['name']}={cookie['value']}"
    measured = page_bench.responses(cookie_header)
    page_bench.write_static_files(measured)
    rows = []
    for mode, cache_url in (("miss", "dummy://"), ("hit", os.environ["BENCH_CACHE_URL"])):
        if cache_url.startswith("redis"):
            redis.Redis.from_url(cache_url).flushdb()
        server = page_bench.start_server(cache_url)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", page_bench.PORT, timeout=60)
            base = {"Cookie": cookie_header, "Host": "127.0.0.1"}
            for label, (path, headers, _size, queries) in measured.items():
                ours, size = page_bench.samples(connection, path, {**base, **headers}, requests)
                static, static_size = page_bench.samples(
                    connection, f"/static/{page_bench.static_name(label)}", base, requests
                )
                if static_size != size:
                    sys.exit(f"{label}: static file of {static_size} bytes for a response of {size}")
                rows.append({
                    "what": f"dashboard {label}, cache {mode}", "median": statistics.median(ours),
                    "p95": p95(ours), "static": statistics.median(static), "bytes": size,
                    "queries": queries if mode == "hit" else "",
                })
        finally:
            server.terminate()
            server.wait(timeout=10)
    return rows


# ---------------------------------------------------------------- load


def load_run(people: dict, *, seconds: int, users: int, workers: int) -> dict:
    import redis

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    people_file = folder / "people.json"
    people_file.write_text(json.dumps(people), encoding="utf-8")
    cache_url = os.environ["BENCH_CACHE_URL"]
    redis.Redis.from_url(cache_url).flushdb()
    server = page_bench.start_server(cache_url, port=LOAD_PORT, workers=workers)
    try:
        prefix = folder / "load"
        done = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench/locustfile.py"), "--headless",
             "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{LOAD_PORT}",
             "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING"],
            cwd=ROOT, env={**os.environ, "BENCH_PEOPLE": str(people_file)}, capture_output=True, text=True,
            timeout=seconds + 120, stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            sys.exit("locust failed:\n" + done.stdout[-2000:] + done.stderr[-2000:])
    finally:
        server.terminate()
        server.wait(timeout=10)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    total = rows["Aggregated"]
    return {
        "requests": int(total["Request Count"]), "errors": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]), "p50": float(total["50%"]), "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "by_name": {name: (int(r["Request Count"]), float(r["95%"])) for name, r in rows.items() if name != "Aggregated"},
    }


# ---------------------------------------------------------------- the table


def run_size(n: int, args) -> list[tuple]:
    from django.utils import timezone

    today = timezone.localdate()
    people = build(n, today)
    floor_seconds, results = best_floor(today)
    lines = [(n, "SQL floor (bench/floor.sql), best of 3", f"{floor_seconds:.3f} s", "", "")]
    in_process = recompute_in_process(today)
    check_agreement(today, results, f"N = {n}, in-process")
    modes = [("in-process", in_process)]
    for count in args.workers:
        modes.append((f"{count} worker{'s' if count > 1 else ''}", recompute_with_workers(count, today)))
        check_agreement(today, results, f"N = {n}, {count} workers")
    for mode, figures in modes:
        for key, label in (
            ("first", "first run"), ("unchanged", "unchanged re-run"),
            ("evaluated", "re-run after an input write that changes nothing"),
            ("next_day", "next day"),
        ):
            seconds = figures[key]
            lines.append((n, f"recompute {label}, {mode}", f"{seconds:.2f} s", f"{floor_seconds:.3f} s",
                          f"{seconds / floor_seconds:.1f}×"))
    print(f"  recompute done; the SQL floor agrees with the stored results on all {len(results):,} rows", flush=True)
    # The recompute runs above rewrote the project rows a dozen times; autovacuum (on in any
    # deployment, off on some bench machines) would have cleaned up behind them by now.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    for row in dashboard_rows(people["leaders"][0], args.requests):
        lines.append((n, row["what"], f"{row['median']:.1f} ms (p95 {row['p95']:.1f}) · {row['bytes']:,} B",
                      f"{row['static']:.1f} ms", f"{row['median'] / row['static']:.1f}×"))
    print("  dashboard done", flush=True)
    if args.load_seconds:
        load = load_run(people, seconds=args.load_seconds, users=args.load_users, workers=args.load_workers)
        leaders = round(args.load_users * 4 / 5)
        lines.append((
            n, f"load: {leaders} leaders polling + {args.load_users - leaders} cadres editing, "
               f"{args.load_seconds} s, {args.load_workers} gunicorn workers",
            f"{load['rps']:.0f} req/s · p50 {load['p50']:.0f} / p95 {load['p95']:.0f} / p99 {load['p99']:.0f} ms",
            "", f"{load['errors']} errors of {load['requests']:,}",
        ))
        for name, (count, p95_ms) in sorted(load["by_name"].items()):
            lines.append((n, f"  load: {name}", f"{count:,} requests · p95 {p95_ms:.0f} ms", "", ""))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[260, 10000, 100000], metavar="N")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=30, help="sequential requests per page figure")
    parser.add_argument("--load-seconds", type=int, default=60, help="0: no load run")
    parser.add_argument("--load-users", type=int, default=LEADERS + CADRES)
    parser.add_argument("--load-workers", type=int, default=4)
    args = parser.parse_args(argv)
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(f"PostgreSQL {version}, {os.cpu_count()} cores, database {connection.settings_dict['NAME']}", flush=True)
    lines = []
    for n in args.sizes:
        lines.extend(run_size(n, args))
    print()
    print("| N | figure | ours | floor / static file | ratio |")
    print("|---:|---|---:|---:|---:|")
    for n, what, ours, reference, ratio in lines:
        print(f"| {n:,} | {what} | {ours} | {reference} | {ratio} |")


if __name__ == "__main__":
    main()
