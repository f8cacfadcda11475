"""Shared fixtures: the suite's clock, named users for each role and a small project factory.

Tests read like stories ("cadre1 cannot edit cadre2's project").

The clock. Every test runs at the suite's fixed instant, FROZEN_NOW (a Wednesday morning in
Shanghai), unless it is marked `real_clock`: the autouse `frozen_clock` fixture travels there
with time-machine before the test and back after it. Code under test asks the clock for
"today" in a few outer places (a view's recompute, the import's preview, the digest's week);
a test that forgets to pass or freeze "today" still sees 2026-11-25, so its outcome cannot
depend on the day the suite is run. The clock keeps ticking from that instant (tick=True), so
two saves in one test still get different `updated_at` versions; a test that needs an exact
instant moves `time_machine` itself.

Opting out (`@pytest.mark.real_clock`) is for the tests that start real Celery workers or
`celery beat` in child processes: time-machine patches only this process, so a child reads
the real clock, and a parent frozen on another day would build data for the wrong "today"
(PostgreSQL's own now() is not shifted either). Those tests build their dates from the real
date on purpose and must hold on any day; CI also runs the rest of the suite under
`faketime` at an instant far from FROZEN_NOW, which catches a child process or a database
default that reads the real date.
"""
import os
from datetime import datetime
from zoneinfo import ZoneInfo

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

import pytest  # noqa: E402

FROZEN_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = FROZEN_NOW.date()


@pytest.fixture(autouse=True)
def frozen_clock(request):
    """The suite's clock: FROZEN_NOW for every test not marked `real_clock` (see above)."""
    if request.node.get_closest_marker("real_clock"):
        yield None
        return
    machine = request.getfixturevalue("time_machine")
    machine.move_to(FROZEN_NOW, tick=True)
    yield machine


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache (memory, under pytest): the data version that
    keys the dashboard's cache starts again with each test's data."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Every test hashes passwords with MD5: the default hasher is slow on purpose, and the
    suite signs in thousands of times. Production keeps Django's defaults."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today():
    return TODAY


@pytest.fixture
def catalogue(db):
    """The default milestone types (from the data migration), by code."""
    from projects.models import MilestoneType

    return {mt.code: mt for mt in MilestoneType.objects.all()}


@pytest.fixture
def role_users(db):
    """leader, office, cadre1, cadre2 and liaison1 with their groups."""
    from django.contrib.auth.models import Group, User

    from projects.roles import CADRE, LEADER, LIAISON, OFFICE, ensure_role_groups

    ensure_role_groups()
    users = {}
    for username, role, staff in [
        ("leader", LEADER, True),
        ("office", OFFICE, True),
        ("cadre1", CADRE, False),
        ("cadre2", CADRE, False),
        ("liaison1", LIAISON, False),
    ]:
        user = User.objects.create_user(username, password="pw-for-tests-1", is_staff=staff)
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


@pytest.fixture
def make_project(db, catalogue):
    """make_project(code, state=..., milestones={code: dict(planned_date=..., ...)})."""
    from projects.models import Milestone, Project

    def factory(code="QT-001", *, milestones=None, **fields):
        fields.setdefault("name", f"测试项目{code}")
        project = Project.objects.create(code=code, **fields)  # with a blank milestone per type
        for type_code, values in (milestones or {}).items():
            milestone = Milestone.objects.get(project=project, milestone_type=catalogue[type_code])
            for name, value in values.items():
                setattr(milestone, name, value)
            milestone.save()
        return project

    return factory
