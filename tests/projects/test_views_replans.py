"""The office's queue of re-plan proposals (/replans/): who sees it, deciding with HTMX
and without JavaScript, every refusal, and the navigation's count."""
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from projects.models import Department, Milestone, MilestoneReplan, Project, ReplanProposal
from projects.replans import replan_approve, replan_propose
from qiantang_warnings.recompute import recompute_all

HTMX = {"HTTP_HX_REQUEST": "true"}
D = timedelta(days=1)
QUEUE = reverse("replan_queue")


@pytest.fixture
def late(make_project, role_users, today):
    """cadre1's red project: signing (plan and baseline today-5) is five days overdue."""
    housing = Department.objects.create(name="区住建局")
    role_users["liaison1"].liaison_departments.add(housing)
    project = make_project(
        "QT-LATE", name="逾期项目", responsible_cadre=role_users["cadre1"],
        milestones={
            "approval": {"planned_date": today - 90 * D, "actual_date": today - 80 * D},
            "signing": {"planned_date": today - 5 * D, "baseline_date": today - 5 * D},
            "construction_permit": {"planned_date": today + 100 * D, "owner_department": housing},
        },
    )
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    return project


@pytest.fixture
def proposal(late, role_users, today):
    """cadre1 proposes to move signing 65 days later, with a 文号."""
    return replan_propose(
        Milestone.objects.get(project=late, milestone_type__code="signing"),
        proposed_planned_date=today + 60 * D, reason="土地指标延后下达",
        document_number="钱发改〔2026〕12号", by=role_users["cadre1"], today=today,
    )


def approve_url(proposal):
    return reverse("replan_approve", kwargs={"pk": proposal.pk})


def reject_url(proposal):
    return reverse("replan_reject", kwargs={"pk": proposal.pk})


def signed_in(client, role_users, username):
    client.force_login(role_users[username])
    return client


def unchanged(proposal, late, today):
    """Nothing saved: the proposal pending, the plan and the red as they were."""
    proposal.refresh_from_db()
    assert proposal.is_pending and proposal.decided_by is None and proposal.decision_comment == ""
    assert Milestone.objects.get(pk=proposal.milestone_id).planned_date == today - 5 * D
    assert not MilestoneReplan.objects.exists()
    assert Project.objects.get(pk=late.pk).colour == "red"
    return True


def nav(html: str) -> str:
    match = re.search(r'<a id="replan-nav"[^>]*>.*?</a>', html, flags=re.S)
    return match.group(0) if match else ""


# --- Who sees the queue ------------------------------------------------------------------


def test_the_office_sees_each_pending_proposal_with_what_it_needs_to_decide(client, role_users, proposal, today):
    page = signed_in(client, role_users, "office").get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    row = re.search(rf'<tr id="proposal-{proposal.pk}".*?</tr>', html, flags=re.S).group(0)
    assert 'data-state="pending"' in row and 'data-colour="red"' in row
    assert reverse("project_detail", kwargs={"code": "QT-LATE"}) + "#m-signing" in row
    assert "QT-LATE" in row and "逾期项目" in row and "项目签约" in row
    assert (today - 5 * D).isoformat() in row  # the current plan, and the baseline
    assert (today + 60 * D).isoformat() in row
    assert "推迟65天" in row
    assert "土地指标延后下达" in row and "文号：钱发改〔2026〕12号" in row
    assert "cadre1" in row and proposal.created_at.astimezone().strftime("%Y-%m-%d %H:%M") in row
    assert f'hx-post="{approve_url(proposal)}"' in row and f'hx-post="{reject_url(proposal)}"' in row
    assert f'formaction="{approve_url(proposal)}"' in row and f'formaction="{reject_url(proposal)}"' in row
    assert 'name="comment"' in row
    assert "调整计划审核" in nav(html) and '<span class="nav-count"' in nav(html) and ">1</span>" in nav(html)
    assert 'aria-current="page"' in nav(html)


