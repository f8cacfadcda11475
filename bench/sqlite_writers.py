#!/usr/bin/env python
"""How long another writer waits on `make run`'s SQLite while a long job runs.

    .venv/bin/python bench/sqlite_writers.py --projects 20000            # recompute --full, then an import
    .venv/bin/python bench/sqlite_writers.py --projects 20000 --only recompute
    .venv/bin/python bench/sqlite_writers.py --projects 2000 --rows 20000 --only import

A throwaway SQLite file (/tmp/qiantang_bench_writers.sqlite3, deleted first; WAL, busy timeout
and IMMEDIATE transactions as settings give `make run`) gets N generated projects (9 milestones
each). Then, each in its own process beside a prober process:

- `manage.py recompute_warnings --full` (every project evaluated and written: a first run);
- `manage.py import_workbook` of a ROWS-row workbook of new projects (--rows, default N).

The prober saves a milestone through the staff service (`milestone_edit`, which recomputes its
project in the same transaction) and records a sign-in failure (`throttle.record_failure`),
every 0.2 s until the job ends, and prints how long each write took: its wait for the write lock
is nearly all of it. A write that fails "database is locked" (after the busy timeout) is counted.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FILE = Path("/tmp/qiantang_bench_writers.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ["DATABASE_URL"] = f"sqlite:///{FILE}"
os.environ.setdefault("LOG_LEVEL", "WARNING")
TODAY = date(2026, 11, 25)


def build(n: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from bench.recompute import _milestones
    from projects.models import Milestone, MilestoneType, Project

    for suffix in ("", "-wal", "-shm"):
        Path(f"{FILE}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    rng = random.Random(20261125)
    types = list(MilestoneType.objects.order_by("order"))
    with transaction.atomic():
        projects = Project.objects.bulk_create(
            [Project(code=f"BENCH-{i:06}", name=f"压测项目{i}", state="active") for i in range(n)],
            batch_size=2000,
        )
        milestones = [m for project in projects for m in _milestones(project, types, TODAY, rng)]
        Milestone.objects.bulk_create(milestones, batch_size=5000)


def workbook(rows: int) -> Path:
    """ROWS new projects, each with a name and three planned dates."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("三色预警表")
    sheet.append(["项目编号", "项目名称", "项目状态", "过会(计划)", "项目签约(计划)", "土地挂牌(计划)", "进展情况"])
    for i in range(rows):
        first = TODAY + timedelta(days=i % 90 - 30)
        sheet.append([f"NEW-{i:06}", f"导入项目{i}", "推进中", first, first + timedelta(days=60),
                      first + timedelta(days=120), "按计划推进"])
    stream = BytesIO()
    book.save(stream)
    path = Path("/tmp/qiantang_bench_writers.xlsx")
    path.write_bytes(stream.getvalue())
    return path


def probe(stop_file: str) -> None:
    """The other writer (run in its own process by `--probe`): prints one JSON line."""
    import django

    django.setup()
    from django.db import OperationalError, transaction
    from django.utils import timezone

    from projects import throttle
    from projects.models import Milestone
    from projects.services import milestone_edit

    milestone = Milestone.objects.filter(planned_date__isnull=False, actual_date__isnull=True).order_by("id").first()
    waits, failed, flip = [], 0, False
    while not Path(stop_file).exists():
        for write in ("milestone", "sign-in failure"):
            start = time.perf_counter()
            try:
                if write == "milestone":
                    flip = not flip
                    milestone_edit(milestone, planned_date=TODAY + timedelta(days=40 if flip else 41),
                                   actual_date=None, not_applicable=False, replan_reason="压测", today=TODAY)
                else:
                    with transaction.atomic():
                        throttle.record_failure("nobody", "10.0.0.1", now=timezone.now())
                waits.append(time.perf_counter() - start)
            except OperationalError:
                failed += 1
        time.sleep(0.2)
    waits.sort()
    print(json.dumps({
        "writes": len(waits) + failed, "failed": failed,
        "median": round(waits[len(waits) // 2], 3) if waits else None,
        "max": round(waits[-1], 3) if waits else None,
    }))


def run_beside_prober(label: str, command: list[str]) -> None:
    stop = Path("/tmp/qiantang_bench_writers.stop")
    stop.unlink(missing_ok=True)
    prober = subprocess.Popen([sys.executable, __file__, "--probe", str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    time.sleep(3)  # the prober is set up and writing
    start = time.perf_counter()
    job = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    stop.touch()
    figures = json.loads(prober.communicate(timeout=120)[0].strip().splitlines()[-1])
    stop.unlink(missing_ok=True)
    outcome = "ok" if job.returncode == 0 else f"exit {job.returncode}: {job.stderr.strip()[-300:]}"
    print(f"{label}: {elapsed:.1f} s ({outcome}); other writer: {figures['writes']} writes, "
          f"{figures['failed']} failed 'database is locked', wait median {figures['median']} s, "
          f"max {figures['max']} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=20000)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--only", choices=["recompute", "import"])
    parser.add_argument("--reuse", action="store_true", help="keep the file a previous run built")
    parser.add_argument("--probe")
    args = parser.parse_args()
    if args.probe:
        return probe(args.probe)
    import django

    django.setup()
    start = time.perf_counter()
    if not (args.reuse and FILE.exists()):
        build(args.projects)
        print(f"built {args.projects} projects in {time.perf_counter() - start:.1f} s ({FILE})")
    from bench.recompute import clear_results
    from projects.models import Project

    Project.objects.filter(code__startswith="NEW-").delete()
    clear_results()  # the recompute is a first run: every project written
    if args.only in (None, "recompute"):
        run_beside_prober(f"recompute_warnings --full of {args.projects} projects",
                          ["recompute_warnings", "--full", "--as-of", TODAY.isoformat()])
    if args.only in (None, "import"):
        rows = args.rows or args.projects
        path = workbook(rows)
        run_beside_prober(f"import_workbook of {rows} new projects", ["import_workbook", str(path), "--replace"])


if __name__ == "__main__":
    main()
