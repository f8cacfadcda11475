"""The project list, my projects and the read-only project page."""
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from projects.models import Department, MilestoneType, Project
from qiantang_warnings.models import Escalation
from qiantang_warnings.recompute import recompute_all

PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(f"{today.isoformat()} 10:00 +08:00", tick=False)


@pytest.fixture
def projects(make_project, role_users, today):
    """cadre1 runs a red project and is on the team of a green one; cadre2 runs a yellow one."""
    housing = Department.objects.create(name="区住建局")
    planning = Department.objects.create(name="规划资源钱塘分局")
    role_users["liaison1"].liaison_departments.add(housing)
    red = make_project(
        "QT-RED", name="红色项目", sector="生物医药", responsible_cadre=role_users["cadre1"],
        lead_department=planning,
        milestones={
            "approval": {"planned_date": today - timedelta(days=90), "actual_date": today - timedelta(days=80)},
            "signing": {"planned_date": today - timedelta(days=5), "owner_department": planning},
            "construction_permit": {"planned_date": today + timedelta(days=200), "owner_department": housing},
        },
    )
    yellow = make_project(
        "QT-YELLOW", name="黄色项目", sector="集成电路", responsible_cadre=role_users["cadre2"],
        milestones={"approval": {"planned_date": today + timedelta(days=3), "owner_department": housing}},
    )
    green = make_project(
        "QT-GREEN", name="绿色项目", sector="生物医药", responsible_cadre=role_users["cadre2"],
        milestones={"approval": {"planned_date": today + timedelta(days=60)}},
    )
    green.team.add(role_users["cadre1"])
    recompute_all(today=today)
    return {"red": red, "yellow": yellow, "green": green}


def codes(response) -> list[str]:
    return re.findall(r'<tr data-project="([^"]+)"', response.content.decode())


def test_pages_need_a_signed_in_user(client, db):
    for name, kwargs in [("project_list", {}), ("my_projects", {}), ("project_detail", {"code": "X"})]:
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_agreed_url_names_resolve_to_the_agreed_paths():
    assert reverse("project_list") == "/projects/"
    assert reverse("my_projects") == "/projects/mine/"
    assert reverse("project_detail", kwargs={"code": "QT-001"}) == "/projects/QT-001/"


def test_project_list_shows_every_project_worst_first(client, role_users, projects):
    client.force_login(role_users["leader"])
    response = client.get(reverse("project_list"))
    assert response.status_code == 200
    assert codes(response) == ["QT-RED", "QT-YELLOW", "QT-GREEN"]
    assert reverse("project_detail", kwargs={"code": "QT-RED"}) in response.content.decode()


def test_project_list_filters_with_the_shared_filter_params(client, role_users, projects):
    client.force_login(role_users["cadre1"])
    assert codes(client.get("/projects/?sector=生物医药")) == ["QT-RED", "QT-GREEN"]
    assert codes(client.get("/projects/?colour=yellow")) == ["QT-YELLOW"]
    assert codes(client.get(f"/projects/?cadre={role_users['cadre2'].id}")) == ["QT-YELLOW", "QT-GREEN"]
    assert codes(client.get("/projects/?q=绿色")) == ["QT-GREEN"]
    # A nonsense value is ignored, not a 500.
    assert client.get("/projects/?department=abc&colour=purple").status_code == 200


def test_project_list_query_count_does_not_grow_with_projects(
    client, role_users, projects, make_project, django_assert_max_num_queries
):
    for i in range(30):
        make_project(f"QT-X{i:02d}", responsible_cadre=role_users["cadre1"])
    client.force_login(role_users["leader"])
    with django_assert_max_num_queries(10):  # the nav may check permissions
        response = client.get(reverse("project_list"))
    assert len(codes(response)) == 33


def test_my_projects_lists_a_cadres_projects_red_first(client, role_users, projects):
    client.force_login(role_users["cadre1"])
    response = client.get(reverse("my_projects"))
    assert codes(response) == ["QT-RED", "QT-GREEN"]
    page = response.content.decode()
    assert "项目签约逾期5天" in page  # the headline reason
    assert "施工许可" not in page or page.index("项目签约") < page.index("施工许可")


def test_my_projects_orders_by_days_overdue_within_a_colour(client, role_users, make_project, today):
    for code, days in [("QT-A", 2), ("QT-B", 30), ("QT-C", 9)]:
        make_project(code, responsible_cadre=role_users["cadre1"],
                     milestones={"approval": {"planned_date": today - timedelta(days=days)}})
    recompute_all(today=today)
    client.force_login(role_users["cadre1"])
    assert codes(client.get(reverse("my_projects"))) == ["QT-B", "QT-C", "QT-A"]


