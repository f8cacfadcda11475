"""The digest's weeks: ISO weeks (2026-W48) and their bounds in Asia/Shanghai."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


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