def test_leaders_read_the_queue_but_cannot_decide(client, role_users, proposal):
    page = signed_in(client, role_users, "leader").get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="proposal-{proposal.pk}"' in html and "土地指标延后下达" in html
    assert "只读" in html
    assert "hx-post" not in html and 'name="comment"' not in html
    assert ">1</span>" in nav(html)


@pytest.mark.parametrize("who", ["cadre1", "cadre2", "liaison1"])
def test_cadres_and_liaisons_get_403_with_a_reason(client, role_users, proposal, who):
    page = signed_in(client, role_users, who).get(QUEUE)
    assert page.status_code == 403
    html = page.content.decode()
    assert "只有投资管理科和领导可以查看调整计划申请" in html
    assert "土地指标延后下达" not in html
    assert nav(html) == ""  # and no link to it


def test_signed_out_visitors_are_sent_to_the_login_page(client, proposal):
    response = client.get(QUEUE)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_recently_decided_proposals_are_listed_below_the_queue(client, role_users, proposal, today):
    replan_approve(proposal, by=role_users["office"], comment="同意，按批复执行", today=today)
    html = signed_in(client, role_users, "leader").get(QUEUE).content.decode()
    pending, decided = html.split('id="decided-proposals"')
    assert "没有待审核的调整计划申请" in pending
    row = re.search(rf'<tr id="proposal-{proposal.pk}".*?</tr>', decided, flags=re.S).group(0)
    assert 'data-state="approved"' in row and "已批准" in row and "同意，按批复执行" in row
    assert (today - 5 * D).isoformat() in row and "推迟65天" in row  # old → new, as decided
    assert '<span class="nav-count"' not in nav(html)


# --- Deciding ----------------------------------------------------------------------------


