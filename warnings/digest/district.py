"""The district's part of a leader's or the office's digest read as aggregates and bounded
lists (`district_part`), for a digest built without the whole district in memory (the
preview, the weekly job's task for one recipient): a fixed number of queries, and rows read
only for what the digest shows.

It gives what slicing the whole district's snapshot gives (content.build_digest over a
snapshot read unnarrowed; tests/warnings/digest/test_district.py holds the two equal):
- counts now by colour, one aggregate; at the start of the week, the same counts corrected
  by the projects with a status change since then (only they can differ);
- the projects that turned red or yellow or recovered (only among projects with a change
  this week), waiting for a plan, green only after re-planning: filtered, ordered most
  urgent first and cut in SQL, each with its full count (a window count);
- the most overdue reds from the stored `Project.urgency` (the most overdue days);
- escalations, talks, coordination items per department, the office's queue: filtered,
  counted and cut in SQL;
- milestones due within DUE_SOON_DAYS: a planned date is the due date, so those are
  filtered, counted and cut in SQL; a due date derived from the previous milestone's actual
  date (standard days, maybe working days) is found among the few projects that can have
  one (`_derived_candidates`), evaluated with the rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.db.models import Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import Coalesce, Collate
from django.utils.translation import gettext as _

from projects.models import CoordinationItem, Milestone, Project, ReplanProposal
from qiantang import colours
from qiantang.dates import EARLIEST_DATE
from qiantang.people import person_name

from .. import rules
from ..models import Escalation, StatusChange, Talk
from ..rules_context import STORED_FIELDS, RulesContext, rules_context
from .snapshot import TALK_FOLLOW_UP_PAST_DAYS, EscalationRow, MilestoneRow, ProjectRow, TalkRow, project_url
from .weeks import week_start

DUE_SOON_DAYS = 14
LONGEST_OVERDUE = 10
ITEM_DEPARTMENTS = 10

RED, YELLOW, GREEN = rules.RED, rules.YELLOW, rules.GREEN
COLOURS = colours.WORST_FIRST


@dataclass
class DistrictPart:
    """What a district digest shows of the district; each list already cut at the limit,
    `totals` its length before the cut."""

    counts: dict
    counts_before: dict
    turned_red: list[ProjectRow]
    turned_yellow: list[ProjectRow]
    recovered: list[ProjectRow]
    longest_overdue: list[ProjectRow]
    due_soon: list[MilestoneRow]
    needs_plan: list[ProjectRow]
    escalations: list[EscalationRow]
    talks: list[TalkRow]
    green_after_replan: list[ProjectRow]
    items_by_department: list[tuple[str, int, int]]
    pending_replans: int
    totals: dict = field(default_factory=dict)


def _binary(name: str):
    """A text column compared as Python compares strings (code points), whatever the
    database's collation: PostgreSQL's "C" collation; SQLite compares bytes already."""
    return Collate(name, "C") if connection.vendor == "postgresql" else F(name)


def _rank():
    return Case(
        When(colour=RED, then=Value(colours.RANK[RED])),
        When(colour=YELLOW, then=Value(colours.RANK[YELLOW])),
        When(colour=GREEN, then=Value(colours.RANK[GREEN])),
        default=Value(0), output_field=IntegerField(),
    )


# ProjectRow.urgency in SQL: worst colour, then most overdue days (reasons.urgency_key stored
# as Project.urgency: minus the most overdue days when a milestone is overdue), then code.
URGENT_FIRST = ("-rank", "-overdue", "code_binary")
PROJECT_FIELDS = (
    "id", "code", "name", "colour", "reasons", "needs_plan", "cadre", "lead_department__name",
    "baseline_colour", "replan_count", "before",
)


class _Rows:
    """Project rows read for the lists, one ProjectRow per project whatever list it is in."""

    def __init__(self, week: str):
        first_change = (
            StatusChange.objects.filter(project=OuterRef("pk"), at__gte=week_start(week))
            .order_by("at", "id").values("from_colour")[:1]
        )
        self.active = Project.objects.filter(state=Project.State.ACTIVE)
        # The colour at the start of the week: the first later change says what it was.
        self.before = Coalesce(Subquery(first_change), F("colour"), output_field=CharField())
        self.annotated = self.active.annotate(
            cadre=person_name("responsible_cadre__"),
            before=self.before,
            rank=_rank(),
            overdue=Case(When(urgency__lt=0, then=-F("urgency")), default=Value(0), output_field=IntegerField()),
            code_binary=_binary("code"),
        )
        self.by_id: dict[int, ProjectRow] = {}

    def row(self, values) -> ProjectRow:
        pid, code, name, colour, reasons, needs_plan, cadre, lead, baseline, replans, before = values
        if pid not in self.by_id:
            self.by_id[pid] = ProjectRow(
                pid, code, name, colour, reasons or [], needs_plan, cadre or "", lead or "", project_url(code),
                colour_before=before, baseline_colour=baseline, replan_count=replans,
            )
        return self.by_id[pid]

    def listed(self, condition: Q, limit: int, order=URGENT_FIRST) -> tuple[list[ProjectRow], int]:
        """The first `limit` projects meeting `condition` in `order`, and how many meet it."""
        found = list(
            self.annotated.filter(condition).annotate(total=Window(Count("id")))
            .order_by(*order).values_list(*PROJECT_FIELDS, "total")[:limit]
        )
        return [self.row(values[:-1]) for values in found], (found[0][-1] if found else 0)

    def read(self, ids) -> None:
        """Read these projects' rows (one query; none for no id)."""
        for values in self.annotated.filter(id__in=sorted(ids)).values_list(*PROJECT_FIELDS):
            self.row(values)


