"""The weekly warning digest (预警周报): what each recipient reads on Monday morning.

`district_snapshot` reads the whole district once (a fixed number of queries, however
many projects or recipients); `build_digest` slices it for one recipient in memory:
leaders and the office see the district, cadres their own projects (responsible or on
the team), liaisons the milestones their departments own. Every recipient also reads
their own re-plan proposals (调整计划申请) decided in the reported week or still pending;
the district's digest counts the proposals waiting for the office and the projects
green only after re-planning (调整后绿). Nothing here reads the clock.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from projects.models import Department, Milestone, Project, ReplanProposal
from projects.permissions import projects_of_cadre
from projects.roles import CADRE, LEADER, LIAISON, OFFICE
from qiantang import colours
from qiantang.links import absolute_url
from qiantang.people import display_name, person_name

from . import rules
from .models import DigestPreference, Escalation, StatusChange
from .reasons import most_overdue_days, most_overdue_reason, render_reason
from .selectors import rules_context

DUE_SOON_DAYS = 14
LONGEST_OVERDUE = 10
# A mail stays readable: each list shows this many rows and says how many more there are.
LIST_LIMIT = 30
LISTS = ("projects", "turned_red", "turned_yellow", "recovered", "due_soon", "needs_plan",
         "escalations", "department_milestones", "green_after_replan", "replan_decisions",
         "replans_pending")
COLOURS = colours.WORST_FIRST
COLOUR_RANK = colours.RANK

# Recipient kinds: what a digest covers.
DISTRICT = "district"  # leaders and the office
CADRE_PROJECTS = "cadre"
LIAISON_MILESTONES = "liaison"


# ---------------------------------------------------------------- weeks

def parse_week(text: str) -> tuple[int, int]:
    """'2026-W48' → (2026, 48); ValueError with a readable message otherwise."""
    try:
        year_text, week_text = text.strip().upper().split("-W")
        year, week = int(year_text), int(week_text)
        date.fromisocalendar(year, week, 1)
    except (ValueError, AttributeError):
        raise ValueError(f"not an ISO week like 2026-W48: {text!r}") from None
    return year, week


def week_label(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    year, number = parse_week(week)
    return date.fromisocalendar(year, number, 1)


def week_start(week: str) -> datetime:
    """The digest of week W reports on the seven days before its Monday, from this moment."""
    monday = week_monday(week) - timedelta(days=7)
    return timezone.make_aware(datetime.combine(monday, time.min))


def week_end(week: str) -> datetime:
    """…up to this one, excluded: the Monday itself belongs to next week's digest, so a
    decision taken before Monday's sending is reported once, the week after."""
    return timezone.make_aware(datetime.combine(week_monday(week), time.min))


# ---------------------------------------------------------------- rows

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
    )


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
    context = rules_context(today)
    types = context.types

    facts = defaultdict(list)
    owners = {}
    queryset = Milestone.objects.filter(project__state=Project.State.ACTIVE)
    if len(projects) < 5000:
        queryset = queryset.filter(project_id__in=list(projects))
    for project_id, type_id, planned, actual, not_applicable, owner_id in queryset.values_list(
        "project_id", "milestone_type_id", "planned_date", "actual_date", "not_applicable",
        "owner_department_id",
    ).iterator(chunk_size=10000):
        if project_id not in projects:
            continue
        facts[project_id].append(
            context.milestone_facts(
                type_id, planned_date=planned, actual_date=actual, not_applicable=not_applicable
            )
        )
        owners[(project_id, types[type_id]["code"])] = owner_id

    by_code = {row["code"]: row for row in types.values()}
    result = []
    # Every project, with or without stored milestones: a type with no row is a blank one.
    for project_id in projects:
        for evaluated in context.evaluate_milestones(facts.get(project_id, ()), today=today):
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


# ---------------------------------------------------------------- one recipient's digest

