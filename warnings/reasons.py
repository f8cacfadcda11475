"""Reason texts (预警原因) in the reader's language, from stored reason dicts."""
from django.utils.translation import gettext as _

from . import rules


def render_reason(reason: dict) -> str:
    kind = reason.get("kind")
    name = reason.get("name", "")
    days = reason.get("days", 0)
    if kind == rules.DUE_SOON:
        if days == 0:
            return _("%(name)s今天到期") % {"name": name}
        return _("%(name)s将于%(days)s天后到期") % {"name": name, "days": days}
    if kind == rules.OVERDUE:
        return _("%(name)s逾期%(days)s天") % {"name": name, "days": days}
    if kind == rules.ITEM_OVERDUE:
        return _("协调事项逾期%(days)s天（%(department)s）：%(need)s") % {
            "days": days, "department": name, "need": reason.get("note", ""),
        }
    if kind == rules.ESCALATED:
        return _("督办：%(note)s") % {"note": reason.get("note", "")}
    return str(reason)


# ------------------------------------------------- what the stored reasons say about urgency


def most_overdue_reason(reasons: list[dict]) -> dict | None:
    """The reason of the most overdue milestone, whatever heads the list (an escalation may)."""
    overdue = [r for r in reasons or [] if r.get("kind") == rules.OVERDUE]
    return max(overdue, key=lambda r: r.get("days", 0)) if overdue else None


def most_overdue_days(reasons: list[dict]) -> int | None:
    """Days overdue of the most overdue milestone, or None when none is overdue."""
    reason = most_overdue_reason(reasons)
    return reason.get("days", 0) if reason is not None else None


def soonest_due_days(reasons: list[dict]) -> int | None:
    """Days left of the soonest due milestone among the due-soon reasons, or None."""
    left = [r.get("days", 0) for r in reasons or [] if r.get("kind") == rules.DUE_SOON]
    return min(left) if left else None


# The most urgent first: overdue (most days first), then due soon (fewest days left first),
# then the rest (escalated only, or an overdue coordination item). One integer, stored with
# the project by the recompute (Project.urgency) so that a list of one colour is read in
# this order from an index, not sorted from every project's reasons.
URGENCY_GROUP = 1_000_000


def urgency_key(reasons: list[dict]) -> int:
    overdue = most_overdue_days(reasons)
    if overdue is not None:
        return -overdue
    left = soonest_due_days(reasons)
    if left is not None:
        return URGENCY_GROUP + left
    return 2 * URGENCY_GROUP