def district_part(*, week: str, today: date, limit: int) -> DistrictPart:
    rows = _Rows(week)
    counts, counts_before = _counts(rows, week)
    totals = {}
    worse_than = {RED: [YELLOW, GREEN], YELLOW: [GREEN]}  # a first colour ("") is no turn
    turned_red, totals["turned_red"] = rows.listed(Q(colour=RED, before__in=worse_than[RED]), limit)
    turned_yellow, totals["turned_yellow"] = rows.listed(Q(colour=YELLOW, before__in=worse_than[YELLOW]), limit)
    recovered, totals["recovered"] = rows.listed(
        Q(before=RED, colour__in=[YELLOW, GREEN]) | Q(before=YELLOW, colour=GREEN), limit
    )
    longest_overdue, _count = rows.listed(Q(colour=RED, overdue__gt=0), LONGEST_OVERDUE, ("-overdue", "code_binary"))
    needs_plan, totals["needs_plan"] = rows.listed(Q(needs_plan=True), limit)
    green_after_replan, totals["green_after_replan"] = rows.listed(
        Q(colour=GREEN, baseline_colour__in=[YELLOW, RED]), limit
    )
    escalations, totals["escalations"] = _escalations(today, limit)
    talks, totals["talks"] = _talks(today, limit)
    due_soon, totals["due_soon"] = _due_soon(today, limit)
    # The projects these name, in one query; then every listed project's escalations.
    rows.read({e[1] for e in escalations} | {t[0] for t in talks} | {m[1] for m in due_soon})
    escalations = _attach_escalations(rows, today, escalations)
    talks = [TalkRow(rows.by_id[pid], *talk) for pid, *talk in talks]
    due_soon = [MilestoneRow(rows.by_id[pid], *milestone) for _key, pid, *milestone in due_soon]
    return DistrictPart(
        counts=counts, counts_before=counts_before, turned_red=turned_red, turned_yellow=turned_yellow,
        recovered=recovered, longest_overdue=longest_overdue, due_soon=due_soon, needs_plan=needs_plan,
        escalations=escalations, talks=talks, green_after_replan=green_after_replan,
        items_by_department=_items_by_department(today),
        pending_replans=ReplanProposal.objects.filter(state=ReplanProposal.State.PENDING).count(),
        totals=totals,
    )


def _counts(rows: _Rows, week: str) -> tuple[dict, dict]:
    """Active projects by colour now, and at the start of the week: only a project with a
    status change since then can have had another colour."""
    now = rows.active.aggregate(**{colour: Count("id", filter=Q(colour=colour)) for colour in COLOURS})
    before = dict(now)
    changed = StatusChange.objects.filter(project=OuterRef("pk"), at__gte=week_start(week))
    for colour, was, number in (
        rows.active.filter(Exists(changed)).annotate(before=rows.before).order_by()
        .values_list("colour", "before").annotate(n=Count("id"))
    ):
        if colour in before:
            before[colour] -= number
        if was in before:
            before[was] += number
    return now, before


def _escalations(today: date, limit: int) -> tuple[list[tuple], int]:
    """The first `limit` escalations in force (id, project id), and how many are."""
    found = list(
        Escalation.objects.filter(until__gte=today, project__state=Project.State.ACTIVE)
        .annotate(total=Window(Count("id"))).order_by("until", "id").values_list("id", "project_id", "total")[:limit]
    )
    return [(pk, project_id) for pk, project_id, _total in found], (found[0][-1] if found else 0)


