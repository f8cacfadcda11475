"""Services that write projects and milestones.

milestone_change_record validates and saves; its callers (admin, importer)
recompute the affected projects in the same request and transaction. The staff
pages' services (milestone_edit, project_progress_save) recompute the project
themselves, inside their own transaction, and refuse stale edits (EditConflict).
"""
from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiantang_warnings.services import recompute_projects

from . import permissions
from .models import Milestone, MilestoneReplan, ProgressEntry, Project

# A red must not vanish because its cadre moved the date: they propose it (projects.replans),
# the office decides. The staff form and the admin refuse with the same words.
REPLAN_NEEDS_PROPOSAL = gettext_lazy(
    "已有的计划完成日期须申请调整，由投资管理科审核（请使用“申请调整计划”）"
)

PROGRESS_FIELDS = {
    ProgressEntry.Kind.PROGRESS: "progress_note",
    ProgressEntry.Kind.PROBLEMS: "open_problems",
}


def stored_planned_date(milestone: Milestone, *, lock: bool = False) -> date | None:
    """The planned date as stored now (None for a new milestone)."""
    if milestone.pk is None:
        return None
    queryset = Milestone.objects.filter(pk=milestone.pk)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.values_list("planned_date", flat=True).first()


def milestone_change_record(
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
            # The first planned date is kept forever as the baseline (基准日期); a row
            # stored without one (bulk-loaded) takes the planned date it had until now.
            milestone.baseline_date = previous_planned_date or milestone.planned_date
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


# The change reason that marks a baseline record (hidden on the project page).
HISTORY_BASELINE = "baseline"


def _keep_history_baseline(instance) -> None:
    """Rows written in bulk (demo data, workbook import) have no history yet: record
    their state as it stands before the first edit, so that edit reads old → new."""
    model = type(instance)
    if not model.history.filter(id=instance.pk).exists():
        instance._history_user = None  # nobody made this state in the system
        instance._change_reason = HISTORY_BASELINE
        model.history.bulk_history_create(
            [instance], update=True, default_date=instance.updated_at or timezone.now()
        )
        del instance._history_user, instance._change_reason


class EditConflict(Exception):
    """Someone else saved first; nothing was saved. `current` holds the stored values."""

    def __init__(self, current):
        super().__init__("edit conflict")
        self.current = current


def milestone_edit(
    milestone: Milestone,
    *,
    planned_date: date | None,
    actual_date: date | None,
    not_applicable: bool,
    replan_reason: str = "",
    not_applicable_reason: str = "",
    expected_updated_at=None,
    by=None,
    today: date,
) -> Milestone:
    """A staff edit of one milestone, then the project's recompute, in one transaction.

    `expected_updated_at` is the version the editor's form was built from: when the
    stored row has moved on (a second editor saved first), raise EditConflict and
    change nothing. Raises ValidationError for the refusals of the warning rules.
    An edit that changes nothing saves nothing (no empty history entry).
    """
    with transaction.atomic():
        current = (
            Milestone.objects.select_for_update(of=("self",))
            .select_related("milestone_type", "project")
            .get(pk=milestone.pk)
        )
        if expected_updated_at is not None and current.updated_at != expected_updated_at:
            raise EditConflict(current)
        unchanged = (
            current.planned_date == planned_date
            and current.actual_date == actual_date
            and current.not_applicable == not_applicable
        )
        if unchanged:
            return current
        replans = current.planned_date is not None and planned_date != current.planned_date
        if replans and by is not None and not permissions.may_replan_directly(by, current):
            raise ValidationError({"planned_date": REPLAN_NEEDS_PROPOSAL})
        marks_not_applicable = not_applicable and not current.not_applicable
        if marks_not_applicable and by is not None and not not_applicable_reason.strip():
            raise ValidationError({"not_applicable_reason": _("标记不适用须填写原因")})
        _keep_history_baseline(current)
        current.planned_date = planned_date
        current.actual_date = actual_date
        current.not_applicable = not_applicable
        current._history_user = by if getattr(by, "is_authenticated", False) else None
        current._change_reason = (
            replan_reason.strip() or (not_applicable_reason.strip() if marks_not_applicable else "") or None
        )
        milestone_change_record(current, replan_reason=replan_reason, by=by, today=today)
        recompute_projects([current.project_id], today=today)
    return current


def project_progress_save(
    project: Project,
    *,
    kind: str,
    text: str,
    based_on: int | None,
    by=None,
    today: date,
) -> ProgressEntry | None:
    """Save a project's progress note or open problems as a new dated entry.

    `based_on` is the id of the latest entry the editor saw (None: none yet); when a
    newer entry exists, raise EditConflict with the project. Same text: nothing saved.
    """
    field = PROGRESS_FIELDS[kind]
    text = text.strip()
    with transaction.atomic():
        current = Project.objects.select_for_update().get(pk=project.pk)
        latest = (
            ProgressEntry.objects.filter(project=current, kind=kind)
            .order_by("-created_at", "-id").values_list("id", flat=True).first()
        )
        if latest != based_on:
            raise EditConflict(current)
        if getattr(current, field) == text:
            return None
        _keep_history_baseline(current)
        setattr(current, field, text)
        current._history_user = by if getattr(by, "is_authenticated", False) else None
        current.save(update_fields=[field, "updated_at"])
        entry = ProgressEntry.objects.create(
            project=current,
            kind=kind,
            text=text,
            author=by if getattr(by, "is_authenticated", False) else None,
        )
        recompute_projects([current.id], today=today)
    return entry
