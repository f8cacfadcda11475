"""协调事项: raised on a project, answered and handled by the department, closed by the raiser."""
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects.coordination import services
from projects.coordination.selectors import items_for_user, items_of_project
from projects.models import CoordinationEvent, CoordinationItem, Department

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
Kind, State = CoordinationEvent.Kind, CoordinationItem.State


@pytest.fixture
def setup(role_users, make_project, today):
    housing = Department.objects.create(name="区住建局")
    housing.liaisons.add(role_users["liaison1"])
    other = Department.objects.create(name="区发改局")
    project = make_project("QT-0001", responsible_cadre=role_users["cadre1"])
    return {"project": project, "housing": housing, "other": other, "today": today, **role_users}


def raise_item(setup, by="cadre1", days=10, department="housing"):
    return services.item_raise(
        project=setup["project"], need="施工许可并联审批", department=setup[department],
        deadline=setup["today"] + timedelta(days=days), by=setup[by], today=setup["today"],
    )


def test_the_whole_flow_is_recorded_step_by_step(setup):
    item = raise_item(setup)
    today = setup["today"]
    item = services.item_step(item=item, kind=Kind.ANSWERED, by=setup["liaison1"], comment="已受理，本周内出具意见", today=today)
    assert (item.state, item.reply) == (State.ANSWERED, "已受理，本周内出具意见")
    item = services.item_step(item=item, kind=Kind.HANDLED, by=setup["liaison1"], today=today)
    assert (item.state, item.handled_on) == (State.HANDLED, today)
    item = services.item_step(item=item, kind=Kind.REOPENED, by=setup["cadre1"], comment="意见未覆盖消防", today=today)
    assert (item.state, item.handled_on) == (State.OPEN, None)
    item = services.item_step(item=item, kind=Kind.HANDLED, by=setup["office"], comment="已补充消防意见", today=today)
    item = services.item_step(item=item, kind=Kind.CLOSED, by=setup["cadre1"], today=today)
    assert item.state == State.CLOSED
    assert list(item.events.values_list("kind", "by__username")) == [
        ("raised", "cadre1"), ("answered", "liaison1"), ("handled", "liaison1"), ("reopened", "cadre1"),
        ("handled", "office"), ("closed", "cadre1"),
    ]


@pytest.mark.parametrize("who", ["leader", "cadre2", "liaison1"])
def test_only_the_project_s_cadre_and_team_and_the_office_raise_items(setup, who):
    with pytest.raises(PermissionDenied):
        raise_item(setup, by=who)
    assert not CoordinationItem.objects.exists()


def test_a_team_member_raises_too(setup):
    setup["project"].team.add(setup["cadre2"])
    assert raise_item(setup, by="cadre2").raised_by == setup["cadre2"]


@pytest.mark.parametrize("who", ["leader", "cadre1", "cadre2"])
def test_only_the_department_s_liaisons_and_the_office_answer(setup, who):
    item = raise_item(setup)
    with pytest.raises(PermissionDenied):
        services.item_step(item=item, kind=Kind.ANSWERED, by=setup[who], comment="好", today=setup["today"])


def test_a_liaison_of_another_department_cannot_answer(setup):
    item = raise_item(setup, department="other")
    with pytest.raises(PermissionDenied):
        services.item_step(item=item, kind=Kind.HANDLED, by=setup["liaison1"], today=setup["today"])


def test_only_the_raiser_and_the_office_close(setup):
    item = services.item_step(item=raise_item(setup), kind=Kind.HANDLED, by=setup["liaison1"], today=setup["today"])
    for who in ("liaison1", "leader", "cadre2"):
        with pytest.raises(PermissionDenied):
            services.item_step(item=item, kind=Kind.CLOSED, by=setup[who], today=setup["today"])
    assert services.item_step(item=item, kind=Kind.CLOSED, by=setup["office"], today=setup["today"]).state == State.CLOSED


def test_steps_out_of_order_or_without_a_comment_are_refused_with_a_message(setup):
    item = raise_item(setup)
    with pytest.raises(ValidationError, match="已是“待答复”"):
        services.item_step(item=item, kind=Kind.CLOSED, by=setup["cadre1"], today=setup["today"])
    with pytest.raises(ValidationError, match="请填写答复内容"):
        services.item_step(item=item, kind=Kind.ANSWERED, by=setup["liaison1"], comment="  ", today=setup["today"])
    item = services.item_step(item=item, kind=Kind.HANDLED, by=setup["liaison1"], today=setup["today"])
    with pytest.raises(ValidationError, match="请说明重新打开的原因"):
        services.item_step(item=item, kind=Kind.REOPENED, by=setup["cadre1"], today=setup["today"])
    assert CoordinationItem.objects.get().state == State.HANDLED


