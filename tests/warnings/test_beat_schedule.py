"""Beat's schedule: the two recompute entries, due at the right instants in Asia/Shanghai,
and a real `celery beat` process that loads them and sends the task to Redis.
"""
import copy
import json
import textwrap
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings

from qiantang.celery import app
from qiantang_warnings.tasks import recompute_all_warnings

from .celery_processes import (
    TASK,
    TEST_REDIS_URL,
    celery_process,
    child_env,
    forget_redis_queue,
    wait_until,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
EVERY_15 = "recompute-warnings-every-15-minutes"
AFTER_MIDNIGHT = "recompute-warnings-after-midnight"


def at(*args, tz=SHANGHAI):
    return datetime(*args, tzinfo=tz)


def next_run(entry, last_run_at):
    """The instant beat runs `entry` next, if it last ran at `last_run_at` (clock frozen there)."""
    schedule = copy.copy(settings.CELERY_BEAT_SCHEDULE[entry]["schedule"])
    schedule.nowfun = lambda: last_run_at
    return last_run_at + schedule.remaining_estimate(last_run_at)


def is_due(entry, *, last_run_at, now):
    schedule = copy.copy(settings.CELERY_BEAT_SCHEDULE[entry]["schedule"])
    schedule.nowfun = lambda: now
    return schedule.is_due(last_run_at).is_due


def test_the_schedule_has_exactly_the_two_recompute_entries():
    schedule = settings.CELERY_BEAT_SCHEDULE
    recompute = {name for name, entry in schedule.items() if entry["task"] == TASK}
    assert recompute == {EVERY_15, AFTER_MIDNIGHT}
    assert recompute_all_warnings.name == TASK
    # The others are the weekly digest's (tests/warnings/digest/test_celery.py) and the chat
    # push's (below).
    assert {entry["task"] for name, entry in schedule.items() if name not in recompute} == {
        "qiantang_warnings.tasks.enqueue_weekly_digest",
        "qiantang_warnings.tasks.push_chat",
        "qiantang_warnings.tasks.chat_weekly_summary",
        "qiantang_warnings.tasks.freeze_monthly_ledger",
        "qiantang_warnings.tasks.suggest_escalations",
    }
    assert app.conf.beat_schedule == schedule
    assert str(app.timezone) == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("last_run_at", "expected"),
    [
        (at(2026, 11, 25, 0, 0), at(2026, 11, 25, 0, 15)),
        (at(2026, 11, 25, 9, 7, 30), at(2026, 11, 25, 9, 15)),
        (at(2026, 11, 25, 23, 45), at(2026, 11, 26, 0, 0)),
        (at(2026, 12, 31, 23, 59), at(2027, 1, 1, 0, 0)),
    ],
)
def test_every_15_minutes_on_the_quarter_hour(last_run_at, expected):
    assert next_run(EVERY_15, last_run_at) == expected


@pytest.mark.parametrize(
    ("last_run_at", "expected"),
    [
        (at(2026, 11, 24, 0, 5), at(2026, 11, 25, 0, 5)),
        (at(2026, 11, 24, 23, 59), at(2026, 11, 25, 0, 5)),
        (at(2026, 11, 25, 0, 4), at(2026, 11, 25, 0, 5)),
        (at(2026, 12, 31, 0, 5), at(2027, 1, 1, 0, 5)),
    ],
)
def test_after_midnight_at_00_05_shanghai(last_run_at, expected):
    assert next_run(AFTER_MIDNIGHT, last_run_at) == expected


def test_after_midnight_is_due_at_00_05_shanghai_not_00_05_utc():
    last = at(2026, 11, 24, 0, 5)
    # 00:05 in Shanghai is 16:05 UTC the evening before.
    assert not is_due(AFTER_MIDNIGHT, last_run_at=last, now=at(2026, 11, 24, 16, 4, 59, tz=UTC))
    assert is_due(AFTER_MIDNIGHT, last_run_at=last, now=at(2026, 11, 24, 16, 5, tz=UTC))
    assert is_due(AFTER_MIDNIGHT, last_run_at=last, now=at(2026, 11, 25, 0, 5))
    assert not is_due(AFTER_MIDNIGHT, last_run_at=at(2026, 11, 25, 0, 5), now=at(2026, 11, 25, 0, 20))


def test_every_15_minutes_is_due_on_each_quarter_hour_only():
    last = at(2026, 11, 25, 10, 0)
    assert not is_due(EVERY_15, last_run_at=last, now=at(2026, 11, 25, 10, 14, 59))
    assert is_due(EVERY_15, last_run_at=last, now=at(2026, 11, 25, 10, 15))