def _attach_escalations(rows: _Rows, today: date, listed: list[tuple]) -> list[EscalationRow]:
    """The listed escalations, and every listed project's own (ProjectRow.escalations)."""
    by_id = {}
    for pk, project_id, colour, reason, until in (
        Escalation.objects.filter(until__gte=today, project_id__in=sorted(rows.by_id))
        .order_by("until", "id").values_list("id", "project_id", "colour", "reason", "until")
    ):
        project = rows.by_id[project_id]
        by_id[pk] = EscalationRow(project, colour, reason, until)
        project.escalations.append(by_id[pk])
    return [by_id[pk] for pk, _project_id in listed]


def _talks(today: date, limit: int) -> tuple[list[tuple], int]:
    """The first `limit` 约谈 to follow up (project id, then TalkRow's fields), and how many."""
    found = list(
        Talk.objects.filter(
            follow_up_on__gte=today - timedelta(days=TALK_FOLLOW_UP_PAST_DAYS), project__state=Project.State.ACTIVE
        )
        .annotate(total=Window(Count("id"))).order_by("follow_up_on", "id")
        .values_list("project_id", "held_on", "participants", "agreed", "follow_up_on", "total")[:limit]
    )
    return [row[:-1] for row in found], (found[0][-1] if found else 0)


def _items_by_department(today: date) -> list[tuple[str, int, int]]:
    """(department, waiting, overdue) for the departments items wait on, most overdue first."""
    counts: dict[str, list[int]] = {}
    for department_id, name, waiting, overdue in (
        CoordinationItem.objects.filter(state__in=CoordinationItem.OPEN_STATES, project__state=Project.State.ACTIVE)
        .order_by().values_list("department_id", "department__name")
        .annotate(waiting=Count("id"), overdue=Count("id", filter=Q(deadline__lt=today)))
    ):
        pair = counts.setdefault(name if department_id else str(_("待分派")), [0, 0])
        pair[0] += waiting
        pair[1] += overdue
    return ranked_item_departments(counts)


def ranked_item_departments(counts: dict[str, list[int]]) -> list[tuple[str, int, int]]:
    """{department: [waiting, overdue]} as (department, waiting, overdue), most overdue first,
    then most waiting, then by name; the first ITEM_DEPARTMENTS."""
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1][1], -pair[1][0], pair[0]))
    return [(name, waiting, overdue) for name, (waiting, overdue) in ranked[:ITEM_DEPARTMENTS]]


# ---------------------------------------------------------------- due within DUE_SOON_DAYS

