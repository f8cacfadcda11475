"""The escalation ladder: its suggestions for a constructed sequence of weeks, the office's
decisions (accept as 督办, record a 约谈, dismiss with a reason), who may decide, and the
约谈 on the project page and in the digest."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from projects.models import Project
from qiantang_warnings.digest.recipients import digest_for_user
from qiantang_warnings.escalations import services
from qiantang_warnings.escalations.ladder import ESCALATE, TALK, RedSpell, Suggestion, suggestions
from qiantang_warnings.models import Escalation, LadderSuggestion, Talk, WarningPolicy
from qiantang_warnings.recompute import recompute_all

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = timedelta(days=1)
START = date(2026, 10, 1)  # a Thursday: the project turned red that day


def test_a_constructed_sequence_of_weeks():
    spell = RedSpell(1, START, None)
    weekly = {week: suggestions([spell], today=START + week * 7 * D, red_weeks=2, talk_weeks=4) for week in range(4)}
    assert weekly[0] == [] and weekly[1] == []  # red for less than two whole weeks
    assert weekly[2] == [Suggestion(1, ESCALATE, START, 2)]
    assert suggestions([spell], today=START + 13 * D, red_weeks=2, talk_weeks=4) == []  # 13 days: not two weeks
    # 督办 on day 15: no more 督办 suggestions; a 约谈 once still red four whole weeks after it.
    escalated = RedSpell(1, START, START + 15 * D)
    assert suggestions([escalated], today=START + 15 * D + 27 * D, red_weeks=2, talk_weeks=4) == []
    assert suggestions([escalated], today=START + 15 * D + 28 * D, red_weeks=2, talk_weeks=4) == [
        Suggestion(1, TALK, START, 6)]
    # An escalation before this red spell began does not count for it.
    older = RedSpell(1, START, None)
    assert suggestions([older], today=START + 21 * D, red_weeks=3, talk_weeks=4) == [Suggestion(1, ESCALATE, START, 3)]


@pytest.fixture
def red_project(make_project, role_users, today, time_machine):
    """QT-0001, red since 2026-11-04 (three weeks before the suite's today)."""
    time_machine.move_to(datetime(2026, 11, 4, 9, tzinfo=SHANGHAI), tick=False)
    project = make_project("QT-0001", name="澜康微电子先进封装项目", responsible_cadre=role_users["cadre1"],
                           milestones={"signing": {"planned_date": date(2026, 11, 1)}})
    recompute_all(today=date(2026, 11, 4))
    time_machine.move_to(datetime(2026, 11, 25, 10, tzinfo=SHANGHAI), tick=False)
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    return project


pytestmark = pytest.mark.django_db


def test_a_project_red_for_two_weeks_is_suggested_once_for_a_escalation(red_project, today):
    assert services.ladder_suggest(today=today) == 1
    assert services.ladder_suggest(today=today) == 0  # beat again: nothing new
    suggestion = LadderSuggestion.objects.get()
    assert (suggestion.step, suggestion.red_since, suggestion.weeks_red) == ("escalate", date(2026, 11, 4), 3)
    WarningPolicy.objects.filter(pk=1).update(ladder_red_weeks=4)
    LadderSuggestion.objects.all().delete()
    assert services.ladder_suggest(today=today) == 0  # the office's rule: four weeks


def test_the_office_accepts_with_the_prefilled_escalation_and_the_colour_is_never_lowered(client, red_project, role_users, today):
    services.ladder_suggest(today=today)
    suggestion = LadderSuggestion.objects.get()
    client.force_login(role_users["office"])
    page = client.get(reverse("ladder_queue")).content.decode()
    assert "建议督办" in page and "连续3周红灯：项目签约逾期" in page
    assert (today + 30 * D).isoformat() in page
    response = client.post(reverse("ladder_decide", kwargs={"pk": suggestion.pk, "decision": "escalate"}),
                           {"reason": "连续3周红灯，区领导督办", "until": (today + 30 * D).isoformat()}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-state="accepted"' in response.content.decode()
    escalation = Escalation.objects.get()
    assert (escalation.reason, escalation.author, escalation.colour) == ("连续3周红灯，区领导督办", role_users["office"], "red")
    suggestion.refresh_from_db()
    assert suggestion.state == "accepted" and suggestion.escalation == escalation
    assert Project.objects.get().colour == "red"
    # Deciding twice is refused with a message, nothing more is made.
    again = client.post(reverse("ladder_decide", kwargs={"pk": suggestion.pk, "decision": "escalate"}),
                        {"reason": "再次", "until": (today + 30 * D).isoformat()}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "该建议已处理" in again.content.decode()
    assert Escalation.objects.count() == 1


def test_still_red_four_weeks_after_the_escalation_suggests_a_talk_which_is_recorded(client, red_project, role_users, today, time_machine):
    services.ladder_suggest(today=today)
    services.suggestion_escalate(LadderSuggestion.objects.get(), reason="督办", until=today + 60 * D,
                                 by=role_users["office"], today=today)
    later = today + 28 * D
    time_machine.move_to(datetime(later.year, later.month, later.day, 10, tzinfo=SHANGHAI), tick=False)
    recompute_all(today=later)
    assert services.ladder_suggest(today=later) == 1
    talk_suggestion = LadderSuggestion.objects.get(step="talk")
    client.force_login(role_users["office"])
    url = reverse("ladder_decide", kwargs={"pk": talk_suggestion.pk, "decision": "talk"})
    bad = client.post(url, {"held_on": later.isoformat(), "participants": "", "agreed": "x",
                            "follow_up_on": (later - D).isoformat()}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "请填写约谈对象与参加人" in bad.content.decode()
    wrong_order = client.post(url, {"held_on": later.isoformat(), "participants": "区领导约谈企业负责人",
                                    "agreed": "12月底前完成签约", "follow_up_on": (later - D).isoformat()}, HTTP_HX_REQUEST="true")
    assert "跟进日期不能早于约谈日期" in wrong_order.content.decode() and not Talk.objects.exists()
    done = client.post(url, {"held_on": later.isoformat(), "participants": "区领导约谈企业负责人",
                             "agreed": "12月底前完成签约", "follow_up_on": (later + 10 * D).isoformat()}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    talk = Talk.objects.get()
    assert (talk.participants, talk.recorded_by) == ("区领导约谈企业负责人", role_users["office"])
    # On the project page for everyone, and in the cadre's digest.
    client.force_login(role_users["cadre1"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-0001"})).content.decode()
    assert "区领导约谈企业负责人" in page and "12月底前完成签约" in page
    digest = digest_for_user(role_users["cadre1"], week="2026-W52", today=later)
    assert [t.agreed for t in digest.talks] == ["12月底前完成签约"]


def test_a_dismissal_needs_a_reason_and_is_not_suggested_again_in_the_same_red_spell(client, red_project, role_users, today):
    services.ladder_suggest(today=today)
    suggestion = LadderSuggestion.objects.get()
    client.force_login(role_users["office"])
    url = reverse("ladder_decide", kwargs={"pk": suggestion.pk, "decision": "dismiss"})
    empty = client.post(url, {"comment": " "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "请说明不采纳的理由" in empty.content.decode()
    assert client.post(url, {"comment": "企业已承诺下周签约"}, HTTP_HX_REQUEST="true").status_code == 200
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.comment) == ("dismissed", "企业已承诺下周签约")
    assert services.ladder_suggest(today=today + 7 * D) == 0


@pytest.mark.parametrize("who", ["leader", "cadre1", "cadre2", "liaison1"])
def test_only_the_office_decides_and_leaders_read(client, red_project, role_users, today, who):
    services.ladder_suggest(today=today)
    suggestion = LadderSuggestion.objects.get()
    client.force_login(role_users[who])
    listing = client.get(reverse("ladder_queue"))
    assert listing.status_code == (200 if who == "leader" else 403)
    if who == "leader":
        assert "采纳并督办" not in listing.content.decode()
    for decision, data in (("escalate", {"reason": "x", "until": (today + D).isoformat()}), ("dismiss", {"comment": "x"})):
        response = client.post(reverse("ladder_decide", kwargs={"pk": suggestion.pk, "decision": decision}), data,
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.state == "open" and not Escalation.objects.exists()
