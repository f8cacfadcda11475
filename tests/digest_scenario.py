"""A frozen district week for the digest tests: ISO week 2026-W48, Monday 2026-11-23.

The colours are computed by the real recompute twice: as of Monday 2026-11-16 (recorded just
before the reported week starts) and as of Monday 2026-11-23 (recorded mid-week), so the
StatusChange history says what changed during the week. Nothing reads the wall clock.

    QT-RED   yellow → red     approval due 11-20, not done         cadre1 responsible
    QT-YEL   green → yellow   approval due 12-05 (12 days left)    cadre2 responsible, cadre1 on team
    QT-REC   red → green      approval done 11-18; signing 2027    cadre1 responsible
    QT-OLD   red → red        approval due 06-01 (175 days late), escalated   cadre2
    QT-PLAN  green, needs a plan (approval unscheduled)             cadre2
    QT-PAUSE paused: never in a digest                              cadre1
liaison1 is a liaison of 区发改局, which owns the approvals of QT-YEL and QT-OLD.
"""
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

WEEK = "2026-W48"
MONDAY = date(2026, 11, 23)
LAST_MONDAY = date(2026, 11, 16)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@dataclass
class DistrictWeek:
    users: dict
    projects: dict
    department: object


@pytest.fixture
def district_week(role_users, make_project, catalogue):
    from projects.models import Department, Milestone, Project
    from qiantang_warnings.models import Escalation
    from qiantang_warnings.recompute import recompute_all

    users = role_users
    for username, user in users.items():
        user.email = f"{username}@qiantang.example"
        user.save(update_fields=["email"])
    users["cadre1"].last_name, users["cadre1"].first_name = "王", "建国"
    users["cadre1"].save(update_fields=["last_name", "first_name"])
    fgj = Department.objects.create(name="区发改局")
    other = Department.objects.create(name="区住建局")
    fgj.liaisons.add(users["liaison1"])

    def approval(**values):
        return {"approval": values}

    projects = {
        "QT-RED": make_project("QT-RED", responsible_cadre=users["cadre1"],
                               milestones=approval(planned_date=date(2026, 11, 20), owner_department=other)),
        "QT-YEL": make_project("QT-YEL", responsible_cadre=users["cadre2"],
                               milestones=approval(planned_date=date(2026, 12, 5), owner_department=fgj)),
        "QT-REC": make_project("QT-REC", responsible_cadre=users["cadre1"], milestones={
            "approval": {"planned_date": date(2026, 11, 1), "owner_department": other},
            "signing": {"planned_date": date(2027, 6, 1)},
        }),
        "QT-OLD": make_project("QT-OLD", responsible_cadre=users["cadre2"],
                               milestones=approval(planned_date=date(2026, 6, 1), owner_department=fgj)),
        "QT-PLAN": make_project("QT-PLAN", responsible_cadre=users["cadre2"], milestones=approval()),
        "QT-PAUSE": make_project("QT-PAUSE", responsible_cadre=users["cadre1"], state=Project.State.PAUSED,
                                 milestones=approval(planned_date=date(2026, 1, 1), owner_department=fgj)),
    }
    projects["QT-YEL"].team.add(users["cadre1"])
    recompute_all(today=LAST_MONDAY, now=at(2026, 11, 15, 0, 5))
    Milestone.objects.filter(project=projects["QT-REC"], milestone_type__code="approval").update(
        actual_date=date(2026, 11, 18)
    )
    Escalation.objects.create(project=projects["QT-OLD"], colour="red", reason="区领导批示督办",
                              until=date(2026, 12, 31), author=users["leader"])
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 0, 5))
    for project in projects.values():
        project.refresh_from_db()
    return DistrictWeek(users, projects, fgj)
