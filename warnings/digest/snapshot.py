"""The district as the week's digests see it, read once (`district_snapshot`): a fixed
number of queries, however many projects or recipients. Nothing here reads the clock."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from projects.models import CoordinationItem, Department, Milestone, Project, ReplanProposal
from qiantang import colours
from qiantang.links import absolute_url
from qiantang.people import person_name

from .. import rules
from ..models import Escalation, StatusChange, Talk
from ..reasons import most_overdue_days, most_overdue_reason, render_reason
from ..rules_context import STORED_FIELDS, rules_context
from .weeks import week_end, week_start

COLOUR_RANK = colours.RANK


@dataclass
class ProjectRow:
    id: int
    code: str
    name: str
    colour: str
    reasons: list
    needs_plan: bool
    cadre_name: str
    lead_department: str
    url: str
    colour_before: str = ""  # at the start of the reported week
    escalations: list = field(default_factory=list)
    baseline_colour: str = ""  # against the first planned dates (基准日期)
    replan_count: int = 0

    @property
    def green_after_replan(self) -> bool:
        """调整后绿: green now, yellow or red against the first planned dates."""
        return self.colour == rules.GREEN and self.baseline_colour in (rules.YELLOW, rules.RED)

    @property
    def headline(self) -> str:
        return render_reason(self.reasons[0]) if self.reasons else ""

    @property
    def reason_texts(self) -> list[str]:
        return [render_reason(reason) for reason in self.reasons]

    @property
    def overdue_reason(self) -> str:
        """The most overdue milestone's reason (the headline may be an escalation)."""
        reason = most_overdue_reason(self.reasons)
        return render_reason(reason) if reason is not None else self.headline

    @property
    def overdue_days(self) -> int:
        return most_overdue_days(self.reasons) or 0

    @property
    def urgency(self) -> tuple:
        """Most urgent first: red, yellow, green; then most overdue; then code."""
        return (-COLOUR_RANK.get(self.colour or None, 0), -self.overdue_days, self.code)


@dataclass
class MilestoneRow:
    project: ProjectRow
    name: str
    order: int
    due_date: date | None
    due_derived: bool
    colour: str | None
    days_late: int | None  # signed: positive overdue, negative days left
    owner_department_id: int | None
    owner_department: str

    @property
    def days_left(self) -> int:
        return -(self.days_late or 0)

    @property
    def overdue(self) -> int:
        return max(self.days_late or 0, 0)


@dataclass
class EscalationRow:
    project: ProjectRow
    colour: str
    reason: str
    until: date


@dataclass
class TalkRow:
    """约谈 whose follow-up date is at most a week past (still to be followed up)."""

    project: ProjectRow
    held_on: date
    participants: str
    agreed: str
    follow_up_on: date


@dataclass
class ItemRow:
    """A coordination item still waiting for its department (协调事项)."""

    project: ProjectRow
    need: str
    department_id: int
    department: str
    deadline: date
    overdue_days: int  # 0 when not yet past the deadline


@dataclass
class ReplanRow:
    """One re-plan proposal (调整计划申请) as its proposer reads it in the digest."""

    proposer_id: int
    project_code: str
    project_name: str
    url: str  # the milestone's row on the project page
    milestone: str
    replaced_date: date | None  # the plan it would replace (pending) or replaced (decided)
    proposed_date: date
    state: str
    comment: str
    decided_by: str
    decided_at: datetime | None
    created_at: datetime

    @property
    def is_pending(self) -> bool:
        return self.state == ReplanProposal.State.PENDING


@dataclass
class DistrictSnapshot:
    """Everything the week's digests show, read once."""

    week: str
    today: date
    projects: dict[int, ProjectRow]
    milestones: list[MilestoneRow]
    escalations: list[EscalationRow]
    cadre_projects: dict[int, set[int]]
    liaison_departments: dict[int, set[int]]
    department_names: dict[int, str]
    replans: list[ReplanRow] = field(default_factory=list)
    pending_replans: int | None = None  # the office's queue; None when the read was narrowed
    items: list[ItemRow] = field(default_factory=list)  # waiting coordination items, most overdue first
    talks: list[TalkRow] = field(default_factory=list)  # 约谈 still to follow up, soonest first
    # Every active project read (not narrowed): a district digest is sliced from it in memory;
    # otherwise it reads the district's aggregates and bounded lists (district.py).
    whole_district: bool = True
    district_parts: dict = field(default_factory=dict, repr=False, compare=False)  # content.py's cache
    by_project: dict[int, list[MilestoneRow]] = field(default_factory=dict)
    by_department: dict[int, list[MilestoneRow]] = field(default_factory=dict)

    def __post_init__(self):
        # Indexes, so each recipient's slice costs what it shows, not the district's size.
        by_project, by_department = defaultdict(list), defaultdict(list)
        for milestone in self.milestones:
            by_project[milestone.project.id].append(milestone)
            by_department[milestone.owner_department_id].append(milestone)
        self.by_project, self.by_department = dict(by_project), dict(by_department)


