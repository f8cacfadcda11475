"""The baseline colour stays in view: beside the colour on the board, the project list and the
dashboard's lists, and as the dashboard's 调整后绿 count (green only after re-planning)."""
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from projects.models import MilestoneReplan, MilestoneType, Project
from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db
D = timedelta(days=1)


def re_planned(make_project, code, today, *, baseline_offset, planned_offset):
    project = make_project(code, milestones={
        "approval": {"actual_date": today - 60 * D},
        "signing": {"planned_date": today + planned_offset * D, "baseline_date": today + baseline_offset * D},
    })
    signing = project.milestones.get(milestone_type__code="signing")
    MilestoneReplan.objects.create(
        milestone=signing, old_planned_date=today + baseline_offset * D,
        new_planned_date=today + planned_offset * D, reason="调整",
    )
    return project


@pytest.fixture
def district(make_project, today):
    # Red against its baseline (due 5 days ago), green after a re-plan 40 days out.
    re_planned(make_project, "QT-HIDDEN", today, baseline_offset=-5, planned_offset=40)
    # Red against its baseline, yellow after a re-plan 10 days out.
    re_planned(make_project, "QT-YELLOW", today, baseline_offset=-20, planned_offset=10)
    # Green and never re-planned.
    make_project("QT-PLAIN", milestones={
        "approval": {"actual_date": today - 60 * D},
        "signing": {"planned_date": today + 40 * D, "baseline_date": today + 40 * D},
    })
    recompute_all(today=today)


def row_of(html, code):
    match = re.search(rf'<tr data-project="{code}".*?</tr>', html, flags=re.S)
    assert match, code
    return match.group(0)


def test_the_board_marks_a_re_planned_green_and_filters_on_it(client, role_users, district):
    client.force_login(role_users["leader"])
    board = client.get(reverse("home")).content.decode()
    assert "调整后绿" in row_of(board, "QT-HIDDEN") and "调整1次" in row_of(board, "QT-HIDDEN")
    assert "调整后绿" not in row_of(board, "QT-PLAIN")
    assert "基准红" in row_of(board, "QT-YELLOW")

    only = client.get(reverse("home"), {"show": "green_after_replan"}).content.decode()
    assert re.findall(r'<tr data-project="([^"]+)"', only) == ["QT-HIDDEN"]
    assert re.search(r"调整后绿 <b>1</b>", only)


def test_the_project_list_shows_the_marks_too(client, role_users, district):
    client.force_login(role_users["cadre1"])
    page = client.get(reverse("project_list")).content.decode()
    assert "调整后绿" in row_of(page, "QT-HIDDEN")


def test_the_dashboard_counts_green_only_after_re_planning_and_marks_its_lists(client, role_users, district):
    client.force_login(role_users["leader"])
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-count="green_after_replan">1<' in page
    assert reverse("home") + "?show=green_after_replan" in page
    yellow = row_of(page, "QT-YELLOW")
    assert "基准红" in yellow and "调整1次" in yellow


def test_the_project_page_says_it_in_its_header(client, role_users, district):
    client.force_login(role_users["leader"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-HIDDEN"})).content.decode()
    header = page.split('id="project-colour"')[1].split("</div>")[0]
    assert "调整后绿" in header and "调整1次" in header


def test_a_cadre_s_own_list_shows_the_marks_too(client, role_users, district):
    Project.objects.filter(code__in=["QT-HIDDEN", "QT-YELLOW", "QT-PLAIN"]).update(
        responsible_cadre=role_users["cadre1"]
    )
    client.force_login(role_users["cadre1"])
    page = client.get(reverse("my_projects")).content.decode()
    assert "调整后绿" in row_of(page, "QT-HIDDEN") and "调整1次" in row_of(page, "QT-HIDDEN")
    assert "基准红" in row_of(page, "QT-YELLOW")
    assert "调整后绿" not in row_of(page, "QT-PLAIN") and "调整" not in row_of(page, "QT-PLAIN")


def _replan_policy(client, code):
    page = client.get(reverse("project_detail", kwargs={"code": code})).content.decode()
    match = re.search(r"<dd data-replan-policy>(.*?)</dd>", page, flags=re.S)
    assert match
    return re.sub(r"<[^>]+>", " ", match.group(1))


def test_the_project_page_says_where_the_office_allowed_direct_replans(client, role_users, district):
    client.force_login(role_users["cadre1"])
    assert "须申请" in _replan_policy(client, "QT-PLAIN")
    assert "已允许直接调整的节点" not in _replan_policy(client, "QT-PLAIN")

    MilestoneType.objects.filter(code="signing").update(direct_replan_allowed=True)
    text = _replan_policy(client, "QT-PLAIN")
    assert "须申请" in text and "已允许直接调整的节点：项目签约" in text

    Project.objects.filter(code="QT-PLAIN").update(direct_replan_allowed=True)
    assert "投资管理科已允许直接调整" in _replan_policy(client, "QT-PLAIN")


def test_allowing_direct_replans_for_a_project_is_in_its_history(client, role_users, district):
    project = Project.objects.get(code="QT-PLAIN")
    project.direct_replan_allowed = True
    project._history_user = role_users["office"]
    project.save()
    client.force_login(role_users["leader"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-PLAIN"})).content.decode()
    history = page.split('id="history"')[1]
    assert "允许直接调整计划" in history
