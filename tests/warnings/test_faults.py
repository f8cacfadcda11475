"""Faults with real processes: a worker killed mid-recompute, Redis gone while staff edit,
fifty editors saving one milestone at once. Nothing is lost or half-written, nothing doubled."""
import threading
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from projects.models import Milestone, Project
from qiantang_warnings.models import StatusChange
from tests.concurrency import waiting_for_a_lock

from .celery_processes import (
    TEST_REDIS_URL,
    celery_process,
    child_database_url,
    child_env,
    enqueue_recompute,
    forget_redis_queue,
    stop,
    wait_until,
)
from .private_servers import free_port, private_postgres, private_redis, wait_for_port

pytestmark = [pytest.mark.real_clock, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEADLINE_SECONDS = 90


def late_projects(make_project, count=3):
    real_today = timezone.localdate()  # the worker asks the wall clock, as beat's runs do
    return [
        make_project(f"QT-KILL{n}", milestones={"approval": {"planned_date": real_today - timedelta(days=30)}})
        for n in range(count)
    ]


@pytest.mark.services
def test_a_worker_killed_mid_recompute_leaves_nothing_half_done_and_the_task_comes_back(make_project, tmp_path):
    projects = late_projects(make_project)
    database_url = child_database_url()
    queue = f"test-kill-{uuid.uuid4().hex[:12]}"
    # Redis gives an unacknowledged task back after the visibility timeout (1 hour in use).
    env = child_env(
        DATABASE_URL=database_url, CELERY_BROKER_URL=TEST_REDIS_URL, CELERY_VISIBILITY_TIMEOUT="3",
        QIANTANG_VAR_DIR=str(tmp_path / "var"),
    )
    worker_args = ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-Q", queue]
    # An editor holds the last project's row: the recompute, which locks every project in
    # id order, stops inside its transaction there, mid-task.
    editor = psycopg.connect(database_url)
    try:
        editor.execute("SELECT id FROM projects_project WHERE id = %s FOR UPDATE", [projects[-1].pk])
        with celery_process([*worker_args, "-n", f"{queue}-a@%h"], env=env, log_path=tmp_path / "a.log") as first:
            enqueue_recompute(env, queue=queue)
            wait_until(lambda: waiting_for_a_lock(timeout=0.5), timeout=DEADLINE_SECONDS,
                       process=first, log_path=tmp_path / "a.log", what="the recompute reaching the locked row")
            first.kill()  # SIGKILL: no warm shutdown, no acknowledgement
            first.wait(10)
        editor.rollback()  # the editor is done; the dead worker's transaction is rolled back
        assert not Project.objects.exclude(computed_as_of=None).exists(), "nothing half-updated"
        assert not StatusChange.objects.exists()

        with celery_process([*worker_args, "-n", f"{queue}-b@%h"], env=env, log_path=tmp_path / "b.log") as second:
            wait_until(
                lambda: Project.objects.filter(colour="red").count() == len(projects),
                timeout=DEADLINE_SECONDS, process=second, log_path=tmp_path / "b.log",
                what="the redelivered recompute on a new worker",
            )
            stop(second)
    finally:
        editor.close()
        forget_redis_queue(TEST_REDIS_URL, queue)
    assert StatusChange.objects.count() == len(projects), "one change per project, none doubled"


@pytest.mark.services
def test_a_worker_killed_mid_chunk_of_a_spread_run_over_thousands_leaves_the_single_process_result(tmp_path):
    """2,000 projects of every kind in chunks of 250 on a real worker: it is killed (SIGKILL)
    while its fourth chunk waits on a row an editor holds. That chunk is left untouched; a
    second worker gets the dead one's chunks back from Redis and finishes the run; the result
    is row for row, status change for status change, the single-process recompute's."""
    from qiantang_warnings.models import RecomputeChunk, RecomputeRun
    from qiantang_warnings.recompute import recompute_all

    from .districts import bulk_district
    from .test_recompute_spread import changes, forget_results, results

    real_today = timezone.localdate()  # the worker asks the wall clock, as beat's runs do
    ids = bulk_district(2000, today=real_today)
    blocked_chunk = ids[750:1000]
    database_url = child_database_url()
    queue = f"test-kill-spread-{uuid.uuid4().hex[:12]}"
    env = child_env(
        DATABASE_URL=database_url, CELERY_BROKER_URL=TEST_REDIS_URL, CELERY_VISIBILITY_TIMEOUT="3",
        QIANTANG_VAR_DIR=str(tmp_path / "var"), RECOMPUTE_SPREAD_ABOVE="500", RECOMPUTE_CHUNK_SIZE="250",
    )
    worker_args = ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-Q", queue]
    editor = psycopg.connect(database_url)
    try:
        editor.execute("SELECT id FROM projects_project WHERE id = %s FOR UPDATE", [blocked_chunk[50]])
        with celery_process([*worker_args, "-n", f"{queue}-a@%h"], env=env, log_path=tmp_path / "a.log") as first:
            enqueue_recompute(env, queue=queue)
            wait_until(lambda: waiting_for_a_lock(timeout=0.5), timeout=DEADLINE_SECONDS,
                       process=first, log_path=tmp_path / "a.log", what="the fourth chunk reaching the locked row")
            first.kill()  # SIGKILL mid-chunk: no warm shutdown, no acknowledgement
            first.wait(10)
        editor.rollback()
        run = RecomputeRun.objects.get()
        assert run.chunks == 8 and run.finished_at is None
        assert not RecomputeChunk.objects.filter(run=run, index=3).exists()
        assert not Project.objects.filter(id__in=blocked_chunk).exclude(computed_as_of=None).exists(), \
            "no half chunk"
        assert not StatusChange.objects.filter(project_id__in=blocked_chunk).exists()

        with celery_process([*worker_args, "-n", f"{queue}-b@%h"], env=env, log_path=tmp_path / "b.log") as second:
            wait_until(
                lambda: RecomputeRun.objects.exclude(finished_at=None).exists(),
                timeout=DEADLINE_SECONDS, process=second, log_path=tmp_path / "b.log",
                what="the second worker finishing the run",
            )
            stop(second)
    finally:
        editor.close()
        forget_redis_queue(TEST_REDIS_URL, queue)
    run = RecomputeRun.objects.get()
    assert (run.chunks, run.examined) == (8, 2000)
    spread_result = results(), changes()

    forget_results()
    recompute_all(today=real_today)
    assert spread_result == (results(), changes())


@pytest.mark.services
def test_staff_edit_while_redis_is_down(client, role_users, make_project, monkeypatch):
    """The in-request recompute needs no broker: edits keep working, /healthz says failing."""
    from qiantang.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens there
    real_today = timezone.localdate()
    project = make_project(
        "QT-NOREDIS", responsible_cadre=role_users["cadre1"],
        milestones={"signing": {"planned_date": real_today - timedelta(days=3)}},
    )
    milestone = Milestone.objects.get(project=project, milestone_type__code="signing")
    client.force_login(role_users["cadre1"])
    response = client.post(
        reverse("milestone_edit", kwargs={"code": project.code, "type_code": "signing"}),
        {"updated_at": milestone.updated_at.isoformat(), "planned_date": milestone.planned_date.isoformat(),
         "actual_date": real_today.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.colour == "green" and project.computed_as_of == real_today
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["checks"]["broker"]["ok"] is False


@pytest.fixture
def broker_at(monkeypatch):
    """broker_at(url) points this process's Celery app at `url`, dropping the connection and
    producer pools an earlier test opened to another broker (they would be used as they are,
    and a message meant for a stopped Redis would reach the suite's); dropped again after."""
    from qiantang.celery import app

    def drop_pools():
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    def point(url):
        drop_pools()
        monkeypatch.setattr(app.conf, "broker_url", url)

    yield point
    drop_pools()


@pytest.mark.services
def test_redis_stopped_while_staff_edit_then_back_beat_s_next_run_brings_every_colour_up_to_date(
    client, role_users, make_project, broker_at, tmp_path, caplog
):
    """A real Redis stopped mid-day: an edit that turns a project red saves, recomputes in the
    request and answers as usual; the push it asks for is logged as unsent, not shown. Redis
    back, beat's next run on a worker brings a colour the day changed up to date."""
    import logging

    from qiantang_warnings.models import ChatRobot

    port = free_port()
    broker_url = f"redis://127.0.0.1:{port}/0"
    broker_at(broker_url)
    real_today = timezone.localdate()
    ChatRobot.objects.create(name="专班群", kind="wecom", webhook_url="https://q/cgi-bin/webhook/send?key=k-0001")
    edited = make_project("QT-REDISDOWN", responsible_cadre=role_users["cadre1"])
    Project.objects.filter(pk=edited.pk).update(colour="green", computed_as_of=real_today)  # green so far
    # Computed yesterday, when its signing was not yet due: only a recompute today turns it red.
    stale = make_project("QT-STALE", milestones={"signing": {"planned_date": real_today - timedelta(days=2)}})
    Project.objects.filter(pk=stale.pk).update(colour="green", reasons=[], computed_as_of=real_today - timedelta(days=1))
    milestone = Milestone.objects.get(project=edited, milestone_type__code="signing")
    client.force_login(role_users["cadre1"])

    with private_redis(port, tmp_path) as redis:
        redis.kill()  # Redis stops while staff work
        redis.wait(10)
    with caplog.at_level(logging.WARNING, logger="qiantang_warnings.chat.push"):
        response = client.post(
            reverse("milestone_edit", kwargs={"code": edited.code, "type_code": "signing"}),
            {"updated_at": milestone.updated_at.isoformat(),
             "planned_date": (real_today - timedelta(days=10)).isoformat()},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert "broker" not in response.content.decode().lower()
    edited.refresh_from_db()
    assert edited.colour == "red" and edited.computed_as_of == real_today
    assert any("could not reach the broker" in record.getMessage() for record in caplog.records)
    assert Project.objects.get(pk=stale.pk).colour == "green", "nothing ran while Redis was down"

    with private_redis(port, tmp_path):
        env = child_env(DATABASE_URL=child_database_url(), CELERY_BROKER_URL=broker_url,
                        QIANTANG_VAR_DIR=str(tmp_path / "var"))
        args = ["-A", "qiantang", "worker", "--pool=solo", "-l", "info"]
        with celery_process(args, env=env, log_path=tmp_path / "worker.log") as worker:
            enqueue_recompute(env)  # beat's next run
            wait_until(lambda: Project.objects.get(pk=stale.pk).colour == "red", timeout=DEADLINE_SECONDS,
                       process=worker, log_path=tmp_path / "worker.log", what="beat's run after Redis came back")
            stop(worker)
    assert Project.objects.get(pk=stale.pk).computed_as_of == real_today


@pytest.mark.services
def test_fifty_editors_saving_one_version_one_wins_the_rest_see_the_conflict(role_users, make_project):
    real_today = timezone.localdate()
    project = make_project(
        "QT-RACE", responsible_cadre=role_users["cadre1"],
        milestones={"signing": {"planned_date": real_today + timedelta(days=20)}},
    )
    milestone = Milestone.objects.get(project=project, milestone_type__code="signing")
    version = milestone.updated_at.isoformat()
    url = reverse("milestone_edit", kwargs={"code": project.code, "type_code": "signing"})
    start, statuses, conflicts = threading.Barrier(50), [], []

    def save(n):
        editor = Client()
        editor.force_login(role_users["office"])
        start.wait()
        response = editor.post(url, {
            "updated_at": version, "planned_date": milestone.planned_date.isoformat(),
            "actual_date": (real_today - timedelta(days=n % 10)).isoformat(),
            "replan_reason": "",
        }, HTTP_HX_REQUEST="true")
        statuses.append(response.status_code)
        if 'class="error conflict"' in response.content.decode():
            conflicts.append(n)
        from django.db import connection

        connection.close()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses.count(200) == 50 and all(code < 500 for code in statuses)
    assert len(conflicts) == 49, "one save per version; every other editor is told it changed"
    milestone.refresh_from_db()
    assert milestone.actual_date is not None


@pytest.mark.services
def test_after_the_database_drops_every_connection_the_next_request_reconnects():
    """A PostgreSQL restart, as a web or worker process sees it: its kept connection dies between
    two requests. Every request and every task starts with close_if_unusable_or_obsolete
    (Django's request_started, Celery's Django fixup); with CONN_HEALTH_CHECKS the dead
    connection is noticed there and replaced, instead of failing the request."""
    from django.db import connection

    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    connection.settings_dict["CONN_MAX_AGE"] = 600  # kept between requests, as production may
    try:
        connection.ensure_connection()
        dead = connection.connection
        with psycopg.connect(child_database_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [dead.info.backend_pid])
        connection.close_if_unusable_or_obsolete()  # the start of the next request
        assert Project.objects.count() == 0, "the next request's query runs on a fresh connection"
        assert connection.connection is not dead
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
        connection.close()


class _Browser:
    """A signed-in visitor of a real server over HTTP (cookies kept, CSRF token sent)."""

    def __init__(self, base: str):
        import http.cookiejar
        import urllib.request

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        import urllib.error

        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def sign_in(self, username: str, password: str) -> None:
        import re
        import urllib.parse

        _status, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        with self.opener.open(self.base + "/accounts/login/", data.encode(), timeout=30) as response:
            assert "/accounts/login/" not in response.url, "signed in"


@pytest.mark.services
def test_a_real_postgresql_restart_web_and_worker_carry_on_and_a_request_while_it_is_down_fails_cleanly(tmp_path):
    """A PostgreSQL cluster of the test's own under gunicorn and a Celery worker, both keeping
    their connections (DATABASE_CONN_MAX_AGE): after a real restart the next page and the next
    task work without restarting either process (CONN_HEALTH_CHECKS); while the database is
    down a page answers 503 saying to retry, not a 500; once it is back, pages work again."""
    import subprocess
    import sys

    from .celery_processes import REPO

    with private_postgres() as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE qiantang")
        database_url = cluster.url("qiantang")
        web_port, queue = free_port(), f"test-restart-{uuid.uuid4().hex[:12]}"
        env = child_env(
            DATABASE_URL=database_url, DATABASE_CONN_MAX_AGE="600", CELERY_BROKER_URL=TEST_REDIS_URL,
            QIANTANG_VAR_DIR=str(tmp_path / "var"), DEBUG="1", DJANGO_SUPERUSER_PASSWORD="pw-for-tests-1",
        )
        for command in (["migrate", "--noinput", "-v", "0"],
                        ["createsuperuser", "--noinput", "--username", "office", "--email", "office@example.com"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True)
        web_log = open(tmp_path / "web.log", "wb")
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "qiantang.wsgi", "--bind", f"127.0.0.1:{web_port}", "--workers", "1"],
            cwd=REPO, env=env, stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        worker_args = ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-Q", queue]
        try:
            with celery_process(worker_args, env=env, log_path=tmp_path / "worker.log") as worker:
                wait_for_port(web_port, timeout=60)
                browser = _Browser(f"http://127.0.0.1:{web_port}")
                browser.sign_in("office", "pw-for-tests-1")
                assert browser.get("/projects/")[0] == 200
                enqueue_recompute(env, queue=queue)
                runs = lambda: psycopg.connect(database_url).execute(  # noqa: E731
                    "SELECT count(*) FROM warnings_recomputerun").fetchone()[0]
                wait_until(lambda: runs() >= 1, timeout=DEADLINE_SECONDS, process=worker,
                           log_path=tmp_path / "worker.log", what="the first recompute")

                cluster.restart()  # every kept connection is gone
                assert browser.get("/projects/")[0] == 200, "web carries on with a new connection"
                enqueue_recompute(env, queue=queue)
                wait_until(lambda: runs() >= 2, timeout=DEADLINE_SECONDS, process=worker,
                           log_path=tmp_path / "worker.log", what="a recompute after the restart")

                cluster.stop()
                status, page = browser.get("/projects/")
                assert status == 503 and "数据库暂时无法访问" in page, page[:500]
                cluster.start()
                assert browser.get("/projects/")[0] == 200, "pages work again once the database is back"
                stop(worker)
        finally:
            stop(web)
            web_log.close()
            forget_redis_queue(TEST_REDIS_URL, queue)


@pytest.mark.services
def test_two_beats_at_once_every_recipient_gets_one_digest_and_every_colour_changes_once(
    role_users, make_project, tmp_path
):
    """Two real beats (a second started by mistake), each sending the recompute and the weekly
    digest every second, and a worker with two processes taking them in parallel: each
    recipient is mailed once, each project's colour change is recorded once."""
    import textwrap

    from qiantang_warnings.models import DigestDelivery

    real_today = timezone.localdate()
    late = [make_project(f"QT-TWOBEATS{n}", milestones={"approval": {"planned_date": real_today - timedelta(days=30)}})
            for n in range(3)]
    for username in ("leader", "office", "cadre1"):
        role_users[username].email = f"{username}@example.gov.cn"
        role_users[username].save(update_fields=["email"])
    queue = f"test-two-beats-{uuid.uuid4().hex[:12]}"
    mail_folder = tmp_path / "mail"
    mail_folder.mkdir()
    (tmp_path / "two_beats.py").write_text(textwrap.dedent(f"""
        from django.conf import settings
        from qiantang.celery import app

        settings.EMAIL_FILE_PATH = {str(mail_folder)!r}
        options = {{"queue": {queue!r}}}
        app.conf.beat_schedule = {{
            "recompute": {{"task": "qiantang_warnings.tasks.recompute_all_warnings", "schedule": 1.0,
                           "options": options}},
            "digest": {{"task": "qiantang_warnings.tasks.enqueue_weekly_digest", "schedule": 1.0,
                        "options": options}},
        }}
        app.conf.task_default_queue = {queue!r}
    """))

    def env(name):
        return child_env(
            DATABASE_URL=child_database_url(), CELERY_BROKER_URL=TEST_REDIS_URL, PYTHONPATH=str(tmp_path),
            QIANTANG_VAR_DIR=str(tmp_path / name), EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        )

    beat_args = ["-A", "two_beats", "beat", "-l", "info", "--max-interval", "1"]
    try:
        with celery_process(["-A", "two_beats", "worker", "--concurrency", "2", "-l", "info", "-Q", queue],
                            env=env("worker"), log_path=tmp_path / "worker.log") as worker, \
                celery_process(beat_args, env=env("beat-one"), log_path=tmp_path / "one.log"), \
                celery_process(beat_args, env=env("beat-two"), log_path=tmp_path / "two.log"):
            sent = lambda: DigestDelivery.objects.filter(state=DigestDelivery.State.SENT).count()  # noqa: E731
            wait_until(lambda: sent() == 3 and Project.objects.filter(colour="red").count() == 3,
                       timeout=DEADLINE_SECONDS, process=worker, log_path=tmp_path / "worker.log",
                       what="the digests sent and the projects red")
            time.sleep(4)  # both beats keep firing: nothing more may happen
            for log in ("one.log", "two.log"):
                assert (tmp_path / log).read_text().count("Sending due task digest") >= 3, "both beats fired"
            stop(worker)
    finally:
        forget_redis_queue(TEST_REDIS_URL, queue)
    mails = [path.read_text(errors="replace") for path in mail_folder.iterdir()]
    recipients = sorted(line.split(":", 1)[1].strip() for mail in mails for line in mail.splitlines()
                        if line.startswith("To:"))
    assert recipients == ["cadre1@example.gov.cn", "leader@example.gov.cn", "office@example.gov.cn"]
    assert DigestDelivery.objects.count() == 3
    assert StatusChange.objects.filter(project__in=late).count() == 3, "one change per project, none doubled"
