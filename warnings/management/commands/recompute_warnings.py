"""python manage.py recompute_warnings [--as-of YYYY-MM-DD] [--full]"""
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from qiantang.clock import local_today
from qiantang.dates import parse_as_of
from qiantang_warnings.recompute import recompute_all


class Command(BaseCommand):
    help = "重算全部项目的三色预警（默认按上海时间的今天）"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=parse_as_of, help="按指定日期重算，格式 YYYY-MM-DD")
        parser.add_argument(
            "--full", action="store_true",
            help="即使上次重算以来没有写入任何输入，也重新检查每个项目（如恢复备份或手工改动预警结果之后）",
        )

    def handle(self, *args, as_of=None, full=False, **options):
        summary = recompute_all(today=as_of or local_today(), evaluate_all=full)
        self.stdout.write(
            _("截至%(as_of)s：检查项目%(examined)s个，更新%(updated)s个，状态变化%(changes)s次") % {
                "as_of": summary.as_of, "examined": summary.examined, "updated": summary.updated,
                "changes": summary.status_changes,
            }
        )
