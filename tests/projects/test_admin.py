"""The Django admin as the office uses it: every page loads, saves recompute at once.

"Today" is frozen with time-machine at a moment in Asia/Shanghai; the admin asks
`local_today()`, the only place that reads the clock.
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from projects.models import Department, Milestone, MilestoneReplan, Project
from qiantang_warnings.models import CalendarDay, Escalation, RecomputeRun, StatusChange, WarningPolicy
from qiantang_warnings.recompute import recompute_all

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 25)  # the `today` fixture
D = timedelta(days=1)
APPS = ("projects", "warnings")


def shanghai(day, hour=10, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def frozen():
    """Freeze the clock at 10:00 on TODAY in Shanghai."""
    with time_machine.travel(shanghai(TODAY), tick=False) as traveller:
        yield traveller


@pytest.fixture
def office(client, role_users):
    client.force_login(role_users["office"])
    return client


@pytest.fixture
def world(make_project, catalogue, role_users):
    """One object of every admin-registered model."""
    bureau = Department.objects.create(name="区发改局")
    project = make_project(
        "QT-001",
        lead_department=bureau,
        responsible_cadre=role_users["cadre1"],
        milestones={
            "approval": {"actual_date": TODAY - 90 * D},
            "signing": {"planned_date": TODAY + 40 * D, "baseline_date": TODAY + 40 * D},
        },
    )
    project.team.add(role_users["cadre2"])
    milestone = Milestone.objects.get(project=project, milestone_type__code="signing")
    MilestoneReplan.objects.create(
        milestone=milestone, old_planned_date=TODAY + 30 * D, new_planned_date=TODAY + 40 * D,
        reason="调整", author=role_users["office"],
    )
    Escalation.objects.create(project=project, colour="yellow", reason="提醒", until=TODAY - D)
    CalendarDay.objects.create(date=date(2026, 12, 31), is_working_day=False, note="测试")
    recompute_all(today=TODAY - 60 * D, now=shanghai(TODAY - 60 * D))
    from qiantang_warnings.models import DigestDelivery, DigestPreference

    DigestDelivery.objects.create(
        user=role_users["cadre1"], week="2026-W48", state="sent", message_id="<digest.2026-W48.1@x>"
    )
    DigestPreference.objects.create(user=role_users["cadre2"], send_empty=False)
    from projects.models import LoginFailure, ProgressEntry

    ProgressEntry.objects.create(
        project=project, kind="progress", text="主体结构已封顶。", author=role_users["cadre1"]
    )
    LoginFailure.objects.create(username="cadre2", ip_address="127.0.0.1", at=timezone.now())
    from projects.models import ReplanProposal

    ReplanProposal.objects.create(
        milestone=milestone, previous_planned_date=TODAY + 40 * D, proposed_planned_date=TODAY + 70 * D,
        reason="土地指标延后下达", document_number="钱发改〔2026〕12号", proposer=role_users["cadre1"],
    )
    from projects.models import CoordinationEvent, CoordinationItem
    from qiantang_warnings.models import RecomputeChunk, RecomputeRun

    item = CoordinationItem.objects.create(
        project=project, need="地块征迁", department=bureau, deadline=TODAY + 10 * D, raised_by=role_users["cadre1"],
    )
    CoordinationEvent.objects.create(item=item, kind="raised", comment="地块征迁", by=role_users["cadre1"])
    run = RecomputeRun.objects.create(as_of=TODAY, started_at=timezone.now(), chunks=1, finished_at=timezone.now())
    RecomputeChunk.objects.create(run=run, index=0, examined=1, done_at=timezone.now())
    from qiantang_warnings.models import ChatNotice, ChatRobot, ScreenLink

    ScreenLink.objects.create(name="会议室大屏")

    robot = ChatRobot.objects.create(
        name="推进群", kind="dingtalk", webhook_url="https://oapi.dingtalk.com/robot/send?access_token=tok12345678",
    )
    ChatNotice.objects.create(robot=robot, event="test", event_key="test:1", event_at=timezone.now(),
                              title="测试消息", text="#### 测试消息")
    return {"project": project, "milestone": milestone, "department": bureau}


def url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def registered():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in APPS),
        key=lambda model: model._meta.label,
    )


def form_data(response):
    """The POST data a browser would send back for an admin change form, unchanged."""
    data = {"_save": "保存"}

    def add(form):
        for bound in form:
            value = bound.value()
            widget = bound.field.widget
            if getattr(widget, "input_type", None) == "checkbox":
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[bound.html_name] = [str(v) for v in value]
            elif value is None:
                data[bound.html_name] = ""
            elif hasattr(value, "isoformat"):
                data[bound.html_name] = value.isoformat()
            else:
                data[bound.html_name] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def inline_prefix(response, model):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise AssertionError(f"no inline for {model}")


def form_errors(response):
    """Every error message of the admin form and its inlines, flattened."""
    messages = []
    form = response.context["adminform"].form
    for errors in form.errors.values():
        messages.extend(errors)
    for inline in response.context["inline_admin_formsets"]:
        for errors in inline.formset.errors:
            for field_errors in errors.values():
                messages.extend(field_errors)
        messages.extend(inline.formset.non_form_errors())
    return messages


def colour(project):
    return Project.objects.values_list("colour", flat=True).get(pk=project.pk)


# --- Every page loads -------------------------------------------------------


def test_the_admin_index_lists_both_apps(office, world, frozen):
    response = office.get(reverse("admin:index"))
    assert response.status_code == 200
    labels = {app["app_label"] for app in response.context["app_list"]}
    assert set(APPS) <= labels


@pytest.mark.parametrize("model", registered(), ids=lambda model: model._meta.label)
def test_every_changelist_loads(office, world, frozen, model):
    response = office.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", registered(), ids=lambda model: model._meta.label)
def test_every_change_page_loads(office, world, frozen, model):
    obj = model.objects.order_by("pk").first()
    response = office.get(url(model, "change", obj.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", registered(), ids=lambda model: model._meta.label)
def test_every_add_page_loads_or_is_refused_by_design(office, world, frozen, model):
    # Replans and status changes are written by the system; the policy is a single row.
    by_design = {
        "projects.MilestoneReplan", "warnings.StatusChange", "warnings.WarningPolicy",
        "warnings.DigestDelivery",  # written only by the sender
        "projects.ProgressEntry",  # written from the project page
        "projects.LoginFailure",  # written by the sign-in throttle
        "projects.ReplanProposal",  # proposed from the project page, decided in /replans/
        "projects.CoordinationItem",  # raised and moved step by step on the site, each step recorded
        "warnings.RecomputeRun",  # written by the spread recompute
        "warnings.ChatNotice",  # written by the chat outbox
    }
    response = office.get(url(model, "add"))
    assert response.status_code == (403 if model._meta.label in by_design else 200)


def test_the_department_list_counts_the_projects_each_leads(office, world, make_project, frozen):
    make_project("QT-002", lead_department=world["department"])
    response = office.get(url(Department, "changelist"))
    assert [(d.name, d.led_project_count) for d in response.context["cl"].result_list] == [
        ("区发改局", 2)
    ]


def test_every_changelist_search_and_filter_works(office, world, frozen):
    for model in registered():
        model_admin = admin.site._registry[model]
        if model_admin.search_fields:
            assert office.get(url(model, "changelist"), {"q": "QT"}).status_code == 200
    response = office.get(
        url(Project, "changelist"), {"colour__exact": "green", "state__exact": "active"}
    )
    assert response.status_code == 200


def _many_projects(make_project, role_users, n):
    departments = [
        Department.objects.create(name=f"街道{i}", kind="street") for i in range(max(3, n // 3))
    ]
    for i in range(n):
        make_project(
            f"QT-{i:03}",
            sector="集成电路",
            lead_department=departments[i % len(departments)],
            responsible_cadre=role_users["cadre1" if i % 2 else "cadre2"],
            milestones={"signing": {"planned_date": TODAY + (i % 5 * 10 - 20) * D}},
        )
    recompute_all(today=TODAY)


def test_the_project_changelist_with_30_projects_needs_few_queries(
    office, make_project, role_users, frozen, django_assert_max_num_queries
):
    _many_projects(make_project, role_users, 30)
    with django_assert_max_num_queries(12):  # 10 measured; one per row would be 40+
        response = office.get(url(Project, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 30
    assert "项目签约逾期20天" in response.content.decode()


@pytest.mark.parametrize("model", registered(), ids=lambda model: model._meta.label)
def test_no_changelist_queries_once_per_row(office, make_project, role_users, frozen, model):
    """Query counts with 3 and with 30 projects are the same for every changelist."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert office.get(url(model, "changelist")).status_code == 200
        return len(captured)

    _many_projects(make_project, role_users, 3)
    for project in Project.objects.all():
        Escalation.objects.create(project=project, colour="red", reason="督办", until=TODAY)
        MilestoneReplan.objects.create(
            milestone=project.milestones.first(), reason="调整", author=role_users["office"]
        )
    recompute_all(today=TODAY, now=shanghai(TODAY))
    few = count()
    Project.objects.all().delete()
    Department.objects.all().delete()
    _many_projects(make_project, role_users, 30)
    for project in Project.objects.all():
        Escalation.objects.create(project=project, colour="red", reason="督办", until=TODAY)
        MilestoneReplan.objects.create(
            milestone=project.milestones.first(), reason="调整", author=role_users["office"]
        )
    recompute_all(today=TODAY, now=shanghai(TODAY))
    assert count() == few


