"""申请调整计划 from the project page: a cadre proposes, the plan and the colour stay until
the office decides in its queue (tests/projects/test_views_replans.py), and the page shows both."""
from datetime import timedelta

import pytest
from django.urls import reverse

from projects.models import Department, Milestone, ReplanProposal
from projects.replans import replan_approve, replan_reject
from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def late(make_project, role_users, today):
    """cadre1's project, red: signing was due 5 days ago; 住建局 owns the construction permit."""
    housing = Department.objects.create(name="区住建局")
    role_users["liaison1"].liaison_departments.add(housing)
    project = make_project(
        "QT-LATE", name="逾期项目", responsible_cadre=role_users["cadre1"],
        milestones={
            "approval": {"planned_date": today - timedelta(days=90), "actual_date": today - timedelta(days=80)},
            "signing": {"planned_date": today - timedelta(days=5), "baseline_date": today - timedelta(days=5)},
            "construction_permit": {"planned_date": today + timedelta(days=100), "owner_department": housing},
        },
    )
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    return project


def propose_url(project, type_code="signing"):
    return reverse("replan_propose", kwargs={"code": project.code, "type_code": type_code})


def signing(project):
    return Milestone.objects.get(project=project, milestone_type__code="signing")


def test_a_cadre_proposes_and_the_colour_stays_until_the_office_approves(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    form = client.get(propose_url(late), headers=HTMX)
    assert form.status_code == 200
    assert 'name="proposed_planned_date"' in form.content.decode()

    new_date = today + timedelta(days=40)
    response = client.post(propose_url(late), {
        "proposed_planned_date": new_date.isoformat(), "reason": "土地指标调整", "document_number": "钱政办〔2026〕12号",
    }, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"申请调整至 {new_date.isoformat()}，待审核" in html
    assert 'id="replans" hx-swap-oob="true"' in html and "土地指标调整" in html and "钱政办〔2026〕12号" in html
    proposal = ReplanProposal.objects.get()
    assert (proposal.state, proposal.proposer) == ("pending", role_users["cadre1"])
    assert signing(late).planned_date == today - timedelta(days=5)
    late.refresh_from_db()
    assert late.colour == "red"

    replan_approve(proposal, by=role_users["office"], comment="同意", today=today)

    late.refresh_from_db()
    assert (late.colour, late.baseline_colour, late.replan_count) == ("green", "red", 1)
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    assert "调整后绿" in page and "已批准" in page and "同意" in page
    assert "待审核" not in page.split('id="replans"')[0]  # the row no longer shows a pending one


def test_a_rejected_proposal_leaves_the_plan_and_shows_the_office_s_comment(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    client.post(propose_url(late), {"proposed_planned_date": (today + timedelta(days=40)).isoformat(),
                                    "reason": "企业资金未到位"})
    replan_reject(ReplanProposal.objects.get(), by=role_users["office"], comment="请先报送资金方案", today=today)
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    assert "已驳回" in page and "请先报送资金方案" in page
    assert signing(late).planned_date == today - timedelta(days=5)


def test_without_javascript_a_proposal_redirects_back_to_the_row_with_a_message(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    response = client.post(propose_url(late), {
        "proposed_planned_date": (today + timedelta(days=40)).isoformat(), "reason": "企业调整方案",
    }, follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/{late.code}/#m-signing"
    assert "已提交调整计划申请：项目签约，待投资管理科审核" in response.content.decode()


@pytest.mark.parametrize("data, message", [
    ({"proposed_planned_date": "", "reason": "x"}, "请填写申请的计划完成日期"),
    ({"proposed_planned_date": "2100-01-01", "reason": "x"}, "日期须在2000-01-01至2099-12-31之间"),
    ({"proposed_planned_date": "2026-02-30", "reason": "x"}, "请输入有效的日期"),
    ({"proposed_planned_date": "2027-01-10", "reason": "  "}, "请填写调整原因"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(client, role_users, late, data, message):
    client.force_login(role_users["cadre1"])
    response = client.post(propose_url(late), data, headers=HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ReplanProposal.objects.exists()


def test_a_second_pending_proposal_and_one_for_a_done_milestone_are_refused(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    data = {"proposed_planned_date": (today + timedelta(days=40)).isoformat(), "reason": "第一次"}
    client.post(propose_url(late), data, headers=HTMX)
    again = client.post(propose_url(late), {**data, "reason": "第二次"}, headers=HTMX)
    assert "该节点已有待审核的调整计划申请" in again.content.decode()
    done = client.post(propose_url(late, "approval"), data, headers=HTMX)
    assert "该节点已完成，不能调整计划" in done.content.decode()
    assert list(ReplanProposal.objects.values_list("reason", flat=True)) == ["第一次"]


@pytest.mark.parametrize("who", ["leader", "cadre2", "liaison1"])
def test_who_may_not_edit_the_milestone_may_not_propose(client, role_users, late, today, who):
    client.force_login(role_users[who])
    data = {"proposed_planned_date": (today + timedelta(days=40)).isoformat(), "reason": "试一下"}
    assert client.get(propose_url(late), headers=HTMX).status_code == 403
    assert client.post(propose_url(late), data, headers=HTMX).status_code == 403
    assert client.post(propose_url(late), data).status_code == 403
    assert not ReplanProposal.objects.exists()


def test_the_liaison_proposes_for_their_department_s_milestone(client, role_users, late, today):
    client.force_login(role_users["liaison1"])
    response = client.post(propose_url(late, "construction_permit"), {
        "proposed_planned_date": (today + timedelta(days=130)).isoformat(), "reason": "图审延期",
    }, headers=HTMX)
    assert response.status_code == 200
    assert ReplanProposal.objects.get().milestone.milestone_type.code == "construction_permit"


def test_a_signed_out_visitor_is_sent_to_the_login_page(client, late, today):
    response = client.post(propose_url(late), {"proposed_planned_date": "2027-01-10", "reason": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ReplanProposal.objects.exists()


def test_the_project_page_query_count_stays_flat_with_proposals(client, role_users, late, today, django_assert_max_num_queries):
    for n, code in enumerate(["land_listing", "land_transfer", "planning_permit"]):
        milestone = Milestone.objects.get(project=late, milestone_type__code=code)
        milestone.planned_date = today + timedelta(days=10 + n)
        milestone.save()
        ReplanProposal.objects.create(milestone=milestone, proposed_planned_date=today + timedelta(days=60),
                                      reason=f"理由{n}", proposer=role_users["cadre1"])
    client.force_login(role_users["cadre1"])
    # 22 before the 协调事项 panel (its items, the raise form's departments, its history steps).
    with django_assert_max_num_queries(25):
        assert client.get(reverse("project_detail", kwargs={"code": late.code})).status_code == 200
