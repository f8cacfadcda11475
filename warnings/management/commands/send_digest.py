"""Send the week's digest now, in this process: `send_digest [--week 2026-W48] [--dry-run] [--to USERNAME]`.

Running it again for the same week sends nothing: every recipient's delivery is recorded.
"""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qiantang.clock import local_today
from qiantang_warnings.digest.content import build_digest
from qiantang_warnings.digest.delivery import send_week
from qiantang_warnings.digest.recipients import recipients
from qiantang_warnings.digest.snapshot import district_snapshot
from qiantang_warnings.digest.weeks import parse_week, week_label, week_monday
from qiantang_warnings.models import DigestDelivery


class Command(BaseCommand):
    help = "Send the weekly warning digest (预警周报) to every recipient, once per ISO week."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week such as 2026-W48 (default: the current week)")
        parser.add_argument("--dry-run", action="store_true", help="print who would get what; send nothing")
        parser.add_argument("--to", action="append", dest="usernames", metavar="USERNAME",
                            help="only this user (repeatable)")

    def handle(self, *args, week=None, dry_run=False, usernames=None, **options):
        local = local_today()
        if week:
            try:
                parse_week(week)
            except ValueError:
                raise CommandError(_("不是ISO周（如2026-W48）：%(week)s") % {"week": week}) from None
            week = week.strip().upper()
        else:
            week = week_label(local)
        # "Today" of the digest: the real day during the week itself, else that week's Monday.
        today = local if week == week_label(local) else week_monday(week)
        if usernames:
            known = {r.user.username for r in recipients(usernames=usernames)}
            missing = sorted(set(usernames) - known)
            if missing:
                raise CommandError(
                    _("不是周报收件人（不存在、已停用、无邮箱、无角色或已退订）：%(names)s")
                    % {"names": ", ".join(missing)}
                )
        if dry_run:
            self._dry_run(week, today, usernames)
            return
        summary = send_week(week=week, today=today, usernames=usernames)
        self.stdout.write(
            _("%(week)s：发送%(sent)s份，此前已发送%(already)s份，跳过空周报%(skipped)s份，失败%(failed)s份") % {
                "week": week, "sent": summary.sent, "already": summary.already,
                "skipped": summary.skipped_empty, "failed": summary.failed,
            }
        )
        if summary.failed:
            raise CommandError(
                _("%(failed)s份周报发送失败；请再次运行本命令重试") % {"failed": summary.failed}
            )

    def _dry_run(self, week, today, usernames):
        snapshot = district_snapshot(week=week, today=today)
        done = dict(DigestDelivery.objects.filter(week=week).values_list("user__username", "state"))
        for recipient in recipients(usernames=usernames):
            digest = build_digest(snapshot, user=recipient.user, kinds=recipient.kinds)
            user = recipient.user
            state = done.get(user.username)
            if state == DigestDelivery.State.SENT:
                what = _("此前已发送")
            elif state == DigestDelivery.State.SKIPPED:
                what = _("此前已跳过")
            elif digest.is_empty and not recipient.send_empty:
                what = _("无预警事项，已选择不接收空周报：跳过")
            elif digest.is_empty:
                what = _("全部绿灯")
            else:
                parts = []
                if digest.covers_projects:
                    parts.append(_("红%(red)s 黄%(yellow)s 绿%(green)s") % digest.counts)
                    parts.append(_("转红%(red)s 转黄%(yellow)s，好转%(recovered)s") % {
                        "red": len(digest.turned_red), "yellow": len(digest.turned_yellow),
                        "recovered": len(digest.recovered),
                    })
                    parts.append(_("14天内到期%(due)s，待排期%(plan)s，督办%(escalations)s") % {
                        "due": len(digest.due_soon), "plan": len(digest.needs_plan),
                        "escalations": len(digest.escalations),
                    })
                if digest.department_milestones or "liaison" in digest.kinds:
                    parts.append(_("本单位节点%(count)s") % {"count": len(digest.department_milestones)})
                what = _("；").join(parts)
            self.stdout.write(_("%(username)s <%(email)s> [%(kinds)s]：%(what)s") % {
                "username": user.username, "email": user.email, "kinds": "+".join(recipient.kinds), "what": what,
            })
        self.stdout.write(_("%(week)s：演练，未发送任何邮件") % {"week": week})
