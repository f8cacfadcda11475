"""Editing from the project page: milestones (HTMX and plain POST), progress notes,
escalations (督办), history, two editors, and every refusal."""
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from projects.models import Department, Milestone, MilestoneReplan, MilestoneType, ProgressEntry, Project
from qiantang_warnings.models import Escalation, StatusChange
from qiantang_warnings.recompute import recompute_all

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    # The clock ticks (from 10:00 on `today`), so each save gets its own updated_at.
    time_machine.move_to(f"{today.isoformat()} 10:00 +08:00", tick=True)


@pytest.fixture
def late(make_project, role_users, today):
    """cadre1's project, red: signing was due 5 days ago; 住建局 owns the construction permit."""
    housing = Department.objects.create(name="区住建局")
    role_users["liaison1"].liaison_departments.add(housing)
    project = make_project(
        "QT-LATE", name="逾期项目", responsible_cadre=role_users["cadre1"],
        milestones={
            "approval": {"planned_date": today - timedelta(days=90), "actual_date": today - timedelta(days=80)},
            "signing": {"planned_date": today - timedelta(days=5)},
            "land_listing": {},
            "construction_permit": {"planned_date": today + timedelta(days=100), "owner_department": housing},
        },
    )
    make_project("QT-OTHER", responsible_cadre=role_users["cadre2"], milestones={"approval": {}})
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    return project


def url(code, type_code="signing"):
    return reverse("milestone_edit", kwargs={"code": code, "type_code": type_code})


def version(project, type_code="signing"):
    return Milestone.objects.get(project=project, milestone_type__code=type_code).updated_at.isoformat()


