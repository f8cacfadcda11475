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
    assert body["checks"]["recompute"]["detail"] == {"computed_as_of": today.isoformat(), "age_days": 0}
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_a_board_not_recomputed_since_before_yesterday_is_degraded_but_serving(client, make_project, today):
    make_project("QT-0001", milestones={"signing": {"planned_date": today}})
    recompute_all(today=today - timedelta(days=3))
    status, body, _text = healthz(client)
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"]["recompute"]["detail"]["age_days"] == 3


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
