"""A real Celery worker on Redis sends one digest into a real SMTP server (aiosmtpd in this process).

Transactional test: the worker is another process and reads the committed rows from
pytest-django's test database. The task is sent the way beat's weekly job sends it.
"""
import subprocess
import sys
import uuid

import pytest

from qiantang_warnings.models import DigestDelivery

from ..celery_processes import (
    REPO,
    TEST_REDIS_URL,
    celery_process,
    child_database_url,
    child_env,
    forget_redis_queue,
    wait_until,
)
from .scenario import MONDAY, WEEK, district_week  # noqa: F401
from .smtp_catcher import smtp_catcher

pytestmark = [pytest.mark.services, pytest.mark.real_clock, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SITE = "https://yujing.example.gov.cn"


def send_task(env, *, user_id, queue, times=1):
    code = (
        "import django, qiantang; django.setup()\n"
        "from qiantang_warnings.tasks import send_weekly_digest\n"
        f"for _ in range({times}):\n"
        f"    send_weekly_digest.apply_async(args=[{user_id}, {WEEK!r}, {MONDAY.isoformat()!r}], queue={queue!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"enqueue failed:\n{result.stdout}\n{result.stderr}"


def test_a_worker_sends_the_leaders_digest_once_into_an_smtp_server(district_week, tmp_path):
    leader = district_week.users["leader"]
    queue = f"test-digest-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    with smtp_catcher() as catcher:
        env = child_env(
            DATABASE_URL=child_database_url(),
            CELERY_BROKER_URL=TEST_REDIS_URL,
            QIANTANG_VAR_DIR=str(tmp_path / "var"),
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(catcher.port),
            SITE_URL=SITE,
        )
        try:
            with celery_process(
                ["-A", "qiantang", "worker", "--pool=solo", "-l", "info", "-Q", queue, "-n", f"{queue}@%h"],
                env=env,
                log_path=log_path,
            ) as worker:
                # Beat firing twice: the same task twice for the same recipient and week.
                send_task(env, user_id=leader.pk, queue=queue, times=2)
                wait_until(
                    lambda: log_path.read_text().count("succeeded") >= 2,
                    timeout=60, process=worker, log_path=log_path, what="both digest tasks finishing",
                )
        finally:
            forget_redis_queue(TEST_REDIS_URL, queue)
        messages = list(catcher.messages)
    assert [m["To"] for m in messages] == ["leader@qiantang.example"]
    (message,) = messages
    assert message["Message-ID"] == f"<digest.{WEEK}.{leader.pk}@qiantang.local>"
    assert f"{SITE}/projects/QT-OLD/" in message.get_body(("html",)).get_content()
    delivery = DigestDelivery.objects.get(user=leader, week=WEEK)
    assert (delivery.state, delivery.attempts) == ("sent", 1)
    assert "'sent'" in log_path.read_text() and "'already'" in log_path.read_text()