def post_edit(client, project, type_code="signing", htmx=True, **fields):
    data = {"updated_at": version(project, type_code), **fields}
    for name in ("planned_date", "actual_date"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            data[name] = value.isoformat()
    if "planned_date" not in fields:
        planned = Milestone.objects.get(project=project, milestone_type__code=type_code).planned_date
        data["planned_date"] = planned.isoformat() if planned else ""
    return client.post(url(project.code, type_code), data, **(HTMX if htmx else {}))


def signing(project):
    return Milestone.objects.get(project=project, milestone_type__code="signing")


# --- A cadre brings a late milestone up to date -----------------------------------------


def test_cadre_records_an_actual_date_and_the_colour_is_right_in_the_same_response(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, actual_date=today - timedelta(days=1))
    assert response.status_code == 200
    html = response.content.decode()
    # The row itself (first), now done…
    assert html.lstrip().startswith('<tr id="m-signing" data-milestone="signing"')
    assert "已完成" in html.split("</tr>")[0]
    # …and the project's badge, out of band: signing was its only late node, so green now.
    assert re.search(r'<div id="project-colour" class="project-colour" data-colour="green" hx-swap-oob="true"', html)
    # The land listing's due date now follows from signing (按标准时限), swapped too.
    assert re.search(r'<template>\s*<tr id="m-land_listing"[^>]*hx-swap-oob="true"', html)
    assert "按标准时限" in html
    late.refresh_from_db()
    assert late.colour == "green"
    assert signing(late).actual_date == today - timedelta(days=1)
    assert StatusChange.objects.filter(project=late, from_colour="red", to_colour="green").count() == 1


def test_the_done_today_button_fills_todays_date(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, actual_date="", done_today="1")
    assert response.status_code == 200
    assert signing(late).actual_date == today


def test_the_history_shows_who_changed_what_old_to_new(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, actual_date=today)
    html = response.content.decode()
    assert re.search(r'<section class="panel" id="history" hx-swap-oob="true">', html)
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    history = page[page.index('id="history"'):]
    assert "cadre1" in history
    assert "项目签约" in history
    assert f"实际完成日期：<s>—</s> → <b>{today.isoformat()}</b>" in history


def test_a_cadre_cannot_move_an_existing_plan_they_propose_it(client, role_users, late, today):
    """A red must not vanish because its cadre typed over the date (issue 11): the plan and
    the colour stay, and the message points to 申请调整计划."""
    client.force_login(role_users["cadre1"])
    form = client.get(url(late.code), headers={"HX-Request": "true"}).content.decode()
    assert "readonly" in form and 'name="replan_reason"' not in form
    assert reverse("replan_propose", kwargs={"code": late.code, "type_code": "signing"}) in form

    response = post_edit(client, late, planned_date=today + timedelta(days=20), actual_date="",
                         replan_reason="企业调整方案")

    assert response.status_code == 200
    assert "已有的计划完成日期须申请调整，由投资管理科审核" in response.content.decode()
    assert signing(late).planned_date == today - timedelta(days=5)
    assert not MilestoneReplan.objects.filter(milestone=signing(late)).exists()
    late.refresh_from_db()
    assert late.colour == "red"


def test_the_office_re_plans_directly_and_the_reason_is_kept(client, role_users, late, today):
    client.force_login(role_users["office"])
    new_date = today + timedelta(days=20)
    response = post_edit(client, late, planned_date=new_date, actual_date="")
    html = response.content.decode()
    assert "调整已有的计划完成日期须填写调整原因" in html
    # The entered value stays in the form.
    assert f'value="{new_date.isoformat()}"' in html
    assert signing(late).planned_date == today - timedelta(days=5)

    response = post_edit(client, late, planned_date=new_date, actual_date="", replan_reason="企业调整方案")
    assert response.status_code == 200
    assert signing(late).planned_date == new_date
    assert signing(late).baseline_date == today - timedelta(days=5)
    replan = MilestoneReplan.objects.get(milestone=signing(late))
    assert (replan.reason, replan.author) == ("企业调整方案", role_users["office"])
    late.refresh_from_db()
    # Green now, red against its baseline: 调整后绿, with the re-plan counted.
    assert (late.colour, late.baseline_colour, late.replan_count) == ("green", "red", 1)
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    assert "调整原因：企业调整方案" in page
    assert "调整后绿" in page


@pytest.mark.parametrize("allowed_on", ["project", "milestone_type"])
def test_where_the_office_allows_direct_re_plans_the_cadre_re_plans(client, role_users, late, today, allowed_on):
    target = late if allowed_on == "project" else signing(late).milestone_type
    target.direct_replan_allowed = True
    target.save()
    client.force_login(role_users["cadre1"])
    new_date = today + timedelta(days=20)
    response = post_edit(client, late, planned_date=new_date, actual_date="", replan_reason="企业调整方案")
    assert response.status_code == 200
    assert signing(late).planned_date == new_date
    assert MilestoneReplan.objects.get(milestone=signing(late)).author == role_users["cadre1"]


def test_an_actual_date_in_the_future_is_refused_inline_and_nothing_saved(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    tomorrow = today + timedelta(days=1)
    response = post_edit(client, late, actual_date=tomorrow)
    assert response.status_code == 200  # htmx swaps the form back with its errors
    html = response.content.decode()
    assert "实际完成日期不能晚于今天" in html
    assert f'value="{tomorrow.isoformat()}"' in html
    assert 'class="editing"' in html
    assert signing(late).actual_date is None
    late.refresh_from_db()
    assert late.colour == "red"


@pytest.mark.parametrize("bad", ["1999-12-31", "2100-01-01", "2026-02-30", "not-a-date"])
def test_dates_out_of_range_or_malformed_are_refused(client, role_users, late, bad):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, planned_date=bad, replan_reason="试一下")
    assert response.status_code == 200
    html = response.content.decode()
    assert "日期须在2000-01-01至2099-12-31之间" in html or "请输入有效的日期" in html
    assert signing(late).planned_date is not None and signing(late).planned_date.year == 2026


def test_not_applicable_takes_a_milestone_out_of_the_colour_with_a_reason(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    post_edit(client, late, actual_date="", not_applicable="on", not_applicable_reason="项目已整体收购，无需签约")
    assert signing(late).not_applicable
    late.refresh_from_db()
    assert late.colour != "red"
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    assert "不适用原因：项目已整体收购，无需签约" in page


def test_not_applicable_without_a_reason_is_refused_and_nothing_saved(client, role_users, late):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, actual_date="", not_applicable="on", not_applicable_reason="  ")
    assert response.status_code == 200
    assert "标记不适用须填写原因" in response.content.decode()
    assert not signing(late).not_applicable
    late.refresh_from_db()
    assert late.colour == "red"


def test_an_unchanged_save_writes_no_history(client, role_users, late):
    client.force_login(role_users["cadre1"])
    before = Milestone.history.count()
    response = post_edit(client, late, actual_date="")
    assert response.status_code == 200
    assert Milestone.history.count() == before


# --- Without JavaScript ------------------------------------------------------------------


@pytest.mark.parametrize("who, asks_reason", [("office", True), ("cadre1", False)])
def test_without_javascript_the_edit_link_opens_the_page_with_the_form(client, role_users, late, who, asks_reason):
    client.force_login(role_users[who])
    response = client.get(url(late.code))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'class="editing"' in html
    assert 'name="actual_date"' in html and 'name="planned_date"' in html
    # The office re-plans with a reason; a cadre proposes (申请调整计划) instead.
    assert ('name="replan_reason"' in html) is asks_reason
    assert ("申请调整计划" in html) is not asks_reason


def test_without_javascript_a_save_redirects_back_to_the_row(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, htmx=False, actual_date=today)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{late.code}/#m-signing"
    assert signing(late).actual_date == today
    page = client.get(response["Location"]).content.decode()
    assert "已保存：项目签约" in page


def test_without_javascript_errors_show_on_the_whole_page(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    response = post_edit(client, late, htmx=False, actual_date=today + timedelta(days=3))
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html and "实际完成日期不能晚于今天" in html


def test_escape_and_cancel_give_back_the_row(client, role_users, late):
    client.force_login(role_users["cadre1"])
    response = client.get(reverse("milestone_row", kwargs={"code": late.code, "type_code": "signing"}), **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<tr id="m-signing"') and "editing" not in html


# --- Two editors ----------------------------------------------------------------------


def test_the_second_of_two_editors_is_refused_with_the_current_values(client, role_users, late, today):
    office = Client()
    office.force_login(role_users["office"])
    client.force_login(role_users["cadre1"])
    stale = version(late)
    # The office saves first…
    post_edit(office, late, actual_date=today - timedelta(days=2))
    # …then the cadre, from a form built before that save.
    response = client.post(
        url(late.code),
        {"updated_at": stale, "planned_date": (today - timedelta(days=5)).isoformat(), "actual_date": today.isoformat()},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "您的修改未保存" in html and "office" in html
    # The form now shows the stored value and the new version, so a second try can succeed.
    assert f'value="{(today - timedelta(days=2)).isoformat()}"' in html
    assert f'value="{version(late)}"' in html
    assert signing(late).actual_date == today - timedelta(days=2)
    # The badge shows the colour after the office's save (green), out of band.
    assert 'data-colour="green" hx-swap-oob="true"' in html


# --- Permissions, 404, CSRF ------------------------------------------------------------


@pytest.mark.parametrize(
    "who, code, type_code",
    [
        ("cadre2", "QT-LATE", "signing"),  # cadre B posting to cadre A's project
        ("liaison1", "QT-LATE", "signing"),  # a liaison on another department's milestone
        ("leader", "QT-LATE", "signing"),  # a leader posting an edit
    ],
)
def test_forbidden_edits_answer_403_and_change_nothing(client, role_users, late, today, who, code, type_code):
    client.force_login(role_users[who])
    before = Milestone.history.count()
    for htmx in (True, False):
        response = post_edit(client, late, type_code=type_code, htmx=htmx, actual_date=today)
        assert response.status_code == 403
    assert client.get(url(code, type_code)).status_code == 403
    assert signing(late).actual_date is None
    assert Milestone.history.count() == before


def test_the_liaison_edits_their_departments_milestone(client, role_users, late, today):
    client.force_login(role_users["liaison1"])
    response = post_edit(client, late, type_code="construction_permit", actual_date=today)
    assert response.status_code == 200
    assert Milestone.objects.get(project=late, milestone_type__code="construction_permit").actual_date == today


def test_the_page_offers_edit_buttons_only_where_allowed(client, role_users, late):
    def editable(user):
        client.force_login(role_users[user])
        page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
        return re.findall(r'/projects/QT-LATE/milestones/([a-z_]+)/" hx-get', page)

    # Every catalogue type is a milestone of the project, filled in or not.
    assert editable("cadre1") == [mt.code for mt in MilestoneType.objects.order_by("order")]
    assert editable("liaison1") == ["construction_permit"]
    assert editable("leader") == []
    assert editable("cadre2") == []


def test_unknown_project_or_milestone_answers_404(client, role_users, late):
    client.force_login(role_users["office"])
    assert client.post(url("NOPE"), {}).status_code == 404
    assert client.post(url(late.code, "no_such_type"), {}).status_code == 404
    # A type that exists but whose milestone row is gone (deleted in the admin, say).
    Milestone.objects.filter(project=late, milestone_type__code="production").delete()
    assert client.post(url(late.code, "production"), {}).status_code == 404
    assert client.post(reverse("progress_edit", kwargs={"code": late.code, "kind": "nonsense"}), {}).status_code == 404
    assert client.post(reverse("escalation_create", kwargs={"code": "NOPE"}), {}).status_code == 404


def test_a_post_without_csrf_token_is_refused(role_users, late, today):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_users["cadre1"])
    response = client.post(url(late.code), {"actual_date": today.isoformat(), "updated_at": version(late)}, **HTMX)
    assert response.status_code == 403
    assert signing(late).actual_date is None


def test_a_post_with_the_csrf_header_htmx_sends_is_accepted(role_users, late, today):
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_users["cadre1"])
    page = client.get(reverse("project_detail", kwargs={"code": late.code}))
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.content.decode()).group(1)
    response = client.post(
        url(late.code),
        {"actual_date": today.isoformat(), "updated_at": version(late),
         "planned_date": (today - timedelta(days=5)).isoformat()},
        HTTP_X_CSRFTOKEN=token, **HTMX,
    )
    assert response.status_code == 200
    assert signing(late).actual_date == today


def test_anonymous_posts_go_to_the_login_page(client, late, today):
    response = client.post(url(late.code), {"actual_date": today.isoformat()})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert signing(late).actual_date is None


# --- Progress note and open problems --------------------------------------------------


def notes_url(project, kind="progress"):
    return reverse("progress_edit", kwargs={"code": project.code, "kind": kind})


def test_progress_notes_are_kept_as_dated_entries(client, role_users, late):
    client.force_login(role_users["cadre1"])
    response = client.post(notes_url(late), {"text": "已完成签约谈判。", "based_on": ""}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel notes" id="notes">')
    assert "已完成签约谈判。" in html and 'id="history" hx-swap-oob="true"' in html
    first = ProgressEntry.objects.get(project=late)
    response = client.post(notes_url(late), {"text": "合同已签署。", "based_on": str(first.id)}, **HTMX)
    client.post(notes_url(late, "problems"), {"text": "用地指标待落实。", "based_on": ""}, **HTMX)
    late.refresh_from_db()
    assert (late.progress_note, late.open_problems) == ("合同已签署。", "用地指标待落实。")
    assert list(late.progress_entries.filter(kind="progress").values_list("text", flat=True)) == ["合同已签署。", "已完成签约谈判。"]
    assert set(late.progress_entries.values_list("author__username", flat=True)) == {"cadre1"}
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    assert "历次记录（2）" in page and "已完成签约谈判。" in page


def test_a_stale_progress_note_is_refused(client, role_users, late):
    client.force_login(role_users["cadre1"])
    client.post(notes_url(late), {"text": "第一版", "based_on": ""}, **HTMX)
    response = client.post(notes_url(late), {"text": "另一人的版本", "based_on": ""}, **HTMX)
    html = response.content.decode()
    assert "您的修改未保存" in html and "第一版" in html
    late.refresh_from_db()
    assert late.progress_note == "第一版"
    assert late.progress_entries.count() == 1


def test_a_too_long_note_is_refused(client, role_users, late):
    client.force_login(role_users["cadre1"])
    response = client.post(notes_url(late), {"text": "长" * 2001, "based_on": ""}, **HTMX)
    assert "内容不能超过2000字" in response.content.decode()
    assert late.progress_entries.count() == 0


def test_progress_notes_without_javascript(client, role_users, late):
    client.force_login(role_users["cadre1"])
    page = client.get(notes_url(late)).content.decode()
    assert "<html" in page and 'name="text"' in page
    response = client.post(notes_url(late), {"text": "进展顺利", "based_on": ""})
    assert response.status_code == 302 and response["Location"].endswith("#notes")


@pytest.mark.parametrize("who", ["cadre2", "liaison1", "leader"])
def test_only_the_projects_cadres_and_the_office_write_notes(client, role_users, late, who):
    client.force_login(role_users[who])
    assert client.post(notes_url(late), {"text": "越权", "based_on": ""}, **HTMX).status_code == 403
    assert client.get(notes_url(late)).status_code == 403
    late.refresh_from_db()
    assert late.progress_note == "" and late.progress_entries.count() == 0


# --- Escalation (督办) --------------------------------------------------------------------


def escalate_url(project):
    return reverse("escalation_create", kwargs={"code": project.code})


@pytest.fixture
def green(make_project, role_users, today):
    project = make_project(
        "QT-GREEN", responsible_cadre=role_users["cadre1"],
        milestones={"approval": {"planned_date": today + timedelta(days=60)}},
    )
    recompute_all(today=today)
    return project


def test_a_leader_escalates_and_the_colour_rises_at_once(client, role_users, green, today):
    client.force_login(role_users["leader"])
    response = client.post(
        escalate_url(green),
        {"colour": "red", "reason": "区领导批示督办", "until": (today + timedelta(days=30)).isoformat()},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="escalations"' in html and "区领导批示督办" in html
    assert 'data-colour="red" hx-swap-oob="true"' in html
    green.refresh_from_db()
    assert green.colour == "red"
    assert Escalation.objects.get(project=green).author == role_users["leader"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"colour": "red", "reason": "  ", "until": "2026-12-31"}, "督办须填写原因"),
        ({"colour": "red", "reason": "原因", "until": "2026-11-24"}, "督办截止日期不能早于今天"),
        ({"colour": "red", "reason": "原因", "until": "2100-01-01"}, "日期须在2000-01-01至2099-12-31之间"),
        ({"colour": "red", "reason": "原因", "until": ""}, "请填写督办截止日期"),
        ({"colour": "green", "reason": "原因", "until": "2026-12-31"}, "green"),
    ],
)
def test_bad_escalations_are_refused_with_a_message(client, role_users, green, fields, message):
    client.force_login(role_users["office"])
    response = client.post(escalate_url(green), fields, **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Escalation.objects.count() == 0
    green.refresh_from_db()
    assert green.colour == "green"


@pytest.mark.parametrize("who", ["cadre1", "liaison1"])
def test_cadres_and_liaisons_may_not_escalate(client, role_users, green, today, who):
    client.force_login(role_users[who])
    response = client.post(
        escalate_url(green), {"colour": "red", "reason": "越权", "until": today.isoformat()}, **HTMX
    )
    assert response.status_code == 403
    assert Escalation.objects.count() == 0
    page = client.get(reverse("project_detail", kwargs={"code": green.code})).content.decode()
    assert "督办该项目" not in page


def test_escalation_without_javascript_redirects(client, role_users, green, today):
    client.force_login(role_users["office"])
    response = client.post(escalate_url(green), {"colour": "yellow", "reason": "月度督办", "until": today.isoformat()})
    assert response.status_code == 302 and response["Location"].endswith("#escalations")
    green.refresh_from_db()
    assert green.colour == "yellow"


def test_an_htmx_save_answers_in_a_bounded_number_of_queries(client, role_users, late, today, django_assert_max_num_queries):
    client.force_login(role_users["cadre1"])
    with django_assert_max_num_queries(40):
        post_edit(client, late, actual_date=today)


def test_history_of_a_bulk_loaded_milestone_reads_old_to_new(client, role_users, late, today):
    """Demo data and imports are written in bulk, without history: the first edit still shows old → new."""
    Milestone.history.all().delete()
    Project.history.all().delete()
    client.force_login(role_users["cadre1"])
    post_edit(client, late, actual_date=today)
    page = client.get(reverse("project_detail", kwargs={"code": late.code})).content.decode()
    history = page[page.index('id="history"'):]
    assert f"实际完成日期：<s>—</s> → <b>{today.isoformat()}</b>" in history
    assert history.count("<li>") == 1  # the edit (colour changes are <li class="system">)
    assert "预警等级：<s>红</s> → <b>绿</b>" in history


def test_an_htmx_save_after_the_session_expired_sends_the_page_to_the_login_form(client, late, today):
    response = client.post(
        url(late.code), {"actual_date": today.isoformat()},
        HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver/projects/{late.code}/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/accounts/login/?next=/projects/{late.code}/"
    assert signing(late).actual_date is None


def test_without_javascript_a_stale_save_answers_409_with_the_current_values(client, role_users, late, today):
    client.force_login(role_users["cadre1"])
    stale = version(late)
    post_edit(client, late, actual_date=today - timedelta(days=1))
    response = client.post(
        url(late.code),
        {"updated_at": stale, "planned_date": (today - timedelta(days=5)).isoformat(), "actual_date": today.isoformat()},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "<html" in html and "您的修改未保存" in html
    assert f'value="{(today - timedelta(days=1)).isoformat()}"' in html
    assert signing(late).actual_date == today - timedelta(days=1)


# --- The version check cannot be skipped; done and not applicable never both -----------


@pytest.mark.parametrize("version_sent", [None, "", "yesterday-ish"])
def test_a_post_without_a_valid_version_saves_nothing_and_says_why(client, role_users, late, today, version_sent):
    client.force_login(role_users["cadre1"])
    data = {"planned_date": signing(late).planned_date.isoformat(), "actual_date": today.isoformat()}
    if version_sent is not None:
        data["updated_at"] = version_sent
    response = client.post(url(late.code), data, **HTMX)
    assert response.status_code == 200  # htmx swaps the form back with its message
    assert "页面数据已失效，请刷新后重试" in response.content.decode()
    assert signing(late).actual_date is None


def test_done_today_and_not_applicable_together_are_refused(client, role_users, late):
    client.force_login(role_users["cadre1"])
    response = post_edit(
        client, late, actual_date="", done_today="on", not_applicable="on",
        not_applicable_reason="无需签约",
    )
    assert "已完成的节点不能标为不适用，请先清除实际完成日期" in response.content.decode()
    milestone = signing(late)
    assert (milestone.actual_date, milestone.not_applicable) == (None, False)