def project_url(code: str) -> str:
    return absolute_url("project_detail", code=code)


def _person(user_row) -> str:
    last, first, username = user_row
    return f"{last or ''}{first or ''}" or (username or "")


def district_snapshot(*, week: str, today: date, project_ids=None, proposer_ids=None) -> DistrictSnapshot:
    """Read the active projects, their pending milestones, history, escalations and
    re-plan proposals once.

    `project_ids` and `proposer_ids` narrow the read (a single preview); None reads the
    district. About ten queries in either case, whatever the number of projects and
    recipients.
    """
    active = Project.objects.filter(state=Project.State.ACTIVE)
    if project_ids is not None:
        active = active.filter(id__in=project_ids)
    projects: dict[int, ProjectRow] = {}
    for row in active.annotate(cadre=person_name("responsible_cadre__")).values_list(
        "id", "code", "name", "colour", "reasons", "needs_plan", "cadre", "lead_department__name",
        "baseline_colour", "replan_count",
    ):
        pid, code, name, colour, reasons, needs_plan, cadre, lead, baseline_colour, replan_count = row
        projects[pid] = ProjectRow(
            pid, code, name, colour, reasons or [], needs_plan, cadre or "", lead or "", project_url(code),
            colour_before=colour, baseline_colour=baseline_colour, replan_count=replan_count,
        )

    # Colour at the start of the week: the first later change says what it was then.
    changes = StatusChange.objects.filter(at__gte=week_start(week)).order_by("at", "id")
    if project_ids is not None:
        changes = changes.filter(project_id__in=project_ids)
    seen: set[int] = set()
    for project_id, from_colour in changes.values_list("project_id", "from_colour"):
        if project_id in projects and project_id not in seen:
            projects[project_id].colour_before = from_colour
            seen.add(project_id)

    escalations = []
    for project_id, colour, reason, until in (
        Escalation.objects.filter(until__gte=today, project__state=Project.State.ACTIVE)
        .filter(**({"project_id__in": project_ids} if project_ids is not None else {}))
        .order_by("until", "id")
        .values_list("project_id", "colour", "reason", "until")
    ):
        if project_id in projects:
            row = EscalationRow(projects[project_id], colour, reason, until)
            escalations.append(row)
            projects[project_id].escalations.append(row)

    department_names = dict(Department.objects.values_list("id", "name"))
    milestones = _milestone_rows(projects, today, department_names)

    cadre_projects: dict[int, set[int]] = defaultdict(set)
    for pid, cadre_id in active.filter(responsible_cadre__isnull=False).values_list("id", "responsible_cadre_id"):
        cadre_projects[cadre_id].add(pid)
    for pid, user_id in Project.team.through.objects.filter(project__in=active).values_list("project_id", "user_id"):
        cadre_projects[user_id].add(pid)

    liaison_departments: dict[int, set[int]] = defaultdict(set)
    for dept_id, user_id in Department.liaisons.through.objects.values_list("department_id", "user_id"):
        liaison_departments[user_id].add(dept_id)

    replans = _replan_rows(week, proposer_ids)
    # Read unnarrowed, the pending rows are the office's whole queue (no second query).
    pending_replans = sum(row.is_pending for row in replans) if proposer_ids is None else None

    return DistrictSnapshot(
        week, today, projects, milestones, escalations, dict(cadre_projects),
        dict(liaison_departments), department_names, replans, pending_replans,
        items=_item_rows(projects, today, department_names),
        talks=_talk_rows(projects, today),
        whole_district=project_ids is None,
    )


TALK_FOLLOW_UP_PAST_DAYS = 7


def _talk_rows(projects: dict[int, ProjectRow], today: date) -> list[TalkRow]:
    queryset = Talk.objects.filter(follow_up_on__gte=today - timedelta(days=TALK_FOLLOW_UP_PAST_DAYS))
    queryset = _of_projects(queryset, projects)
    return [
        TalkRow(projects[project_id], held_on, participants, agreed, follow_up_on)
        for project_id, held_on, participants, agreed, follow_up_on in queryset.order_by("follow_up_on", "id")
        .values_list("project_id", "held_on", "participants", "agreed", "follow_up_on")
        if project_id in projects
    ]