# --- Saving a milestone recomputes its project in the same request -------------


def test_saving_a_milestone_recomputes_its_project(office, world, make_project, frozen):
    other = make_project("QT-OTHER", milestones={"signing": {"planned_date": TODAY - 9 * D}})
    recompute_all(today=TODAY - 60 * D)
    project, milestone = world["project"], world["milestone"]
    assert colour(project) == "yellow"  # the fixture's escalation, as of 60 days ago
    page = office.get(url(Milestone, "change", milestone.pk))
    data = form_data(page)
    data.update(planned_date=(TODAY - 2 * D).isoformat(), replan_reason="企业资金未到位")

    response = office.post(url(Milestone, "change", milestone.pk), data)

    assert response.status_code == 302, form_errors(response)
    project.refresh_from_db()
    assert project.colour == "red"
    assert project.headline_reason == "项目签约逾期2天"
    assert project.computed_as_of == TODAY
    assert StatusChange.objects.filter(project=project, to_colour="red").count() == 1
    # Only that project: the other one still shows the old as-of date.
    other.refresh_from_db()
    assert other.computed_as_of == TODAY - 60 * D


def _project_page_with(client, project, milestone, **row_changes) -> dict:
    """The project's admin page as its form would post it back, with `row_changes` made to
    `milestone`'s row of the milestones inline (dates as dates)."""
    page = client.get(url(Project, "change", project.pk))
    assert page.status_code == 200
    data = form_data(page)
    prefix = inline_prefix(page, Milestone)
    index = next(
        i for i in range(int(data[f"{prefix}-TOTAL_FORMS"]))
        if data[f"{prefix}-{i}-id"] == str(milestone.pk)
    )
    for name, value in row_changes.items():
        data[f"{prefix}-{index}-{name}"] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


