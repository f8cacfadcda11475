"""A cadre brings a late milestone up to date on the project page, in place.

Sign in as a demo cadre, open a red project, click 编辑 on the late row, click
今天完成: the row and the colour badge change without a reload, and the history
shows the change. Escape cancels; a future date is refused inline. Screenshots of
the project page at 1280 px and 375 px go to test-artifacts/.
"""

import pytest
from playwright.sync_api import expect

from projects.demo import seed_demo
from projects.models import Milestone, Project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "browser-demo-pw-1"


@pytest.fixture
def demo(settings, today, time_machine):
    # The live server's "today" is the demo's today (the clock ticks from 10:00).
    time_machine.move_to(f"{today.isoformat()} 10:00 +08:00", tick=True)
    return seed_demo(projects=40, password=PASSWORD, today=today)


def late_project_of_a_cadre():
    """A red project whose only reason is one overdue milestone, and one of its cadres."""
    for project in Project.objects.filter(state="active", colour="red").order_by("code"):
        if len(project.reasons) == 1 and project.reasons[0]["kind"] == "overdue":
            cadre = project.responsible_cadre
            return project, project.reasons[0]["milestone"], cadre.username
    raise AssertionError("the demo data has no red project with a single overdue milestone")


def sign_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}{next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    page.wait_for_load_state()  # the whole page, not only its address


def test_cadre_brings_a_late_milestone_up_to_date_in_place(page, live_server, demo, today, artifacts):
    project, type_code, username = late_project_of_a_cadre()
    path = f"/projects/{project.code}/"
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, username, path)
    badge = page.locator("#project-colour")
    expect(badge).to_have_attribute("data-colour", "red")
    page.screenshot(path=artifacts / "project-1280.png", full_page=True)
    page.evaluate("window.notReloaded = true")

    row = page.locator(f'tr[data-milestone="{type_code}"]')
    expect(row).to_have_attribute("data-colour", "red")
    rows = page.locator("tr[data-milestone]").count()
    # Click 1: 编辑 turns the row into a form.
    row.get_by_role("link", name="编辑").click()
    expect(row.locator('input[name="actual_date"]')).to_be_visible()
    expect(row.locator('input[name="planned_date"]')).to_be_visible()
    # A cadre does not move an existing plan: it is read-only, with 申请调整计划 beside it.
    expect(row.locator('input[name="planned_date"]')).to_have_attribute("readonly", "")
    expect(row.get_by_role("link", name="申请调整计划")).to_be_visible()
    page.screenshot(path=artifacts / "project-editing-1280.png")

    # A date in the future is refused inline, in Chinese, and the entered value stays.
    row.locator('input[name="actual_date"]').fill("2026-12-31")
    row.get_by_role("button", name="保存").click()
    expect(row.locator(".field-error")).to_have_text("实际完成日期不能晚于今天")
    expect(row.locator('input[name="actual_date"]')).to_have_value("2026-12-31")
    row.locator('input[name="actual_date"]').fill("")

    # Click 2: 今天完成. The row and the badge change, without a reload.
    row.get_by_role("button", name="今天完成").click()
    expect(row).to_have_attribute("data-status", "done")
    expect(row.locator("td.actual")).to_have_text(today.isoformat())
    project.refresh_from_db()
    assert project.colour != "red"
    expect(badge).to_have_attribute("data-colour", project.colour)
    assert page.evaluate("window.notReloaded") is True
    # The other rows were swapped out of band in place: same rows, no wrappers left behind.
    expect(page.locator("tr[data-milestone]")).to_have_count(rows)
    assert page.locator("main template").count() == 0
    milestone = Milestone.objects.get(project=project, milestone_type__code=type_code)
    assert milestone.actual_date == today

    # The history names the cadre and the change, old → new.
    history = page.locator("#history li").filter(has_text="实际完成日期").first
    expect(history).to_contain_text("实际完成日期")
    expect(history).to_contain_text(f"→ {today.isoformat()}")
    cadre = project.responsible_cadre
    expect(history).to_contain_text(f"{cadre.last_name}{cadre.first_name}")
    # …and the change of colour it caused, recorded by the recompute.
    expect(page.locator("#history li.system").first).to_contain_text(f"预警等级：红 → {project.get_colour_display()}")
    page.screenshot(path=artifacts / "project-saved-1280.png", full_page=True)

    # Escape cancels an edit.
    other = page.locator("tr[data-milestone]").filter(has=page.get_by_role("link", name="编辑")).last
    other_code = other.get_attribute("data-milestone")
    other.get_by_role("link", name="编辑").click()
    editing = page.locator(f'tr[data-milestone="{other_code}"]')
    expect(editing.locator('input[name="actual_date"]')).to_be_focused()
    page.keyboard.press("Escape")
    expect(editing.locator('input[name="actual_date"]')).to_have_count(0)
    expect(editing.get_by_role("link", name="编辑")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True


def test_project_page_and_editor_at_phone_width(page, live_server, demo, artifacts):
    project, type_code, username = late_project_of_a_cadre()
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, live_server, username, f"/projects/{project.code}/")
    expect(page.locator("#project-colour .badge")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "project-375.png", full_page=True)
    row = page.locator(f'tr[data-milestone="{type_code}"]')
    row.get_by_role("link", name="编辑").click()
    expect(row.locator('input[name="actual_date"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    row.screenshot(path=artifacts / "project-editing-375.png")
    page.screenshot(path=artifacts / "project-editing-375-page.png")


def test_my_projects_and_the_list_at_both_widths(page, live_server, demo, artifacts):
    _project, _type, username = late_project_of_a_cadre()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, username, "/projects/mine/")
    expect(page.locator("tbody tr[data-project]").first.locator(".badge.red")).to_be_visible()
    page.screenshot(path=artifacts / "mine-1280.png", full_page=True)
    page.goto(f"{live_server.url}/projects/?colour=red")
    expect(page.locator("tbody tr[data-colour=yellow]")).to_have_count(0)
    page.screenshot(path=artifacts / "list-1280.png")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/projects/mine/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "mine-375.png", full_page=True)
    page.goto(f"{live_server.url}/projects/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "list-375.png")


def test_progress_note_and_escalation_in_place(page, live_server, demo, today, artifacts):
    project, _type_code, username = late_project_of_a_cadre()
    green = Project.objects.filter(state="active", colour="green", escalations__isnull=True).order_by("code").first()
    path = f"/projects/{project.code}/"

    # The cadre writes a progress note; the section updates in place and keeps the entry.
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, live_server, username, path)
    note = page.locator('.note[data-kind="progress"]')
    note.get_by_role("link", name="更新").click()
    note.get_by_role("textbox").fill("已与企业完成签约谈判，合同待签。")
    page.screenshot(path=artifacts / "progress-editing-375.png", full_page=False)
    note.get_by_role("button", name="保存").click()
    expect(page.locator('.note[data-kind="progress"] .note-text')).to_have_text("已与企业完成签约谈判，合同待签。")
    expect(page.locator('.note[data-kind="progress"] summary')).to_contain_text("历次记录（1）")
    expect(page.locator("#history li").filter(has_text="进展情况").first).to_contain_text("进展情况：")
    page.locator(".topbar form[action='/accounts/logout/'] button").click()

    # A leader escalates a green project: the badge turns red at once.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "leader", f"/projects/{green.code}/")
    expect(page.locator("#project-colour")).to_have_attribute("data-colour", "green")
    expect(page.get_by_role("link", name="编辑")).to_have_count(0)  # leaders read only
    page.get_by_text("督办该项目").click()
    page.get_by_role("button", name="督办").click()  # no reason: refused inline
    expect(page.locator("#escalations .field-error").first).to_be_visible()
    expect(page.get_by_label("督办原因")).to_be_visible()  # the refused form stays open
    page.get_by_label("督办原因").fill("企业反映审批进度滞后，区领导批示督办。")
    page.get_by_label("督办截止日期").fill(today.replace(day=30).isoformat())
    page.screenshot(path=artifacts / "escalation-form-1280.png")
    page.get_by_role("button", name="督办").click()
    expect(page.locator("#project-colour")).to_have_attribute("data-colour", "red")
    expect(page.locator("#project-colour .reasons")).to_contain_text("督办：企业反映审批进度滞后")
    page.screenshot(path=artifacts / "escalated-1280.png", full_page=True)


def test_a_refused_htmx_request_says_so_on_the_page(page, live_server, demo):
    """The page was loaded while the cadre could still edit; the project was then handed over."""
    project, type_code, username = late_project_of_a_cadre()
    sign_in(page, live_server, username, f"/projects/{project.code}/")
    expect(page.locator("#request-error")).to_be_hidden()
    project.team.clear()
    Project.objects.filter(pk=project.pk).update(responsible_cadre=None)
    page.locator(f'tr[data-milestone="{type_code}"]').get_by_role("link", name="编辑").click()
    expect(page.locator("#request-error")).to_have_text("您无权进行此操作（权限可能已变更），请刷新页面。")
    expect(page.locator(f'tr[data-milestone="{type_code}"] input')).to_have_count(0)
