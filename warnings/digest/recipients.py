"""Who receives which digest: active users with an email address in a digest role who
have not switched it off, and what each one's digest covers (their roles, read through
projects.permissions)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model

from projects.models import CoordinationItem, Milestone
from projects import permissions
from projects.permissions import projects_of_cadre

from ..models import DigestPreference
from .content import CADRE_PROJECTS, DISTRICT, LIAISON_MILESTONES, Digest, build_digest
from .snapshot import district_snapshot


def recipient_kinds(user) -> list[str]:
    """What the user's digest covers, by their roles: the district, their projects, their
    departments' milestones (none: no digest). A superuser counts as the office, as
    everywhere in projects.permissions (but receives mail only in a role group)."""
    if permissions.is_office(user) or permissions.is_leader(user):
        return [DISTRICT]
    kinds = []
    if permissions.is_cadre(user):
        kinds.append(CADRE_PROJECTS)
    if permissions.is_liaison(user):
        kinds.append(LIAISON_MILESTONES)
    return kinds


def decides_replans(user) -> bool:
    """The office decides re-plan proposals; leaders read the queue (projects.permissions)."""
    return permissions.can_decide_replan(user)


@dataclass
class Recipient:
    user: object
    kinds: list[str]
    send_empty: bool


def recipients(*, usernames: list[str] | None = None, user_ids: list[int] | None = None) -> list[Recipient]:
    """Active users with an email address in a digest role, who have not switched it off."""
    User = get_user_model()
    users = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(groups__name__in=permissions.ROLES)
        .distinct()
        .order_by("username")
        .prefetch_related("groups")
    )
    if usernames is not None:
        users = users.filter(username__in=usernames)
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
    preferences = {
        user_id: (enabled, send_empty)
        for user_id, enabled, send_empty in DigestPreference.objects.values_list("user_id", "enabled", "send_empty")
    }
    result = []
    for user in users:
        enabled, send_empty = preferences.get(user.pk, (True, True))
        if not enabled:
            continue
        kinds = recipient_kinds(user)
        if kinds:
            result.append(Recipient(user, kinds, send_empty))
    return result


def digest_for_user(user, *, week: str, today: date) -> Digest:
    """One user's digest (the preview): reads only what that user's digest covers."""
    kinds = recipient_kinds(user)
    proposers = [user.pk]
    if DISTRICT in kinds:
        # No project in memory: build_digest reads the district's aggregates and bounded
        # lists (district.py), the office's queue counted there.
        scope = []
    else:
        scope = list(projects_of_cadre(user).values_list("id", flat=True)) if CADRE_PROJECTS in kinds else []
        if LIAISON_MILESTONES in kinds:
            scope += list(
                Milestone.objects.filter(owner_department__liaisons=user).values_list("project_id", flat=True).distinct()
            )
            scope += list(  # the projects of the coordination items put to their departments
                CoordinationItem.objects.filter(department__liaisons=user, state__in=CoordinationItem.OPEN_STATES)
                .values_list("project_id", flat=True).distinct()
            )
    snapshot = district_snapshot(week=week, today=today, project_ids=scope, proposer_ids=proposers)
    return build_digest(snapshot, user=user, kinds=kinds, office=decides_replans(user))