@pytest.mark.parametrize(("days", "colour"), [(-3, "red"), (5, "yellow"), (60, "green")])
def test_an_item_has_its_own_colour_by_the_warning_rules(setup, days, colour):
    raise_item(setup, days=days)
    (row,) = items_of_project(setup["project"], user=setup["cadre1"], today=setup["today"])
    assert row.colour == colour
    assert row.overdue_days == (3 if days < 0 else 0)


def test_a_handled_item_no_longer_colours(setup):
    item = raise_item(setup, days=-3)
    services.item_step(item=item, kind=Kind.HANDLED, by=setup["liaison1"], today=setup["today"])
    (row,) = items_of_project(setup["project"], user=setup["cadre1"], today=setup["today"])
    assert (row.colour, row.overdue_days) == (None, 0)


def test_the_department_page_lists_what_waits_for_the_liaison_s_departments(client, setup):
    mine = raise_item(setup, days=-2)
    raise_item(setup, department="other")
    rows = items_for_user(user=setup["liaison1"], today=setup["today"])
    assert [row.item for row in rows] == [mine]
    client.force_login(setup["liaison1"])
    page = client.get(reverse("coordination_items")).content.decode()
    assert "施工许可并联审批" in page and "逾期2天" in page and "其中逾期 1 项" in page
    assert 'hx-post="/coordination/%d/handle/"' % mine.pk in page


def test_handling_an_item_on_the_items_page_updates_its_waiting_count_in_place(client, setup):
    first = raise_item(setup, days=-2)
    raise_item(setup, days=5)
    client.force_login(setup["liaison1"])
    page = client.get(reverse("coordination_items")).content.decode()
    assert "待责任单位办理 2 项，其中逾期 1 项" in page
    step = reverse("coordination_item_step", kwargs={"pk": first.pk, "step": "handle"})
    answer = client.post(step, {"comment": "已办结", "next": reverse("coordination_items")}, **HTMX).content.decode()
    assert 'data-state="handled"' in answer
    assert 'id="waiting-summary" hx-swap-oob="true"' in answer and "待责任单位办理 1 项，其中逾期 0 项" in answer
    ranking = answer.split('id="department-ranking" hx-swap-oob="true"', 1)[1]
    assert re.search(r'<td>区住建局</td><td class="num">1</td><td class="num">0</td><td class="num">1</td>', ranking)
    # On the project page the item alone comes back: that page has no such heading.
    other = raise_item(setup, days=3)
    on_project = client.post(
        reverse("coordination_item_step", kwargs={"pk": other.pk, "step": "handle"}),
        {"comment": "已办结", "next": "/projects/QT-0001/#coordination"}, **HTMX,
    ).content.decode()
    assert 'data-state="handled"' in on_project and "waiting-summary" not in on_project


