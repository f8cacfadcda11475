"""What each recipient reads in the week 2026-W48 digest (see tests/warnings/digest/scenario.py)."""
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qiantang_warnings.digest.content import CADRE_PROJECTS, DISTRICT, LIAISON_MILESTONES, build_digest
from qiantang_warnings.digest.delivery import render_message
from qiantang_warnings.digest.recipients import digest_for_user, recipients
from qiantang_warnings.digest.snapshot import district_snapshot
from qiantang_warnings.digest.weeks import parse_week, week_label, week_monday

from .scenario import MONDAY, WEEK, at, district_week  # noqa: F401

pytestmark = pytest.mark.django_db


def codes(rows):
    return [row.code for row in rows]


def digest_of(district_week, username):
    user = district_week.users[username]
    return digest_for_user(user, week=WEEK, today=MONDAY)


def test_the_scenario_has_the_colours_it_claims(district_week):
    colours = {code: p.colour for code, p in district_week.projects.items()}
    assert colours == {"QT-RED": "red", "QT-YEL": "yellow", "QT-REC": "green", "QT-OLD": "red",
                       "QT-PLAN": "green", "QT-PAUSE": ""}


def test_iso_weeks():
    assert week_label(date(2026, 11, 25)) == "2026-W48"
    assert week_monday("2026-W48") == date(2026, 11, 23)
    assert week_label(date(2027, 1, 1)) == "2026-W53"
    assert parse_week("2025-w48") == (2025, 48)
    for bad in ("2025-48", "W48", "2025-W54", ""):
        with pytest.raises(ValueError):
            parse_week(bad)


def test_the_leader_reads_the_whole_district(district_week):
    digest = digest_of(district_week, "leader")
    assert digest.kinds == [DISTRICT]
    assert digest.counts == {"red": 2, "yellow": 1, "green": 2}
    # A week ago QT-RED was yellow, QT-YEL green, QT-REC red (the paused one never counts).
    assert digest.counts_before == {"red": 2, "yellow": 1, "green": 2}
    assert codes(digest.turned_red) == ["QT-RED"]
    assert codes(digest.turned_yellow) == ["QT-YEL"]
    assert codes(digest.recovered) == ["QT-REC"]
    assert codes(digest.longest_overdue) == ["QT-OLD", "QT-RED"]
    assert digest.longest_overdue[0].overdue_days == 175
    assert [(m.project.code, m.name, m.due_date) for m in digest.due_soon] == [
        ("QT-YEL", "过会", date(2026, 12, 5))
    ]
    assert codes(digest.needs_plan) == ["QT-PLAN"]
    assert [(e.project.code, e.reason) for e in digest.escalations] == [("QT-OLD", "区领导批示督办")]
    assert not digest.is_empty


def test_the_office_reads_the_same_district_digest_as_the_leader(district_week):
    leader, office = digest_of(district_week, "leader"), digest_of(district_week, "office")
    assert office.kinds == [DISTRICT]
    assert (office.counts, codes(office.turned_red), codes(office.recovered)) == (
        leader.counts, codes(leader.turned_red), codes(leader.recovered)
    )


def test_cadre1_reads_only_projects_they_are_responsible_for_or_on_the_team_of(district_week):
    digest = digest_of(district_week, "cadre1")
    assert digest.kinds == [CADRE_PROJECTS]
    # QT-RED and QT-REC are theirs, QT-YEL through the team; QT-PAUSE is paused; QT-OLD is cadre2's.
    assert digest.counts == {"red": 1, "yellow": 1, "green": 1}
    assert codes(digest.turned_red) == ["QT-RED"]
    assert codes(digest.turned_yellow) == ["QT-YEL"]
    assert codes(digest.recovered) == ["QT-REC"]
    assert codes(digest.projects) == ["QT-RED", "QT-YEL"], "red and yellow, most urgent first"
    assert digest.escalations == [] and digest.needs_plan == []
    assert "QT-OLD" not in render_message(digest, to="x@example.org", msg_id="<m@x>").body


def test_cadre2_sees_the_escalation_and_the_project_waiting_for_a_plan(district_week):
    digest = digest_of(district_week, "cadre2")
    assert codes(digest.projects) == ["QT-OLD", "QT-YEL"]
    assert codes(digest.needs_plan) == ["QT-PLAN"]
    assert [e.project.code for e in digest.escalations] == ["QT-OLD"]
    assert "QT-RED" not in codes(digest.projects)


