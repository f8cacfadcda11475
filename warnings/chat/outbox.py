"""The outbox: what happened becomes one ChatNotice per (robot, event), exactly once.

Events are read back from the rows that record them, so nothing is lost when a process
dies between the event and its message: a StatusChange into red (from another colour: a
project's first computation is not a turn), a CoordinationEvent handing an item to a
department (raised with one, assigned by the office, reopened), an item still waiting
past its deadline, and Monday's summary. Each notice's event_key is unique per robot, so
collecting twice (beat running twice, a retried task) inserts nothing new; a red recorded
again for the same project within CHAT_RED_MERGE_SECONDS adds no second message. A robot
hears only of events after it was created (a new group is not flooded with history).
"""
from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from projects.models import CoordinationEvent, CoordinationItem, Department, Project
from qiantang import colours
from qiantang.people import display_name

from ..digest.snapshot import DistrictSnapshot, district_snapshot
from ..models import ChatNotice, ChatRobot, MobileNumber, StatusChange
from . import messages

Event = ChatNotice.Event
HANDED_TO_DEPARTMENT = [CoordinationEvent.Kind.RAISED, CoordinationEvent.Kind.ASSIGNED, CoordinationEvent.Kind.REOPENED]
WEEKLY_REDS_SHOWN = 10


def in_district_language(function):
    """Groups read the district's language (LANGUAGE_CODE), whoever's request wrote the notice."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return function(*args, **kwargs)

    return wrapper


def lookback() -> timedelta:
    """How far back events are read: longer than any outage of beat worth surviving."""
    return timedelta(hours=settings.CHAT_LOOKBACK_HOURS)


def red_merge_window() -> timedelta:
    return timedelta(seconds=settings.CHAT_RED_MERGE_SECONDS)


# ---------------------------------------------------------------- who hears of what

def robots_for(robots: list[ChatRobot], *, project_id: int, department_id: int | None, flag: str) -> list[ChatRobot]:
    """The robots whose scope covers the event and who want it: the district's, the
    department's (the project's lead department for a red, the item's for an item) and
    the project team's."""
    return [
        robot for robot in robots
        if getattr(robot, flag)
        and (
            robot.scope == ChatRobot.Scope.DISTRICT
            or (robot.scope == ChatRobot.Scope.DEPARTMENT and department_id and robot.department_id == department_id)
            or (robot.scope == ChatRobot.Scope.PROJECT and robot.project_id == project_id)
        )
    ]


@dataclass
class _Batch:
    """Notices to insert, skipping (robot, key) pairs that exist already."""

    existing: set[tuple[int, str]]
    rows: list[ChatNotice]

    def add(self, robot: ChatRobot, key: str, event: str, at: datetime, project_id: int | None, text: messages.Text):
        if (robot.pk, key) in self.existing or at < robot.created_at:
            return False
        self.existing.add((robot.pk, key))
        self.rows.append(ChatNotice(
            robot=robot, event=event, event_key=key, event_at=at, project_id=project_id,
            title=text.title[:200], text=text.text, mobiles=list(text.mobiles),
        ))
        return True


def _mobiles(user_ids) -> dict[int, str]:
    return dict(MobileNumber.objects.filter(user_id__in=set(user_ids)).values_list("user_id", "mobile"))


def _liaison_mobiles(department_ids) -> dict[int, list[str]]:
    pairs = list(Department.liaisons.through.objects.filter(department_id__in=set(department_ids))
                 .values_list("department_id", "user_id").order_by("department_id", "user_id"))
    mobiles = _mobiles(user_id for _, user_id in pairs)
    found: dict[int, list[str]] = defaultdict(list)
    for department_id, user_id in pairs:
        if user_id in mobiles:
            found[department_id].append(mobiles[user_id])
    return found