def test_saving_a_milestone_in_the_project_page_recomputes_the_project(office, world, frozen):
    project, milestone = world["project"], world["milestone"]
    data = _project_page_with(
        office, project, milestone, planned_date=TODAY + 5 * D, replan_reason="提前签约"
    )

    response = office.post(url(Project, "change", project.pk), data)

    assert response.status_code == 302, form_errors(response)
    project.refresh_from_db()
    assert project.colour == "yellow"
    assert project.headline_reason == "项目签约将于5天后到期"
    replan = MilestoneReplan.objects.filter(milestone=milestone).latest("id")
    assert (replan.new_planned_date, replan.reason, replan.author.username) == (
        TODAY + 5 * D, "提前签约", "office",
    )


def test_filling_in_a_blank_milestone_in_the_project_page(office, world, catalogue, frozen):
    project = world["project"]
    page = office.get(url(Project, "change", project.pk))
    data = form_data(page)
    prefix = inline_prefix(page, Milestone)
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    # Every catalogue type is already a (blank) row of the project's inline.
    assert total == len(catalogue)
    index = next(
        i for i in range(total)
        if data[f"{prefix}-{i}-milestone_type"] == str(catalogue["land_listing"].pk)
    )
    data[f"{prefix}-{index}-planned_date"] = (TODAY - D).isoformat()
    response = office.post(url(Project, "change", project.pk), data)
    assert response.status_code == 302, form_errors(response)
    filled = Milestone.objects.get(project=project, milestone_type=catalogue["land_listing"])
    assert filled.baseline_date == TODAY - D
    assert colour(project) == "red"


