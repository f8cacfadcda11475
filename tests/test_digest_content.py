"""What each recipient reads in the week 2026-W48 digest (see tests/digest_scenario.py)."""
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qiantang_warnings.delivery import render_message
from qiantang_warnings.digest import (
    CADRE_PROJECTS,
    DISTRICT,
    LIAISON_MILESTONES,
    build_digest,
    digest_for_user,
    district_snapshot,
    parse_week,
    recipients,
    week_label,
    week_monday,
)

from .digest_scenario import MONDAY, WEEK, at, district_week  # noqa: F401

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
    from projects.roles import CADRE
    from django.contrib.auth.models import Group, User
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


def test_building_every_digest_takes_the_same_queries_for_5_or_50_projects(district_week, make_project):
    def queries_for_all_digests():
        with CaptureQueriesContext(connection) as captured:
            snapshot = district_snapshot(week=WEEK, today=MONDAY)
            for recipient in recipients():
                build_digest(snapshot, user=recipient.user, kinds=recipient.kinds)
        return len(captured)

    small = queries_for_all_digests()
    for i in range(45):
        project = make_project(f"QT-X{i:02d}", responsible_cadre=district_week.users["cadre1"],
                               milestones={"approval": {"planned_date": date(2026, 11, 1)}})
        project.team.add(district_week.users["cadre2"])
    assert queries_for_all_digests() == small
    assert small <= 15


def test_long_lists_are_cut_at_the_limit_and_say_how_many_more(district_week, make_project, settings):
    from qiantang_warnings import digest as digest_module
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
