#!/usr/bin/env python
"""Time beat's spread recompute of N projects with 1 and with 2 real Celery workers on Redis.

    .venv/bin/python bench/recompute_workers.py --projects 20000

Generates the projects as bench/recompute.py does (its own database), then for each worker
count: clears the stored results (so every chunk has work to do, as on a first run), starts
the workers, sends recompute_all_warnings with RECOMPUTE_SPREAD_ABOVE=0, and times it until
the RecomputeRun is finished. The workers ask the wall clock for "today".
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qiantang_bench_workers")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("RECOMPUTE_SPREAD_ABOVE", "0")

from bench.recompute import clear_results, ensure_database, generate  # noqa: E402


def start_workers(count: int, queue: str, logs: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "QIANTANG_ENV_FILE": "", "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    workers = []
    for n in range(count):
        log = open(logs / f"worker-{n}.log", "wb")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "qiantang", "worker", "--pool=solo", "-l", "info",
             "-Q", queue, "-n", f"{queue}-{n}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(" ready." in (logs / f"worker-{n}.log").read_text(errors="replace") for n in range(count)):
            return workers
        time.sleep(0.2)
    raise SystemExit("the workers did not start within 60 s; see " + str(logs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from qiantang_warnings.models import RecomputeRun
    from qiantang_warnings.tasks import recompute_all_warnings

    call_command("migrate", verbosity=0)
    generate(args.projects, timezone.localdate())
    chunk = int(os.environ.get("RECOMPUTE_CHUNK_SIZE", "2000"))
    print(f"{args.projects} projects, chunks of {chunk}, Redis {os.environ['CELERY_BROKER_URL']}")
    logs = ROOT / "var" / "bench-workers"
    logs.mkdir(parents=True, exist_ok=True)
    for count in args.workers:
        clear_results()
        RecomputeRun.objects.all().delete()
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        workers = start_workers(count, queue, logs)
        try:
            started = time.monotonic()
            recompute_all_warnings.apply_async(queue=queue)
            while not RecomputeRun.objects.exclude(finished_at=None).exists():
                time.sleep(0.1)
            elapsed = time.monotonic() - started
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(30)
        run = RecomputeRun.objects.get()
        print(f"  {count} worker(s): {elapsed:6.2f} s for {run.chunks} chunks, "
              f"{run.updated} projects updated, {run.status_changes} status changes")


if __name__ == "__main__":
    main()