def test_the_liaison_reads_the_milestones_their_department_owns(district_week):
    digest = digest_of(district_week, "liaison1")
    assert digest.kinds == [LIAISON_MILESTONES]
    assert digest.departments == ["区发改局"]
    # Red first, then yellow; QT-RED's approval belongs to 区住建局; QT-PAUSE is paused.
    assert [(m.project.code, m.colour) for m in digest.department_milestones] == [
        ("QT-OLD", "red"), ("QT-YEL", "yellow")
    ]
    assert digest.department_milestones[0].overdue == 175
    assert digest.counts == {} and not digest.covers_projects


def test_a_cadre_whose_projects_are_all_green_gets_an_all_green_digest(district_week, make_project):
    from django.contrib.auth.models import Group, User

    from projects.roles import CADRE
    from qiantang_warnings.recompute import recompute_all

    calm = User.objects.create_user("cadre3", email="cadre3@qiantang.example")
    calm.groups.add(Group.objects.get(name=CADRE))
    make_project("QT-CALM", responsible_cadre=calm, milestones={"approval": {"planned_date": date(2027, 5, 1)}})
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 1, 0))
    digest = digest_for_user(calm, week=WEEK, today=MONDAY)
    assert digest.counts == {"red": 0, "yellow": 0, "green": 1}
    assert digest.is_empty
    message = render_message(digest, to=calm.email, msg_id="<m@x>")
    assert "全部绿灯" in message.body
    assert "全部绿灯" in message.alternatives[0][0]


def test_the_email_names_counts_reasons_and_absolute_links(district_week, settings):
    settings.SITE_URL = "https://yujing.example.gov.cn"
    digest = digest_of(district_week, "leader")
    message = render_message(digest, to="leader@qiantang.example", msg_id="<m@x>")
    assert message.subject == "预警周报（第48周）：红灯2个，黄灯1个"
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "https://yujing.example.gov.cn/projects/QT-RED/" in part
        assert "过会逾期3天" in part, "the headline reason"
        assert "区领导批示督办" in part
        assert "https://yujing.example.gov.cn/digest/preferences/" in part
    assert 'href="/' not in html, "no relative links in a mail"


def test_recipients_are_users_with_a_role_and_an_email_who_did_not_opt_out(district_week):
    from django.contrib.auth.models import User

    from qiantang_warnings.models import DigestPreference

    User.objects.create_user("nobody", email="nobody@qiantang.example")  # no role
    district_week.users["cadre2"].email = ""
    district_week.users["cadre2"].save()
    DigestPreference.objects.create(user=district_week.users["liaison1"], enabled=False)
    assert [r.user.username for r in recipients()] == ["cadre1", "leader", "office"]


def test_a_superuser_counts_as_the_office_but_gets_mail_only_in_a_role_group(district_week):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("admin", email="admin@qiantang.example", password="x")
    digest = digest_for_user(admin, week=WEEK, today=MONDAY)  # the preview, as projects.permissions says
    assert digest.kinds == [DISTRICT]
    assert digest.decides_replans
    assert "admin" not in [r.user.username for r in recipients()]


def test_building_every_digest_takes_the_same_queries_for_5_or_50_projects(district_week, make_project):
    def queries_for_all_digests():
        with CaptureQueriesContext(connection) as captured:
            snapshot = district_snapshot(week=WEEK, today=MONDAY)
            for recipient in recipients():
                build_digest(snapshot, user=recipient.user, kinds=recipient.kinds)
        return len(captured)

    from projects.models import Milestone, ReplanProposal

    small = queries_for_all_digests()
    office = district_week.users["office"]
    for i in range(45):
        project = make_project(f"QT-X{i:02d}", responsible_cadre=district_week.users["cadre1"],
                               milestones={"approval": {"planned_date": date(2026, 11, 1)}})
        project.team.add(district_week.users["cadre2"])
        # And a re-plan proposal each, pending or decided in the week, by either cadre.
        decided = {"state": "rejected", "decided_by": office, "decided_at": at(2026, 11, 18, 9, i)} if i % 2 else {}
        ReplanProposal.objects.create(
            milestone=Milestone.objects.get(project=project, milestone_type__code="approval"),
            previous_planned_date=date(2026, 11, 1), proposed_planned_date=date(2027, 1, 1), reason="测试",
            proposer=district_week.users["cadre1" if i % 3 else "cadre2"], **decided,
        )
    assert queries_for_all_digests() == small
    assert small <= 16  # one of them the 约谈 to follow up