# Below this many projects, rows are read by project id; above it, an IN list of ids costs more
# than reading every active project's rows and skipping the few not in the snapshot.
NARROW_BY_ID_BELOW = 5000


def _of_projects(queryset, projects: dict):
    """`queryset` (rows with a project_id) narrowed to the snapshot's projects when that is cheaper."""
    return queryset.filter(project_id__in=list(projects)) if len(projects) < NARROW_BY_ID_BELOW else queryset


def _item_rows(projects: dict[int, ProjectRow], today: date, department_names) -> list[ItemRow]:
    """The coordination items of these active projects still waiting for their department."""
    queryset = CoordinationItem.objects.filter(
        state__in=CoordinationItem.OPEN_STATES, project__state=Project.State.ACTIVE
    )
    queryset = _of_projects(queryset, projects)
    rows = [
        ItemRow(projects[project_id], need, department_id,
                department_names.get(department_id, "") if department_id else str(_("待分派")), deadline,
                max((today - deadline).days, 0) if deadline else 0)
        for project_id, need, department_id, deadline in queryset.values_list(
            "project_id", "need", "department_id", "deadline"
        )
        if project_id in projects
    ]
    return sorted(rows, key=lambda row: (-row.overdue_days, row.deadline or date.max, row.project.code))


def _replan_rows(week: str, proposer_ids) -> list[ReplanRow]:
    """Every proposal decided in the reported week or still pending, in one query.

    Whatever the project's state now: a decision on a project paused since is still news
    to its proposer.
    """
    queryset = ReplanProposal.objects.filter(
        Q(state=ReplanProposal.State.PENDING) | Q(decided_at__gte=week_start(week), decided_at__lt=week_end(week))
    )
    if proposer_ids is not None:
        queryset = queryset.filter(proposer_id__in=proposer_ids)
    rows = []
    for (
        proposer_id, code, name, milestone, type_code, planned, previous, proposed, state, comment,
        decided_by, decided_at, created_at,
    ) in (
        queryset.annotate(decider=person_name("decided_by__"))
        .order_by("decided_at", "created_at", "id")
        .values_list(
            "proposer_id", "milestone__project__code", "milestone__project__name",
            "milestone__milestone_type__name", "milestone__milestone_type__code", "milestone__planned_date",
            "previous_planned_date", "proposed_planned_date", "state", "decision_comment", "decider",
            "decided_at", "created_at",
        )
    ):
        pending = state == ReplanProposal.State.PENDING
        rows.append(
            ReplanRow(
                proposer_id, code, name, f"{project_url(code)}#m-{type_code}", milestone,
                # Like ReplanProposal.replaced_planned_date: today's plan while pending.
                planned if pending else previous, proposed, state, comment,
                "" if pending else (decided_by or ""), decided_at, created_at,
            )
        )
    return rows


def _milestone_rows(projects: dict[int, ProjectRow], today: date, department_names) -> list[MilestoneRow]:
    """Due date and colour of every pending milestone, by the same rules as the recompute."""
    if not projects:
        return []  # a narrowed read with no project (a district preview): not even the rules' inputs
    context = rules_context(today)
    types = context.types

    stored = defaultdict(list)
    owners = {}
    queryset = Milestone.objects.filter(project__state=Project.State.ACTIVE)
    queryset = _of_projects(queryset, projects)
    rows = queryset.values_list("project_id", *STORED_FIELDS, "owner_department_id", named=True)
    for row in rows.iterator(chunk_size=10000):
        if row.project_id not in projects:
            continue
        stored[row.project_id].append(row)
        owners[(row.project_id, types[row.milestone_type_id]["code"])] = row.owner_department_id

    by_code = {row["code"]: row for row in types.values()}
    result = []
    # Every project, with or without stored milestones: a type with no row is a blank one.
    for project_id in projects:
        for evaluated in context.evaluate_stored(stored.get(project_id, ()), today=today).values():
            if evaluated.status != rules.PENDING:
                continue
            owner_id = owners.get((project_id, evaluated.code))
            type_row = by_code[evaluated.code]
            result.append(
                MilestoneRow(
                    projects[project_id], type_row["name"], type_row["order"], evaluated.due_date,
                    evaluated.due_derived, evaluated.colour, evaluated.days_late, owner_id,
                    department_names.get(owner_id, ""),
                )
            )
    return result