def test_raising_from_the_project_page_with_htmx_swaps_the_panel(client, setup):
    client.force_login(setup["cadre1"])
    url = reverse("coordination_item_raise", kwargs={"code": "QT-0001"})
    response = client.post(url, {
        "need": "电力增容", "department": setup["housing"].pk,
        "deadline": (setup["today"] + timedelta(days=20)).isoformat(),
    }, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="coordination"' in html and "电力增容" in html
    assert CoordinationItem.objects.get().raised_by == setup["cadre1"]


def test_a_raise_may_name_the_milestone_it_blocks(client, setup, catalogue):
    blocked = setup["project"].milestones.get(milestone_type=catalogue["construction_permit"])
    client.force_login(setup["cadre1"])
    response = client.post(reverse("coordination_item_raise", kwargs={"code": "QT-0001"}), {
        "need": "施工许可并联审批", "department": setup["housing"].pk,
        "deadline": (setup["today"] + timedelta(days=20)).isoformat(), "milestone": blocked.pk,
    })
    assert response.status_code == 302
    item = CoordinationItem.objects.get()
    assert (item.milestone, item.raised_by) == (blocked, setup["cadre1"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-0001"})).content.decode()
    assert f"影响节点：{blocked.milestone_type.name}" in page


def test_a_milestone_of_another_project_is_refused_and_nothing_is_saved(client, setup, make_project):
    elsewhere = make_project("QT-0002").milestones.first()
    client.force_login(setup["cadre1"])
    response = client.post(reverse("coordination_item_raise", kwargs={"code": "QT-0001"}), {
        "need": "施工许可并联审批", "department": setup["housing"].pk,
        "deadline": (setup["today"] + timedelta(days=20)).isoformat(), "milestone": elsewhere.pk,
    })
    assert response.status_code == 400
    html = response.content.decode()
    # Not among the choices the form offers (this project's milestones): refused beside the field.
    assert re.search(r'<select name="milestone" aria-invalid="true"[^>]*>.*?</select><span class="field-error">[^<]*'
                     + str(elsewhere.pk) + r'[^<]*</span>', html, re.S)
    assert not CoordinationItem.objects.exists() and not CoordinationEvent.objects.exists()
    # The model's own rule holds too, for any caller of the service.
    with pytest.raises(ValidationError) as refused:
        services.item_raise(
            project=setup["project"], need="施工许可并联审批", department=setup["housing"],
            deadline=setup["today"] + timedelta(days=20), milestone=elsewhere, by=setup["cadre1"], today=setup["today"],
        )
    assert refused.value.message_dict == {"milestone": ["影响节点须是本项目的节点"]}
    assert not CoordinationItem.objects.exists()


def test_a_raise_with_missing_fields_says_what_is_missing_and_saves_nothing(client, setup):
    client.force_login(setup["cadre1"])
    url = reverse("coordination_item_raise", kwargs={"code": "QT-0001"})
    page = client.post(url, {"need": "", "department": "", "deadline": "2026-02-30"})
    html = page.content.decode()
    assert page.status_code == 400
    assert "请填写需要协调解决的事项" in html and "请选择责任单位" in html and "请输入有效的日期" in html
    assert not CoordinationItem.objects.exists()


def test_a_step_with_htmx_answers_the_item_and_a_refusal_is_shown_on_it(client, setup):
    item = raise_item(setup)
    client.force_login(setup["liaison1"])
    answered = client.post(reverse("coordination_item_step", kwargs={"pk": item.pk, "step": "answer"}), {"comment": "已受理"}, **HTMX)
    assert answered.status_code == 200 and 'data-state="answered"' in answered.content.decode()
    empty = client.post(reverse("coordination_item_step", kwargs={"pk": item.pk, "step": "answer"}), {"comment": ""}, **HTMX)
    assert "请填写答复内容" in empty.content.decode()
    unknown = client.post(reverse("coordination_item_step", kwargs={"pk": item.pk, "step": "delete"}), **HTMX)
    assert unknown.status_code == 404 and CoordinationItem.objects.filter(pk=item.pk).exists()


def test_the_project_page_shows_items_to_everyone_and_the_form_to_those_who_raise(client, setup):
    raise_item(setup)
    client.force_login(setup["leader"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-0001"})).content.decode()
    assert "施工许可并联审批" in page and "提出协调事项" not in page
    client.force_login(setup["cadre1"])
    assert "提出协调事项" in client.get(reverse("project_detail", kwargs={"code": "QT-0001"})).content.decode()


def test_the_panel_costs_the_same_queries_with_one_item_or_many(client, setup, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(setup["cadre1"])
    url = reverse("project_detail", kwargs={"code": "QT-0001"})
    raise_item(setup)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for days in range(8):
        services.item_step(item=raise_item(setup, days=days), kind=Kind.ANSWERED, by=setup["liaison1"], comment="好", today=setup["today"])
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def test_every_step_is_in_the_project_s_history(client, setup):
    item = raise_item(setup)
    services.item_step(item=item, kind=Kind.ANSWERED, by=setup["liaison1"], comment="已受理", today=setup["today"])
    client.force_login(setup["leader"])
    page = client.get(reverse("project_detail", kwargs={"code": "QT-0001"})).content.decode()
    history = page[page.index('id="history"'):]
    assert "协调事项（区住建局）" in history and "答复：已受理" in history and "提出：施工许可并联审批" in history


def test_the_office_reads_items_and_their_steps_in_the_admin_and_changes_none(client, setup):
    item = raise_item(setup)
    client.force_login(setup["office"])
    listing = client.get(reverse("admin:projects_coordinationitem_changelist"))
    assert listing.status_code == 200 and "QT-0001" in listing.content.decode()
    page = client.get(reverse("admin:projects_coordinationitem_change", args=[item.pk]))
    assert page.status_code == 200 and "施工许可并联审批" in page.content.decode()
    assert client.post(reverse("admin:projects_coordinationitem_delete", args=[item.pk]), {"post": "yes"}).status_code == 403
    assert CoordinationItem.objects.filter(pk=item.pk).exists()


def test_departments_are_ranked_by_overdue_items_then_by_median_days_to_answer(client, setup, time_machine):
    today = setup["today"]
    late = raise_item(setup, days=-5)  # housing: overdue, still open
    raise_item(setup, days=-1, department="other")  # other: overdue
    raise_item(setup, days=-2, department="other")  # other: overdue
    time_machine.shift(timedelta(days=3))
    services.item_step(item=late, kind=Kind.ANSWERED, by=setup["liaison1"], comment="在办", today=today)
    from projects.coordination.selectors import department_ranking

    ranking = department_ranking(today=today)
    assert [(s.name, s.open, s.overdue, s.median_days_to_answer) for s in ranking] == [
        ("区发改局", 2, 2, None), ("区住建局", 1, 1, 3),
    ]
    client.force_login(setup["leader"])
    page = client.get(reverse("coordination_items")).content.decode()
    assert page.index('data-department="区发改局"') < page.index('data-department="区住建局"')


# --- From the workbook's 存在问题 column -----------------------------------------------------


def workbook(rows):
    from tests.projects.workbook.test_importer import office_workbook

    return office_workbook(rows)


def problems_row(code, problems):
    from tests.projects.workbook.test_importer import HEADER, ROWS

    row = list(ROWS[0])
    row[HEADER.index("项目编号")] = code
    row[HEADER.index("存在问题")] = problems
    return row


def test_a_changed_problems_cell_becomes_an_item_for_the_office_to_assign(setup, client):
    from projects.workbook.importer import import_workbook

    data = workbook([problems_row("QT-0001", "地块征迁未完成")])
    preview = import_workbook(data, today=setup["today"], by=setup["office"], dry_run=True)
    assert preview.items_raised == 1 and not CoordinationItem.objects.exists()
    import_workbook(data, today=setup["today"], by=setup["office"], dry_run=False)
    item = CoordinationItem.objects.get()
    assert (item.need, item.department, item.deadline, item.raised_by) == ("地块征迁未完成", None, None, setup["office"])
    assert item.needs_assigning

    # Nobody but the office answers it or assigns it until it has a department.
    with pytest.raises(PermissionDenied):
        services.item_step(item=item, kind=Kind.ANSWERED, by=setup["liaison1"], comment="好", today=setup["today"])
    with pytest.raises(PermissionDenied):
        services.item_assign(item=item, department=setup["housing"], deadline=setup["today"], by=setup["cadre1"], today=setup["today"])
    client.force_login(setup["office"])
    response = client.post(reverse("coordination_item_assign", kwargs={"pk": item.pk}), {
        "department": setup["housing"].pk, "deadline": (setup["today"] + timedelta(days=10)).isoformat(),
    }, **HTMX)
    assert response.status_code == 200 and "区住建局" in response.content.decode()
    item.refresh_from_db()
    assert (item.department, item.needs_assigning) == (setup["housing"], False)
    assert list(item.events.values_list("kind", flat=True)) == ["raised", "assigned"]


def test_the_same_problems_text_again_raises_nothing_and_the_export_lists_open_items(setup):
    from projects.workbook.exporter import build_workbook
    from projects.workbook.importer import import_workbook
    from projects.models import Project

    import_workbook(workbook([problems_row("QT-0001", "地块征迁未完成")]), today=setup["today"], by=setup["office"], dry_run=False)
    again = import_workbook(workbook([problems_row("QT-0001", "地块征迁未完成")]), today=setup["today"], by=setup["office"], dry_run=False)
    assert again.items_raised == 0 and CoordinationItem.objects.count() == 1

    sheet = build_workbook(Project.objects.all()).active
    header = {cell.value: cell.column for cell in sheet[2]}
    exported = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == "QT-0001")[header["存在问题"] - 1].value
    assert exported == "【待分派】地块征迁未完成"
    # The exported list read back is no change: no new item, the stored text untouched.
    back = import_workbook(workbook([problems_row("QT-0001", exported)]), today=setup["today"], by=setup["office"], dry_run=False)
    assert back.items_raised == 0 and CoordinationItem.objects.count() == 1
    assert Project.objects.get(code="QT-0001").open_problems == "地块征迁未完成"


# Every step's POST, probed as every role over HTTP with HTMX: allowed roles move the item,
# the others get 403 and change nothing (no state, no event).
STEP_PROBES = [
    # step, state the item must be in first, who may
    ("answer", State.OPEN, {"office", "liaison1"}),
    ("handle", State.ANSWERED, {"office", "liaison1"}),
    ("close", State.HANDLED, {"office", "cadre1"}),  # cadre1 raised it
    ("reopen", State.HANDLED, {"office", "cadre1"}),
]


@pytest.mark.parametrize("step, before, allowed", STEP_PROBES, ids=[p[0] for p in STEP_PROBES])
@pytest.mark.parametrize("who", ["leader", "office", "cadre1", "cadre2", "liaison1"])
def test_every_step_post_is_checked_on_the_server_for_every_role(client, setup, step, before, allowed, who):
    item = raise_item(setup)
    CoordinationItem.objects.filter(pk=item.pk).update(state=before)
    events = CoordinationEvent.objects.count()
    client.force_login(setup[who])
    response = client.post(reverse("coordination_item_step", kwargs={"pk": item.pk, "step": step}),
                           {"comment": "已协调"}, **HTMX)
    item.refresh_from_db()
    if who in allowed:
        assert response.status_code == 200
        assert item.state != before and CoordinationEvent.objects.count() == events + 1
    else:
        assert response.status_code == 403
        assert item.state == before and CoordinationEvent.objects.count() == events