def _due_soon(today: date, limit: int) -> tuple[list[tuple], int]:
    """Pending milestones due from today to DUE_SOON_DAYS ahead, soonest first (sort key,
    project id, then MilestoneRow's fields), and their number.

    A pending milestone with a planned date is due on it: those are counted and cut in SQL.
    The others are due by their standard days after the previous applicable milestone's
    actual date; the projects that can have one in the window are few (`_derived_candidates`)
    and are evaluated with the rules, as is every project a listed planned one belongs to."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    active_milestones = Milestone.objects.filter(project__state=Project.State.ACTIVE)
    planned = list(
        active_milestones.filter(not_applicable=False, planned_date__gte=today, planned_date__lte=horizon)
        .filter(Q(actual_date__isnull=True) | Q(actual_date__gt=today))
        .annotate(total=Window(Count("id")))
        .order_by("planned_date", _binary("project__code"), "milestone_type__order")
        .values_list("project_id", "milestone_type_id", "total")[:limit]
    )
    planned_total = planned[0][-1] if planned else 0
    context = rules_context(today)
    candidates = _derived_candidates(context, today, horizon)
    listed_planned = {(pid, type_id) for pid, type_id, _total in planned}
    evaluate = sorted(candidates | {pid for pid, _type, _total in planned})
    if not evaluate:
        return [], planned_total
    department_names = {}
    stored: dict[int, list] = {}
    owners, codes = {}, {}
    for row in (
        Milestone.objects.filter(project_id__in=evaluate, project__state=Project.State.ACTIVE)
        .values_list("project_id", *STORED_FIELDS, "owner_department_id", "owner_department__name", "project__code",
                     named=True)
    ):
        stored.setdefault(row.project_id, []).append(row)
        owners[(row.project_id, context.types[row.milestone_type_id]["code"])] = row.owner_department_id
        department_names[row.owner_department_id] = row.owner_department__name or ""
        codes[row.project_id] = row.project__code
    # An active project among them has a stored row: a planned date, or a milestone done.
    by_code = {row["code"]: (type_id, row) for type_id, row in context.types.items()}
    derived, shown_planned = [], []
    for pid in sorted(stored):
        for evaluated in context.evaluate_stored(stored[pid], today=today).values():
            if evaluated.status != rules.PENDING or not (today <= evaluated.due_date <= horizon):
                continue
            type_id, type_row = by_code[evaluated.code]
            if evaluated.due_derived and pid in candidates:
                target = derived
            elif not evaluated.due_derived and (pid, type_id) in listed_planned:
                target = shown_planned
            else:
                continue
            target.append(((evaluated.due_date, codes[pid], type_row["order"]), pid, type_row["name"], evaluated))
    soonest = sorted(derived + shown_planned, key=lambda found: found[0])[:limit]
    shown = []
    for key, pid, name, evaluated in soonest:
        owner_id = owners.get((pid, evaluated.code))
        shown.append((
            key, pid, name, key[2], evaluated.due_date, evaluated.due_derived, evaluated.colour, evaluated.days_late,
            owner_id, department_names.get(owner_id, ""),
        ))
    return shown, planned_total + len(derived)


def _derived_candidates(context: RulesContext, today: date, horizon: date) -> set[int]:
    """Projects that may have a pending milestone of a type T due in [today, horizon] by T's
    standard days after the previous applicable milestone's actual date. That milestone is
    of the type just before T in the catalogue, or of an earlier type when the one just
    before is not applicable; it was done on a day from which T's standard days end in the
    window (`_previous_actual_window`). A superset (T may be planned, done or not applicable
    itself, the project inactive, a type between not applicable while another is not): the
    rules decide."""
    clauses = Q()
    ordered = sorted(context.types.items(), key=lambda item: item[1]["order"])
    for (previous_id, previous_row), (type_id, type_row) in zip(ordered, ordered[1:]):
        if type_row["standard_days"] is None:
            continue
        window = _previous_actual_window(context, type_id, today, horizon)
        if window is None:
            continue
        low, high = window
        done_in_window = Q(actual_date__lte=high) & (Q(actual_date__gte=low) if low is not None else Q())
        # The type just before T is not applicable (few projects: an IN list, not per row).
        skipped = Milestone.objects.filter(milestone_type_id=previous_id, not_applicable=True).values("project_id")
        clauses |= done_in_window & (
            Q(milestone_type_id=previous_id)
            | Q(project_id__in=skipped, milestone_type__order__lt=previous_row["order"])
        )
    if not clauses:
        return set()
    return set(
        Milestone.objects.filter(clauses, not_applicable=False).order_by().values_list("project_id", flat=True).distinct()
    )


def _previous_actual_window(context: RulesContext, type_id: int, today: date, horizon: date):
    """(low, high): the previous milestone's actual dates (at most today) from which the rules
    put a type's due date in [today, horizon]; low None: no lower bound; None: no such date.

    The rules themselves give the due date for a previous actual date p (`due_after`); it
    never falls as p grows (standard days, counted in calendar or working days, after p),
    so the dates form one interval, found by bisection within the accepted dates."""
    facts = context.facts(type_id, None, None, False)

    def due_after(previous: date) -> date:
        done = rules.MilestoneFacts("", "", facts.order - 1, None, None, previous, False, None)
        return rules.evaluate_milestones(
            [done, facts], policy=context.policy, today=today, calendar=context.calendar
        )[1].due_date

    first = EARLIEST_DATE
    if today < first:
        return None, today
    if due_after(today) < today:
        return None  # even a milestone done today makes it due before today
    # The first day from which it is due today or later.
    low = None if due_after(first) >= today else _first_day(first, today, lambda p: due_after(p) >= today)
    # The last day from which it is due by the horizon.
    if due_after(today) <= horizon:
        high = today
    elif due_after(first) > horizon:
        return (None, first - timedelta(days=1)) if low is None else None
    else:
        high = _first_day(first, today, lambda p: due_after(p) > horizon) - timedelta(days=1)
    if low is not None and low > high:
        return None
    return low, high


def _first_day(low: date, high: date, holds) -> date:
    """The first day in [low, high] on which `holds` (false before it, true from it on) holds;
    it holds on `high`."""
    while low < high:
        middle = low + (high - low) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + timedelta(days=1)
    return low
