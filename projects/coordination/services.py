"""The steps of a coordination item, each checked (who may, from which state) and recorded."""
from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qiantang_warnings.services import chat_push_soon, recompute_projects

from .. import permissions
from ..models import CoordinationEvent, CoordinationItem, Department, Milestone, Project

State, Kind = CoordinationItem.State, CoordinationEvent.Kind

# Which step may follow which state.
ALLOWED = {
    Kind.ANSWERED: {State.OPEN, State.ANSWERED},
    Kind.HANDLED: {State.OPEN, State.ANSWERED},
    Kind.CLOSED: {State.HANDLED},
    Kind.REOPENED: {State.HANDLED, State.CLOSED},
}
NEXT_STATE = {Kind.ANSWERED: State.ANSWERED, Kind.HANDLED: State.HANDLED, Kind.CLOSED: State.CLOSED, Kind.REOPENED: State.OPEN}


def item_raise(
    *, project: Project, need: str, department: Department, deadline: date, by, today: date,
    milestone: Milestone | None = None,
) -> CoordinationItem:
    if not permissions.can_raise_item(by, project):
        raise PermissionDenied(_("只有项目干部、工作专班成员和投资管理科可以提出协调事项"))
    item = CoordinationItem(
        project=project, need=(need or "").strip(), department=department, deadline=deadline,
        milestone=milestone, raised_by=by,
    )
    item.full_clean()
    with transaction.atomic():
        item.save()
        CoordinationEvent.objects.create(item=item, kind=Kind.RAISED, comment=item.need, by=by)
        # An item may count in its project's colour (the policy's choice): recompute at once,
        # as every milestone edit does (and every step below).
        recompute_projects([item.project_id], today=today)
        chat_push_soon()  # the department's group hears of it once this commits
    return item


def item_step(*, item: CoordinationItem, kind: str, by, comment: str = "", today: date) -> CoordinationItem:
    """Answer (答复), mark handled (办结), close (销号) or reopen an item."""
    check = permissions.can_answer_item if kind in (Kind.ANSWERED, Kind.HANDLED) else permissions.can_close_item
    if not check(by, item):
        if kind in (Kind.ANSWERED, Kind.HANDLED):
            raise PermissionDenied(_("只有责任单位的联络员和投资管理科可以答复或办结"))
        raise PermissionDenied(_("只有提出人和投资管理科可以销号或重新打开"))
    comment = (comment or "").strip()
    if kind in (Kind.ANSWERED, Kind.REOPENED) and not comment:
        raise ValidationError({"comment": _("请填写答复内容") if kind == Kind.ANSWERED else _("请说明重新打开的原因")})
    with transaction.atomic():
        current = CoordinationItem.objects.select_for_update().get(pk=item.pk)
        if current.state not in ALLOWED[kind]:
            raise ValidationError(_("该事项已是“%(state)s”，请刷新页面。") % {"state": current.get_state_display()})
        current.state = NEXT_STATE[kind]
        if kind == Kind.ANSWERED:
            current.reply = comment
        elif kind == Kind.HANDLED:
            current.handled_on = today
            if comment:
                current.reply = comment
        elif kind == Kind.REOPENED:
            current.handled_on = None
        current.save()
        CoordinationEvent.objects.create(item=current, kind=kind, comment=comment, by=by)
        recompute_projects([current.project_id], today=today)
        if kind == Kind.REOPENED:
            chat_push_soon()  # back to the department
    return current


def item_assign(*, item: CoordinationItem, department: Department, deadline: date, by, today: date) -> CoordinationItem:
    """分派: the office gives an item from the workbook its department and deadline."""
    if not permissions.can_assign_item(by):
        raise PermissionDenied(_("只有投资管理科可以分派协调事项"))
    with transaction.atomic():
        current = CoordinationItem.objects.select_for_update().get(pk=item.pk)
        if not current.needs_assigning:
            raise ValidationError(_("该事项已分派，请刷新页面。"))
        current.department, current.deadline = department, deadline
        current.full_clean()
        current.save()
        CoordinationEvent.objects.create(
            item=current, kind=Kind.ASSIGNED, by=by,
            comment=_("%(department)s，办结时限%(deadline)s") % {"department": department.name, "deadline": deadline.isoformat()},
        )
        recompute_projects([current.project_id], today=today)
        chat_push_soon()
    return current


def items_from_workbook(needs: list[tuple[int, str]], *, by) -> int:
    """The workbook's 存在问题 cells that changed, as items for the office to assign (one per
    cell), with their RAISED step. Called inside the import's transaction."""
    items = CoordinationItem.objects.bulk_create([
        CoordinationItem(project_id=project_id, need=need, raised_by=by) for project_id, need in needs
    ])
    CoordinationEvent.objects.bulk_create([
        CoordinationEvent(item=item, kind=Kind.RAISED, comment=item.need, by=by) for item in items
    ])
    return len(items)
