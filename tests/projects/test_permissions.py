"""projects.permissions: who may edit what, as querysets (one place for the rules)."""
import pytest

from projects import permissions
from projects.models import Department, Milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_project, role_users):
    housing = Department.objects.create(name="区住建局")
    planning = Department.objects.create(name="规划资源钱塘分局")
    role_users["liaison1"].liaison_departments.add(housing)
    mine = make_project(
        "QT-A", responsible_cadre=role_users["cadre1"],
        milestones={"approval": {"owner_department": planning}, "construction_permit": {"owner_department": housing}},
    )
    team = make_project("QT-B", responsible_cadre=role_users["cadre2"], milestones={"approval": {}})
    team.team.add(role_users["cadre1"])
    theirs = make_project(
        "QT-C", responsible_cadre=role_users["cadre2"],
        milestones={"construction_permit": {"owner_department": housing}, "signing": {"owner_department": planning}},
    )
    return {"mine": mine, "team": team, "theirs": theirs, "housing": housing}


def milestone(project, code):
    return Milestone.objects.get(project=project, milestone_type__code=code)


def codes(queryset):
    return sorted(queryset.values_list("code", flat=True))


def test_a_cadres_projects_are_those_they_run_or_are_on_the_team_of(world, role_users):
    assert codes(permissions.projects_of_cadre(role_users["cadre1"])) == ["QT-A", "QT-B"]
    assert codes(permissions.projects_of_cadre(role_users["cadre2"])) == ["QT-B", "QT-C"]


def test_a_cadre_edits_their_projects_only(world, role_users):
    cadre1 = role_users["cadre1"]
    assert codes(permissions.editable_projects(cadre1)) == ["QT-A", "QT-B"]
    assert permissions.can_edit_project(cadre1, world["mine"])
    assert permissions.can_edit_project(cadre1, world["team"])
    assert not permissions.can_edit_project(cadre1, world["theirs"])
    assert permissions.can_edit_milestone(cadre1, milestone(world["mine"], "approval"))
    assert not permissions.can_edit_milestone(cadre1, milestone(world["theirs"], "signing"))


def test_a_liaison_edits_their_departments_milestones_on_any_project(world, role_users):
    liaison = role_users["liaison1"]
    assert permissions.can_edit_milestone(liaison, milestone(world["mine"], "construction_permit"))
    assert permissions.can_edit_milestone(liaison, milestone(world["theirs"], "construction_permit"))
    # Another department's milestone, and the project's own fields: no.
    assert not permissions.can_edit_milestone(liaison, milestone(world["theirs"], "signing"))
    assert not permissions.can_edit_project(liaison, world["theirs"])
    assert permissions.editable_milestones(liaison).count() == 2


def test_the_office_edits_everything_and_may_escalate(world, role_users):
    office = role_users["office"]
    assert permissions.editable_projects(office).count() == 3
    assert permissions.editable_milestones(office).count() == Milestone.objects.count()
    assert permissions.can_edit_milestone(office, milestone(world["theirs"], "signing"))
    assert permissions.can_escalate(office)


def test_a_leader_reads_and_escalates_but_edits_nothing(world, role_users):
    leader = role_users["leader"]
    assert permissions.editable_projects(leader).count() == 0
    assert permissions.editable_milestones(leader).count() == 0
    assert not permissions.can_edit_milestone(leader, milestone(world["mine"], "approval"))
    assert permissions.can_escalate(leader)


def test_only_leaders_and_the_office_escalate(world, role_users):
    for name in ("cadre1", "cadre2", "liaison1"):
        assert not permissions.can_escalate(role_users[name]), name


def test_a_user_without_a_role_and_an_anonymous_user_edit_nothing(world, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    nobody = django_user_model.objects.create_user("nobody", password="x-pw-12345")
    for user in (nobody, AnonymousUser()):
        assert permissions.editable_projects(user).count() == 0
        assert permissions.editable_milestones(user).count() == 0
        assert not permissions.can_escalate(user)
    assert permissions.projects_of_cadre(AnonymousUser()).count() == 0


def test_editable_milestone_ids_for_a_page_is_one_query(world, role_users, django_assert_num_queries):
    liaison = role_users["liaison1"]
    permissions.roles_of(liaison)  # roles and departments are read once per request
    permissions.liaison_department_ids(liaison)
    with django_assert_num_queries(1):
        ids = permissions.editable_milestone_ids(liaison, world["theirs"])
    assert ids == {milestone(world["theirs"], "construction_permit").id}
