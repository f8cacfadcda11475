"""The load run of `make bench` (bench/run.py starts it): leaders polling the dashboard while
cadres edit milestones, against gunicorn on loopback.

    locust -f bench/locustfile.py --headless -u 50 -r 50 -t 60s --host http://127.0.0.1:8113

BENCH_PEOPLE names a JSON file that bench/run.py writes: the session cookies of the signed-in
leaders and cadres, and for each cadre the milestones they may edit. With 50 users the weights
give 40 leaders and 10 cadres.

- A leader opens the dashboard once, then polls it with the stamp of what it shows, as the
  page does, only far more often (every 1–2 s instead of every 30 s), and now and then
  reloads the whole page.
- A cadre opens a milestone's form on their project and saves it with the actual date set to
  today, or cleared again: each save recomputes that project, moves the data version, and so
  makes the next poll of every leader a cache miss.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import threading
from datetime import date

from locust import HttpUser, between, task

_PEOPLE = json.loads(open(os.environ["BENCH_PEOPLE"], encoding="utf-8").read())
_lock = threading.Lock()
_leaders = itertools.cycle(_PEOPLE["leaders"])
_cadres = itertools.cycle(_PEOPLE["cadres"])
STAMP = re.compile(r'data-stamp="([0-9a-f]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
UPDATED_AT = re.compile(r'name="updated_at" value="([^"]*)"')
ACTUAL = re.compile(r'name="actual_date" value="([^"]*)"')
PLANNED = re.compile(r'name="planned_date" value="([^"]*)"')


def _sign_in(user: HttpUser, cookie: dict) -> None:
    user.client.cookies.set(cookie["name"], cookie["value"], domain="127.0.0.1", path="/")


class Leader(HttpUser):
    weight = 4
    wait_time = between(1, 2)

    def on_start(self):
        with _lock:
            _sign_in(self, next(_leaders))
        self.stamp = ""
        self.open_page()

    def _remember_stamp(self, response) -> None:
        found = STAMP.search(response.text or "")
        if found:
            self.stamp = found.group(1)

    @task(1)
    def open_page(self):
        with self.client.get("/dashboard/", name="dashboard page", catch_response=True) as response:
            if response.status_code != 200 or "data-stamp" not in response.text:
                response.failure(f"HTTP {response.status_code}")
                return
            self._remember_stamp(response)

    @task(12)
    def poll(self):
        with self.client.get(
            f"/dashboard/?since={self.stamp}", headers={"HX-Request": "true"}, name="dashboard poll",
            catch_response=True,
        ) as response:
            # 204: the new part is being rendered by another process; the page keeps its own.
            if response.status_code not in (200, 204):
                response.failure(f"HTTP {response.status_code}")
                return
            self._remember_stamp(response)


class Cadre(HttpUser):
    weight = 1
    wait_time = between(2, 4)

    def on_start(self):
        with _lock:
            person = next(_cadres)
        _sign_in(self, person)
        self.milestones = itertools.cycle(person["milestones"])

    @task
    def edit_milestone(self):
        code, type_code = next(self.milestones)
        url = f"/projects/{code}/milestones/{type_code}/"
        headers = {"HX-Request": "true"}
        with self.client.get(url, headers=headers, name="milestone form", catch_response=True) as form:
            token, updated_at = CSRF.search(form.text or ""), UPDATED_AT.search(form.text or "")
            if form.status_code != 200 or not token or not updated_at:
                form.failure(f"HTTP {form.status_code}: no form to edit")
                return
            text, token, updated_at = form.text, token.group(1), updated_at.group(1)
        actual = ACTUAL.search(text)
        planned = PLANNED.search(text)
        data = {
            "csrfmiddlewaretoken": token,
            "updated_at": updated_at,
            "planned_date": planned.group(1) if planned else "",
            # Done today, or not done after all: the project's colour moves either way.
            "actual_date": "" if actual and actual.group(1) else date.today().isoformat(),
        }
        headers = {**headers, "X-CSRFToken": token, "Referer": self.host + url}
        with self.client.post(url, data=data, headers=headers, name="milestone save", catch_response=True) as saved:
            if saved.status_code != 200 or "errorlist" in saved.text:
                saved.failure(f"HTTP {saved.status_code}: not saved")
