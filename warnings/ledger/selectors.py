"""Reading ledgers: the rows a page's filters select, the ledger before another, and a
ledger's changes since an earlier one (or until now)."""
from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from projects.filters import apply_filters
from projects.models import Department

from ..models import Ledger, LedgerRow
from .changes import Changes, changes_between
from .freeze import current_rows, ranking_facts
from .ranking import ItemFact, Standing, standings


def filtered_rows(ledger: Ledger, cleaned: dict) -> QuerySet[LedgerRow]:
    """The ledger's rows as the dashboard's filters (projects.filters) select them, by what
    was frozen (a project's department or colour then, not now)."""
    return apply_filters(ledger.rows.all(), cleaned).order_by("code")


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


def default_ledger() -> Ledger | None:
    """The rankings' default period: the latest month's ledger, else the latest snapshot."""
    return (Ledger.objects.filter(kind=Ledger.Kind.MONTH).order_by("-month").first()
            or Ledger.objects.order_by("-frozen_at", "-id").first())


def _ranking_facts(ledger: Ledger) -> dict:
    """The departments and items as frozen with the ledger (every ledger has them: migration
    0014 filled in those frozen before; read live only should one lack them)."""
    return ledger.ranking_facts or ranking_facts(as_of=ledger.as_of, frozen_at=ledger.frozen_at)


def item_facts(ledger: Ledger) -> list[ItemFact]:
    """The items asked of departments, due by the ledger's date, with their first answer
    as recorded by the ledger's freeze time: frozen with the ledger, whatever changed since."""
    return [
        ItemFact(department_id, date.fromisoformat(deadline), date.fromisoformat(answered) if answered else None)
        for department_id, deadline, answered in _ranking_facts(ledger)["items"]
    ]


def ranking_tables(ledger: Ledger) -> list[tuple[str, list[Standing]]]:
    """(title, standings) for the lead departments (部门) and the streets (街道), with the
    departments' names and kinds as they were at the freeze."""
    departments = _ranking_facts(ledger)["departments"]
    rows, items = rows_data(ledger), item_facts(ledger)
    tables = []
    for kind, title in Department.Kind.choices:
        names = {pk: name for pk, name, k in departments if k == kind}
        tables.append((str(title), standings(rows, items, as_of=ledger.as_of, names=names)))
    return tables
