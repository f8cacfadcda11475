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
