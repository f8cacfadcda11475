"""python manage.py export_workbook FILE: the 三色预警表 of every project, as stored."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects.models import Project
from projects.workbook.exporter import write_workbook


class Command(BaseCommand):
    help = "导出三色预警表（最近一次重算的结果，按项目编号排序）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="写入的 .xlsx 文件")

    def handle(self, *args, file, **options):
        try:
            count = write_workbook(Project.objects.all(), file)
        except OSError as error:
            raise CommandError(_("无法写入文件：%(error)s") % {"error": error}) from None
        self.stdout.write(self.style.SUCCESS(
            _("已导出 %(count)s 个项目到 %(file)s") % {"count": count, "file": file}
        ))
