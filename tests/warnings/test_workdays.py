"""China's working-day calendar (工作日/调休): counting, the package, the office's table.

Facts about 2026 and 2027, found by trying: chinese-calendar
1.11.0 knows 2026 (six working weekend days, National Day 10-01..10-07) and
raises for 2027. Pure tests: no database.
"""
from datetime import date

import pytest

from qiantang_warnings.workdays import (
    FIRST_DAY,
    LAST_DAY,
    WorkingCalendar,
    build_calendar,
    package_days,
)

D = date.fromisoformat

WORKING_WEEKENDS_2026 = {
    D("2026-01-04"), D("2026-02-14"), D("2026-02-28"),
    D("2026-05-09"), D("2026-09-20"), D("2026-10-10"),
}
NATIONAL_DAY_2026 = [D(f"2026-10-0{n}") for n in range(1, 8)]

WEEKENDS_ONLY = WorkingCalendar()
# 2025..2027: the package covers 2025 and 2026; 2027 falls back to weekends.
CAL, UNCOVERED = build_calendar(office_days={}, years=range(2025, 2028))


# --- WorkingCalendar with no special days: plain weekends -------------------------------

@pytest.mark.parametrize(
    "start, end, expected",
    [
        pytest.param("2026-11-23", "2026-11-23", 0, id="same day: zero"),
        pytest.param("2026-11-22", "2026-11-22", 0, id="same day on a Sunday: zero"),
        pytest.param("2026-11-23", "2026-11-27", 4, id="Mon to Fri: start excluded, end included"),
        pytest.param("2026-11-27", "2026-11-30", 1, id="Fri to Mon: the weekend is skipped"),
        pytest.param("2026-11-28", "2026-11-29", 0, id="Sat to Sun: none"),
        pytest.param("2026-11-27", "2026-12-04", 5, id="Fri to next Fri: one week"),
        pytest.param("2026-11-27", "2026-11-23", -4, id="backwards: negative, same magnitude"),
        pytest.param("2026-11-30", "2026-11-27", -1, id="Mon back to Fri: minus one"),
    ],
)
def test_weekends_only_working_days_between(start, end, expected):
    assert WEEKENDS_ONLY.working_days_between(D(start), D(end)) == expected


@pytest.mark.parametrize(
    "start, days, expected",
    [
        pytest.param("2026-11-25", 0, "2026-11-25", id="zero days: the start itself"),
        pytest.param("2026-11-28", 0, "2026-11-28", id="zero days from a Saturday: still the start"),
        pytest.param("2026-11-25", 2, "2026-11-27", id="Wed + 2: Fri"),
        pytest.param("2026-11-27", 1, "2026-11-30", id="Fri + 1: Mon"),
        pytest.param("2026-11-28", 1, "2026-11-30", id="Sat + 1: Mon"),
        pytest.param("2026-11-27", 5, "2026-12-04", id="Fri + 5: next Fri"),
        pytest.param("2026-11-30", -1, "2026-11-27", id="Mon - 1: Fri"),
        pytest.param("2026-11-29", -1, "2026-11-26", id="Sun - 1: Thu (Fri is the one day in between)"),
        pytest.param("2026-12-04", -5, "2026-11-27", id="Fri - 5: previous Fri"),
    ],
)
def test_weekends_only_add_working_days(start, days, expected):
    assert WEEKENDS_ONLY.add_working_days(D(start), days) == D(expected)


def test_add_then_count_gives_back_the_days_both_ways():
    starts = [D("2026-09-18"), D("2026-09-30"), D("2026-10-03"), D("2026-12-30"), D("2025-12-31")]
    for start in starts:
        for days in range(-12, 13):
            end = CAL.add_working_days(start, days)
            assert CAL.working_days_between(start, end) == days, (start, days, end)


@pytest.mark.parametrize(
    "start, end",
    [
        pytest.param(date(1999, 12, 31), date(2026, 1, 1), id="before 2000"),
        pytest.param(date(2026, 1, 1), date(2101, 1, 1), id="after 2100"),
    ],
)
def test_days_outside_the_calendar_range_are_refused(start, end):
    with pytest.raises(ValueError):
        WEEKENDS_ONLY.working_days_between(start, end)


def test_adding_past_the_last_day_stops_there():
    assert WEEKENDS_ONLY.add_working_days(date(2100, 12, 1), 400) == LAST_DAY
    assert WEEKENDS_ONLY.add_working_days(date(2000, 1, 10), -400) == FIRST_DAY


# --- The 2026 statutory calendar -----------------------------------------------------

