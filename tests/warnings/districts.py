"""A district of a few thousand projects built in bulk (seconds, not minutes), with every kind
of input the rules read: done, late, due soon and unscheduled milestones, due dates derived
from standard days, not-applicable milestones, re-plans against baselines, escalations and
paused projects. For tests that compare two ways of recomputing on data of a real size."""
from __future__ import annotations

from datetime import date, timedelta

from projects.models import Milestone, MilestoneReplan, MilestoneType, Project, create_missing_milestones
from qiantang_warnings.models import Escalation

D = timedelta(days=1)


def bulk_district(count: int, *, today: date, prefix: str = "QT-B") -> list[int]:
    """`count` projects coded `{prefix}00000`…, their ids in id order."""
    projects = Project.objects.bulk_create(
        [
            Project(
                code=f"{prefix}{n:05d}", name=f"批量项目{n}",
                state=Project.State.PAUSED if n % 13 == 0 else Project.State.ACTIVE,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    ids = sorted(project.id for project in projects)
    create_missing_milestones(Project, MilestoneType, Milestone, project_ids=ids)
    codes = dict(MilestoneType.objects.values_list("id", "code"))
    position = {project_id: n for n, project_id in enumerate(ids)}

    changed, replans = [], []
    for milestone in Milestone.objects.filter(project_id__in=ids).only(
        "id", "project_id", "milestone_type_id", "planned_date", "baseline_date", "actual_date", "not_applicable"
    ):
        n, code = position[milestone.project_id], codes[milestone.milestone_type_id]
        if code == "approval":
            if n % 3 == 0:  # done: the next milestones' due dates derive from it
                milestone.actual_date = today - (n % 400) * D
            else:  # late, due soon or far off
                milestone.planned_date = milestone.baseline_date = today + (n % 60 - 30) * D
        elif code == "land_listing" and n % 7 == 0:
            milestone.not_applicable = True
        elif code == "land_transfer" and n % 4 == 1:
            milestone.baseline_date = today + (n % 50 - 40) * D
            milestone.planned_date = milestone.baseline_date + (n % 5) * 20 * D  # moved later (or not)
            if milestone.planned_date != milestone.baseline_date:
                replans.append(MilestoneReplan(
                    milestone_id=milestone.id, old_planned_date=milestone.baseline_date,
                    new_planned_date=milestone.planned_date, reason="批量调整",
                ))
        else:
            continue
        changed.append(milestone)
    Milestone.objects.bulk_update(
        changed, ["planned_date", "baseline_date", "actual_date", "not_applicable"], batch_size=2000
    )
    MilestoneReplan.objects.bulk_create(replans, batch_size=2000)
    Escalation.objects.bulk_create(
        [
            Escalation(project_id=project_id, colour="red" if n % 100 == 0 else "yellow",
                       reason="批量督办", until=today + (n % 20 - 5) * D)
            for n, project_id in enumerate(ids)
            if n % 50 == 0
        ]
    )
    return ids
