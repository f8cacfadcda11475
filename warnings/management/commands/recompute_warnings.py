"""python manage.py recompute_warnings [--as-of YYYY-MM-DD]"""
from django.core.management.base import BaseCommand

from qiantang.clock import local_today
from qiantang.dates import parse_as_of
from qiantang_warnings.recompute import recompute_all


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
