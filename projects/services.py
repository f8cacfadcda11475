"""Services that write projects and milestones; each recomputes what it touched."""
from __future__ import annotations

from datetime import date

from django.db import transaction

from .models import Milestone, MilestoneReplan


def record_milestone_change(
    milestone: Milestone,
    *,
    previous_planned_date: date | None,
    replan_reason: str = "",
    by=None,
    today: date,
) -> Milestone:
    """Validate and save a milestone edit, keep its baseline and re-plan history.

    Raises ValidationError (nothing saved) for the refusals of the warning rules.
    The caller recomputes the project (admin and views do it in the same request).
    """
    milestone.full_clean(exclude=["project", "milestone_type"])
    milestone.clean_against(
        today=today, previous_planned_date=previous_planned_date, replan_reason=replan_reason
    )
    with transaction.atomic():
        if milestone.baseline_date is None and milestone.planned_date is not None:
            # The first planned date is kept forever as the baseline (基准日期).
            milestone.baseline_date = milestone.planned_date
        milestone.save()
        if previous_planned_date is not None and milestone.planned_date != previous_planned_date:
            MilestoneReplan.objects.create(
                milestone=milestone,
                old_planned_date=previous_planned_date,
                new_planned_date=milestone.planned_date,
                reason=replan_reason.strip(),
                author=by if getattr(by, "is_authenticated", False) else None,
            )
    return milestone
