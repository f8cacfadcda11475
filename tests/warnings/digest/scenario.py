"""A frozen district week for the digest tests: ISO week 2026-W48, Monday 2026-11-23.

The colours are computed by the real recompute twice: as of Monday 2026-11-16 (recorded just
before the reported week starts) and as of Monday 2026-11-23 (recorded mid-week), so the
StatusChange history says what changed during the week. Nothing reads the wall clock.

    QT-RED   yellow → red     approval due 11-20, not done         cadre1 responsible
    QT-YEL   green → yellow   approval due 12-05 (12 days left)    cadre2 responsible, cadre1 on team
    QT-REC   red → green      approval done 11-18; signing 2027    cadre1 responsible
             调整后绿: signing re-planned 11-20 → 2027-06-01 (approved 11-20), red by its baseline
    QT-OLD   red → red        approval due 06-01 (175 days late), escalated   cadre2
    QT-PLAN  green, needs a plan (approval unscheduled)             cadre2
    QT-PAUSE paused: never in a digest                              cadre1
liaison1 is a liaison of 区发改局, which owns the approvals of QT-YEL and QT-OLD.

Re-plan proposals (调整计划申请); the reported week runs from Monday 11-16 to Monday 11-23:
    cadre1   QT-REC signing   11-20 → 2027-06-01  approved 11-20 15:00 (in the week)
    cadre1   QT-RED approval  11-20 → 2026-12-20  rejected 11-19 16:30 (in the week): still red
    cadre2   QT-OLD approval  06-01 → 2027-03-01  pending since 11-24: still red
    liaison1 QT-YEL approval  12-05 → 2026-12-31  rejected 11-24 11:00 (next week's digest)
None of them changes a colour or a count above: the approved one moves a milestone of a
project that was red for its approval anyway and recovers when the approval is done.
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
    from projects.models import Department, Milestone, Project, ReplanProposal
    from projects.replans import replan_approve, replan_propose, replan_reject
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
            "signing": {"planned_date": date(2026, 11, 20), "baseline_date": date(2026, 11, 20)},
        }),
        "QT-OLD": make_project("QT-OLD", responsible_cadre=users["cadre2"],
                               milestones=approval(planned_date=date(2026, 6, 1), owner_department=fgj)),
        "QT-PLAN": make_project("QT-PLAN", responsible_cadre=users["cadre2"], milestones=approval()),
        "QT-PAUSE": make_project("QT-PAUSE", responsible_cadre=users["cadre1"], state=Project.State.PAUSED,
                                 milestones=approval(planned_date=date(2026, 1, 1), owner_department=fgj)),
    }
    projects["QT-YEL"].team.add(users["cadre1"])
    recompute_all(today=LAST_MONDAY, now=at(2026, 11, 15, 0, 5))

    def proposal(code, type_code, to, by, *, proposed_at, decide=None, decided_at=None, comment=""):
        milestone = Milestone.objects.get(project=projects[code], milestone_type__code=type_code)
        made = replan_propose(milestone, proposed_planned_date=to, reason="项目方调整建设计划",
                              by=users[by], today=proposed_at.date())
        if decide:
            decide(made, by=users["office"], comment=comment, today=decided_at.date())
        # The services stamp the real (frozen) clock; the story needs its own instants.
        ReplanProposal.objects.filter(pk=made.pk).update(created_at=proposed_at, decided_at=decided_at)

    proposal("QT-REC", "signing", date(2027, 6, 1), "cadre1", proposed_at=at(2026, 11, 17, 9, 0),
             decide=replan_approve, decided_at=at(2026, 11, 20, 15, 0), comment="同意，按新计划推进")
    proposal("QT-RED", "approval", date(2026, 12, 20), "cadre1", proposed_at=at(2026, 11, 18, 10, 0),
             decide=replan_reject, decided_at=at(2026, 11, 19, 16, 30), comment="请先补充联审意见")
    proposal("QT-OLD", "approval", date(2027, 3, 1), "cadre2", proposed_at=at(2026, 11, 24, 9, 0))
    proposal("QT-YEL", "approval", date(2026, 12, 31), "liaison1", proposed_at=at(2026, 11, 23, 16, 0),
             decide=replan_reject, decided_at=at(2026, 11, 24, 11, 0), comment="计划不宜推迟")
    Milestone.objects.filter(project=projects["QT-REC"], milestone_type__code="approval").update(
        actual_date=date(2026, 11, 18)
    )
    Escalation.objects.create(project=projects["QT-OLD"], colour="red", reason="区领导批示督办",
                              until=date(2026, 12, 31), author=users["leader"])
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 0, 5))
    for project in projects.values():
        project.refresh_from_db()
    return DistrictWeek(users, projects, fgj)