def test_adding_a_project_with_a_milestone_fills_in_its_blank_row(office, catalogue, frozen):
    page = office.get(url(Project, "add"))
    data = form_data(page)
    data.pop("team", None)  # an empty multiple choice is sent as no value at all
    prefix = inline_prefix(page, Milestone)
    data.update({
        "code": "QT-ADMIN-1", "name": "后台新建项目", "state": "active",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-0-milestone_type": str(catalogue["approval"].pk),
        f"{prefix}-0-planned_date": (TODAY - 3 * D).isoformat(),
    })
    response = office.post(url(Project, "add"), data)
    assert response.status_code == 302, form_errors(response)
    project = Project.objects.get(code="QT-ADMIN-1")
    assert project.milestones.count() == len(catalogue)
    approval = project.milestones.get(milestone_type=catalogue["approval"])
    assert (approval.planned_date, approval.baseline_date) == (TODAY - 3 * D, TODAY - 3 * D)
    assert colour(project) == "red"


def test_changing_a_project_s_state_recomputes_it(office, world, frozen):
    project = world["project"]
    recompute_all(today=TODAY)
    data = form_data(office.get(url(Project, "change", project.pk)))
    data["state"] = "paused"
    response = office.post(url(Project, "change", project.pk), data)
    assert response.status_code == 302, form_errors(response)
    project.refresh_from_db()
    assert (project.colour, project.computed_as_of) == ("", TODAY)


def test_the_project_page_says_when_the_next_full_recompute_looks_at_it_again(office, world, frozen):
    project = world["project"]
    page = office.get(url(Project, "change", project.pk)).content.decode()
    assert "下次复核日期" in page and "下次重算时" in page  # never computed: at the next run
    recompute_all(today=TODAY)
    project.refresh_from_db()
    assert project.recheck_on is not None and project.recheck_on > TODAY
    page = office.get(url(Project, "change", project.pk)).content.decode()
    assert f"{project.recheck_on.year}年{project.recheck_on.month}月{project.recheck_on.day}日" in page
    Project.objects.filter(pk=project.pk).update(state="paused")
    recompute_all(today=TODAY)
    assert "不会随时间变化" in office.get(url(Project, "change", project.pk)).content.decode()


# --- Project codes (项目编号) ------------------------------------------------

CODE_MESSAGE = (
    "项目编号只能包含字母、数字、汉字和连字符“-”、下划线“_”、点“.”，"
    "须以字母、数字或汉字开头，最长40个字符"
)


def _add_project(office, code):
    data = form_data(office.get(url(Project, "add")))
    data.pop("team")  # an empty multiple select sends nothing
    data.update({"code": code, "name": "新项目"})
    return office.post(url(Project, "add"), data)


def test_adding_a_project_coded_with_a_slash_shows_the_rule_and_saves_nothing(office, world, frozen):
    before = Project.objects.count()
    response = _add_project(office, "QT/9001")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["code"] == [CODE_MESSAGE]
    assert CODE_MESSAGE in response.content.decode()
    assert Project.objects.count() == before


def test_a_project_code_is_stored_in_its_one_spelling(office, world, frozen):
    response = _add_project(office, " ｑｔ－００２\u200b")
    assert response.status_code == 302, form_errors(response)
    assert Project.objects.filter(code="QT-002", name="新项目").exists()


def test_a_lower_case_twin_of_a_stored_code_is_refused_as_taken(office, world, frozen):
    before = Project.objects.count()
    response = _add_project(office, "qt-001")  # world's project is QT-001
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["code"]
    assert Project.objects.count() == before


# --- Policy, escalation and calendar saves recompute --------------------------


def test_changing_the_policy_recomputes_all_projects(office, world, make_project, frozen):
    near = make_project("QT-NEAR", milestones={"signing": {"planned_date": TODAY + 20 * D}})
    recompute_all(today=TODAY - D)
    assert colour(near) == "green"
    data = form_data(office.get(url(WarningPolicy, "change", 1)))
    data["yellow_before_days"] = "30"

    response = office.post(url(WarningPolicy, "change", 1), data)

    assert response.status_code == 302, form_errors(response)
    assert WarningPolicy.load().yellow_before_days == 30
    assert set(Project.objects.values_list("computed_as_of", flat=True)) == {TODAY}
    near.refresh_from_db()
    assert near.headline_reason == "项目签约将于20天后到期"


