"""/healthz: what a compose health check or a monitor reads (no sign-in, no secrets)."""
from datetime import timedelta

import pytest
from django.db import OperationalError

from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db


def healthz(client):
    response = client.get("/healthz")
    return response.status_code, response.json(), response.content.decode()


def test_a_working_deployment_is_ok(client, make_project, today):
    make_project("QT-0001", milestones={"signing": {"planned_date": today}})
    recompute_all(today=today)
    status, body, _text = healthz(client)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["recompute"]["detail"] == {
        "computed_as_of": today.isoformat(), "age_days": 0,
        "last_full_run_finished_at": "2026-11-25T10:00:00+08:00", "last_full_run_age_minutes": 0,
        "max_age_minutes": 120,
    }
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_a_board_not_recomputed_since_before_yesterday_is_degraded_but_serving(client, make_project, today):
    make_project("QT-0001", milestones={"signing": {"planned_date": today}})
    recompute_all(today=today - timedelta(days=3))
    status, body, _text = healthz(client)
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"]["recompute"]["detail"]["age_days"] == 3


def test_a_dead_beat_is_degraded_even_when_a_staff_save_stamped_today(client, make_project, today, role_users):
    from django.utils import timezone

    from projects.models import Milestone
    from projects.services import milestone_edit

    project = make_project("QT-0001", milestones={"signing": {"planned_date": today + timedelta(days=40)}})
    recompute_all(today=today - timedelta(days=5), now=timezone.now() - timedelta(days=5))  # beat's last run
    signing = Milestone.objects.get(project=project, milestone_type__code="signing")
    milestone_edit(signing, planned_date=signing.planned_date, actual_date=today, not_applicable=False,
                   by=role_users["office"], today=today)  # recomputes its project, as of today
    status, body, _text = healthz(client)
    assert (status, body["status"]) == (200, "degraded")
    detail = body["checks"]["recompute"]["detail"]
    assert (detail["computed_as_of"], detail["age_days"]) == (today.isoformat(), 0)  # the board's day says nothing
    assert detail["last_full_run_age_minutes"] == 5 * 24 * 60 and detail["max_age_minutes"] == 120


def test_the_last_full_run_s_age_is_held_against_the_setting(client, make_project, today, settings):
    from django.utils import timezone

    make_project("QT-0001", milestones={"signing": {"planned_date": today + timedelta(days=40)}})
    recompute_all(today=today, now=timezone.now() - timedelta(minutes=121))
    assert healthz(client)[1]["status"] == "degraded"
    settings.HEALTH_RECOMPUTE_MAX_AGE_MINUTES = 180
    assert healthz(client)[1]["status"] == "ok"
    recompute_all(today=today, now=timezone.now() - timedelta(minutes=15))  # beat ran again
    settings.HEALTH_RECOMPUTE_MAX_AGE_MINUTES = 120
    assert healthz(client)[1]["status"] == "ok"


def test_an_unreachable_broker_fails_without_naming_it(client, monkeypatch, settings):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis://:secret@10.0.0.5:6379/0")

    monkeypatch.setattr("qiantang_warnings.health.checks.app.connection_for_write", refuse)
    status, body, text = healthz(client)
    assert (status, body["status"]) == (503, "failing")
    assert body["checks"]["broker"] == {"ok": False, "milliseconds": body["checks"]["broker"]["milliseconds"], "detail": {"error": "OperationalError"}}
    assert "secret" not in text and "10.0.0.5" not in text


def test_an_unreachable_database_fails(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("qiantang_warnings.health.checks.connection.cursor", refuse)
    monkeypatch.setattr("qiantang_warnings.health.checks.Project.objects.filter", refuse)
    status, body, _text = healthz(client)
    assert (status, body["status"]) == (503, "failing")
    assert body["checks"]["database"]["detail"] == {"error": "OperationalError"}


def test_no_sign_in_is_needed_and_nothing_is_cached(client):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
