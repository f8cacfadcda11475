"""Services that write projects and milestones.

They validate and save; the caller (admin, view, importer) recomputes the
affected projects in the same request and transaction.
"""
from __future__ import annotations

from datetime import date

from django.db import transaction

from .models import Milestone, MilestoneReplan


def stored_planned_date(milestone: Milestone, *, lock: bool = False) -> date | None:
    """The planned date as stored now (None for a new milestone)."""
    if milestone.pk is None:
        return None
    queryset = Milestone.objects.filter(pk=milestone.pk)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.values_list("planned_date", flat=True).first()


def record_milestone_change(
    milestone: Milestone,
    *,
    replan_reason: str = "",
    by=None,
    today: date,
) -> Milestone:
    """Validate and save a milestone edit, keep its baseline and re-plan history.

    The previous planned date is read from the database under a row lock, so a
    re-plan cannot slip through without its reason. Raises ValidationError
    (nothing saved) for the refusals of the warning rules.
    """
    milestone.full_clean(exclude=["project", "milestone_type"])
    with transaction.atomic():
        previous_planned_date = stored_planned_date(milestone, lock=True)
        milestone.clean_against(
            today=today, previous_planned_date=previous_planned_date, replan_reason=replan_reason
        )
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