def test_adding_an_escalation_recomputes_its_project(office, world, make_project, role_users, frozen):
    other = make_project("QT-OTHER")
    recompute_all(today=TODAY)
    project = world["project"]
    assert colour(project) == "green"
    response = office.post(
        url(Escalation, "add"),
        {"project": project.pk, "colour": "red", "reason": "区委专题会要求加快", "until": "2026-12-31"},
    )
    assert response.status_code == 302
    escalation = Escalation.objects.latest("id")
    assert escalation.author == role_users["office"]
    project.refresh_from_db()
    assert project.colour == "red"
    assert project.headline_reason == "督办：区委专题会要求加快"
    other.refresh_from_db()
    other_before = other.computed_as_of

    data = form_data(office.get(url(Escalation, "change", escalation.pk)))
    data["colour"] = "yellow"
    assert office.post(url(Escalation, "change", escalation.pk), data).status_code == 302
    assert colour(project) == "yellow"
    other.refresh_from_db()
    assert other.computed_as_of == other_before

    response = office.post(url(Escalation, "delete", escalation.pk), {"post": "yes"})
    assert response.status_code == 302
    assert colour(project) == "green"


def test_an_escalation_needs_a_reason(office, world, frozen):
    response = office.post(
        url(Escalation, "add"),
        {"project": world["project"].pk, "colour": "red", "reason": "  ", "until": "2026-12-31"},
    )
    assert response.status_code == 200
    assert form_errors(response)
    assert not Escalation.objects.filter(colour="red").exists()


def test_adding_a_calendar_day_recomputes_all_projects(office, world, make_project, frozen):
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3, count_working_days=True)
    # Due Monday 11-30 from Wednesday 11-25: 3 working days → yellow.
    soon = make_project("QT-SOON", milestones={"signing": {"planned_date": TODAY + 5 * D}})
    recompute_all(today=TODAY)
    assert colour(soon) == "yellow"
    RecomputeRun.objects.all().delete()  # to see that the whole board is recomputed

    response = office.post(
        url(CalendarDay, "add"),
        {"date": "2026-11-28", "is_working_day": "on", "note": "调休上班"},
    )

    assert response.status_code == 302, form_errors(response)
    assert colour(soon) == "green"  # Saturday is worked: 4 working days
    assert list(RecomputeRun.objects.values_list("as_of", "examined")) == [(TODAY, Project.objects.count())]


def test_deleting_a_calendar_day_recomputes_all_projects(office, world, make_project, frozen):
    WarningPolicy.objects.filter(pk=1).update(yellow_before_days=3, count_working_days=True)
    worked = CalendarDay.objects.create(date=date(2026, 11, 28), is_working_day=True)
    soon = make_project("QT-SOON", milestones={"signing": {"planned_date": TODAY + 5 * D}})
    recompute_all(today=TODAY)
    assert colour(soon) == "green"
    response = office.post(url(CalendarDay, "delete", worked.pk), {"post": "yes"})
    assert response.status_code == 302
    assert colour(soon) == "yellow"


def test_changing_a_milestone_type_s_policy_recomputes_all_projects(
    office, world, make_project, catalogue, frozen
):
    near = make_project("QT-NEAR", milestones={"signing": {"planned_date": TODAY + 20 * D}})
    recompute_all(today=TODAY - D)
    signing = catalogue["signing"]
    data = form_data(office.get(url(type(signing), "change", signing.pk)))
    data["yellow_before_days"] = "25"
    response = office.post(url(type(signing), "change", signing.pk), data)
    assert response.status_code == 302, form_errors(response)
    assert colour(near) == "yellow"
    assert set(Project.objects.values_list("computed_as_of", flat=True)) == {TODAY}


# --- Refusals: a form error, nothing saved -------------------------------------


def _post_milestone(office, milestone, **changes):
    data = form_data(office.get(url(Milestone, "change", milestone.pk)))
    data.update({name: value.isoformat() if hasattr(value, "isoformat") else value
                 for name, value in changes.items()})
    return office.post(url(Milestone, "change", milestone.pk), data)


def _unchanged(milestone):
    fresh = Milestone.objects.get(pk=milestone.pk)
    return (fresh.planned_date, fresh.baseline_date, fresh.actual_date) == (
        milestone.planned_date, milestone.baseline_date, milestone.actual_date,
    )


