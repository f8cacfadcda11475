"""Send the week's digest now, in this process: `send_digest [--week 2026-W48] [--dry-run] [--to USERNAME]`.

Running it again for the same week sends nothing: every recipient's delivery is recorded.
"""
from django.core.management.base import BaseCommand, CommandError

from qiantang.clock import local_today
from qiantang_warnings.delivery import send_week
from qiantang_warnings.digest import (
    build_digest,
    district_snapshot,
    parse_week,
    recipients,
    week_label,
    week_monday,
)
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
            except ValueError as error:
                raise CommandError(str(error)) from None
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
                    f"not a digest recipient (unknown, inactive, no email, no role or opted out): {', '.join(missing)}"
                )
        if dry_run:
            self._dry_run(week, today, usernames)
            return
        summary = send_week(week=week, today=today, usernames=usernames)
        self.stdout.write(
            f"{week}: {summary.sent} sent, {summary.already} already sent, "
            f"{summary.skipped_empty} empty digests skipped, {summary.failed} failed"
        )
        if summary.failed:
            raise CommandError(f"{summary.failed} digests failed; run the command again to retry them")

    def _dry_run(self, week, today, usernames):
        snapshot = district_snapshot(week=week, today=today)
        done = dict(DigestDelivery.objects.filter(week=week).values_list("user__username", "state"))
        for recipient in recipients(usernames=usernames):
            digest = build_digest(snapshot, user=recipient.user, kinds=recipient.kinds)
            user = recipient.user
            if done.get(user.username) in (DigestDelivery.State.SENT, DigestDelivery.State.SKIPPED):
                what = f"already {done[user.username]}"
            elif digest.is_empty and not recipient.send_empty:
                what = "nothing to report, opted out of empty digests: skip"
            elif digest.is_empty:
                what = "all green"
            else:
                parts = []
                if digest.covers_projects:
                    parts.append(f"red {digest.counts['red']} yellow {digest.counts['yellow']} green {digest.counts['green']}")
                    parts.append(f"turned red {len(digest.turned_red)} yellow {len(digest.turned_yellow)}, recovered {len(digest.recovered)}")
                    parts.append(f"due in 14 days {len(digest.due_soon)}, needs plan {len(digest.needs_plan)}, escalations {len(digest.escalations)}")
                if digest.department_milestones or "liaison" in digest.kinds:
                    parts.append(f"department milestones {len(digest.department_milestones)}")
                what = "; ".join(parts)
            self.stdout.write(f"{user.username} <{user.email}> [{'+'.join(recipient.kinds)}]: {what}")
        self.stdout.write(f"{week}: dry run, nothing sent")
