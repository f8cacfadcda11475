"""The rules' inputs besides a project's own milestones, read from the database once:
the warning policy, the milestone types with their per-type overrides, and the working-day
calendar (`rules_context`). `RulesContext` is also the one place that turns stored
milestones (model rows, or rows read with `values_list(..., named=True)`) into the rules'
facts and evaluates them: the recompute, the project page, the export and the digest all
go through `facts_of` / `evaluate_stored`."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Protocol

from projects.models import MilestoneType

from . import rules
from .models import CalendarDay, WarningPolicy
from .workdays import WorkingCalendar, build_calendar


NEVER = date.max  # a recheck day: time alone changes nothing (an inactive project, all done)


def calendar_years(today: date) -> range:
    # Distances reach back to long-overdue nodes and forward to 540-day standards.
    return range(max(2000, today.year - 6), min(2100, today.year + 4))


def working_calendar(today: date) -> tuple[WorkingCalendar, list[int]]:
    """The combined calendar and the years no source covers."""
    office_days = dict(CalendarDay.objects.values_list("date", "is_working_day"))
    return build_calendar(office_days=office_days, years=calendar_years(today))


# Each year's holidays are announced late in the year before: from this month
# on, a missing schedule for next year is worth a warning.
NEXT_YEAR_WARNING_MONTH = 11


def uncovered_years_to_report(today: date) -> list[int]:
    """Years around today for which working days fall back to plain weekends."""
    _calendar, uncovered = working_calendar(today)
    last = today.year + 1 if today.month >= NEXT_YEAR_WARNING_MONTH else today.year
    return [year for year in uncovered if today.year - 1 <= year <= last]


def type_policy(milestone_type_row: dict, base: rules.Policy) -> rules.Policy | None:
    """A milestone type's effective policy, or None when it overrides nothing."""
    yellow = milestone_type_row["yellow_before_days"]
    red = milestone_type_row["red_after_days"]
    working = milestone_type_row["count_working_days"]
    disabled = milestone_type_row["yellow_window_disabled"]
    if yellow is None and red is None and working is None and not disabled:
        return None
    return rules.Policy(
        yellow_before_days=None if disabled else (base.yellow_before_days if yellow is None else yellow),
        red_after_days=base.red_after_days if red is None else red,
        count_working_days=base.count_working_days if working is None else working,
    )


class StoredMilestone(Protocol):
    """What the rules read of a stored milestone."""

    milestone_type_id: int
    planned_date: date | None
    actual_date: date | None
    not_applicable: bool


# The stored fields `facts_of` reads, for `values_list(*STORED_FIELDS, named=True)` readers.
STORED_FIELDS = ("milestone_type_id", "planned_date", "actual_date", "not_applicable")


MILESTONE_TYPE_FIELDS = (
    "id", "code", "name", "order", "standard_days",
    "yellow_before_days", "red_after_days", "count_working_days", "yellow_window_disabled",
)