def test_an_actual_date_after_today_is_refused(office, world):
    milestone = world["milestone"]
    # 23:30 on the 25th in Shanghai (15:30 UTC): the 26th is still tomorrow.
    with time_machine.travel(shanghai(TODAY, 23, 30), tick=False):
        # Signed in again: the suite's 10:00 sign-in is past the 8-hour session age by 23:30.
        office.force_login(User.objects.get(username="office"))
        response = _post_milestone(office, milestone, actual_date=TODAY + D)
    assert response.status_code == 200
    assert "实际完成日期不能晚于今天" in form_errors(response)
    assert "实际完成日期不能晚于今天" in response.content.decode()
    assert _unchanged(milestone)
    assert StatusChange.objects.filter(at__gte=shanghai(TODAY - D)).count() == 0


def test_an_actual_date_of_today_in_shanghai_is_accepted(office, world):
    milestone = world["milestone"]
    # 00:30 on the 25th in Shanghai is still the 24th in UTC.
    with time_machine.travel(shanghai(TODAY, 0, 30), tick=False):
        response = _post_milestone(office, milestone, actual_date=TODAY)
    assert response.status_code == 302, form_errors(response)
    assert Milestone.objects.get(pk=milestone.pk).actual_date == TODAY


OUT_OF_RANGE = "日期须在2000-01-01至2099-12-31之间"


@pytest.mark.parametrize(
    "field, day, message",
    [
        ("planned_date", date(1999, 12, 31), OUT_OF_RANGE),
        ("planned_date", date(2100, 1, 1), OUT_OF_RANGE),
        ("actual_date", date(1999, 12, 31), OUT_OF_RANGE),
        # Also after today: that refusal is the one shown.
        ("actual_date", date(2100, 1, 1), "实际完成日期不能晚于今天"),
    ],
)
def test_dates_outside_2000_to_2099_are_refused(office, world, frozen, field, day, message):
    milestone = world["milestone"]
    response = _post_milestone(office, milestone, **{field: day, "replan_reason": "测试"})
    assert response.status_code == 200
    assert message in form_errors(response)
    assert _unchanged(milestone)
    assert MilestoneReplan.objects.count() == 1  # only the fixture's


def test_changing_a_planned_date_without_a_reason_is_refused(office, world, frozen):
    milestone = world["milestone"]
    before = Project.objects.values().get(pk=world["project"].pk)
    response = _post_milestone(office, milestone, planned_date=TODAY - 5 * D)
    assert response.status_code == 200
    assert "调整已有的计划完成日期须填写调整原因" in form_errors(response)
    assert _unchanged(milestone)
    assert Project.objects.values().get(pk=world["project"].pk) == before  # not recomputed
    assert MilestoneReplan.objects.count() == 1


DONE_AND_NOT_APPLICABLE = "已完成的节点不能标为不适用，请先清除实际完成日期"


def test_done_and_not_applicable_together_is_refused(office, world, frozen):
    milestone = world["milestone"]
    before = Milestone.objects.values().get(pk=milestone.pk)
    response = _post_milestone(office, milestone, actual_date=TODAY - D, not_applicable="on")
    assert response.status_code == 200
    assert DONE_AND_NOT_APPLICABLE in form_errors(response)
    assert Milestone.objects.values().get(pk=milestone.pk) == before


def test_the_project_page_refuses_done_and_not_applicable_together(office, world, frozen):
    project, milestone = world["project"], world["milestone"]
    data = _project_page_with(office, project, milestone, actual_date=TODAY - D, not_applicable="on")
    before = Milestone.objects.values().get(pk=milestone.pk)
    response = office.post(url(Project, "change", project.pk), data)
    assert response.status_code == 200
    assert DONE_AND_NOT_APPLICABLE in form_errors(response)
    assert Milestone.objects.values().get(pk=milestone.pk) == before


def test_the_project_page_refuses_a_replan_without_a_reason(office, world, frozen):
    project, milestone = world["project"], world["milestone"]
    data = _project_page_with(office, project, milestone, planned_date=TODAY - 5 * D)
    data["name"] = "改名不应保存"
    response = office.post(url(Project, "change", project.pk), data)
    assert response.status_code == 200
    assert "调整已有的计划完成日期须填写调整原因" in form_errors(response)
    assert _unchanged(milestone)
    assert Project.objects.get(pk=project.pk).name == project.name


