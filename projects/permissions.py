"""Who may edit what: the one place for object-level rules, as querysets.

项目干部 cadre: the projects they are responsible for or on the team of.
部门联络员 liaison: the milestones their department owns, on any project.
投资管理科 office (and superusers): everything, and alone decides re-plans (调整计划).
领导 leader: reads (re-plan proposals too), may escalate (督办).
Everyone signed in reads everything. Views scope their writes with these
querysets, so a forbidden edit is refused before anything is read for writing.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Milestone, Project
from .roles import CADRE, LEADER, LIAISON, OFFICE

ROLES = frozenset((LEADER, OFFICE, CADRE, LIAISON))


def roles_of(user) -> frozenset[str]:
    """The user's role group names, read once per user object (request): the one place
    that asks which roles a user holds; every check below, the digest's recipients and the
    navigation go through it."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_qiantang_roles", None)
    if cached is None:
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        if prefetched is not None:  # a list of users read with prefetch_related("groups")
            names = {group.name for group in prefetched}
        else:
            names = user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        cached = frozenset(ROLES.intersection(names))
        user._qiantang_roles = cached
    return cached


def is_office(user) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or OFFICE in roles_of(user)


def is_leader(user) -> bool:
    return LEADER in roles_of(user)


def is_cadre(user) -> bool:
    return CADRE in roles_of(user)


def is_liaison(user) -> bool:
    return LIAISON in roles_of(user)


def projects_of_cadre(user) -> QuerySet[Project]:
    """A cadre's projects: responsible for, or on the team of (any state)."""
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    ids = Project.objects.filter(Q(responsible_cadre=user) | Q(team=user)).values("id")
    return Project.objects.filter(id__in=ids)


def liaison_department_ids(user) -> list[int]:
    if not is_liaison(user):
        return []
    cached = getattr(user, "_qiantang_liaison_departments", None)
    if cached is None:
        cached = list(user.liaison_departments.values_list("id", flat=True))
        user._qiantang_liaison_departments = cached
    return cached


def editable_projects(user) -> QuerySet[Project]:
    """Projects whose own fields (progress note, open problems) the user may edit."""
    if is_office(user):
        return Project.objects.all()
    if is_cadre(user):
        return projects_of_cadre(user)
    return Project.objects.none()


def editable_milestones(user) -> QuerySet[Milestone]:
    """Milestones the user may edit: their projects' (cadre), their department's (liaison)."""
    if is_office(user):
        return Milestone.objects.all()
    scope = Q(pk__in=[])
    if is_cadre(user):
        scope |= Q(project__in=projects_of_cadre(user))
    departments = liaison_department_ids(user)
    if departments:
        scope |= Q(owner_department_id__in=departments)
    return Milestone.objects.filter(scope)


def can_edit_project(user, project: Project) -> bool:
    if is_office(user):
        return True
    return editable_projects(user).filter(pk=project.pk).exists()


def can_edit_milestone(user, milestone: Milestone) -> bool:
    if is_office(user):
        return True
    return editable_milestones(user).filter(pk=milestone.pk).exists()


def editable_milestone_ids(user, project: Project) -> set[int]:
    """Ids of the project's milestones the user may edit (one query, for a page)."""
    return set(editable_milestones(user).filter(project=project).values_list("id", flat=True))


def can_escalate(user) -> bool:
    """督办: leaders and the office."""
    return is_office(user) or is_leader(user)


def can_propose_replan(user, milestone: Milestone) -> bool:
    """申请调整计划: whoever may edit the milestone today (its cadres, its department's
    liaisons, the office)."""
    return can_edit_milestone(user, milestone)


def may_replan_directly(user, milestone: Milestone) -> bool:
    """Changing a planned date that is already set, without a proposal: the office (whose
    decision a re-plan is), or anyone who may edit the milestone where the office allowed
    direct re-plans for its project or its milestone type. Everyone else proposes."""
    if is_office(user):
        return True
    allowed = milestone.project.direct_replan_allowed or milestone.milestone_type.direct_replan_allowed
    return allowed and can_edit_milestone(user, milestone)


def can_decide_replan(user) -> bool:
    """Approving or rejecting a re-plan: the office only."""
    return is_office(user)


def can_read_replan_queue(user) -> bool:
    """The queue of proposals: the office, and leaders (read only)."""
    return is_office(user) or is_leader(user)


def can_read_ladder(user) -> bool:
    """The ladder's suggestions (升级建议, /ladder/): the office, which decides them, and
    leaders (read only)."""
    return is_office(user) or is_leader(user)


def can_import_replacing(user) -> bool:
    """The workbook import's replace mode (覆盖模式), which overwrites planned dates
    without review: the office only. A merge import proposes re-plans instead."""
    return is_office(user)


def can_import_workbook(user) -> bool:
    """Importing the 三色预警表 (the site's page and the command): the office, signed in
    and active. Everyone else is refused."""
    return bool(getattr(user, "is_active", False)) and is_office(user)


# --- 协调事项 (coordination items) ----------------------------------------------------------


def can_raise_item(user, project) -> bool:
    """Raising an item on a project: whoever edits the project (its cadre and team, the office)."""
    return can_edit_project(user, project)


def can_answer_item(user, item) -> bool:
    """Answering an item and marking it handled: the asked department's liaisons, the office."""
    return is_office(user) or item.department_id in liaison_department_ids(user)


def can_close_item(user, item) -> bool:
    """Closing (销号) or reopening an item: whoever raised it, the office."""
    return is_office(user) or (getattr(user, "pk", None) is not None and item.raised_by_id == user.pk)


def can_assign_item(user) -> bool:
    """Giving an item from the workbook its department and deadline (分派): the office."""
    return is_office(user)
