"""Real Celery processes (worker, beat) for the tests: start them, wait on them, always stop them.

Every wait is bounded and every process is killed in a `finally`, so a broken broker or
database makes a test fail with the process's log instead of hanging the suite.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
TASK = "qiantang_warnings.tasks.recompute_all_warnings"
# The test Redis: `make test` and .ci/run set it; the default is the loopback server's db 15.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Variables that would point a child at another database, broker or folder than the test chose.
_CHOSEN_PER_TEST = ("DATABASE_URL", "CELERY_BROKER_URL", "QIANTANG_VAR_DIR", "DEBUG", "PYTHONPATH")


def child_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CHOSEN_PER_TEST}
    env["SECRET_KEY"] = "test-only-secret-key"
    env["DJANGO_SETTINGS_MODULE"] = "qiantang.settings"
    env["PYTHONUNBUFFERED"] = "1"
    # The checkout's .env (make env: DEBUG=1) is for people, not for the test's children.
    env["QIANTANG_ENV_FILE"] = ""
    env.update(overrides)
    return env


def child_database_url() -> str:
    """A URL for pytest-django's test database, so that child processes see the test's rows."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings["USER"] or "", safe="")
        password = quote(settings["PASSWORD"] or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = quote(settings["HOST"] or "", safe="")
        port = f":{settings['PORT']}" if settings["PORT"] else ""
        return f"postgres://{auth}{host}{port}/{quote(settings['NAME'], safe='')}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{settings['NAME']}"
    raise AssertionError(
        "A worker process cannot see an in-memory SQLite test database: run the suite with "
        "DATABASE_URL=postgres://… (make test defaults to PostgreSQL on loopback)."
    )


def forget_redis_queue(url: str, queue: str) -> None:
    """Remove a test's own queue and kombu's bookkeeping for it from the shared Redis."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def celery_process(args: list[str], *, env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`celery <args>` in its own session, output to log_path; stopped however the block ends."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM (Celery's warm shutdown) to the whole process group, SIGKILL after `grace`."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        except ProcessLookupError:
            pass
    # Children of the group (none with --pool=solo) must not outlive the test either.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    process: subprocess.Popen,
    log_path: Path,
    what: str,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(
                f"{what}: the process exited with {process.returncode}\n{log_tail(log_path)}"
            )
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout:.0f} s\n{log_tail(log_path)}")


def enqueue_recompute(env: dict[str, str], *, queue: str | None = None) -> None:
    """Send the recompute task the way beat does, from a separate process with the same settings."""
    options = f"queue={queue!r}" if queue else ""
    code = (
        "import django, qiantang; django.setup()\n"
        "from qiantang_warnings.tasks import recompute_all_warnings\n"
        f"recompute_all_warnings.apply_async({options})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"enqueue failed:\n{result.stdout}\n{result.stderr}"