def test_my_projects_for_a_liaison_lists_their_departments_pending_milestones(client, role_users, projects):
    client.force_login(role_users["liaison1"])
    response = client.get(reverse("my_projects"))
    page = response.content.decode()
    rows = re.findall(r'data-project="([^"]+)" data-milestone="([^"]+)"', page)
    # 住建局 owns QT-YELLOW's approval (due in 3 days) and QT-RED's construction permit (200 days).
    assert rows == [("QT-YELLOW", "approval"), ("QT-RED", "construction_permit")]


@pytest.mark.parametrize("who", ["cadre1", "liaison1"])
def test_my_projects_query_count_does_not_grow_with_projects(
    client, role_users, projects, make_project, today, who, django_assert_max_num_queries
):
    housing = Department.objects.get(name="区住建局")
    for i in range(30):
        make_project(
            f"QT-M{i:02d}", responsible_cadre=role_users["cadre1"],
            milestones={
                "approval": {"planned_date": today - timedelta(days=i), "owner_department": housing},
                "signing": {"planned_date": today + timedelta(days=i)},
            },
        )
    recompute_all(today=today)
    client.force_login(role_users[who])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("my_projects"))
    assert len(codes(response)) >= 30


def test_project_page_shows_header_timeline_and_reasons(client, role_users, projects, today):
    client.force_login(role_users["leader"])
    response = client.get(reverse("project_detail", kwargs={"code": "QT-RED"}))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="project-colour"' in page and 'data-colour="red"' in page
    assert "项目签约逾期5天" in page
    # Every catalogue type, in order, whether the office filled it in or not.
    assert re.findall(r'data-milestone="([^"]+)"', page) == [
        mt.code for mt in MilestoneType.objects.order_by("order")
    ]
    assert (today - timedelta(days=5)).isoformat() in page
    assert "规划资源钱塘分局" in page


def test_project_page_shows_active_escalations(client, role_users, projects, today):
    Escalation.objects.create(project=projects["green"], colour="red", reason="区领导批示督办", until=today)
    recompute_all(today=today)
    client.force_login(role_users["cadre1"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-GREEN"})).content.decode()
    assert "督办：区领导批示督办" in page


def test_unknown_project_is_404(client, role_users, db):
    client.force_login(role_users["cadre1"])
    assert client.get(reverse("project_detail", kwargs={"code": "NOPE"})).status_code == 404


def test_project_page_query_count(client, role_users, projects, django_assert_max_num_queries):
    client.force_login(role_users["cadre1"])
    # 20 before the 协调事项 panel, which adds its items and the raise form's departments, and
    # the items' steps in the history; one more for the 约谈 in the 督办 panel.
    with django_assert_max_num_queries(24):
        assert client.get(reverse("project_detail", kwargs={"code": "QT-RED"})).status_code == 200


def test_a_paused_project_with_nothing_filled_in_shows_its_state_instead_of_a_colour(client, role_users, make_project, today):
    make_project("QT-PAUSED", name="暂缓项目", state="paused")
    recompute_all(today=today)
    client.force_login(role_users["leader"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-PAUSED"})).content.decode()
    assert 'data-colour="none"' in page and '<span class="badge big none">暂缓</span>' in page
    # Its blank milestones are listed, uncoloured: a paused project has no colour.
    row_colours = re.findall(r'data-milestone="[^"]+" data-colour="([^"]+)"', page)
    assert row_colours == ["none"] * MilestoneType.objects.count()


def test_the_project_page_renders_in_english_too(client, role_users, projects):
    client.force_login(role_users["cadre1"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/projects/QT-RED/"})
    response = client.get(reverse("project_detail", kwargs={"code": "QT-RED"}))
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()


def test_an_escalated_project_is_ranked_by_its_most_overdue_milestone(client, role_users, make_project, today):
    for code, days in [("QT-A", 3), ("QT-B", 40)]:
        make_project(code, responsible_cadre=role_users["cadre1"],
                     milestones={"approval": {"planned_date": today - timedelta(days=days)}})
    # QT-B's headline is its escalation (escalations head their colour), yet it is 40 days late.
    Escalation.objects.create(project=Project.objects.get(code="QT-B"), colour="red", reason="督办", until=today)
    recompute_all(today=today)
    client.force_login(role_users["cadre1"])
    assert codes(client.get(reverse("my_projects"))) == ["QT-B", "QT-A"]
