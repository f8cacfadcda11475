"""Milestone-level reads of the staff pages: a project's timeline (every catalogue type with
its due date, colour and days), a cadre's projects with their next milestone, and a liaison's
pending milestones. Due dates and colours come from the rules, through the one place that
evaluates stored milestones (qiantang_warnings.selectors.rules_context), as in the recompute.
Project-level reads (the board, the list, counts) are in projects.selectors.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from django.db.models import Prefetch

from qiantang import colours
from qiantang.people import person_name
from qiantang_warnings import rules
from qiantang_warnings.selectors import rules_context

from .models import Milestone, Project, ReplanProposal
from .selectors import COLOUR_RANK


@dataclass
class TimelineRow:
    """One milestone with what the rules say about it as of today."""

    milestone: Milestone
    status: str
    due_date: date | None
    due_derived: bool
    colour: str | None
    days_late: int | None  # pending: days past due (negative: days left); done: actual − due
    can_edit: bool = False
    # A re-plan proposed and waiting for the office (申请调整计划, projects.replans).
    pending_proposal: ReplanProposal | None = None

    @property
    def code(self) -> str:
        return self.milestone.milestone_type.code

    @property
    def is_pending(self) -> bool:
        return self.status in (rules.PENDING, rules.UNSCHEDULED)

    @property
    def is_done(self) -> bool:
        return self.status == rules.DONE

    @property
    def is_unscheduled(self) -> bool:
        return self.status == rules.UNSCHEDULED

    @property
    def is_not_applicable(self) -> bool:
        return self.status == rules.NOT_APPLICABLE

    @property
    def days_overdue(self) -> int:
        return self.days_late if (self.is_pending and self.days_late and self.days_late > 0) else 0

    @property
    def days_left(self) -> int | None:
        if self.is_pending and self.days_late is not None and self.days_late <= 0:
            return -self.days_late
        return None


class _Context:
    """Policy, per-type policies and (only when needed) the working-day calendar."""

    def __init__(self, today: date):
        self.today = today
        self.context = rules_context(today)

    def rows(self, milestones: Iterable[Milestone]) -> list[TimelineRow]:
        milestones = sorted(milestones, key=lambda m: m.milestone_type.order)
        # Every catalogue type counts, stored or not (a project's page lists its stored
        # milestones; Milestone.objects.create_missing keeps one per type).
        results = self.context.evaluate_stored(milestones, today=self.today)
        return [
            TimelineRow(m, r.status, r.due_date, r.due_derived, r.colour, r.days_late)
            for m in milestones
            for r in [results[m.milestone_type.code]]
        ]


def project_timeline(project: Project, *, today: date, editable_ids: set[int] = frozenset()) -> list[TimelineRow]:
    """The project's milestones in catalogue order, with due date, colour and days."""
    milestones = project.milestones.select_related("milestone_type", "owner_department", "project")
    rows = _Context(today).rows(milestones)
    pending = {
        proposal.milestone_id: proposal
        for proposal in ReplanProposal.objects.filter(
            milestone__project=project, state=ReplanProposal.State.PENDING
        ).select_related("proposer")
    }
    for row in rows:
        row.can_edit = row.milestone.id in editable_ids
        row.pending_proposal = pending.get(row.milestone.id)
    return rows


def timeline_row(milestone: Milestone, *, today: date, can_edit: bool) -> TimelineRow:
    """One row, evaluated with its project's other milestones (due dates chain)."""
    rows = project_timeline(
        milestone.project, today=today, editable_ids={milestone.id} if can_edit else set()
    )
    return next(row for row in rows if row.milestone.id == milestone.id)


def _milestone_prefetch():
    return Prefetch(
        "milestones",
        queryset=Milestone.objects.select_related("milestone_type", "owner_department"),
    )


def my_project_list(projects, *, today: date) -> list[dict]:
    """Projects most urgent first (red, yellow, by days overdue), with the next milestone.

    Three queries: projects, milestones (prefetch), the policy/types read once.
    """
    projects = list(
        projects.select_related("lead_department")
        .annotate(colour_rank=COLOUR_RANK, cadre_name=person_name("responsible_cadre__"))
        .prefetch_related(_milestone_prefetch())
    )
    context = _Context(today)
    entries = []
    for project in projects:
        rows = context.rows(project.milestones.all())
        next_row = next((row for row in rows if row.is_pending), None)
        entries.append({"project": project, "next": next_row})
    # Project.urgency: most overdue first, then soonest due (stored by the recompute).
    entries.sort(key=lambda e: (e["project"].colour_rank, e["project"].urgency, e["project"].code))
    return entries


def pending_for_departments(department_ids: list[int], *, today: date) -> list[TimelineRow]:
    """A liaison's pending milestones (their departments own them) on active projects, most urgent first."""
    if not department_ids:
        return []
    project_ids = (
        Milestone.objects.filter(
            owner_department_id__in=department_ids,
            actual_date__isnull=True,
            not_applicable=False,
            project__state=Project.State.ACTIVE,
        )
        .values("project_id")
    )
    milestones = (
        Milestone.objects.filter(project_id__in=project_ids)
        .select_related("milestone_type", "owner_department", "project")
    )
    by_project = defaultdict(list)
    for milestone in milestones:
        by_project[milestone.project_id].append(milestone)
    context = _Context(today)
    wanted = set(department_ids)
    pending = []
    for project_milestones in by_project.values():
        for row in context.rows(project_milestones):
            if row.is_pending and row.milestone.owner_department_id in wanted:
                row.can_edit = True
                pending.append(row)
    pending.sort(
        key=lambda row: (
            colours.position(row.colour),
            row.due_date is None,
            row.due_date or date.max,
            row.milestone.project.code,
            row.milestone.milestone_type.order,
        )
    )
    return pending