@dataclass(frozen=True)
class RulesContext:
    """Everything the rules need besides a project's own milestones, read once:
    the policy, the milestone types with their effective policies, and the
    working-day calendar (only when some policy counts working days)."""

    policy: rules.Policy
    types: dict[int, dict]  # MilestoneType rows (MILESTONE_TYPE_FIELDS) by id
    type_policies: dict[int, rules.Policy | None]
    calendar: WorkingCalendar | None
    items_raise_colour: bool = False  # overdue coordination items count (WarningPolicy)

    @cached_property
    def catalogue(self) -> tuple[rules.MilestoneFacts, ...]:
        """A blank milestone of every type: what a project has where it has no row."""
        return tuple(
            rules.blank_milestone(
                code=row["code"], name=row["name"], order=row["order"],
                standard_days=row["standard_days"], policy=self.type_policies[type_id],
            )
            for type_id, row in sorted(self.types.items(), key=lambda item: item[1]["order"])
        )

    def evaluate_milestones(
        self, milestones: Sequence[rules.MilestoneFacts], *, today: date
    ) -> tuple[rules.MilestoneResult, ...]:
        """Every catalogue type's due date and colour (the rules, with this context)."""
        return rules.evaluate_milestones(
            milestones, policy=self.policy, today=today, calendar=self.calendar,
            catalogue=self.catalogue,
        )

    def evaluate_project(
        self, *, state: str, milestones: Sequence[rules.MilestoneFacts], today: date,
        escalations: Sequence[rules.EscalationFacts] = (), items: Sequence[rules.ItemFacts] = (),
    ) -> rules.ProjectResult:
        """The project's colour and reasons against the whole catalogue (the rules); its
        waiting coordination items count only when the policy says so."""
        return rules.evaluate_project(
            state=state, milestones=milestones, policy=self.policy, today=today,
            escalations=escalations, calendar=self.calendar, catalogue=self.catalogue,
            items=items if self.items_raise_colour else (),
        )

    def recheck_on(
        self, result: rules.ProjectResult, *, state: str, milestones: Sequence[rules.MilestoneFacts], today: date,
        escalations: Sequence[rules.EscalationFacts] = (), items: Sequence[rules.ItemFacts] = (),
    ) -> date:
        """The first day `result` (of `evaluate_project` with the same arguments) may stop
        holding with no input changed (rules.recheck_on); NEVER when time alone changes nothing."""
        day = rules.recheck_on(
            result, state=state, milestones=milestones, policy=self.policy, today=today,
            escalations=escalations, calendar=self.calendar, catalogue=self.catalogue,
            items=items if self.items_raise_colour else (),
        )
        return NEVER if day is None else day

    def facts_of(self, milestone: StoredMilestone) -> rules.MilestoneFacts:
        """A stored milestone (a Milestone, or a row with the same four fields) as the rules'
        facts, with its type's name, order, standard days and effective policy."""
        return self.facts(
            milestone.milestone_type_id, milestone.planned_date, milestone.actual_date,
            milestone.not_applicable,
        )

    @cached_property
    def _type_facts(self) -> dict[int, tuple]:
        return {
            type_id: (row["code"], row["name"], row["order"], row["standard_days"])
            for type_id, row in self.types.items()
        }

    def facts(
        self, type_id: int, planned_date: date | None, actual_date: date | None, not_applicable: bool
    ) -> rules.MilestoneFacts:
        """`facts_of` for the four stored values themselves (STORED_FIELDS, in that order):
        what the recompute reads for every milestone of the district, as plain tuples."""
        code, name, order, standard_days = self._type_facts[type_id]
        return rules.MilestoneFacts(
            code, name, order, standard_days, planned_date, actual_date, not_applicable,
            self.type_policies[type_id],
        )

    def evaluate_stored(
        self, milestones: Iterable[StoredMilestone], *, today: date
    ) -> dict[str, rules.MilestoneResult]:
        """One project's stored milestones evaluated against the whole catalogue: every
        type's result by its code (a type with no stored row is a blank milestone)."""
        facts = [self.facts_of(milestone) for milestone in milestones]
        return {result.code: result for result in self.evaluate_milestones(facts, today=today)}

def rules_context(today: date | None) -> RulesContext:
    """Read the rules' inputs; the calendar covers the years around `today`
    (no calendar without a day: distances then count calendar days)."""
    stored_policy = WarningPolicy.load()
    policy = stored_policy.as_rules_policy()
    types = {row["id"]: row for row in MilestoneType.objects.values(*MILESTONE_TYPE_FIELDS)}
    uses_working_days = policy.count_working_days or any(
        row["count_working_days"] for row in types.values()
    )
    calendar = working_calendar(today)[0] if uses_working_days and today is not None else None
    return RulesContext(
        policy=policy,
        types=types,
        type_policies={type_id: type_policy(row, policy) for type_id, row in types.items()},
        calendar=calendar,
        items_raise_colour=stored_policy.items_raise_colour,
    )