def test_long_lists_are_cut_at_the_limit_and_say_how_many_more(district_week, make_project, settings):
    from qiantang_warnings.digest import content as digest_module
    from qiantang_warnings.recompute import recompute_all

    for i in range(4):
        make_project(f"QT-PLAN{i}", milestones={"approval": {}})
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 1, 0))
    original = digest_module.LIST_LIMIT
    digest_module.LIST_LIMIT = 2
    try:
        digest = digest_of(district_week, "leader")
    finally:
        digest_module.LIST_LIMIT = original
    assert codes(digest.needs_plan) == ["QT-PLAN", "QT-PLAN0"]
    assert digest.more == {"needs_plan": 3}
    message = render_message(digest, to="x@example.org", msg_id="<m@x>")
    assert "另有3项未列出" in message.alternatives[0][0]
    assert "只列出了前30项" in message.body or "部分列表较长" in message.body


# ---------------------------------------------------------------- re-plans (调整计划申请)

def replans(rows):
    return [(r.project_code, r.milestone, r.replaced_date, r.proposed_date, r.state) for r in rows]


def test_the_scenario_has_the_re_plans_it_claims(district_week):
    from projects.models import ReplanProposal

    projects = district_week.projects
    assert (projects["QT-REC"].colour, projects["QT-REC"].baseline_colour, projects["QT-REC"].replan_count) == (
        "green", "red", 1
    ), "调整后绿: green against the re-planned signing, red against its baseline"
    assert (projects["QT-RED"].colour, projects["QT-RED"].replan_count) == ("red", 0), "rejected: nothing moved"
    assert dict(ReplanProposal.objects.values_list("milestone__project__code", "state")) == {
        "QT-REC": "approved", "QT-RED": "rejected", "QT-OLD": "pending", "QT-YEL": "rejected",
    }


def test_cadre1_reads_the_decisions_on_their_proposals_of_the_week(district_week, settings):
    settings.SITE_URL = "https://yujing.example.gov.cn"
    digest = digest_of(district_week, "cadre1")
    # In the order they were decided; who decided and why.
    assert replans(digest.replan_decisions) == [
        ("QT-RED", "过会", date(2026, 11, 20), date(2026, 12, 20), "rejected"),
        ("QT-REC", "项目签约", date(2026, 11, 20), date(2027, 6, 1), "approved"),
    ]
    assert [(r.decided_by, r.comment) for r in digest.replan_decisions] == [
        ("office", "请先补充联审意见"), ("office", "同意，按新计划推进"),
    ]
    assert digest.replans_pending == []
    assert digest.pending_replans is None, "the office's queue is not a cadre's business"
    message = render_message(digest, to="cadre1@qiantang.example", msg_id="<m@x>")
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "我的调整计划申请" in part
        assert "已驳回" in part and "请先补充联审意见" in part
        assert "已批准" in part and "同意，按新计划推进" in part
        assert "2027-06-01" in part and "office 于 2026-11-20 15:00" in part
        assert "https://yujing.example.gov.cn/projects/QT-REC/#m-signing" in part
        assert "/replans/" not in part
    assert 'data-replan="QT-REC" data-state="approved"' in html


def test_a_pending_proposal_is_listed_with_the_plan_it_would_replace(district_week):
    digest = digest_of(district_week, "cadre2")
    assert replans(digest.replans_pending) == [("QT-OLD", "过会", date(2026, 6, 1), date(2027, 3, 1), "pending")]
    assert digest.replan_decisions == []
    body = render_message(digest, to="x@example.org", msg_id="<m@x>").body
    assert "[待审核] QT-OLD" in body and "审核前节点保持原计划和预警等级" in body


def test_a_decision_is_reported_once_in_the_digest_of_the_week_after_it(district_week):
    from projects.models import ReplanProposal

    liaison1 = district_week.users["liaison1"]
    # Rejected on Tuesday 11-24: not in this Monday's digest, in next Monday's.
    assert digest_of(district_week, "liaison1").replan_decisions == []
    assert "调整计划" not in render_message(digest_of(district_week, "liaison1"), to="x@example.org", msg_id="<m@x>").body
    next_week = digest_for_user(liaison1, week="2026-W49", today=date(2026, 11, 30))
    assert replans(next_week.replan_decisions) == [("QT-YEL", "过会", date(2026, 12, 5), date(2026, 12, 31), "rejected")]
    # The week runs from Monday 00:00 (included) to the next Monday 00:00 (excluded), in Shanghai.
    rejected = ReplanProposal.objects.get(milestone__project__code="QT-YEL")
    for decided_at, reported in [
        (at(2026, 11, 15, 23, 59), False), (at(2026, 11, 16, 0, 0), True),
        (at(2026, 11, 22, 23, 59), True), (at(2026, 11, 23, 0, 0), False),
    ]:
        ReplanProposal.objects.filter(pk=rejected.pk).update(decided_at=decided_at)
        assert bool(digest_of(district_week, "liaison1").replan_decisions) is reported, decided_at