@pytest.mark.parametrize(
    "start, end, expected",
    [
        pytest.param("2026-09-30", "2026-10-08", 1, id="across National Day: only 10-08"),
        pytest.param("2026-10-08", "2026-09-30", -1, id="across National Day backwards"),
        pytest.param("2026-09-30", "2026-10-07", 0, id="into the holiday: none"),
        pytest.param("2026-10-09", "2026-10-11", 1, id="working Saturday 10-10 counts"),
        pytest.param("2026-09-18", "2026-09-21", 2, id="working Sunday 09-20 counts"),
        pytest.param("2026-09-24", "2026-09-28", 1, id="Mid-Autumn Friday 09-25 does not"),
        pytest.param("2025-12-31", "2026-01-05", 2, id="across the year end: 01-04 Sunday and 01-05"),
        pytest.param("2026-01-05", "2025-12-31", -2, id="across the year end backwards"),
        pytest.param("2026-12-31", "2027-01-04", 2, id="into uncovered 2027: weekends only"),
    ],
)
def test_2026_working_days_between(start, end, expected):
    assert CAL.working_days_between(D(start), D(end)) == expected


@pytest.mark.parametrize(
    "start, days, expected",
    [
        pytest.param("2026-10-03", 0, "2026-10-03", id="zero on a holiday: the start"),
        pytest.param("2026-09-30", 1, "2026-10-08", id="+1 before National Day: 10-08"),
        pytest.param("2026-10-03", 1, "2026-10-08", id="+1 from inside the holiday: 10-08"),
        pytest.param("2026-10-08", 2, "2026-10-10", id="+2: the working Saturday"),
        pytest.param("2026-10-08", 3, "2026-10-12", id="+3: Sunday 10-11 skipped"),
        pytest.param("2026-10-08", -1, "2026-09-30", id="-1 back across National Day"),
        pytest.param("2026-10-12", -2, "2026-10-09", id="-2 counts the working Saturday"),
        pytest.param("2026-01-05", -1, "2026-01-04", id="-1 back to the working Sunday 01-04"),
        pytest.param("2026-01-05", -2, "2025-12-31", id="-2 back across New Year"),
        pytest.param("2026-12-31", 1, "2027-01-01", id="+1 into 2027: Friday, weekends only"),
    ],
)
def test_2026_add_working_days(start, days, expected):
    assert CAL.add_working_days(D(start), days) == D(expected)


def test_package_days_2026_match_the_checked_facts():
    holidays, working_weekends = package_days(2026)
    assert working_weekends == WORKING_WEEKENDS_2026
    # Only weekdays are listed as holidays; 10-03 and 10-04 are a weekend anyway.
    assert {day for day in NATIONAL_DAY_2026 if day.weekday() < 5} <= holidays
    assert all(day.weekday() < 5 for day in holidays)
    calendar = WorkingCalendar(frozenset(holidays), frozenset(working_weekends))
    assert [calendar.is_working_day(day) for day in NATIONAL_DAY_2026] == [False] * 7
    assert all(calendar.is_working_day(day) for day in WORKING_WEEKENDS_2026)


@pytest.mark.parametrize(
    "year", [pytest.param(2027, id="2027: after the package"), pytest.param(2003, id="2003: before it")]
)
def test_package_days_is_none_for_a_year_the_package_does_not_know(year):
    assert package_days(year) is None


# --- build_calendar: package, office table, fallback ------------------------------------

def test_2027_is_reported_uncovered_and_falls_back_to_weekends():
    assert UNCOVERED == [2027]
    # New Year's Day 2027 is really a holiday; with no source it is an ordinary Friday.
    assert CAL.is_working_day(D("2027-01-01")) is True
    assert CAL.is_working_day(D("2027-01-02")) is False
    assert CAL.working_days_between(D("2027-01-01"), D("2027-12-31")) == 260


@pytest.mark.parametrize(
    "day, office_says, expected",
    [
        pytest.param("2026-10-10", False, False, id="package's working Saturday made a day off"),
        pytest.param("2026-10-05", True, True, id="package's holiday Monday made a working day"),
        pytest.param("2026-10-08", False, False, id="ordinary Thursday made a holiday"),
        pytest.param("2026-10-11", True, True, id="ordinary Sunday made a working day"),
        pytest.param("2026-10-09", True, True, id="confirming a working day changes nothing"),
    ],
)
def test_office_days_override_the_package(day, office_says, expected):
    calendar, uncovered = build_calendar(office_days={D(day): office_says}, years=range(2026, 2027))
    assert calendar.is_working_day(D(day)) is expected
    assert uncovered == []
    # The rest of the package's year is untouched.
    assert calendar.is_working_day(D("2026-10-01")) is False
    assert calendar.is_working_day(D("2026-09-20")) is True


def test_office_days_cover_2027():
    office_days = {
        D("2027-01-01"): False,  # New Year's Day, a Friday
        D("2027-02-06"): True,  # an adjusted working Saturday
        D("2027-02-11"): False,  # a Spring Festival Thursday
    }
    calendar, uncovered = build_calendar(office_days=office_days, years=range(2026, 2028))
    assert uncovered == []
    assert calendar.is_working_day(D("2027-01-01")) is False
    assert calendar.is_working_day(D("2027-02-06")) is True
    assert calendar.is_working_day(D("2027-02-11")) is False
    assert calendar.working_days_between(D("2026-12-31"), D("2027-01-04")) == 1
    assert calendar.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")
