"""`manage.py recompute_warnings` and the Celery task: thin wrappers over one service."""
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation

from projects.models import Project
from qiantang_warnings import tasks
from qiantang_warnings.models import StatusChange

D = timedelta(days=1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def three_projects(make_project, today):
    return [
        make_project("QT-RED", milestones={"signing": {"planned_date": today - 2 * D}}),
        make_project("QT-YEL", milestones={"signing": {"planned_date": today + 5 * D}}),
        make_project("QT-PAU", state="paused", milestones={"signing": {"planned_date": today}}),
    ]


def colours():
    return dict(Project.objects.values_list("code", "colour"))


@pytest.fixture(autouse=True)
def english():
    """The command speaks the UI's language (Chinese by default); these tests read English."""
    with translation.override("en"):
        yield


def test_the_command_speaks_chinese_by_default(three_projects):
    out = StringIO()
    with translation.override("zh-hans"):
        call_command("recompute_warnings", "--as-of", "2026-11-25", stdout=out)
    assert out.getvalue().strip() == "截至2026-11-25：检查项目3个，更新3个，状态变化2次"


def test_recompute_as_of_a_given_day(three_projects):
    out = StringIO()
    call_command("recompute_warnings", "--as-of", "2026-11-25", stdout=out)

    assert out.getvalue().strip() == (
        "as of 2026-11-25: 3 projects examined, 3 updated, 2 status changes"
    )
    assert colours() == {"QT-RED": "red", "QT-YEL": "yellow", "QT-PAU": ""}
    assert set(Project.objects.values_list("computed_as_of", flat=True)) == {date(2026, 11, 25)}
    assert StatusChange.objects.count() == 2


def test_running_it_again_changes_nothing(three_projects):
    call_command("recompute_warnings", "--as-of", "2026-11-25", stdout=StringIO())
    out = StringIO()
    call_command("recompute_warnings", "--as-of", "2026-11-25", stdout=out)
    assert out.getvalue().strip() == (
        "as of 2026-11-25: 3 projects examined, 0 updated, 0 status changes"
    )
    assert StatusChange.objects.count() == 2


def test_full_mends_results_changed_by_hand_which_a_plain_rerun_leaves(three_projects):
    """Stored results are not inputs: a plain re-run of the day does not look at them again;
    --full evaluates every project (after restoring a backup, or a hand-made UPDATE)."""
    call_command("recompute_warnings", "--as-of", "2026-11-25", stdout=StringIO())
    Project.objects.filter(code="QT-RED").update(colour="green", reasons=[])  # a red hidden by hand
    call_command("recompute_warnings", "--as-of", "2026-11-25", stdout=StringIO())
    assert colours()["QT-RED"] == "green"
    out = StringIO()
    call_command("recompute_warnings", "--as-of", "2026-11-25", "--full", stdout=out)
    assert out.getvalue().strip() == "as of 2026-11-25: 3 projects examined, 1 updated, 1 status changes"
    assert colours()["QT-RED"] == "red"


def test_without_as_of_it_uses_today_in_shanghai(three_projects):
    out = StringIO()
    with time_machine.travel(datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc), tick=False):
        call_command("recompute_warnings", stdout=out)
    assert out.getvalue().startswith("as of 2026-11-25:")


def test_another_as_of_day_gives_that_day_s_colours(three_projects):
    call_command("recompute_warnings", "--as-of", "2026-11-01", stdout=StringIO())
    assert colours() == {"QT-RED": "green", "QT-YEL": "green", "QT-PAU": ""}


@pytest.mark.parametrize(
    "value, message",
    [
        ("2026-13-01", "须为 YYYY-MM-DD 格式的日期：“2026-13-01”"),
        ("2099-12-32", "须为 YYYY-MM-DD 格式的日期：“2099-12-32”"),
        ("26-11-25", "须为 YYYY-MM-DD 格式的日期：“26-11-25”"),
        ("1999-12-31", "须在2000-01-01至2099-12-31之间：“1999-12-31”"),
        ("2100-01-01", "须在2000-01-01至2099-12-31之间：“2100-01-01”"),
    ],
)
def test_a_bad_as_of_is_refused_and_writes_nothing(three_projects, value, message):
    with pytest.raises(CommandError) as refused:
        call_command("recompute_warnings", "--as-of", value, stdout=StringIO())
    assert "--as-of" in str(refused.value)
    assert message in str(refused.value)
    assert colours() == {"QT-RED": "", "QT-YEL": "", "QT-PAU": ""}
    assert not Project.objects.filter(computed_as_of__isnull=False).exists()
    assert StatusChange.objects.count() == 0


@pytest.mark.parametrize("value", ["2026-13-01", "1999-12-31"])
def test_from_the_command_line_a_bad_as_of_exits_2_with_the_message(value):
    # argparse refuses before Django touches a database.
    env = {**os.environ, "SECRET_KEY": "test-only-secret-key", "DATABASE_URL": "sqlite:///:memory:"}
    done = subprocess.run(
        [sys.executable, "manage.py", "recompute_warnings", "--as-of", value],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "recompute_warnings: error: argument --as-of:" in done.stderr
    assert f"“{value}”" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_celery_task_recomputes_as_of_shanghai_s_date(three_projects):
    # 23:30 UTC on 11-25 is 07:30 on 11-26 in Asia/Shanghai.
    with time_machine.travel(datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc), tick=False):
        result = tasks.recompute_all_warnings()

    assert result == {"as_of": "2026-11-26", "examined": 3, "updated": 3, "status_changes": 2}
    assert set(Project.objects.values_list("computed_as_of", flat=True)) == {date(2026, 11, 26)}
    assert Project.objects.get(code="QT-RED").reasons[0]["days"] == 3  # due 11-23
    change = StatusChange.objects.get(project__code="QT-RED")
    assert change.as_of == date(2026, 11, 26)
    assert change.at == datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)


def test_the_celery_task_just_before_midnight_in_shanghai(three_projects):
    # 15:59 UTC is 23:59 in Shanghai: still the 25th there.
    with time_machine.travel(datetime(2026, 11, 25, 15, 59, tzinfo=timezone.utc), tick=False):
        result = tasks.recompute_all_warnings()
    assert result["as_of"] == "2026-11-25"


def test_the_celery_task_calls_the_same_service(three_projects, monkeypatch):
    calls = []
    real = tasks.recompute_all
    monkeypatch.setattr(
        tasks, "recompute_all", lambda **kwargs: calls.append(kwargs) or real(**kwargs)
    )
    with time_machine.travel(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc), tick=False):
        tasks.recompute_all_warnings.apply()  # through Celery's call machinery, eagerly
    assert calls == [{"today": date(2026, 11, 25)}]


def test_the_task_is_registered_under_the_name_beat_uses():
    from django.conf import settings

    from qiantang.celery import app

    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert names.count(tasks.recompute_all_warnings.name) == 2  # every 15 min, and at 00:05
    assert tasks.recompute_all_warnings.name in app.tasks