@pytest.mark.services
@pytest.mark.real_clock
def test_real_beat_loads_the_schedule_with_its_file_under_var(tmp_path):
    var_dir = tmp_path / "var"
    env = child_env(CELERY_BROKER_URL=TEST_REDIS_URL, QIANTANG_VAR_DIR=str(var_dir))
    log_path = tmp_path / "beat.log"
    with celery_process(["-A", "qiantang", "beat", "-l", "debug"], env=env, log_path=log_path) as beat:
        wait_until(
            lambda: "Current schedule:" in log_path.read_text(errors="replace"),
            timeout=30,
            process=beat,
            log_path=log_path,
            what="beat listing its schedule",
        )
        # Still running a moment later: the schedule did not make it crash.
        time.sleep(1)
        assert beat.poll() is None, log_path.read_text()
    log = log_path.read_text()
    assert f"<ScheduleEntry: {EVERY_15} {TASK}() <crontab: */15 * * * *" in log
    assert f"<ScheduleEntry: {AFTER_MIDNIGHT} {TASK}() <crontab: 5 0 * * *" in log
    assert f". db -> {var_dir / 'celerybeat-schedule'}" in log
    assert list(var_dir.glob("celerybeat-schedule*")), "the schedule file lives under var/"


@pytest.mark.services
@pytest.mark.real_clock
def test_real_beat_sends_the_recompute_task_to_redis(tmp_path):
    """Beat with our app and settings, its schedule shortened to one second, fills a queue."""
    queue = f"test-beat-{uuid.uuid4().hex[:12]}"
    (tmp_path / "beat_probe.py").write_text(
        textwrap.dedent(
            f"""
            from qiantang.celery import app

            app.conf.beat_schedule = {{
                "probe": {{"task": {TASK!r}, "schedule": 1.0, "options": {{"queue": {queue!r}}}}},
            }}
            """
        )
    )
    env = child_env(
        CELERY_BROKER_URL=TEST_REDIS_URL,
        QIANTANG_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(tmp_path),
    )
    log_path = tmp_path / "beat.log"
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        with celery_process(
            ["-A", "beat_probe", "beat", "-l", "info", "--max-interval", "1"],
            env=env,
            log_path=log_path,
        ) as beat:
            wait_until(
                lambda: client.llen(queue) >= 2,
                timeout=30,
                process=beat,
                log_path=log_path,
                what="beat sending the task twice",
            )
        message = json.loads(client.lindex(queue, 0))
        assert message["headers"]["task"] == TASK
    finally:
        client.close()
        forget_redis_queue(TEST_REDIS_URL, queue)
    assert f"Scheduler: Sending due task probe ({TASK})" in log_path.read_text()


def test_beat_schedule_is_not_left_in_the_repository_root():
    assert settings.CELERY_BEAT_SCHEDULE_FILENAME.startswith(str(settings.VAR_DIR))


def test_96_quarter_hour_runs_per_shanghai_day():
    # 96 quarter-hour runs and one after-midnight run per Shanghai day.
    start = at(2026, 11, 25, 0, 0)
    runs, t = 0, start
    while True:
        t = next_run(EVERY_15, t)
        if t >= start + timedelta(days=1):
            break
        runs += 1
    assert runs + 1 == 96


def test_the_chat_push_runs_every_minute_and_its_summary_on_monday_0830_shanghai():
    assert next_run("chat-push-every-minute", at(2026, 11, 25, 9, 7, 30)) == at(2026, 11, 25, 9, 8)
    summary = "chat-weekly-summary-monday-0830"
    assert next_run(summary, at(2026, 11, 25, 9, 0)) == at(2026, 11, 30, 8, 30)  # Wednesday → Monday
    # 08:30 in Shanghai (00:30 UTC): due then, not eight hours later.
    assert is_due(summary, last_run_at=at(2026, 11, 30, 8, 29), now=at(2026, 11, 30, 8, 30, 5))


def test_the_ledger_job_runs_on_the_last_days_at_2350_and_catches_up_on_the_1st_shanghai():
    assert next_run("ledger-month-end-2350", at(2026, 11, 25, 9, 0)) == at(2026, 11, 28, 23, 50)
    assert next_run("ledger-month-end-2350", at(2027, 2, 1, 0, 0)) == at(2027, 2, 28, 23, 50)
    assert next_run("ledger-catch-up-on-the-1st", at(2026, 11, 30, 23, 55)) == at(2026, 12, 1, 0, 20)


def test_the_ladder_suggests_daily_at_0030_shanghai_after_the_night_s_recompute():
    assert next_run("escalation-ladder-daily-0030", at(2026, 11, 25, 0, 10)) == at(2026, 11, 25, 0, 30)