def test_a_recipient_reads_only_their_own_proposals(district_week):
    for username in ("leader", "office", "liaison1"):
        digest = digest_of(district_week, username)
        assert (digest.replan_decisions, digest.replans_pending) == ([], []), username
    # The same from the one snapshot the weekly run builds for everybody.
    snapshot = district_snapshot(week=WEEK, today=MONDAY)
    by_user = {r.user.username: build_digest(snapshot, user=r.user, kinds=r.kinds) for r in recipients()}
    assert [r.project_code for r in by_user["cadre1"].replan_decisions] == ["QT-RED", "QT-REC"]
    assert [r.project_code for r in by_user["cadre2"].replans_pending] == ["QT-OLD"]
    assert by_user["leader"].replan_decisions == by_user["office"].replans_pending == []


def test_the_office_reads_how_many_proposals_wait_with_a_link_to_the_queue(district_week, settings):
    settings.SITE_URL = "https://yujing.example.gov.cn"
    office, leader = digest_of(district_week, "office"), digest_of(district_week, "leader")
    assert (office.pending_replans, office.decides_replans) == (1, True)
    assert (leader.pending_replans, leader.decides_replans) == (1, False), "leaders read the queue"
    for digest, read_only in ((office, False), (leader, True)):
        message = render_message(digest, to="x@example.org", msg_id="<m@x>")
        html = message.alternatives[0][0]
        for part in (message.body, html):
            assert "调整计划审核" in part and "1 条待审核" in part
            assert "https://yujing.example.gov.cn/replans/" in part
            assert ("只读：调整计划由投资管理科审核" in part) is read_only
        assert 'href="/' not in html
    # From the weekly run's one snapshot too.
    snapshot = district_snapshot(week=WEEK, today=MONDAY)
    assert snapshot.pending_replans == 1
    by_user = {r.user.username: build_digest(snapshot, user=r.user, kinds=r.kinds) for r in recipients()}
    assert (by_user["office"].decides_replans, by_user["leader"].decides_replans) == (True, False)
    assert by_user["cadre2"].pending_replans is None


def test_the_district_counts_and_lists_the_projects_green_only_after_re_planning(district_week):
    digest = digest_of(district_week, "leader")
    assert digest.counts["green"] == 2 and digest.green_after_replan_count == 1
    assert codes(digest.green_after_replan) == ["QT-REC"]
    message = render_message(digest, to="x@example.org", msg_id="<m@x>")
    html = message.alternatives[0][0]
    assert "绿灯：2（上周2），其中调整后绿1" in message.body
    assert "QT-REC 测试项目QT-REC：按基准日期为红灯，已调整计划1次" in message.body
    assert "QT-REC 测试项目QT-REC（红灯转绿灯，调整后绿）" in message.body, "the recovered list says so too"
    assert 'data-count="green-after-replan"' in html and "其中调整后绿 1" in html
    assert 'data-section="green-after-replan"' in html and "按基准日期为红灯，已调整计划1次" in html
    # A cadre's digest covers their projects' colours; the district list is the district's.
    cadre1 = digest_of(district_week, "cadre1")
    assert cadre1.green_after_replan == [] and "其中调整后绿" not in render_message(
        cadre1, to="x@example.org", msg_id="<m@x>"
    ).body


@pytest.fixture
def calm_district(role_users, make_project):
    """Every project green: cadre1's QT-CALM, approval planned for 2027-05-01."""
    from qiantang_warnings.recompute import recompute_all

    for username, user in role_users.items():
        user.email = f"{username}@qiantang.example"
        user.save(update_fields=["email"])
    project = make_project("QT-CALM", responsible_cadre=role_users["cadre1"],
                           milestones={"approval": {"planned_date": date(2027, 5, 1)}})
    recompute_all(today=MONDAY, now=at(2026, 11, 23, 0, 5))
    return role_users, project


