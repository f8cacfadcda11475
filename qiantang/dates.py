"""The dates the system accepts (2000-01-01 to 2099-12-31), one rule for the models, the
forms, the workbook and the command line."""
import argparse
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


def is_in_range(value: date) -> bool:
    return EARLIEST_DATE <= value <= LATEST_DATE


def validate_date_in_range(value):
    """Model and form field validator."""
    if value is not None and not is_in_range(value):
        raise ValidationError(
            _("日期须在%(earliest)s至%(latest)s之间"), code="date_out_of_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )


def date_range(request) -> dict:
    """Context processor: the range for templates' own date inputs (min, max)."""
    return {"earliest_date": EARLIEST_DATE, "latest_date": LATEST_DATE}


def parse_as_of(value: str) -> date:
    """argparse type of the commands' --as-of YYYY-MM-DD."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为 YYYY-MM-DD 格式的日期：“{value}”") from None
    if not is_in_range(day):
        raise argparse.ArgumentTypeError(
            f"须在{EARLIEST_DATE.isoformat()}至{LATEST_DATE.isoformat()}之间：“{value}”"
        )
    return day
