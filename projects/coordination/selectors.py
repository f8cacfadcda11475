"""Coordination items as pages show them: each with its colour by the warning rules (its
deadline is the due date; handled is done), its events, newest state first where it matters."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import median

from django.db.models import Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantang_warnings import rules
from qiantang_warnings.selectors import rules_context

from .. import permissions
from ..models import CoordinationEvent, CoordinationItem, Department
from .forms import ItemRaiseForm


@dataclass
class ItemRow:
    item: CoordinationItem
    colour: str | None
    days_late: int | None  # past the deadline (negative: days left); None when handled
    can_answer: bool = False
    can_close: bool = False
    can_assign: bool = False

    @property
    def overdue_days(self) -> int:
        return self.days_late if self.days_late and self.days_late > 0 and self.item.is_waiting_for_department else 0

    @property
    def days_left(self) -> int | None:
        if self.item.is_waiting_for_department and self.days_late is not None and self.days_late <= 0:
            return -self.days_late
        return None


def _with_related(queryset: QuerySet[CoordinationItem]) -> QuerySet[CoordinationItem]:
    return queryset.select_related("project", "department", "milestone__milestone_type", "raised_by").prefetch_related(
        "events__by"
    )


def item_rows(items, *, user, today: date) -> list[ItemRow]:
    """Rows with colours and what `user` may do, for any items (one rules context)."""
    items = list(items)
    if not items:
        return []
    context = rules_context(today)
    rows = []
    for item in items:
        facts = rules.MilestoneFacts(
            code=f"item-{item.pk}", name=item.need, order=0, planned_date=item.deadline,
            actual_date=item.handled_on,
        )
        (result,) = rules.evaluate_milestones([facts], policy=context.policy, today=today, calendar=context.calendar)
        colour = result.colour if item.is_waiting_for_department else None
        rows.append(ItemRow(
            item, colour, result.days_late if item.is_waiting_for_department else None,
            can_answer=permissions.can_answer_item(user, item), can_close=permissions.can_close_item(user, item),
            can_assign=item.needs_assigning and permissions.can_assign_item(user),
        ))
    return rows


def item_row(item_id: int, *, user, today: date) -> ItemRow:
    """One item as it is now (read afresh, with what its row shows), for an HTMX answer."""
    (row,) = item_rows([_with_related(CoordinationItem.objects.filter(pk=item_id)).get()], user=user, today=today)
    return row


def items_of_project(project, *, user, today: date) -> list[ItemRow]:
    """The project's items: those waiting for a department first (by deadline), then the rest."""
    items = _with_related(project.coordination_items.all())
    rows = item_rows(items, user=user, today=today)
    return sorted(rows, key=lambda row: (not row.item.is_waiting_for_department, row.item.deadline or date.max, row.item.pk))


def items_for_user(*, user, today: date) -> list[ItemRow]:
    """The department page: what waits for the user's departments (liaisons), everything
    waiting (the office), and what the user raised or their projects carry (cadres)."""
    scope = Q(pk__in=[])
    if permissions.is_office(user) or permissions.is_leader(user):
        scope |= Q(state__in=CoordinationItem.OPEN_STATES) | Q(state=CoordinationItem.State.HANDLED)
    departments = permissions.liaison_department_ids(user)
    if departments:
        scope |= Q(department_id__in=departments)
    if permissions.is_cadre(user):
        scope |= Q(project__in=permissions.projects_of_cadre(user))
    scope |= Q(raised_by=user)
    items = _with_related(CoordinationItem.objects.filter(scope).distinct())
    rows = item_rows(items, user=user, today=today)
    return sorted(rows, key=lambda row: (not row.item.is_waiting_for_department, row.item.deadline or date.max, row.item.pk))


def coordination_panel(project, *, user, today: date, form=None, may_raise=None, milestones=None) -> dict:
    """What the project page's 协调事项 panel shows: the items, and for those who may raise
    one (the project's cadre and team, the office) the form. The page passes what it has
    read already (whether the user may edit the project, its milestones)."""
    if may_raise is None:
        may_raise = permissions.can_raise_item(user, project)
    if form is None and may_raise:
        form = ItemRaiseForm(project=project, milestones=milestones)
    items = items_of_project(project, user=user, today=today)
    return {
        "items": items,
        "can_raise_item": may_raise,
        "item_form": form,
        "departments": assignable_departments(items),
    }


def assignable_departments(rows: list[ItemRow]):
    """The departments an assign form offers, read once for a page (none without such a form)."""
    if not any(row.can_assign for row in rows):
        return []
    return list(Department.objects.order_by("kind", "name").only("id", "name"))


@dataclass
class DepartmentStanding:
    """One department's record on the items put to it (for the ranking)."""

    department_id: int
    name: str
    open: int = 0
    overdue: int = 0
    handled: int = 0
    answer_days: list[int] = field(default_factory=list)  # raised → first answer or handling

    @property
    def median_days_to_answer(self) -> float | None:
        return median(self.answer_days) if self.answer_days else None


def department_ranking(*, today: date) -> list[DepartmentStanding]:
    """Departments by overdue items (most first), then by median days to answer (slowest
    first): the departments items wait on, ranked. Reads every item once, with its first
    answer; a district's items are hundreds, not projects' thousands."""
    standings: dict[int, DepartmentStanding] = {}
    first_answers = dict(
        CoordinationEvent.objects.filter(kind__in=[CoordinationEvent.Kind.ANSWERED, CoordinationEvent.Kind.HANDLED])
        .values("item_id").annotate(first=Min("at")).values_list("item_id", "first")
    )
    items = CoordinationItem.objects.select_related("department").only(
        "id", "state", "deadline", "raised_at", "department__id", "department__name"
    )
    for item in items:
        name = item.department.name if item.department_id else str(_("待分派"))
        standing = standings.setdefault(item.department_id, DepartmentStanding(item.department_id, name))
        if item.is_waiting_for_department:
            standing.open += 1
            standing.overdue += item.deadline is not None and item.deadline < today
        else:
            standing.handled += 1
        answered = first_answers.get(item.pk)
        if answered is not None:
            standing.answer_days.append((timezone.localdate(answered) - timezone.localdate(item.raised_at)).days)
    return sorted(
        standings.values(),
        key=lambda s: (-s.overdue, -(s.median_days_to_answer or 0), -s.open, s.name),
    )


def open_items_text(project_ids) -> dict[int, str]:
    """Each project's coordination items still waiting, as the workbook's 存在问题 cell lists
    them (the export writes it; the import reads it back as no change). One query."""
    lines: dict[int, list[str]] = {}
    items = (
        CoordinationItem.objects.filter(project_id__in=list(project_ids), state__in=CoordinationItem.OPEN_STATES)
        .select_related("department").order_by("project_id", "deadline", "id")
    )
    for item in items:
        who = item.department.name if item.department_id else str(_("待分派"))
        when = f"，{item.deadline:%Y-%m-%d}" if item.deadline else ""
        lines.setdefault(item.project_id, []).append(f"【{who}{when}】{item.need}")
    return {project_id: "\n".join(texts) for project_id, texts in lines.items()}