def test_replans_keep_the_first_planned_date_as_baseline(office, world, frozen, role_users):
    milestone = world["milestone"]
    first_plan = milestone.planned_date
    for planned, why in [(TODAY + 60 * D, "拿地延后"), (TODAY + 90 * D, "规划调整")]:
        response = _post_milestone(office, milestone, planned_date=planned, replan_reason=why)
        assert response.status_code == 302, form_errors(response)
    fresh = Milestone.objects.get(pk=milestone.pk)
    assert (fresh.planned_date, fresh.baseline_date) == (TODAY + 90 * D, first_plan)
    history = list(
        MilestoneReplan.objects.filter(milestone=milestone, author=role_users["office"])
        .exclude(reason="调整")  # the fixture's
        .order_by("id")
        .values_list("old_planned_date", "new_planned_date", "reason")
    )
    assert history == [
        (first_plan, TODAY + 60 * D, "拿地延后"),
        (TODAY + 60 * D, TODAY + 90 * D, "规划调整"),
    ]
    page = office.get(url(Milestone, "change", milestone.pk)).content.decode()
    assert "拿地延后" in page and "规划调整" in page


@pytest.fixture
def staff_cadre(client, role_users):
    """cadre1, the project's responsible cadre, given admin access (is_staff) by mistake:
    the admin must ask for a proposal just as the project page does."""
    cadre = role_users["cadre1"]
    cadre.is_staff = True
    cadre.save(update_fields=["is_staff"])
    client.force_login(cadre)
    return client


def test_a_staff_cadre_cannot_replan_through_the_admin(staff_cadre, world, frozen):
    milestone = world["milestone"]
    replans_before = MilestoneReplan.objects.count()
    response = _post_milestone(
        staff_cadre, milestone, planned_date=TODAY + 90 * D, replan_reason="想往后挪"
    )
    assert response.status_code == 200
    assert any("已有的计划完成日期须申请调整" in error for error in form_errors(response))
    assert _unchanged(milestone)
    assert MilestoneReplan.objects.count() == replans_before


def test_a_staff_cadre_cannot_replan_in_the_project_page_inline(staff_cadre, world, role_users, frozen):
    project, milestone = world["project"], world["milestone"]
    role_users["cadre1"].user_permissions.add(
        *Permission.objects.filter(codename__in=["view_project", "change_project"])
    )
    data = _project_page_with(
        staff_cadre, project, milestone, planned_date=TODAY + 90 * D, replan_reason="想往后挪"
    )
    response = staff_cadre.post(url(Project, "change", project.pk), data)
    assert response.status_code == 200
    assert any("已有的计划完成日期须申请调整" in error for error in form_errors(response))
    assert _unchanged(milestone)


def test_a_staff_cadre_may_replan_in_the_admin_where_the_office_allowed_it(staff_cadre, world, frozen):
    milestone = world["milestone"]
    Project.objects.filter(pk=world["project"].pk).update(direct_replan_allowed=True)
    response = _post_milestone(
        staff_cadre, milestone, planned_date=TODAY + 90 * D, replan_reason="区里同意"
    )
    assert response.status_code == 302, form_errors(response)
    assert Milestone.objects.get(pk=milestone.pk).planned_date == TODAY + 90 * D


def test_a_staff_cadre_still_sets_a_first_plan_in_the_admin(staff_cadre, world, frozen):
    blank = Milestone.objects.get(project=world["project"], milestone_type__code="land_listing")
    response = _post_milestone(staff_cadre, blank, planned_date=TODAY + 20 * D)
    assert response.status_code == 302, form_errors(response)
    assert Milestone.objects.get(pk=blank.pk).baseline_date == TODAY + 20 * D


def test_no_one_deletes_a_milestone_or_a_replan_in_the_admin(office, world, frozen):
    milestone = world["milestone"]
    replan = MilestoneReplan.objects.get(milestone=milestone)
    for obj in (milestone, replan):
        assert office.get(url(type(obj), "delete", obj.pk)).status_code == 403
        assert office.post(url(type(obj), "delete", obj.pk), {"post": "yes"}).status_code == 403
    changelist = office.post(
        url(Milestone, "changelist"),
        {"action": "delete_selected", "_selected_action": [milestone.pk], "post": "yes"},
    )
    assert changelist.status_code in (200, 302)
    assert Milestone.objects.filter(pk=milestone.pk).exists()
    assert MilestoneReplan.objects.filter(pk=replan.pk).exists()


