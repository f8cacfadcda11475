"""python manage.py import_workbook FILE [--dry-run] [--replace]: all or nothing."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects.workbook_import import WorkbookRefused, import_workbook, read_file
from qiantang_warnings.selectors import local_today


class Command(BaseCommand):
    help = "导入三色预警表（按项目编号新增或更新；有任何错误则什么也不写入）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 文件")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument(
            "--replace", action="store_true", help="覆盖模式：空白单元格清除已有的值"
        )

    def handle(self, *args, file, dry_run, replace, **options):
        try:
            data = read_file(file)
        except WorkbookRefused as refusal:
            raise CommandError(str(refusal)) from None
        except OSError as error:
            raise CommandError(_("无法读取文件：%(error)s") % {"error": error}) from None
        result = import_workbook(data, today=local_today(), replace=replace, dry_run=dry_run)
        if result.refusal:
            raise CommandError(result.refusal)
        write = self.stdout.write
        if replace:
            write(_("覆盖模式：空白单元格将清除已有的值。"))
        if result.unknown_columns:
            write(_("未识别的列（已忽略）：%(columns)s") % {"columns": "、".join(result.unknown_columns)})
        if result.new_cadres:
            write(_("将新建责任干部账号（停用，须管理员启用后才能登录）：%(names)s")
                  % {"names": "、".join(result.new_cadres)})
        if result.new_departments:
            write(_("将新建牵头单位：%(names)s") % {"names": "、".join(result.new_departments)})
        for row in result.rows:
            for replan in row.replans:
                write(_("第%(row)s行 %(code)s 调整计划（原因“工作簿导入”）：%(replan)s")
                      % {"row": row.row, "code": row.code, "replan": replan})
        for error in result.errors:  # on stdout, so the counts follow them in order
            write(self.style.ERROR(str(error)))
        counts = _("新增 %(created)s 个，更新 %(updated)s 个，未变 %(unchanged)s 个") % {
            "created": len(result.created), "updated": len(result.updated),
            "unchanged": len(result.unchanged),
        }
        if result.errors:
            write(counts)
            raise CommandError(
                _("有 %(n)s 处错误，未写入任何数据。") % {"n": len(result.errors)}
            )
        if dry_run:
            write(counts)
            write(_("预览完成（--dry-run），未写入任何数据。"))
            return
        write(self.style.SUCCESS(_("导入完成：%(counts)s。") % {"counts": counts}))