@dataclass
class Digest:
    recipient_id: int
    recipient_name: str
    kinds: list[str]
    week: str
    today: date
    counts: dict = field(default_factory=dict)
    counts_before: dict = field(default_factory=dict)
    projects: list[ProjectRow] = field(default_factory=list)  # cadres: their red and yellow, most urgent first
    turned_red: list[ProjectRow] = field(default_factory=list)
    turned_yellow: list[ProjectRow] = field(default_factory=list)
    recovered: list[ProjectRow] = field(default_factory=list)
    longest_overdue: list[ProjectRow] = field(default_factory=list)
    due_soon: list[MilestoneRow] = field(default_factory=list)
    needs_plan: list[ProjectRow] = field(default_factory=list)
    escalations: list[EscalationRow] = field(default_factory=list)
    department_milestones: list[MilestoneRow] = field(default_factory=list)  # liaisons
    departments: list[str] = field(default_factory=list)
    # District: green only after re-planning (调整后绿), their number before the list's limit.
    green_after_replan: list[ProjectRow] = field(default_factory=list)
    green_after_replan_count: int = 0
    # The recipient's own re-plan proposals: decided in the reported week, still pending.
    replan_decisions: list[ReplanRow] = field(default_factory=list)
    replans_pending: list[ReplanRow] = field(default_factory=list)
    # District: proposals waiting for the office (None: not shown); the office decides them.
    pending_replans: int | None = None
    decides_replans: bool = False
    more: dict = field(default_factory=dict)  # list name → rows left out beyond LIST_LIMIT

    @property
    def covers_projects(self) -> bool:
        return DISTRICT in self.kinds or CADRE_PROJECTS in self.kinds

    @property
    def is_empty(self) -> bool:
        """Nothing to act on or to hear: every project green (and not only after re-planning),
        nothing due, planned or escalated, no decision on one's re-plan proposals and, for
        the office, no proposal waiting. A proposal still pending alone is no news to its
        proposer; it is listed, but an "all green" digest stays all green."""
        return not (
            self.counts.get(rules.RED) or self.counts.get(rules.YELLOW) or self.turned_red
            or self.turned_yellow or self.recovered or self.due_soon or self.needs_plan
            or self.escalations or self.department_milestones or self.green_after_replan
            or self.replan_decisions or (self.decides_replans and self.pending_replans)
        )

    @property
    def replan_queue_url(self) -> str:
        return absolute_url("replan_queue")

    @property
    def count_rows(self) -> list[dict]:
        return [
            {
                "colour": colour,
                "now": self.counts.get(colour, 0),
                "before": self.counts_before.get(colour, 0),
                "delta": self.counts.get(colour, 0) - self.counts_before.get(colour, 0),
            }
            for colour in COLOURS
        ]

    @property
    def monday(self) -> date:
        return week_monday(self.week)

    @property
    def week_number(self) -> int:
        return parse_week(self.week)[1]


def recipient_kinds(user, group_names: set[str]) -> list[str]:
    if LEADER in group_names or OFFICE in group_names:
        return [DISTRICT]
    kinds = []
    if CADRE in group_names:
        kinds.append(CADRE_PROJECTS)
    if LIAISON in group_names:
        kinds.append(LIAISON_MILESTONES)
    return kinds


def decides_replans(group_names: set[str]) -> bool:
    """The office decides re-plan proposals; leaders read the queue (projects.permissions)."""
    return OFFICE in group_names


def build_digest(snapshot: DistrictSnapshot, *, user, kinds: list[str], office: bool | None = None) -> Digest:
    """One recipient's digest, in memory. `office` says whether they decide re-plans; by
    default it is read from user.groups, prefetched by `recipients()` (no query)."""
    if office is None:
        office = decides_replans({group.name for group in user.groups.all()})
    digest = Digest(
        recipient_id=user.pk,
        recipient_name=display_name(user),
        kinds=kinds,
        week=snapshot.week,
        today=snapshot.today,
        decides_replans=office and DISTRICT in kinds,
    )
    own = [row for row in snapshot.replans if row.proposer_id == user.pk]
    digest.replan_decisions = sorted((r for r in own if not r.is_pending), key=lambda r: r.decided_at)
    digest.replans_pending = sorted((r for r in own if r.is_pending), key=lambda r: r.created_at)
    if DISTRICT in kinds:
        digest.pending_replans = snapshot.pending_replans
    if DISTRICT in kinds:
        ids = set(snapshot.projects)
    elif CADRE_PROJECTS in kinds:
        ids = snapshot.cadre_projects.get(user.pk, set()) & set(snapshot.projects)
    else:
        ids = set()
    if DISTRICT in kinds or CADRE_PROJECTS in kinds:
        _fill_projects(digest, snapshot, ids)
        if CADRE_PROJECTS in kinds:
            # Their red and yellow projects, most urgent first; the green ones are in the counts.
            digest.projects = sorted(
                (snapshot.projects[i] for i in ids if snapshot.projects[i].colour in (rules.RED, rules.YELLOW)),
                key=lambda p: p.urgency,
            )
    if LIAISON_MILESTONES in kinds:
        departments = snapshot.liaison_departments.get(user.pk, set())
        digest.departments = sorted(snapshot.department_names[d] for d in departments)
        digest.department_milestones = sorted(
            (
                m for d in departments for m in snapshot.by_department.get(d, ())
                if (m.colour in (rules.RED, rules.YELLOW) or _due_within(m, snapshot.today))
            ),
            key=lambda m: (-COLOUR_RANK.get(m.colour, 0), -(m.days_late or 0), m.project.code, m.order),
        )
    _limit_lists(digest)
    return digest


