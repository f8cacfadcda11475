"""Reading ledgers: the rows a page's filters select, the ledger before another, and a
ledger's changes since an earlier one (or until now)."""
from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from ..models import Ledger, LedgerRow
from .changes import Changes, changes_between
from .freeze import current_rows


def filtered_rows(ledger: Ledger, cleaned: dict) -> QuerySet[LedgerRow]:
    """The ledger's rows as the dashboard's filters (projects.filters) select them, by what
    was frozen (a project's department or colour then, not now)."""
    rows = ledger.rows.all()
    if cleaned.get("sector"):
        rows = rows.filter(sector=cleaned["sector"])
    if cleaned.get("department"):
        rows = rows.filter(lead_department_id=cleaned["department"].pk)
    if cleaned.get("cadre"):
        rows = rows.filter(responsible_cadre_id=cleaned["cadre"].pk)
    if cleaned.get("level"):
        rows = rows.filter(level=cleaned["level"])
    if cleaned.get("state"):
        rows = rows.filter(state=cleaned["state"])
    if cleaned.get("colour"):
        rows = rows.filter(colour=cleaned["colour"])
    if cleaned.get("q"):
        rows = rows.filter(Q(code__icontains=cleaned["q"]) | Q(name__icontains=cleaned["q"]))
    return rows.order_by("code")


def previous_ledger(ledger: Ledger) -> Ledger | None:
    """The ledger frozen just before this one (monthly or snapshot)."""
    return (
        Ledger.objects.filter(frozen_at__lt=ledger.frozen_at).order_by("-frozen_at", "-id").first()
    )


def rows_data(ledger: Ledger) -> list[dict]:
    return list(ledger.rows.order_by("code").values_list("data", flat=True))


def changes_since(since: Ledger, until: Ledger | None, *, today: date) -> Changes:
    """From `since` to `until`, or to the register now when `until` is None."""
    if until is None:
        types, after = current_rows(today=today)
    else:
        types, after = until.milestone_types, rows_data(until)
    return changes_between(rows_data(since), after, types)
