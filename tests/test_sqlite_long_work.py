"""`make run`'s SQLite stays usable while long work runs: another process's writes go through
while `recompute_warnings --full` of 8,000 projects and an import of 1,500 new projects run.

On SQLite any transaction takes the database's one write lock (settings open them IMMEDIATE),
so a job in one transaction made every other writer wait it out and then fail "database is
locked". Long work commits in short transactions there (qiantang/transactions.py). Real
processes on a temporary SQLite file, as `make run` has them: the job in one, in another a
writer that saves a milestone through the staff service (which recomputes its project) and
records a sign-in failure, again and again, with a busy timeout of 1 s instead of 20 (a job
holding the lock longer than that makes it fail). Every write must succeed, and some must land
while the job is under way (its run unfinished; part of the file's rows written).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.real_clock  # child processes only: they read the real clock

BUILD = """
import django; django.setup()
from datetime import date
from tests.warnings.districts import bulk_district
bulk_district(8000, today=date(2026, 11, 25))
"""

WORKBOOK = """
import sys
from datetime import date, timedelta
import openpyxl
book = openpyxl.Workbook(write_only=True)
sheet = book.create_sheet("三色预警表")
sheet.append(["项目编号", "项目名称", "项目状态", "过会(计划)", "项目签约(计划)", "进展情况"])
for n in range(1500):
    first = date(2026, 11, 25) + timedelta(days=n % 90 - 30)
    sheet.append([f"NEW-{n:05d}", f"导入项目{n}", "推进中", first, first + timedelta(days=60), "按计划推进"])
book.save(sys.argv[1])
"""

# The other user: writes until the stop file appears, then prints what happened as JSON.
WRITER = """
import json, sys, time
from datetime import date, timedelta
from pathlib import Path
import django; django.setup()
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from projects import throttle
from projects.models import Milestone, Project
from projects.services import milestone_edit
from qiantang_warnings.models import RecomputeRun

stop, job = Path(sys.argv[1]), sys.argv[2]
with connection.cursor() as cursor:
    cursor.execute("PRAGMA busy_timeout = 1000")  # 1 s, not settings' 20 s
milestone = Milestone.objects.filter(project__code="QT-B00001", milestone_type__code="signing").get()
print("ready", flush=True)
today, waits, failures, during, flip = date(2026, 11, 25), [], [], 0, False
while not stop.exists():
    for write in ("milestone", "sign-in failure"):
        start = time.perf_counter()
        try:
            if write == "milestone":
                flip = not flip
                milestone_edit(milestone, planned_date=today + timedelta(days=30 if flip else 31), actual_date=None,
                               not_applicable=False, replan_reason="试", today=today)
            else:
                with transaction.atomic():
                    throttle.record_failure("nobody", "10.0.0.9", now=timezone.now())
            waits.append(time.perf_counter() - start)
        except OperationalError as error:
            failures.append(f"{write}: {error} after {time.perf_counter() - start:.2f} s")
    if job == "recompute":
        under_way = RecomputeRun.objects.filter(finished_at=None).exists()
    else:
        under_way = 0 < Project.objects.filter(code__startswith="NEW-").count() < 1500
    during += under_way
    time.sleep(0.05)
print(json.dumps({"writes": len(waits), "failures": failures, "max_wait": max(waits, default=0), "during": during}))
"""


def child_env(tmp_path: Path) -> dict:
    return {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
        "SECRET_KEY": "test-only-secret-key", "QIANTANG_ENV_FILE": "", "QIANTANG_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'long-work.sqlite3'}", "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "qiantang.settings",
        # Small chunks and batches: a few thousand rows make many short transactions.
        "RECOMPUTE_CHUNK_SIZE": "250", "IMPORT_BATCH_ROWS": "100",
    }


def run(args: list[str], env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def beside_a_writer(job: str, command: list[str], env: dict, tmp_path: Path) -> tuple[dict, float]:
    stop = tmp_path / f"stop-{job}"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(stop), job], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()[-3000:]
        time.sleep(0.5)  # the writer is writing
        start = time.monotonic()
        run(command, env)
        seconds = time.monotonic() - start
        stop.touch()
        out, err = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), seconds


def test_another_process_writes_while_a_long_recompute_and_a_long_import_run(tmp_path):
    env = child_env(tmp_path)
    run(["manage.py", "migrate", "--noinput", "-v", "0"], env)
    run(["-c", BUILD], env)

    writer, seconds = beside_a_writer(
        "recompute", ["manage.py", "recompute_warnings", "--full", "--as-of", "2026-11-25"], env, tmp_path,
    )
    assert writer["failures"] == [], writer
    assert writer["max_wait"] < 1.0 and writer["during"] >= 3, (writer, seconds)

    workbook = tmp_path / "new-projects.xlsx"
    run(["-c", WORKBOOK, str(workbook)], env)
    writer, seconds = beside_a_writer("import", ["manage.py", "import_workbook", str(workbook)], env, tmp_path)
    assert writer["failures"] == [], writer
    assert writer["max_wait"] < 1.0 and writer["during"] >= 3, (writer, seconds)

    check = run(["-c", (
        "import django; django.setup()\n"
        "from projects.models import Project\n"
        "from qiantang_warnings.models import RecomputeRun\n"
        "run = RecomputeRun.objects.order_by('started_at').first()\n"
        "new = Project.objects.filter(code__startswith='NEW-')\n"
        "print(run.chunks, run.done_chunks.count(), run.examined, run.finished_at is not None,"
        " new.count(), new.filter(computed_as_of__isnull=True).count())"
    )], env)
    # The recompute ran as 32 chunks of 250, all done; every imported project has its colour.
    assert check.stdout.split() == ["32", "32", "8000", "True", "1500", "0"]
