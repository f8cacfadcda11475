"""Freezing a ledger: the projects' rows as the workbook export reads them, plus their open
coordination items, written in one transaction with the ledger they belong to.

The month's ledger is frozen by beat on the month's last day at 23:50 Asia/Shanghai. Exactly
once: the month is unique among monthly ledgers (a partial unique constraint), so a second
beat, or a retried task, finds it there or fails to insert and freezes nothing. If beat was
down then, its catch-up run on the 1st at 00:20 freezes the month just ended, as of the 1st,
and the ledger says so in its name.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from projects.models import CoordinationEvent, CoordinationItem, Department, Project
from projects.workbook.exporter import sheet_rows

from ..models import Ledger, LedgerRow
from ..recompute import recompute_all

Kind = Ledger.Kind
NOT_CLOSED = [CoordinationItem.State.OPEN, CoordinationItem.State.ANSWERED, CoordinationItem.State.HANDLED]


def month_name(month: date) -> str:
    """The table's name as the office titles it (stored, so in the district's words, like the
    workbook's title)."""
    return f"{month.year}年{month.month}月项目三色预警表"


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def current_rows(*, today: date) -> tuple[list[list[str]], list[dict]]:
    """Every project's row as a ledger would freeze it now (also the "now" of the changes page)."""
    types, rows, _as_of = sheet_rows(Project.objects.all(), as_of=today)
    items: dict[int, list[dict]] = defaultdict(list)
    for item in (
        CoordinationItem.objects.filter(state__in=NOT_CLOSED)
        .select_related("department").order_by("deadline", "id")
    ):
        items[item.project_id].append({
            "id": item.pk, "need": item.need, "department": item.department.name if item.department else "",
            "deadline": item.deadline.isoformat() if item.deadline else None, "state": item.state,
        })
    for row in rows:
        row["items"] = items.get(row["project_id"], [])
    return types, rows


def ranking_facts(*, as_of: date, frozen_at: datetime) -> dict:
    """What the rankings read besides the rows, as it stands at `frozen_at`: every department's
    and street's name and kind, and the items asked of a department with a deadline by
    `as_of`, with their first answer (答复 or 办结) by `frozen_at`. Frozen with the ledger, so a
    department renamed or an item reassigned later changes no past ranking."""
    answers = dict(
        CoordinationEvent.objects.filter(
            kind__in=[CoordinationEvent.Kind.ANSWERED, CoordinationEvent.Kind.HANDLED], at__lte=frozen_at
        ).values_list("item_id").annotate(first=Min("at")).values_list("item_id", "first")
    )
    items = CoordinationItem.objects.filter(
        department__isnull=False, deadline__lte=as_of, raised_at__lte=frozen_at,
    ).order_by("id").values_list("id", "department_id", "deadline")
    return {
        "departments": [list(d) for d in Department.objects.order_by("id").values_list("id", "name", "kind")],
        "items": [
            [department_id, deadline.isoformat(),
             timezone.localdate(answers[pk]).isoformat() if pk in answers else None]
            for pk, department_id, deadline in items
        ],
    }


def freeze(*, kind: str, name: str, today: date, month: date | None = None, by=None,
           now: datetime | None = None) -> Ledger:
    """Freeze every project now, after a recompute as of `today`; raises IntegrityError
    when the month is frozen already (nothing is then written)."""
    with transaction.atomic():
        recompute_all(today=today)
        types, rows = current_rows(today=today)
        frozen_at = now or timezone.now()
        ledger = Ledger.objects.create(
            kind=kind, month=month, name=name[:100], as_of=today, frozen_at=frozen_at,
            frozen_by=by if getattr(by, "is_authenticated", False) else None,
            milestone_types=types,
            counts=dict(Counter(row["colour"] for row in rows if row["active"] and row["colour"])),
            ranking_facts=ranking_facts(as_of=today, frozen_at=frozen_at),
        )
        LedgerRow.objects.bulk_create([
            LedgerRow(
                ledger=ledger, project_id=row["project_id"], code=row["code"], name=row["name"],
                sector=row["sector"], lead_department_id=row["lead_department_id"],
                responsible_cadre_id=row["responsible_cadre_id"], level=row["level_code"],
                state=row["state_code"], colour=row["colour"], data=row,
            )
            for row in rows
        ], batch_size=1000)
    return ledger


def freeze_snapshot(*, name: str, today: date, by) -> Ledger:
    """快照: the office's named freeze, at any time."""
    return freeze(kind=Kind.SNAPSHOT, name=name.strip(), today=today, by=by)


def freeze_month(*, today: date) -> Ledger | None:
    """Beat's job: on the month's last day, that month's ledger; on the 1st, the month just
    ended if nobody froze it (beat was down). None when there is nothing to freeze."""
    if is_month_end(today):
        month, name = today.replace(day=1), month_name(today)
    elif today.day == 1:
        ended = today - timedelta(days=1)
        month = ended.replace(day=1)
        name = f"{month_name(ended)}（{today.isoformat()}补冻结）"
    else:
        return None
    if Ledger.objects.filter(kind=Kind.MONTH, month=month).exists():
        return None
    try:
        return freeze(kind=Kind.MONTH, month=month, name=name, today=today)
    except IntegrityError:  # another beat froze it between our check and our insert
        return None
