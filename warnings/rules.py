"""The three-colour warning rules (三色预警规则) as a pure function.

`evaluate_project` applies the warning rules (README, "The warning rules") to one project's
milestones, escalations and policy as of a given day. No database, no clock:
callers pass everything in, so every clause can be tested with a table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple, Protocol, Sequence

from qiantang.colours import GREEN, RED, YELLOW  # noqa: E402  (one vocabulary, qiantang/colours.py)
from qiantang.colours import RANK as COLOUR_RANK  # noqa: E402

ACTIVE = "active"

# Reason kinds, stored with the project and rendered in the reader's language.
DUE_SOON = "due_soon"
OVERDUE = "overdue"
ESCALATED = "escalated"
ITEM_OVERDUE = "item_overdue"  # a coordination item past its deadline (when the policy says so)

# Milestone statuses.
NOT_APPLICABLE = "not_applicable"
DONE = "done"
UNSCHEDULED = "unscheduled"
PENDING = "pending"


class WorkingDayCalendar(Protocol):
    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""

    def add_working_days(self, start: date, days: int) -> date:
        """The day on which `days` working days after `start` have passed."""


class CalendarDays:
    """Plain calendar-day arithmetic, the default distance."""

    def working_days_between(self, start: date, end: date) -> int:
        return (end - start).days

    def add_working_days(self, start: date, days: int) -> date:
        return start + timedelta(days=days)


CALENDAR_DAYS = CalendarDays()


@dataclass(frozen=True)
class Policy:
    yellow_before_days: int | None = 15  # None disables the "due soon" window
    red_after_days: int = 0
    count_working_days: bool = False


class MilestoneFacts(NamedTuple):
    """One milestone as the rules read it. A named tuple, not a frozen dataclass: as
    immutable, and made five times faster (the recompute makes one per milestone of the
    district: 900,000 at 100,000 projects)."""

    code: str
    name: str
    order: int
    standard_days: int | None = None
    planned_date: date | None = None
    actual_date: date | None = None
    not_applicable: bool = False
    policy: Policy | None = None  # this type's effective policy; None: the project's


@dataclass(frozen=True)
class EscalationFacts:
    colour: str
    reason: str
    until: date


@dataclass(frozen=True)
class ItemFacts:
    """A coordination item still waiting for its department: what is needed, who, by when."""

    need: str
    department: str
    deadline: date


@dataclass(frozen=True)
class Reason:
    colour: str
    kind: str
    days: int = 0  # overdue days (OVERDUE) or days left (DUE_SOON)
    milestone_code: str = ""
    milestone_name: str = ""
    order: int = 0
    note: str = ""  # an escalation's reason

    def as_dict(self) -> dict:
        return {
            "colour": self.colour,
            "kind": self.kind,
            "days": self.days,
            "milestone": self.milestone_code,
            "name": self.milestone_name,
            "note": self.note,
        }


@dataclass(frozen=True)
class MilestoneResult:
    code: str
    status: str
    due_date: date | None = None
    due_derived: bool = False  # "按标准时限": from the previous milestone's actual date
    colour: str | None = None
    # Pending: counted days past due (negative: days left). Done: actual − due.
    days_late: int | None = None
    reason: Reason | None = None


@dataclass(frozen=True)
class ProjectResult:
    colour: str | None
    reasons: tuple[Reason, ...] = ()
    needs_plan: bool = False
    milestones: tuple[MilestoneResult, ...] = field(default=())

    @property
    def reason_dicts(self) -> list[dict]:
        return [reason.as_dict() for reason in self.reasons]


def worse(a: str | None, b: str | None) -> str | None:
    return a if COLOUR_RANK[a] >= COLOUR_RANK[b] else b


def _calendar_for(policy: Policy, calendar: WorkingDayCalendar | None) -> WorkingDayCalendar:
    if policy.count_working_days and calendar is not None:
        return calendar
    return CALENDAR_DAYS


def _pending_colour(
    facts: MilestoneFacts, due: date, today: date, policy: Policy, days: WorkingDayCalendar
) -> tuple[str, int, Reason | None]:
    """Colour, signed days past due, and reason of a pending milestone with a due date."""
    if today <= due:
        left = days.working_days_between(today, due)
        overdue = -left
    else:
        overdue = days.working_days_between(due, today)
        # Only non-working days have passed since the due date: it is due today.
        left = 0 if overdue <= 0 else None
        overdue = max(overdue, 0)
    if left is not None:
        window = policy.yellow_before_days
        if window is not None and left <= window:
            return YELLOW, -left, Reason(
                YELLOW, DUE_SOON, left, facts.code, facts.name, facts.order
            )
        return GREEN, -left, None
    colour = RED if overdue > policy.red_after_days else YELLOW
    return colour, overdue, Reason(colour, OVERDUE, overdue, facts.code, facts.name, facts.order)


def blank_milestone(
    *, code: str, name: str, order: int, standard_days: int | None = None,
    policy: Policy | None = None,
) -> MilestoneFacts:
    """A catalogue type with nothing filled in: no plan, not done, applicable."""
    return MilestoneFacts(code, name, order, standard_days, policy=policy)


def complete_with_catalogue(
    milestones: Sequence[MilestoneFacts], catalogue: Sequence[MilestoneFacts]
) -> list[MilestoneFacts]:
    """Every type of the catalogue exactly once: the stored milestone where there is one,
    the catalogue's blank milestone where there is none.

    A type nobody filled in is not absent: it is pending, and due by its standard days
    after the previous applicable milestone, or unscheduled. Leaving it out would let a
    signing never entered hide a red (signing due 30 days after approval)."""
    stored = {facts.code for facts in milestones}
    return [*milestones, *(blank for blank in catalogue if blank.code not in stored)]


def evaluate_milestones(
    milestones: Sequence[MilestoneFacts],
    *,
    policy: Policy,
    today: date,
    calendar: WorkingDayCalendar | None = None,
    catalogue: Sequence[MilestoneFacts] = (),
) -> tuple[MilestoneResult, ...]:
    """Due date and colour of each milestone, in catalogue order; with `catalogue`,
    of every catalogue type (see complete_with_catalogue)."""
    results = []
    previous_actual: date | None = None  # of the previous applicable milestone
    if catalogue:
        milestones = complete_with_catalogue(milestones, catalogue)
    for facts in sorted(milestones, key=lambda m: m.order):
        effective = facts.policy or policy
        days = _calendar_for(effective, calendar)
        if facts.not_applicable:
            results.append(MilestoneResult(facts.code, NOT_APPLICABLE))
            continue
        derived = False
        due = facts.planned_date
        if due is None and previous_actual is not None and facts.standard_days is not None:
            due = days.add_working_days(previous_actual, facts.standard_days)
            derived = True
        # Done as of `today`: an actual date after it (only possible when
        # recomputing as of a past day) means the milestone was still pending then.
        actual = facts.actual_date if facts.actual_date and facts.actual_date <= today else None
        previous_actual = actual
        if actual is not None:
            late = days.working_days_between(due, actual) if due else None
            results.append(MilestoneResult(facts.code, DONE, due, derived, GREEN, late))
        elif due is None:
            results.append(MilestoneResult(facts.code, UNSCHEDULED))
        else:
            colour, overdue, reason = _pending_colour(facts, due, today, effective, days)
            results.append(
                MilestoneResult(facts.code, PENDING, due, derived, colour, overdue, reason)
            )
    return tuple(results)


def _reason_sort_key(reason: Reason) -> tuple:
    # Red before yellow; escalations head their colour; then most overdue
    # (due-soon reasons count as negative overdue), then catalogue order.
    signed = reason.days if reason.kind in (OVERDUE, ITEM_OVERDUE) else -reason.days
    return (-COLOUR_RANK[reason.colour], reason.kind != ESCALATED, -signed, reason.order)


def evaluate_project(
    *,
    state: str,
    milestones: Sequence[MilestoneFacts],
    policy: Policy,
    today: date,
    escalations: Sequence[EscalationFacts] = (),
    calendar: WorkingDayCalendar | None = None,
    catalogue: Sequence[MilestoneFacts] = (),
    items: Sequence[ItemFacts] = (),
) -> ProjectResult:
    """Apply the warning rules to one project as of `today`. `catalogue` (blank facts of
    every milestone type) makes a type without a stored milestone count as a blank one.
    `items` (coordination items still waiting, given only when the policy lets overdue items
    count) raise the colour once past their deadline, as an overdue milestone would."""
    results = evaluate_milestones(
        milestones, policy=policy, today=today, calendar=calendar, catalogue=catalogue
    )
    if state != ACTIVE:
        return ProjectResult(colour=None, milestones=results)

    colour = GREEN
    reasons = []
    for result in results:
        if result.reason is not None:
            reasons.append(result.reason)
        if result.colour is not None:
            colour = worse(colour, result.colour)
    days = _calendar_for(policy, calendar)
    for item in items:
        facts = MilestoneFacts(code="", name=item.department, order=0, planned_date=item.deadline)
        item_colour, overdue, _reason = _pending_colour(facts, item.deadline, today, policy, days)
        if overdue > 0:
            colour = worse(colour, item_colour)
            reasons.append(Reason(item_colour, ITEM_OVERDUE, overdue, milestone_name=item.department, note=item.need))
    for escalation in escalations:
        if today <= escalation.until and escalation.colour in (YELLOW, RED):
            colour = worse(colour, escalation.colour)
            reasons.append(Reason(escalation.colour, ESCALATED, note=escalation.reason))
    pending = [r for r in results if r.status in (PENDING, UNSCHEDULED)]
    needs_plan = bool(pending) and pending[0].status == UNSCHEDULED
    return ProjectResult(
        colour=colour,
        reasons=tuple(sorted(reasons, key=_reason_sort_key)),
        needs_plan=needs_plan,
        milestones=results,
    )


def _first_day_within(due: date, window: int, today: date, days: WorkingDayCalendar) -> date:
    """The first day after `today` on which `due` is at most `window` (working) days away.
    As calendar days: `due − window`. Working days are never more than calendar days, so the
    condition holds by that day too, and the first day it holds is found between."""
    latest = due - timedelta(days=window)
    if days is CALENDAR_DAYS:
        return max(latest, today + timedelta(days=1))
    low, high = today + timedelta(days=1), latest
    while low < high:  # working days left only fall as the days pass: bisect
        middle = low + (high - low) // 2
        if days.working_days_between(middle, due) <= window:
            high = middle
        else:
            low = middle + timedelta(days=1)
    return low


def recheck_on(
    result: ProjectResult,
    *,
    state: str,
    milestones: Sequence[MilestoneFacts],
    policy: Policy,
    today: date,
    escalations: Sequence[EscalationFacts] = (),
    calendar: WorkingDayCalendar | None = None,
    catalogue: Sequence[MilestoneFacts] = (),
    items: Sequence[ItemFacts] = (),
) -> date | None:
    """The first day after `today` on which `evaluate_project` with the same inputs may give
    another colour, other reasons or another needs_plan than `result` (its answer as of
    `today`); None when the passage of time alone changes none of them.

    The day may come early, never late: a recompute may leave a project alone before it,
    never on or after it. Only time moves here; any change of an input is the recompute's to
    notice. As days pass:
    - a reason counts days (overdue, or left before the due date): it changes tomorrow;
    - a milestone done on a later day (an actual date after `today`) counts as done from then,
      which also moves the due date derived from it and which milestone needs a plan;
    - a pending milestone without a reason turns yellow when its window opens (red or yellow
      the day after its due date when it has no window);
    - a waiting coordination item counts from the day after its deadline;
    - an escalation stops raising the colour the day after its last day.
    Nothing else reads the day."""
    if state != ACTIVE:
        return None
    tomorrow = today + timedelta(days=1)
    if result.reasons and any(reason.kind != ESCALATED for reason in result.reasons):
        return tomorrow
    candidates: list[date] = []
    facts_in_order = sorted(
        complete_with_catalogue(milestones, catalogue) if catalogue else milestones, key=lambda m: m.order
    )
    for facts, milestone in zip(facts_in_order, result.milestones):
        if facts.not_applicable:
            continue
        if facts.actual_date and facts.actual_date > today:
            candidates.append(facts.actual_date)
        if milestone.status != PENDING:
            continue
        if today > milestone.due_date:  # past due on days off only: a working day changes it
            return tomorrow
        effective = facts.policy or policy
        window = effective.yellow_before_days
        if window is None:
            candidates.append(milestone.due_date + timedelta(days=1))
        else:
            candidates.append(
                _first_day_within(milestone.due_date, window, today, _calendar_for(effective, calendar))
            )
    for item in items:
        if today >= item.deadline:  # overdue on days off only (an overdue one has a reason)
            return tomorrow
        candidates.append(item.deadline + timedelta(days=1))
    for escalation in escalations:
        if today <= escalation.until and escalation.colour in (YELLOW, RED):
            candidates.append(escalation.until + timedelta(days=1))
    return min(candidates, default=None)
