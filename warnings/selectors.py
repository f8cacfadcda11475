"""Reads that feed the rules: policy, per-type overrides and the calendar."""
from __future__ import annotations

from datetime import date

from django.utils import timezone

from . import rules
from .models import CalendarDay, WarningPolicy
from .workdays import WorkingCalendar, build_calendar


def local_today() -> date:
    """Today in Asia/Shanghai; only outermost callers (views, tasks, commands) ask."""
    return timezone.localdate()


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


def rules_policy() -> rules.Policy:
    return WarningPolicy.load().as_rules_policy()
