"""python manage.py import_workbook FILE [--dry-run] [--replace] [--by USERNAME]: all or nothing.

A changed planned date is a re-plan proposal (调整计划申请) for the office to decide, and a
proposal has a proposer: a sheet that changes plans needs --by, the office's account it
is filed under (also the author in the history). --replace overwrites plans directly.
"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects.permissions import can_import_workbook
from projects.workbook.importer import WorkbookRefused, import_workbook, read_file
from qiantang.clock import local_today


class Command(BaseCommand):
    help = "导入三色预警表（按项目编号新增或更新；有任何错误则什么也不写入）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 文件")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument(
            "--replace", action="store_true",
            help="覆盖模式：空白单元格清除已有的值，已有的计划日期直接调整，不经审核",
        )
        parser.add_argument(
            "--by", metavar="USERNAME", default="",
            help="以哪个投资管理科账号导入：调整计划申请的申请人（表中计划日期有变时必填）",
        )

    def _user(self, username: str):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("找不到用户“%(username)s”。") % {"username": username})
        if not can_import_workbook(user):
            raise CommandError(
                _("“%(username)s”不是启用的投资管理科账号，不能以其名义导入。") % {"username": username}
            )
        return user

    def handle(self, *args, file, dry_run, replace, by, **options):
        user = self._user(by)
        try:
            data = read_file(file)
        except WorkbookRefused as refusal:
            raise CommandError(str(refusal)) from None
        except OSError as error:
            raise CommandError(_("无法读取文件：%(error)s") % {"error": error}) from None
        result = import_workbook(
            data, today=local_today(), by=user, replace=replace, dry_run=dry_run,
            source_name=Path(file).name,
        )
        if result.refusal:
            raise CommandError(result.refusal)
        write = self.stdout.write
        if replace:
            write(_("覆盖模式：空白单元格将清除已有的值，已有的计划日期直接调整，不经审核。"))
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
            for proposal in row.proposals:
                write(_("第%(row)s行 %(code)s 申请调整计划（待投资管理科审核）：%(proposal)s")
                      % {"row": row.row, "code": row.code, "proposal": proposal})
            for note in row.skipped:
                write(self.style.WARNING(
                    _("第%(row)s行 %(code)s 计划日期未调整：%(note)s")
                    % {"row": row.row, "code": row.code, "note": note}
                ))
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
            if result.proposer_missing:
                write(self.style.WARNING(_(
                    "表中有 %(n)s 个计划日期变化，将提交调整计划申请；导入时须用 --by 用户名"
                    " 指明申请人（投资管理科账号），或用 --replace 直接调整。"
                ) % {"n": result.proposal_count}))
            write(_("预览完成（--dry-run），未写入任何数据。"))
            return
        if result.proposer_missing:
            write(counts)
            raise CommandError(_(
                "表中有 %(n)s 个计划日期变化，将提交调整计划申请，须用 --by 用户名 指明申请人"
                "（投资管理科账号），或用 --replace 直接调整；未写入任何数据。"
            ) % {"n": result.proposal_count})
        write(self.style.SUCCESS(_("导入完成：%(counts)s。") % {"counts": counts}))
        if result.proposal_count:
            write(_("已提交调整计划申请 %(n)s 条，待投资管理科审核。") % {"n": result.proposal_count})
