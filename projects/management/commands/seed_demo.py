"""python manage.py seed_demo [--projects N] [--password PW] [--if-empty] [--as-of YYYY-MM-DD]"""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from projects.demo import DEFAULT_PROJECTS, DemoDataRefused, seed_demo
from projects.models import Project
from projects.roles import ROLE_NAMES
from qiantang.clock import local_today
from qiantang.dates import parse_as_of


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "生成演示数据：项目、节点、督办和各角色账号，然后重算三色预警"

    def add_arguments(self, parser):
        parser.add_argument(
            "--projects", type=positive_int, default=DEFAULT_PROJECTS,
            help=f"项目数量（默认 {DEFAULT_PROJECTS}）",
        )
        parser.add_argument("--password", help="所有演示账号的密码（默认随机生成并打印一次）")
        parser.add_argument(
            "--if-empty", action="store_true", help="数据库中已有项目时什么也不做（不报错）"
        )
        parser.add_argument("--as-of", type=parse_as_of, help="按指定日期生成并重算，格式 YYYY-MM-DD")
        parser.add_argument("--seed", type=int, default=None, help="随机种子（相同种子生成相同数据）")

    def handle(self, *args, projects, password, if_empty, as_of, seed, **options):
        if if_empty and Project.objects.exists():
            self.stdout.write(_("已有项目数据，跳过生成演示数据。"))
            return
        kwargs = {} if seed is None else {"rng_seed": seed}
        try:
            summary = seed_demo(
                projects=projects, password=password, today=as_of or local_today(), **kwargs
            )
        except DemoDataRefused as refusal:
            raise CommandError(str(refusal)) from None
        self._report(summary)

    def _report(self, summary):
        write = self.stdout.write
        colours = summary.colours
        write(self.style.SUCCESS(
            _("已生成演示数据：%(projects)s个项目，%(milestones)s个节点（预警计算日期 %(day)s）")
            % {"projects": summary.projects, "milestones": summary.milestones, "day": summary.as_of}
        ))
        write(
            _("推进中：红 %(red)s · 黄 %(yellow)s · 绿 %(green)s · 待排期 %(needs_plan)s")
            % {**colours, "needs_plan": summary.needs_plan}
        )
        write(
            _("暂缓 %(paused)s · 已完成 %(completed)s · 终止 %(terminated)s · 督办 %(esc)s · 计划调整 %(replans)s")
            % {**summary.states, "esc": summary.escalations, "replans": summary.replans}
        )
        write(_("登录账号："))
        for login in summary.logins:
            write(f"  {login.username:<10} {ROLE_NAMES[login.role]} {login.name}")
        if summary.password_generated:
            write(
                _("所有账号的密码（随机生成，只显示这一次）：%(password)s")
                % {"password": summary.password}
            )
        else:
            write(_("所有账号的密码为 --password 指定的密码。"))