def test_approving_with_htmx_replaces_the_row_and_the_count_and_turns_the_project_green(
    client, role_users, proposal, late, today
):
    response = signed_in(client, role_users, "office").post(approve_url(proposal), {"comment": "同意"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="proposal-{proposal.pk}"')
    row = html[: html.index("</tr>")]
    assert 'data-state="approved"' in row and "已批准" in row and "同意" in row
    assert f"计划完成日期已调整为 {(today + 60 * D).isoformat()}" in row
    assert 'data-colour="green"' in row  # the project as recomputed
    assert "hx-post" not in row
    oob = nav(html)
    assert 'hx-swap-oob="true"' in oob and '<span class="nav-count"' not in oob
    proposal.refresh_from_db()
    assert (proposal.state, proposal.decided_by) == ("approved", role_users["office"])
    signing = Milestone.objects.get(pk=proposal.milestone_id)
    assert (signing.planned_date, signing.baseline_date) == (today + 60 * D, today - 5 * D)
    assert MilestoneReplan.objects.count() == 1
    assert Project.objects.get(pk=late.pk).colour == "green"


def test_approving_without_javascript_redirects_with_a_message(client, role_users, proposal, late):
    client = signed_in(client, role_users, "office")
    response = client.post(approve_url(proposal), {"comment": ""})
    assert response.status_code == 302 and response.url == QUEUE
    page = client.get(QUEUE).content.decode()
    assert "已批准：QT-LATE 项目签约" in page
    assert Project.objects.get(pk=late.pk).colour == "green"


def test_rejecting_needs_a_comment_with_htmx(client, role_users, proposal, late, today):
    response = signed_in(client, role_users, "office").post(reject_url(proposal), {"comment": "  "}, **HTMX)
    assert response.status_code == 200  # swapped: the row says why
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="proposal-{proposal.pk}"') and 'data-state="pending"' in row
    assert "驳回申请须填写审核意见" in row and 'name="comment"' in row
    assert unchanged(proposal, late, today)


def test_rejecting_needs_a_comment_without_javascript(client, role_users, proposal, late, today):
    response = signed_in(client, role_users, "office").post(reject_url(proposal), {"comment": ""})
    assert response.status_code == 400
    html = response.content.decode()
    row = re.search(rf'<tr id="proposal-{proposal.pk}".*?</tr>', html, flags=re.S).group(0)
    assert "驳回申请须填写审核意见" in row
    assert unchanged(proposal, late, today)


def test_a_too_long_comment_is_refused(client, role_users, proposal, late, today):
    response = signed_in(client, role_users, "office").post(reject_url(proposal), {"comment": "长" * 1001}, **HTMX)
    assert "审核意见不能超过1000字" in response.content.decode()
    assert unchanged(proposal, late, today)


def test_rejecting_leaves_the_plan_and_the_red(client, role_users, proposal, late, today):
    response = signed_in(client, role_users, "office").post(
        reject_url(proposal), {"comment": "请补充区政府批复文件"}, **HTMX
    )
    row = response.content.decode()
    assert 'data-state="rejected"' in row and "已驳回" in row and "请补充区政府批复文件" in row
    proposal.refresh_from_db()
    assert (proposal.state, proposal.decision_comment) == ("rejected", "请补充区政府批复文件")
    assert Milestone.objects.get(pk=proposal.milestone_id).planned_date == today - 5 * D
    assert Project.objects.get(pk=late.pk).colour == "red"


@pytest.mark.parametrize("first, second", [("approve", "reject"), ("reject", "approve"), ("approve", "approve")])
def test_deciding_an_already_decided_proposal_says_so_and_saves_nothing(
    client, role_users, proposal, first, second
):
    client = signed_in(client, role_users, "office")
    urls = {"approve": approve_url(proposal), "reject": reject_url(proposal)}
    client.post(urls[first], {"comment": "第一次"}, **HTMX)
    stored = ReplanProposal.objects.values().get(pk=proposal.pk)
    replans = MilestoneReplan.objects.count()
    state = "已批准" if first == "approve" else "已驳回"
    message = f"该申请已由office审核（{state}），本次操作未保存。"

    again = client.post(urls[second], {"comment": "第二次"}, **HTMX)
    assert again.status_code == 200
    assert message in again.content.decode() and f'data-state="{stored["state"]}"' in again.content.decode()

    plain = client.post(urls[second], {"comment": "第二次"})
    assert plain.status_code == 409
    assert message in plain.content.decode()

    assert ReplanProposal.objects.values().get(pk=proposal.pk) == stored
    assert MilestoneReplan.objects.count() == replans


def test_approval_refused_when_the_milestone_was_done_meanwhile(client, role_users, proposal, late, today):
    Milestone.objects.filter(pk=proposal.milestone_id).update(actual_date=today)
    response = signed_in(client, role_users, "office").post(approve_url(proposal), {"comment": ""}, **HTMX)
    assert "该节点已完成，不能调整计划" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.is_pending


# --- Permission probing of each POST -----------------------------------------------------


@pytest.mark.parametrize("who", ["leader", "cadre1", "cadre2", "liaison1"])
@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_only_the_office_decides(client, role_users, proposal, late, today, who, decision, htmx):
    url = approve_url(proposal) if decision == "approve" else reject_url(proposal)
    response = signed_in(client, role_users, who).post(url, {"comment": "越权审核"}, **(HTMX if htmx else {}))
    assert response.status_code == 403
    assert "只有投资管理科可以审核调整计划申请" in response.content.decode()
    assert unchanged(proposal, late, today)


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_signed_out_decisions_go_to_the_login_page(client, proposal, late, today, decision):
    url = approve_url(proposal) if decision == "approve" else reject_url(proposal)
    response = client.post(url, {"comment": "匿名"})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = client.post(url, {"comment": "匿名"}, HTTP_HX_CURRENT_URL="http://testserver/replans/", **HTMX)
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/replans/")
    assert unchanged(proposal, late, today)


def test_a_decision_is_a_post_and_a_missing_proposal_is_404(client, role_users, proposal):
    client = signed_in(client, role_users, "office")
    assert client.get(approve_url(proposal)).status_code == 405
    assert client.post(reverse("replan_approve", kwargs={"pk": proposal.pk + 1000})).status_code == 404
    # Nobody but the office learns whether a proposal exists.
    client = signed_in(client, role_users, "cadre2")
    assert client.post(reverse("replan_reject", kwargs={"pk": proposal.pk + 1000})).status_code == 403


# --- The navigation ----------------------------------------------------------------------


def test_the_navigation_counts_pending_proposals_for_the_office_and_leaders_only(
    client, role_users, late, today
):
    for who in ("office", "leader"):
        html = signed_in(client, role_users, who).get(reverse("home")).content.decode()
        assert "调整计划审核" in nav(html) and '<span class="nav-count"' not in nav(html)
    replan_propose(
        Milestone.objects.get(project=late, milestone_type__code="signing"),
        proposed_planned_date=today + 60 * D, reason="规划调整", by=role_users["cadre1"], today=today,
    )
    for who in ("office", "leader"):
        html = signed_in(client, role_users, who).get(reverse("home")).content.decode()
        assert ">1</span>" in nav(html)
    for who in ("cadre1", "cadre2", "liaison1"):
        html = signed_in(client, role_users, who).get(reverse("home")).content.decode()
        assert nav(html) == "" and "调整计划审核" not in html


def test_the_navigation_costs_cadres_no_query(client, role_users, late, django_assert_max_num_queries):
    client = signed_in(client, role_users, "cadre1")
    with django_assert_max_num_queries(4):  # session, user, the board's counts and list
        assert client.get(reverse("home")).status_code == 200


def test_a_session_from_before_the_link_learns_it_once(client, role_users, late):
    client = signed_in(client, role_users, "office")
    session = client.session
    del session["may_read_replan_queue"]
    session.save()
    assert "调整计划审核" in nav(client.get(reverse("home")).content.decode())
    assert client.session["may_read_replan_queue"] is True


# --- Cost ----------------------------------------------------------------------------------


def _proposals(make_project, role_users, today, start, n):
    for i in range(start, start + n):
        project = make_project(
            f"QT-{i:03d}", responsible_cadre=role_users["cadre1"],
            milestones={"signing": {"planned_date": today - D}},
        )
        proposal = replan_propose(
            Milestone.objects.get(project=project, milestone_type__code="signing"),
            proposed_planned_date=today + (i + 1) * D, reason=f"原因{i}", by=role_users["cadre1"], today=today,
        )
        if i % 3 == 0:
            replan_approve(proposal, by=role_users["office"], today=today)


@pytest.mark.parametrize("who", ["office", "leader"])
def test_the_queue_query_count_is_flat_in_the_number_of_proposals(
    client, role_users, make_project, today, who, django_assert_max_num_queries
):
    client = signed_in(client, role_users, who)
    _proposals(make_project, role_users, today, 0, 3)
    # session, user, roles, the pending list, the decided list: nothing per proposal.
    with django_assert_max_num_queries(5):
        assert client.get(QUEUE).status_code == 200
    _proposals(make_project, role_users, today, 3, 30)
    with django_assert_max_num_queries(5):
        html = client.get(QUEUE).content.decode()
    assert html.count('data-state="pending"') == 22 and html.count('data-state="approved"') == 11


def test_the_heading_s_count_is_swapped_too(client, role_users, proposal):
    client = signed_in(client, role_users, "office")
    assert '<span id="pending-count">1 条待审核</span>' in client.get(QUEUE).content.decode()
    html = client.post(approve_url(proposal), {"comment": ""}, **HTMX).content.decode()
    assert '<span id="pending-count" hx-swap-oob="true">0 条待审核</span>' in html
