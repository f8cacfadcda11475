"""One recipient's digest (`build_digest`), sliced in memory from the district snapshot:
leaders and the office see the district, cadres their own projects (responsible or on the
team), liaisons the milestones their departments own. Every recipient also reads their own
re-plan proposals decided in the reported week or still pending; the district's digest
counts the proposals waiting for the office and the projects green only after re-planning."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from projects.permissions import can_decide_replan
from qiantang import colours
from qiantang.links import absolute_url
from qiantang.people import display_name

from .. import rules
from .district import DUE_SOON_DAYS, LONGEST_OVERDUE, DistrictPart, district_part, ranked_item_departments
from .snapshot import DistrictSnapshot, EscalationRow, ItemRow, MilestoneRow, ProjectRow, ReplanRow, TalkRow
from .weeks import parse_week, week_monday

# A mail stays readable: each list shows this many rows and says how many more there are.
LIST_LIMIT = 30
LISTS = ("projects", "turned_red", "turned_yellow", "recovered", "due_soon", "needs_plan",
         "escalations", "talks", "department_milestones", "department_items", "green_after_replan", "replan_decisions",
         "replans_pending")
COLOURS = colours.WORST_FIRST
COLOUR_RANK = colours.RANK

# Recipient kinds: what a digest covers (recipients.py says who is which).
DISTRICT = "district"  # leaders and the office
CADRE_PROJECTS = "cadre"
LIAISON_MILESTONES = "liaison"


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
    talks: list[TalkRow] = field(default_factory=list)  # 约谈 to follow up on the recipient's projects
    department_milestones: list[MilestoneRow] = field(default_factory=list)  # liaisons
    departments: list[str] = field(default_factory=list)
    department_items: list[ItemRow] = field(default_factory=list)  # liaisons: items put to them
    items_by_department: list[tuple[str, int, int]] = field(default_factory=list)  # district: open, overdue
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
            or self.escalations or self.talks or self.department_milestones or self.green_after_replan
            or self.department_items or any(overdue for _name, _open, overdue in self.items_by_department)
            or self.replan_decisions or (self.decides_replans and self.pending_replans)
        )

    @property
    def replan_queue_url(self) -> str:
        return absolute_url("replan_queue")

    @property
    def coordination_url(self) -> str:
        return absolute_url("coordination_items")

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


def build_digest(snapshot: DistrictSnapshot, *, user, kinds: list[str], office: bool | None = None) -> Digest:
    """One recipient's digest, in memory. `office` says whether they decide re-plans; by
    default projects.permissions says (groups prefetched by `recipients()`: no query)."""
    if office is None:
        office = can_decide_replan(user)
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
    totals = {}
    if DISTRICT in kinds and not snapshot.whole_district:
        # Not the whole district in memory (a preview, one recipient's task): its aggregates
        # and bounded lists instead, read once per snapshot.
        totals = _fill_district(digest, _district_part(snapshot))
    elif DISTRICT in kinds or CADRE_PROJECTS in kinds:
        if DISTRICT in kinds:
            digest.pending_replans = snapshot.pending_replans
            digest.items_by_department = _items_by_department(snapshot.items)
            ids = set(snapshot.projects)
        else:
            ids = snapshot.cadre_projects.get(user.pk, set()) & set(snapshot.projects)
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
        digest.department_items = [item for item in snapshot.items if item.department_id in departments]
        digest.department_milestones = sorted(
            (
                m for d in departments for m in snapshot.by_department.get(d, ())
                if (m.colour in (rules.RED, rules.YELLOW) or _due_within(m, snapshot.today))
            ),
            key=lambda m: (-COLOUR_RANK.get(m.colour, 0), -(m.days_late or 0), m.project.code, m.order),
        )
    _limit_lists(digest, totals)
    return digest


def _district_part(snapshot: DistrictSnapshot) -> DistrictPart:
    parts = snapshot.district_parts  # by LIST_LIMIT
    if LIST_LIMIT not in parts:
        parts[LIST_LIMIT] = district_part(week=snapshot.week, today=snapshot.today, limit=LIST_LIMIT)
    return parts[LIST_LIMIT]


def _fill_district(digest: Digest, part: DistrictPart) -> dict[str, int]:
    """The district's figures and lists as `district_part` read them; their full lengths."""
    digest.counts, digest.counts_before = dict(part.counts), dict(part.counts_before)
    for name in ("turned_red", "turned_yellow", "recovered", "longest_overdue", "due_soon", "needs_plan",
                 "escalations", "talks", "green_after_replan", "items_by_department"):
        setattr(digest, name, list(getattr(part, name)))
    digest.green_after_replan_count = part.totals["green_after_replan"]
    digest.pending_replans = part.pending_replans
    return part.totals


def _limit_lists(digest: Digest, totals: dict[str, int] | None = None) -> None:
    """Cut each list at LIST_LIMIT and say how many rows are left out; `totals` are the full
    lengths of lists read already cut (the district's, from district_part)."""
    for name in LISTS:
        rows = getattr(digest, name)
        total = (totals or {}).get(name, len(rows))
        if total > LIST_LIMIT:
            digest.more[name] = total - LIST_LIMIT
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
    digest.talks = [t for t in snapshot.talks if t.project.id in ids]
    if DISTRICT in digest.kinds:
        digest.green_after_replan = [r for r in rows if r.green_after_replan]
        digest.green_after_replan_count = len(digest.green_after_replan)


def _items_by_department(items: list[ItemRow]) -> list[tuple[str, int, int]]:
    """(department, waiting, overdue) for the departments items wait on, most overdue first."""
    counts: dict[str, list[int]] = {}
    for item in items:
        waiting_overdue = counts.setdefault(item.department, [0, 0])
        waiting_overdue[0] += 1
        waiting_overdue[1] += item.overdue_days > 0
    return ranked_item_departments(counts)