@in_district_language
def collect(*, now: datetime, today: date) -> int:
    """Turn the events of the lookback window into notices; the number created."""
    with transaction.atomic():
        # Locking the robots serialises two collectors (beat twice), so the red merge window
        # and the existence checks below see each other's inserts.
        robots = list(ChatRobot.objects.select_for_update().filter(enabled=True).order_by("id"))
        if not robots:
            return 0
        since = now - lookback()
        existing = set(
            ChatNotice.objects.filter(robot__in=robots, created_at__gte=since - lookback())
            .exclude(event__in=[Event.WEEKLY, Event.TEST]).values_list("robot_id", "event_key")
        )
        batch = _Batch(existing, [])
        if any(robot.notify_red for robot in robots):
            _collect_reds(batch, robots, since)
        if any(robot.notify_item_assigned for robot in robots):
            _collect_assigned(batch, robots, since)
        if any(robot.notify_item_overdue for robot in robots):
            _collect_overdue(batch, robots, now, today)
        ChatNotice.objects.bulk_create(batch.rows, ignore_conflicts=True)
    return len(batch.rows)


def _collect_reds(batch: _Batch, robots: list[ChatRobot], since: datetime) -> None:
    changes = list(
        StatusChange.objects.filter(to_colour=colours.RED, at__gte=since)
        .exclude(from_colour__in=["", colours.RED])
        .select_related("project__lead_department", "project__responsible_cadre")
        .order_by("at", "id")
    )
    if not changes:
        return
    mobiles = _mobiles(c.project.responsible_cadre_id for c in changes if c.project.responsible_cadre_id)
    # Reds already told per (robot, project), to merge a red recorded again within the window.
    told: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for robot_id, project_id, at in ChatNotice.objects.filter(
        robot__in=robots, event=Event.RED, event_at__gte=since - red_merge_window()
    ).values_list("robot_id", "project_id", "event_at"):
        told[(robot_id, project_id)].append(at)
    for change in changes:
        project = change.project
        cadre = project.responsible_cadre
        text = messages.red(
            code=project.code, name=project.name, reasons=change.reasons or [],
            department=project.lead_department.name if project.lead_department else "",
            cadre=display_name(cadre) if cadre else "", cadre_mobile=mobiles.get(project.responsible_cadre_id, ""),
        )
        for robot in robots_for(robots, project_id=project.id, department_id=project.lead_department_id, flag="notify_red"):
            if any(abs(change.at - at) <= red_merge_window() for at in told[(robot.pk, project.id)]):
                continue
            if batch.add(robot, f"red:{change.pk}", Event.RED, change.at, project.id, text):
                told[(robot.pk, project.id)].append(change.at)


def _collect_assigned(batch: _Batch, robots: list[ChatRobot], since: datetime) -> None:
    events = list(
        CoordinationEvent.objects.filter(kind__in=HANDED_TO_DEPARTMENT, at__gte=since, item__department__isnull=False)
        .select_related("item__project", "item__department").order_by("at", "id")
    )
    if not events:
        return
    liaisons = _liaison_mobiles(e.item.department_id for e in events)
    for event in events:
        item = event.item
        text = messages.item_assigned(
            code=item.project.code, name=item.project.name, need=item.need, department=item.department.name,
            deadline=item.deadline, reopened=event.kind == CoordinationEvent.Kind.REOPENED,
            comment=event.comment, liaison_mobiles=liaisons.get(item.department_id, []),
        )
        for robot in robots_for(robots, project_id=item.project_id, department_id=item.department_id,
                                flag="notify_item_assigned"):
            batch.add(robot, f"item-assigned:{event.pk}", Event.ITEM_ASSIGNED, event.at, item.project_id, text)


