"""The bench scripts run (tiny N), so they cannot rot between measurements."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.services, pytest.mark.real_clock]


def test_the_spread_recompute_bench_runs_with_one_and_two_workers():
    from django.db import connection

    server = connection.settings_dict
    database = f"qiantang_bench_ci_{uuid.uuid4().hex[:8]}"
    url = f"postgres://{server['USER'] or 'postgres'}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{database}"
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
        "DATABASE_URL": url, "CELERY_BROKER_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "RECOMPUTE_CHUNK_SIZE": "20", "QIANTANG_ENV_FILE": "", "QIANTANG_VAR_DIR": "/tmp/qiantang-bench-ci-var",
    }
    try:
        done = subprocess.run(
            [sys.executable, "bench/recompute_workers.py", "--projects", "60"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "1 worker(s):" in done.stdout and "2 worker(s):" in done.stdout
        assert "3 chunks, 60 projects updated" in done.stdout
    finally:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_make_bench_prints_every_figure_at_a_tiny_size():
    """bench/run.py end to end at N = 40: data, recompute with and without workers, the SQL
    floor agreeing on every row, the dashboard against static files, a short locust run."""
    from django.db import connection

    server = connection.settings_dict
    database = f"qiantang_bench_ci_{uuid.uuid4().hex[:8]}"
    url = f"postgres://{server['USER'] or 'postgres'}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{database}"
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
        "DATABASE_URL": url, "CELERY_BROKER_URL": redis_url, "BENCH_CACHE_URL": redis_url,
        "RECOMPUTE_CHUNK_SIZE": "15", "QIANTANG_ENV_FILE": "",
    }
    try:
        done = subprocess.run(
            [sys.executable, "bench/run.py", "--sizes", "40", "--requests", "3", "--load-seconds", "6",
             "--load-users", "5", "--load-workers", "2"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        table = [line for line in done.stdout.splitlines() if line.startswith("| 40 |")]
        figures = [line.split(" | ")[1] for line in table]
        for wanted in (
            "SQL floor (bench/floor.sql), best of 3",
            "recompute first run, in-process", "recompute unchanged re-run, 1 worker",
            "recompute next day, 2 workers", "recompute re-run after an input write that changes nothing, in-process",
            "dashboard full page, cache miss", "dashboard live partial, cache hit",
            "dashboard poll, no change, cache hit",
        ):
            assert wanted in figures, (wanted, figures)
        assert "agrees with the stored results on all 40 rows" in done.stdout
        (load,) = [line for line in table if "| load: 4 leaders polling + 1 cadres editing" in line]
        assert " 0 errors of " in load, load
        assert any("load: milestone save" in line for line in table), table
    finally:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