# --- The policy page warns about years no calendar covers ----------------------

UNCOVERED = "尚无来源"


def _policy_warnings(office):
    # Sign in again at the travelled-to moment: the first session has expired by then.
    office.force_login(User.objects.get(username="office"))
    response = office.get(url(WarningPolicy, "change", 1))
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"] if UNCOVERED in str(message)]


def test_the_policy_page_warns_when_a_year_near_today_is_uncovered(office, world):
    # chinese-calendar 1.11 stops at 2026; nobody entered 2027's days.
    with time_machine.travel(shanghai(date(2027, 3, 10)), tick=False):
        warnings = _policy_warnings(office)
    assert len(warnings) == 1
    assert "2027" in warnings[0]


def test_the_policy_page_does_not_warn_once_the_office_entered_the_days(office, world):
    CalendarDay.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    CalendarDay.objects.create(date=date(2028, 1, 1), is_working_day=False, note="元旦")
    with time_machine.travel(shanghai(date(2027, 3, 10)), tick=False):
        assert _policy_warnings(office) == []


def test_the_warning_names_only_the_years_still_missing(office, world):
    CalendarDay.objects.create(date=date(2027, 2, 7), is_working_day=True, note="调休")
    with time_machine.travel(shanghai(date(2027, 11, 10)), tick=False):
        warnings = _policy_warnings(office)
    assert len(warnings) == 1
    assert "2027" not in warnings[0]
    assert "2028" in warnings[0]


def test_next_year_is_named_only_once_its_schedule_is_due(office, world):
    # 2027's schedule is announced late in 2026: silence in June, a warning in November.
    with time_machine.travel(shanghai(date(2026, 6, 1)), tick=False):
        assert _policy_warnings(office) == []
    with time_machine.travel(shanghai(date(2026, 11, 25)), tick=False):
        warnings = _policy_warnings(office)
    assert len(warnings) == 1
    assert "2027" in warnings[0]


def test_the_policy_page_is_quiet_in_a_covered_year(office, world, frozen):
    # 2025 and 2026 come from the package; 2027 is next year and uncovered.
    with time_machine.travel(shanghai(date(2025, 6, 1)), tick=False):
        assert _policy_warnings(office) == []


# --- Leader: reads everything, changes no project ------------------------------


def test_leader_can_view_but_not_change_projects(client, role_users, world, frozen):
    client.force_login(role_users["leader"])
    project = world["project"]
    assert client.get(url(Project, "changelist")).status_code == 200
    page = client.get(url(Project, "change", project.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()

    refused = client.post(url(Project, "change", project.pk), {"name": "领导改名", "code": "X"})
    assert refused.status_code == 403
    assert Project.objects.get(pk=project.pk).name == project.name
    assert client.get(url(Project, "add")).status_code == 403
    assert client.post(url(Project, "delete", project.pk), {"post": "yes"}).status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()


def test_leader_can_view_milestones_and_the_policy_but_not_change_them(
    client, role_users, world, frozen
):
    client.force_login(role_users["leader"])
    milestone = world["milestone"]
    assert client.get(url(Milestone, "change", milestone.pk)).status_code == 200
    response = client.post(
        url(Milestone, "change", milestone.pk), {"planned_date": "2026-01-01"}
    )
    assert response.status_code == 403
    assert _unchanged(milestone)
    assert client.get(url(WarningPolicy, "change", 1)).status_code == 200
    assert client.post(url(WarningPolicy, "change", 1), {"red_after_days": "9"}).status_code == 403
    assert WarningPolicy.load().red_after_days == 0


def test_the_office_lifts_a_sign_in_lock_by_deleting_the_failures(office, world, frozen):
    from projects.models import LoginFailure
    from projects.throttle import is_locked

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        LoginFailure.objects.create(username="cadre2", ip_address="10.0.0.9", at=timezone.now())
    assert is_locked("cadre2", "10.0.0.9", now=timezone.now())

    ids = list(LoginFailure.objects.filter(username="cadre2").values_list("pk", flat=True))
    response = office.post(
        url(LoginFailure, "changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert not LoginFailure.objects.filter(username="cadre2").exists()
    assert not is_locked("cadre2", "10.0.0.9", now=timezone.now())