def _limit_lists(digest: Digest) -> None:
    for name in LISTS:
        rows = getattr(digest, name)
        if len(rows) > LIST_LIMIT:
            digest.more[name] = len(rows) - LIST_LIMIT
            setattr(digest, name, rows[:LIST_LIMIT])


def _due_within(milestone: MilestoneRow, today: date) -> bool:
    return milestone.due_date is not None and today <= milestone.due_date <= today + timedelta(days=DUE_SOON_DAYS)


def _fill_projects(digest: Digest, snapshot: DistrictSnapshot, ids: set[int]) -> None:
    rows = sorted((snapshot.projects[i] for i in ids), key=lambda p: p.urgency)
    digest.counts = {colour: 0 for colour in COLOURS}
    digest.counts_before = {colour: 0 for colour in COLOURS}
    for row in rows:
        if row.colour in digest.counts:
            digest.counts[row.colour] += 1
        if row.colour_before in digest.counts_before:
            digest.counts_before[row.colour_before] += 1
    # A first colour (a new or reactivated project) is no change of colour.
    worse = lambda row: bool(row.colour_before) and COLOUR_RANK.get(row.colour or None, 0) > COLOUR_RANK[row.colour_before]  # noqa: E731
    better = lambda row: row.colour_before in (rules.RED, rules.YELLOW) and (  # noqa: E731
        COLOUR_RANK.get(row.colour or None, 0) < COLOUR_RANK[row.colour_before]
    ) and row.colour
    digest.turned_red = [r for r in rows if r.colour == rules.RED and worse(r)]
    digest.turned_yellow = [r for r in rows if r.colour == rules.YELLOW and worse(r)]
    digest.recovered = [r for r in rows if better(r)]
    digest.longest_overdue = sorted(
        (r for r in rows if r.colour == rules.RED and r.overdue_days > 0),
        key=lambda r: (-r.overdue_days, r.code),
    )[:LONGEST_OVERDUE]
    digest.due_soon = sorted(
        (m for pid in ids for m in snapshot.by_project.get(pid, ()) if _due_within(m, snapshot.today)),
        key=lambda m: (m.due_date, m.project.code, m.order),
    )
    digest.needs_plan = [r for r in rows if r.needs_plan]
    digest.escalations = [e for e in snapshot.escalations if e.project.id in ids]
    if DISTRICT in digest.kinds:
        digest.green_after_replan = [r for r in rows if r.green_after_replan]
        digest.green_after_replan_count = len(digest.green_after_replan)


# ---------------------------------------------------------------- recipients

@dataclass
class Recipient:
    user: object
    kinds: list[str]
    send_empty: bool


def recipients(*, usernames: list[str] | None = None, user_ids: list[int] | None = None) -> list[Recipient]:
    """Active users with an email address in a digest role, who have not switched it off."""
    User = get_user_model()
    users = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(groups__name__in=[LEADER, OFFICE, CADRE, LIAISON])
        .distinct()
        .order_by("username")
        .prefetch_related("groups")
    )
    if usernames is not None:
        users = users.filter(username__in=usernames)
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
    preferences = {
        user_id: (enabled, send_empty)
        for user_id, enabled, send_empty in DigestPreference.objects.values_list("user_id", "enabled", "send_empty")
    }
    result = []
    for user in users:
        enabled, send_empty = preferences.get(user.pk, (True, True))
        if not enabled:
            continue
        kinds = recipient_kinds(user, {g.name for g in user.groups.all()})
        if kinds:
            result.append(Recipient(user, kinds, send_empty))
    return result


def digest_for_user(user, *, week: str, today: date) -> Digest:
    """One user's digest (the preview): reads only what that user's digest covers."""
    group_names = set(user.groups.values_list("name", flat=True))
    kinds = recipient_kinds(user, group_names)
    proposers = [user.pk]
    if DISTRICT in kinds:
        scope = proposers = None  # the office's queue is counted from every proposal
    else:
        scope = list(projects_of_cadre(user).values_list("id", flat=True)) if CADRE_PROJECTS in kinds else []
        if LIAISON_MILESTONES in kinds:
            scope += list(
                Milestone.objects.filter(owner_department__liaisons=user).values_list("project_id", flat=True).distinct()
            )
    snapshot = district_snapshot(week=week, today=today, project_ids=scope, proposer_ids=proposers)
    return build_digest(snapshot, user=user, kinds=kinds, office=decides_replans(group_names))
