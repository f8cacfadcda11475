#!/usr/bin/env python
"""Time /dashboard/ (full page and the refresh partial) at N projects on PostgreSQL,
against the same server returning a static file of the same size.

    .venv/bin/python bench/dashboard.py                       # 250, 2,500 and 10,000 projects
    .venv/bin/python bench/dashboard.py --projects 2500 --requests 50

For each N the script empties its own database (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/qiantang_bench_dashboard, created and migrated if
missing), seeds N demo projects (seed_demo: departments, 12 cadres, milestones,
escalations, recomputed as of --as-of), adds twelve weeks of colour history, then
starts gunicorn (one sync worker, DEBUG off, WhiteNoise for static files, persistent
database connections) and times sequential requests as the signed-in leader (one
http.client connection object, but gunicorn's sync worker closes the connection after each
response, so every request, the static file's too, opens a new TCP connection). The static files are written into the server's STATIC_ROOT
with exactly the byte sizes of the two dashboard responses.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiantang.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qiantang_bench_dashboard")
os.environ.setdefault("LOG_LEVEL", "WARNING")
STATIC_DIR = Path(tempfile.mkdtemp(prefix="dashboard-bench-static-"))
os.environ["STATIC_ROOT"] = str(STATIC_DIR)
os.environ["STATIC_MANIFEST"] = "0"
# In-process as on the server (a local .env may turn DEBUG on, which changes the page's size).
os.environ["DEBUG"] = "0"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
# Its own cache folder, emptied: the first request of each run is a miss.
os.environ["QIANTANG_VAR_DIR"] = tempfile.mkdtemp(prefix="dashboard-bench-var-")

PORT = 8112
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ensure_database(url: str) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from recompute import ensure_database as create_if_missing  # the same helper

    create_if_missing(url)


def seed(n: int, today: date, rng_seed: int = 2026) -> None:
    """N demo projects, then twelve weeks of colour history (net zero, so still consistent)."""
    from django.db import connection

    from projects.demo import seed_demo
    from projects.models import Project
    from qiantang_warnings.models import StatusChange

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE projects_project, projects_milestone, projects_milestonereplan, "
            "warnings_statuschange, warnings_escalation, projects_department, auth_user CASCADE"
        )
    seed_demo(projects=n, password="bench-only-password", today=today)
    rng = random.Random(rng_seed)
    start = datetime(today.year, today.month, today.day, 2, tzinfo=SHANGHAI) - timedelta(weeks=12)
    # Each project took its present colour before the quarter began ...
    StatusChange.objects.update(at=start - timedelta(days=1))
    changes = []
    for project_id, colour in Project.objects.filter(state="active").values_list("id", "colour"):
        # Most projects changed colour once or twice in the quarter and came back.
        for _ in range(rng.choice([0, 1, 1, 2])):
            other = rng.choice([c for c in ("red", "yellow", "green") if c != colour])
            went = start + timedelta(hours=rng.randint(0, 12 * 7 * 24 - 48))
            back = went + timedelta(hours=rng.randint(1, 12 * 7 * 24 - 48))
            back = min(back, start + timedelta(weeks=12, hours=-1))
            for when, frm, to in ((went, colour, other), (back, other, colour)):
                changes.append(
                    StatusChange(project_id=project_id, from_colour=frm, to_colour=to, at=when,
                                 as_of=when.date(), reasons=[])
                )
    StatusChange.objects.bulk_create(changes, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def session_cookie(user) -> dict:
    """A signed-in session for `user`, as the cookie's name and value."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}


def leader_cookie() -> str:
    from django.contrib.auth import get_user_model

    cookie = session_cookie(get_user_model().objects.get(username="leader"))
    return f"{cookie['name']}={cookie['value']}"


