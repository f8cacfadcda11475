"""China's working-day calendar (工作日/调休) for counting distances.

Sources, strongest first: the office's own table (CalendarDay), the
`chinese-calendar` package for the years it covers, and plain weekends for any
year neither covers (reported as "uncovered" so the policy page can say so).
`WorkingCalendar` itself is pure: it is built from sets of days.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()  # weekdays that are days off
    working_weekends: frozenset[date] = frozenset()  # 调休: weekend days worked

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.working_weekends:
            return True
        return day.weekday() < 5

    @cached_property
    def _cumulative(self) -> list[int]:
        """_cumulative[i] = working days in [FIRST_DAY, FIRST_DAY + i]."""
        counts = []
        total = 0
        day = FIRST_DAY
        one = timedelta(days=1)
        while day <= LAST_DAY:
            total += self.is_working_day(day)
            counts.append(total)
            day += one
        return counts

    def _index(self, day: date) -> int:
        if not (FIRST_DAY <= day <= LAST_DAY):
            raise ValueError(f"{day} is outside {FIRST_DAY}..{LAST_DAY}")
        return (day - FIRST_DAY).days

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        cumulative = self._cumulative
        return cumulative[self._index(end)] - cumulative[self._index(start)]

    def add_working_days(self, start: date, days: int) -> date:
        """The first day by which `days` working days after `start` have passed.

        Negative `days` count back to the working day from which `-days` working
        days lead to `start`, so that working_days_between(start, result) == days
        either way (as `start + timedelta(days)` does for calendar days). Zero is
        `start` itself, working day or not. Clamped to FIRST_DAY..LAST_DAY.
        """
        if days == 0:
            return start
        cumulative = self._cumulative
        target = cumulative[self._index(start)] + days
        index = bisect.bisect_left(cumulative, target)
        if index >= len(cumulative):
            return LAST_DAY
        return FIRST_DAY + timedelta(days=index)


def package_days(year: int) -> tuple[set[date], set[date]] | None:
    """(holidays on weekdays, working weekend days) from chinese-calendar, or None."""
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - it is a declared dependency
        return None
    holidays: set[date] = set()
    working_weekends: set[date] = set()
    try:
        day = date(year, 1, 1)
        while day.year == year:
            working = chinese_calendar.is_workday(day)
            if working and day.weekday() >= 5:
                working_weekends.add(day)
            elif not working and day.weekday() < 5:
                holidays.add(day)
            day += timedelta(days=1)
    except NotImplementedError:
        # The package raises for years after its release (2027 in 1.11.0).
        return None
    return holidays, working_weekends


def build_calendar(
    *, office_days: dict[date, bool], years: range
) -> tuple[WorkingCalendar, list[int]]:
    """Combine package and office table; return the calendar and uncovered years.

    `office_days` maps a date to "is a working day" as the office entered it;
    a year is covered when the package knows it or the office entered any day.
    """
    holidays: set[date] = set()
    working_weekends: set[date] = set()
    office_years = {day.year for day in office_days}
    uncovered = []
    for year in years:
        from_package = package_days(year)
        if from_package is not None:
            holidays |= from_package[0]
            working_weekends |= from_package[1]
        elif year not in office_years:
            uncovered.append(year)
    for day, working in office_days.items():
        holidays.discard(day)
        working_weekends.discard(day)
        if working and day.weekday() >= 5:
            working_weekends.add(day)
        elif not working and day.weekday() < 5:
            holidays.add(day)
    return WorkingCalendar(frozenset(holidays), frozenset(working_weekends)), uncovered