def _collect_overdue(batch: _Batch, robots: list[ChatRobot], now: datetime, today: date) -> None:
    items = list(
        CoordinationItem.objects.filter(
            state__in=CoordinationItem.OPEN_STATES, deadline__lt=today, department__isnull=False,
            project__state=Project.State.ACTIVE,
        ).select_related("project", "department").order_by("deadline", "id")
    )
    if not items:
        return
    existing = set(
        ChatNotice.objects.filter(robot__in=robots, event=Event.ITEM_OVERDUE,
                                  event_key__in=[f"item-overdue:{i.pk}:{i.deadline}" for i in items])
        .values_list("robot_id", "event_key")
    )
    batch.existing |= existing
    liaisons = _liaison_mobiles(i.department_id for i in items)
    for item in items:
        text = messages.item_overdue(
            code=item.project.code, name=item.project.name, need=item.need, department=item.department.name,
            deadline=item.deadline, days=(today - item.deadline).days,
            liaison_mobiles=liaisons.get(item.department_id, []),
        )
        for robot in robots_for(robots, project_id=item.project_id, department_id=item.department_id,
                                flag="notify_item_overdue"):
            # An item overdue when the robot was created is news to the group all the same.
            batch.add(robot, f"item-overdue:{item.pk}:{item.deadline}", Event.ITEM_OVERDUE, max(now, robot.created_at),
                      item.project_id, text)


# ---------------------------------------------------------------- Monday's summary

@in_district_language
def weekly_summaries(*, week: str, today: date, now: datetime) -> int:
    """One summary per robot that wants it for the ISO week, whoever asks first; the number
    actually created (0 when beat asks again: rows skipped as existing are not counted)."""
    key = f"weekly:{week}"
    with transaction.atomic():
        # Locking the robots (as collect does) serialises two beats, so the rows found
        # existing below are exactly those not created here.
        robots = list(
            ChatRobot.objects.select_for_update(of=("self",)).filter(enabled=True, notify_weekly=True)
            .select_related("department", "project").order_by("id")
        )
        done = set(ChatNotice.objects.filter(robot__in=robots, event_key=key).values_list("robot_id", flat=True))
        robots = [robot for robot in robots if robot.pk not in done]
        if not robots:
            return 0
        snapshot = district_snapshot(week=week, today=today)
        rows = []
        for robot in robots:
            text = weekly_text(snapshot, robot)
            rows.append(ChatNotice(
                robot=robot, event=Event.WEEKLY, event_key=key, event_at=now,
                project_id=robot.project_id, title=text.title[:200], text=text.text,
            ))
        ChatNotice.objects.bulk_create(rows, ignore_conflicts=True)  # the unique constraint, still the last word
    return len(rows)


def weekly_text(snapshot: DistrictSnapshot, robot: ChatRobot) -> messages.Text:
    """The summary of the robot's scope: the district, a department's projects and items, or one project."""
    projects = list(snapshot.projects.values())
    items = snapshot.items
    if robot.scope == ChatRobot.Scope.DEPARTMENT:
        scope = robot.department.name
        projects = [p for p in projects if p.lead_department == robot.department.name]
        items = [i for i in items if i.department_id == robot.department_id]
    elif robot.scope == ChatRobot.Scope.PROJECT:
        scope = robot.project.code
        projects = [p for p in projects if p.id == robot.project_id]
        items = [i for i in items if i.project.id == robot.project_id]
    else:
        scope = _("全区")
    counts: dict[str, int] = defaultdict(int)
    for project in projects:
        counts[project.colour] += 1
    reds = sorted((p for p in projects if p.colour == colours.RED), key=lambda p: p.urgency)
    return messages.weekly(
        week=snapshot.week, scope=scope, counts=counts,
        reds=[(p.code, p.name, p.overdue_reason) for p in reds[:WEEKLY_REDS_SHOWN]],
        more_reds=max(len(reds) - WEEKLY_REDS_SHOWN, 0),
        open_items=len(items), overdue_items=sum(1 for i in items if i.overdue_days > 0),
    )


@in_district_language
def test_notice(robot: ChatRobot, *, now: datetime) -> ChatNotice:
    """A test message for the admin's action, queued like any other."""
    text = messages.test_message(robot.name)
    return ChatNotice.objects.create(
        robot=robot, event=Event.TEST, event_key=f"test:{uuid.uuid4().hex}", event_at=now,
        title=text.title, text=text.text,
    )
