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
    if kind == rules.ESCALATED:
        return _("督办：%(note)s") % {"note": reason.get("note", "")}
    return str(reason)