def responses(cookie: str) -> dict:
    """label -> (path, headers, size, queries), measured in-process with Django's client."""
    import re

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=cookie)
    page = client.get("/dashboard/").content.decode()
    stamp = re.search(r'data-stamp="([0-9a-f]+)"', page).group(1)
    htmx = {"HX-Request": "true"}
    wanted = {
        "full page": ("/dashboard/", {}),
        # What a filter change gets, and what a poll gets once something changed.
        "live partial": ("/dashboard/", htmx),
        # What a poll gets while nothing changed (nearly always).
        "poll, no change": (f"/dashboard/?since={stamp}", htmx),
    }
    result = {}
    for label, (path, headers) in wanted.items():
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **meta)
        assert response.status_code == 200, response.status_code
        result[label] = (path, headers, len(response.content), len(queries))
    return result


def start_server(cache_url: str = "", *, port: int = PORT, workers: int = 1) -> subprocess.Popen:
    env = {
        **os.environ,
        "CACHE_URL": cache_url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_CONN_MAX_AGE": "600",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "qiantang.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/accounts/login/")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("gunicorn did not start")


def samples(connection, path: str, headers: dict, requests: int) -> tuple[list[float], int]:
    """Milliseconds of `requests` GETs after three warm-up requests, and the response size."""
    times = []
    size = 0
    for i in range(requests + 3):
        began = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - began
        if response.status != 200:
            sys.exit(f"{path}: HTTP {response.status}")
        size = len(body)
        if i >= 3:
            times.append(elapsed * 1000)
    return times, size


def timed(connection, path: str, headers: dict, requests: int) -> tuple[float, int]:
    """Median milliseconds of `requests` GETs after three warm-up requests; response size."""
    times, size = samples(connection, path, headers, requests)
    return statistics.median(times), size


def static_name(label: str) -> str:
    return label.replace(" ", "-").replace(",", "") + ".html"


def write_static_files(measured: dict) -> None:
    """Static files of exactly the responses' sizes, served by the same server (WhiteNoise)."""
    for label, (_path, _headers, size, _queries) in measured.items():
        (STATIC_DIR / static_name(label)).write_bytes(("<!-- bench -->" + "x" * size)[:size].encode())


def bench(n: int, today: date, requests: int) -> list[dict]:
    seed(n, today)
    cookie = leader_cookie()
    measured = responses(cookie)
    write_static_files(measured)
    rows = []
    # Once with no cache (every request reads the data), once with the data-version cache
    # (the repeat view and the poll of a leader who keeps the page open).
    for mode, cache_url in (("no cache", "dummy://"), ("cached", "")):
        server = start_server(cache_url)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            base_headers = {"Cookie": cookie, "Host": "127.0.0.1"}
            for label, (path, headers, _size, queries) in measured.items():
                median, size = timed(connection, path, {**base_headers, **headers}, requests)
                static, static_size = timed(connection, f"/static/{static_name(label)}", base_headers, requests)
                rows.append({
                    "n": n, "what": f"{label} ({mode})", "ms": median, "bytes": size, "static_ms": static,
                    "static_bytes": static_size, "queries": queries if mode == "cached" else "",
                })
        finally:
            server.terminate()
            server.wait(timeout=10)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[250, 2500, 10000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 25))
    args = parser.parse_args(argv)
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The server asks the clock for today; the demo is placed around --as-of. Both are
    # fine for timing: the page's work does not depend on the date.
    print(f"{'N':>7}  {'response':<27} {'median':>9} {'bytes':>9} {'static file':>12} {'ratio':>6} {'queries':>7}")
    for n in args.projects:
        for row in bench(n, args.as_of, args.requests):
            print(
                f"{row['n']:>7,}  {row['what']:<27} {row['ms']:>7.1f}ms {row['bytes']:>9,} "
                f"{row['static_ms']:>10.1f}ms {row['ms'] / row['static_ms']:>5.0f}× {row['queries']:>7}"
            )
            assert row["static_bytes"] == row["bytes"], (row["static_bytes"], row["bytes"])


if __name__ == "__main__":
    main()