def test_an_all_green_digest_with_a_decision_to_report_is_not_empty(calm_district):
    from projects.models import Milestone, ReplanProposal
    from projects.replans import replan_approve, replan_propose

    users, project = calm_district

    def digests():
        return {name: digest_for_user(users[name], week=WEEK, today=MONDAY) for name in ("leader", "office", "cadre1")}

    assert all(d.is_empty for d in digests().values())

    approval = Milestone.objects.get(project=project, milestone_type__code="approval")
    proposal = replan_propose(approval, proposed_planned_date=date(2027, 6, 1), reason="设计变更",
                              by=users["cadre1"], today=MONDAY)
    pending = digests()
    assert not pending["office"].is_empty, "a proposal waits for the office"
    assert pending["leader"].is_empty, "the leader only reads the queue: still all green"
    assert pending["cadre1"].is_empty and len(pending["cadre1"].replans_pending) == 1, (
        "a pending proposal is listed but is no news"
    )
    message = render_message(pending["cadre1"], to="x@example.org", msg_id="<m@x>")
    assert "全部绿灯" in message.body and "[待审核] QT-CALM" in message.body

    replan_approve(proposal, by=users["office"], comment="同意", today=MONDAY)
    ReplanProposal.objects.filter(pk=proposal.pk).update(decided_at=at(2026, 11, 20, 9, 0))
    decided = digests()
    assert not decided["cadre1"].is_empty, "the decision is the news of the week"
    assert decided["office"].is_empty and decided["leader"].is_empty, "nothing waits, still green by the baseline"
    message = render_message(decided["cadre1"], to="x@example.org", msg_id="<m@x>")
    for part in (message.body, message.alternatives[0][0]):
        assert "全部绿灯" not in part and "已批准" in part and "同意" in part


def test_green_only_after_re_planning_is_not_all_green_for_the_district(calm_district):
    from projects.models import Milestone, Project
    from projects.replans import replan_approve, replan_propose

    users, project = calm_district
    approval = Milestone.objects.get(project=project, milestone_type__code="approval")
    Milestone.objects.filter(pk=approval.pk).update(planned_date=date(2026, 11, 10), baseline_date=date(2026, 11, 10))
    approval.refresh_from_db()
    proposal = replan_propose(approval, proposed_planned_date=date(2027, 6, 1), reason="设计变更",
                              by=users["cadre1"], today=MONDAY)
    replan_approve(proposal, by=users["office"], today=MONDAY)  # decided now: next week's news
    assert Project.objects.values_list("colour", "baseline_colour").get(pk=project.pk) == ("green", "red")
    leader = digest_for_user(users["leader"], week=WEEK, today=MONDAY)
    assert codes(leader.green_after_replan) == ["QT-CALM"] and not leader.is_empty
    assert "全部绿灯" not in render_message(leader, to="x@example.org", msg_id="<m@x>").body


def test_coordination_items_reach_the_liaison_and_the_district(district_week):
    from datetime import timedelta

    from projects.models import CoordinationItem, Department

    fgj, other = Department.objects.get(name="区发改局"), Department.objects.get(name="区住建局")
    red = district_week.projects["QT-RED"]
    CoordinationItem.objects.create(project=red, need="用地预审意见", department=fgj,
                                    deadline=MONDAY - timedelta(days=6), raised_by=district_week.users["office"])
    CoordinationItem.objects.create(project=red, need="施工图审查", department=other,
                                    deadline=MONDAY + timedelta(days=9), raised_by=district_week.users["office"])
    CoordinationItem.objects.create(project=red, need="已办结的事项", department=fgj, state="handled",
                                    deadline=MONDAY - timedelta(days=20), raised_by=district_week.users["office"])

    liaison = digest_of(district_week, "liaison1")
    assert [(i.need, i.overdue_days) for i in liaison.department_items] == [("用地预审意见", 6)]
    text = render_message(liaison, to="l@x", msg_id="<m@x>").body
    assert "本单位待办的协调事项" in text and "用地预审意见（区发改局），办结时限2026-11-17，逾期6天" in text

    leader = digest_of(district_week, "leader")
    assert leader.items_by_department == [("区发改局", 1, 1), ("区住建局", 1, 0)]
    html = render_message(leader, to="d@x", msg_id="<m@x>").alternatives[0][0]
    assert 'data-section="items-by-department"' in html and "逾期 1 项" in html
