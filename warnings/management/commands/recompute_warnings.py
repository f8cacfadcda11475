"""python manage.py recompute_warnings [--as-of YYYY-MM-DD]"""
import argparse
from datetime import date

from django.core.management.base import BaseCommand

from projects.models import EARLIEST_DATE, LATEST_DATE
from qiantang_warnings.recompute import recompute_all
from qiantang_warnings.selectors import local_today


def parse_as_of(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为 YYYY-MM-DD 格式的日期：“{value}”") from None
    if not (EARLIEST_DATE <= day <= LATEST_DATE):
        raise argparse.ArgumentTypeError(f"须在2000-01-01至2099-12-31之间：“{value}”")
    return day


class Command(BaseCommand):
    help = "重算全部项目的三色预警（默认按上海时间的今天）"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=parse_as_of, help="按指定日期重算，格式 YYYY-MM-DD")

    def handle(self, *args, as_of=None, **options):
        summary = recompute_all(today=as_of or local_today())
        self.stdout.write(
            f"as of {summary.as_of}: {summary.examined} projects examined, "
            f"{summary.updated} updated, {summary.status_changes} status changes"
        )
