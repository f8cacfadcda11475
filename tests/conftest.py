"""Shared fixtures: named users for each role and a small project factory.

Tests read like stories ("cadre1 cannot edit cadre2's project"); "today" is
always passed in or frozen, never read from the wall clock.
"""
import os
from datetime import date

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

import pytest  # noqa: E402

TODAY = date(2026, 11, 25)


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
        project = Project.objects.create(code=code, **fields)
        for type_code, values in (milestones or {}).items():
            Milestone.objects.create(project=project, milestone_type=catalogue[type_code], **values)
        return project

    return factory
