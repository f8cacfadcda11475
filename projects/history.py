"""A project's change history (who, when, old → new), read from django-simple-history.

Two queries per kind of record (project, milestones), diffs computed in Python by
pairing each historical record with the previous one of the same object.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from qiantang.people import display_name
from qiantang_warnings.selectors import status_changes_of

from .models import Colour, CoordinationEvent, Department, Milestone, MilestoneType, Project
from .services import HISTORY_BASELINE

MILESTONE_FIELDS = ("planned_date", "actual_date", "not_applicable", "owner_department_id")
PROJECT_FIELDS = (
    "code", "name", "sector", "level", "total_investment", "state", "lead_department_id",
    "responsible_cadre_id", "progress_note", "open_problems", "direct_replan_allowed",
)
TEXT_LIMIT = 60


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    at: datetime
    user: object
    subject: str  # "项目" or the milestone type's name
    created: bool = False
    changes: list[Change] = field(default_factory=list)
    note: str = ""  # a re-plan reason, or why a milestone was marked not applicable
    system: bool = False  # a change of colour written by the recompute
    coordination: bool = False  # a step of a coordination item (the note says which)

    @property
    def marks_not_applicable(self) -> bool:
        """The entry marks a milestone 不适用 (its note is then the reason for that)."""
        label = _label(Milestone, "not_applicable")
        return any(c.label == label and c.new == _("是") for c in self.changes)


def _label(model, attname: str) -> str:
    name = attname[:-3] if attname.endswith("_id") else attname
    return str(model._meta.get_field(name).verbose_name)


class _Display:
    """Turns stored values into what a reader expects (names, labels, dates)."""

    def __init__(self, records):
        department_ids, user_ids = set(), set()
        for record in records:
            for attname, ids in (("owner_department_id", department_ids), ("lead_department_id", department_ids), ("responsible_cadre_id", user_ids)):
                value = getattr(record, attname, None)
                if value:
                    ids.add(value)
        self.departments = dict(Department.objects.filter(id__in=department_ids).values_list("id", "name")) if department_ids else {}
        self.users = {}
        if user_ids:
            for user in get_user_model().objects.filter(id__in=user_ids):
                self.users[user.id] = display_name(user)

    def __call__(self, attname: str, value) -> str:
        if value is None or value == "":
            return "—"
        if attname in ("owner_department_id", "lead_department_id"):
            return self.departments.get(value, str(value))
        if attname == "responsible_cadre_id":
            return self.users.get(value, str(value))
        if attname == "state":
            return str(Project.State(value).label) if value in Project.State.values else value
        if attname == "level":
            return str(Project.Level(value).label) if value in Project.Level.values else value
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if isinstance(value, (date, datetime)):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, Decimal):
            return f"{value:f}"
        text = str(value)
        return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"


def _entries(records, model, fields, subject_of, display) -> list[HistoryEntry]:
    by_object = defaultdict(list)
    for record in records:
        by_object[record.id].append(record)
    entries = []
    for object_records in by_object.values():
        object_records.sort(key=lambda r: (r.history_date, r.history_id))
        previous = None
        for record in object_records:
            if record.history_change_reason == HISTORY_BASELINE:
                # A baseline (the state before the first edit of a bulk-loaded row, written
                # by the services): nothing to show by itself, the next record is compared with it.
                previous = record
                continue
            entry = HistoryEntry(
                at=record.history_date,
                user=record.history_user,
                subject=subject_of(record),
                created=record.history_type == "+",
                note=record.history_change_reason or "",
            )
            if previous is not None and record.history_type == "~":
                for attname in fields:
                    old, new = getattr(previous, attname), getattr(record, attname)
                    if old != new:
                        entry.changes.append(Change(_label(model, attname), display(attname, old), display(attname, new)))
                if not entry.changes:
                    previous = record
                    continue
            entries.append(entry)
            previous = record
    return entries


def project_history(project: Project, *, limit: int = 50) -> list[HistoryEntry]:
    """The project's and its milestones' changes, newest first."""
    project_records = list(
        Project.history.filter(id=project.id).select_related("history_user").order_by("history_date")
    )
    milestone_records = list(
        Milestone.history.filter(project_id=project.id).select_related("history_user").order_by("history_date")
    )
    type_names = dict(MilestoneType.objects.values_list("id", "name"))
    display = _Display(project_records + milestone_records)
    entries = _entries(project_records, Project, PROJECT_FIELDS, lambda r: _("项目信息"), display)
    entries += _entries(
        milestone_records, Milestone, MILESTONE_FIELDS,
        lambda r: type_names.get(r.milestone_type_id, _("节点")), display,
    )
    entries += _colour_changes(project)
    entries += _coordination_steps(project)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _coordination_steps(project: Project, limit: int = 50) -> list[HistoryEntry]:
    """Every step of the project's coordination items (协调事项): raised, answered, handled,
    closed, reopened, with its comment."""
    events = (
        CoordinationEvent.objects.filter(item__project=project)
        .select_related("by", "item__department").order_by("-at", "-id")[:limit]
    )
    return [
        HistoryEntry(
            at=event.at, user=event.by, coordination=True,
            subject=_("协调事项（%(department)s）") % {"department": event.item.department.name},
            note=(_("%(step)s：%(comment)s") % {"step": event.get_kind_display(), "comment": event.comment})
            if event.comment else str(event.get_kind_display()),
        )
        for event in events
    ]


def _colour_changes(project: Project, limit: int = 50) -> list[HistoryEntry]:
    """The project's changes of colour (状态变化), as the recompute recorded them."""
    labels = dict(Colour.choices)
    return [
        HistoryEntry(
            at=change.at,
            user=None,
            subject="",
            system=True,
            changes=[
                Change(
                    _("预警等级"),
                    str(labels.get(change.from_colour, "—")),
                    str(labels.get(change.to_colour, "—")),
                )
            ],
        )
        for change in status_changes_of(project, limit=limit)
    ]
