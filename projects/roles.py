"""The four roles as auth groups, kept in step with the models after migrate.

领导 leader: reads everything (view permissions) and may escalate (督办).
投资管理科 office: administers everything.
项目干部 cadre and 部门联络员 liaison: edit through the staff pages; object-level
rules (whose projects, which department's milestones) and every question "does this
user hold that role" live in permissions.
"""
from django.contrib.auth.models import Group, Permission

LEADER = "leader"
OFFICE = "office"
CADRE = "cadre"
LIAISON = "liaison"

ROLE_NAMES = {LEADER: "领导", OFFICE: "投资管理科", CADRE: "项目干部", LIAISON: "部门联络员"}
APP_LABELS = ("projects", "warnings")


# Robot webhooks and secrets, what the groups were sent, people's mobile numbers, the screens'
# secret links: the office's only.
OFFICE_ONLY_MODELS = ["chatrobot", "chatnotice", "chatpost", "mobilenumber", "screenlink"]


def ensure_role_groups(**kwargs) -> None:
    domain = Permission.objects.filter(content_type__app_label__in=APP_LABELS)
    others = domain.exclude(content_type__model__in=OFFICE_ONLY_MODELS)
    office, _ = Group.objects.get_or_create(name=OFFICE)
    office.permissions.set(
        list(domain) + list(Permission.objects.filter(content_type__app_label="auth"))
    )
    leader, _ = Group.objects.get_or_create(name=LEADER)
    leader.permissions.set(
        list(others.filter(codename__startswith="view_"))
        + list(domain.filter(codename__in=["add_escalation", "change_escalation"]))
    )
    for name in (CADRE, LIAISON):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            list(others.filter(codename__startswith="view_"))
            + list(domain.filter(codename__in=["change_milestone", "add_milestonereplan"]))
        )
