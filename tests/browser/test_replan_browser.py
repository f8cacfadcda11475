"""A cadre proposes a re-plan (申请调整计划) on the project page; the office approves it in its
queue (调整计划审核). The badge stays red while the proposal waits and turns green only at
approval, with 调整后绿 beside it. At 1280 px and 375 px; screenshots go to test-artifacts/.
"""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from projects.models import Department, ReplanProposal
from qiantang_warnings.recompute import recompute_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "pw-for-tests-1"  # the role_users fixture's


@pytest.fixture
def late(make_project, role_users, settings, today, time_machine):
    # The live server's "today" is the suite's (the clock ticks from 10:00).
    time_machine.move_to(f"{today.isoformat()} 10:00 +08:00", tick=True)
    for user in role_users.values():
        user.set_password(PASSWORD)
        user.save()
    project = make_project(
        "QT-REPLAN", name="钱塘芯片封测项目", responsible_cadre=role_users["cadre1"],
        lead_department=Department.objects.create(name="区经信局"),
        milestones={
            "approval": {"planned_date": today - timedelta(days=90), "actual_date": today - timedelta(days=80)},
            "signing": {"planned_date": today - timedelta(days=5), "baseline_date": today - timedelta(days=5)},
        },
    )
    recompute_all(today=today)
    return project


def sign_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    page.wait_for_load_state()  # the whole page, not only its address


@pytest.mark.parametrize("width", [1280, 375])
def test_a_cadre_proposes_and_the_badge_changes_only_when_the_office_approves(
    browser, live_server, late, today, artifacts, width
):
    path = f"/projects/{late.code}/"
    size = {"width": width, "height": 900}
    cadre = browser.new_page(viewport=size, locale="zh-CN")
    sign_in(cadre, live_server, "cadre1", path)
    badge = cadre.locator("#project-colour")
    expect(badge).to_have_attribute("data-colour", "red")

    # 编辑: the existing plan is read-only, with the way to propose beside it.
    row = cadre.locator('tr[data-milestone="signing"]')
    row.get_by_role("link", name="编辑").click()
    expect(row.locator('input[name="planned_date"]')).to_have_attribute("readonly", "")
    row.get_by_role("link", name="申请调整计划").click()

    new_date = today + timedelta(days=40)
    row.get_by_label("申请计划完成日期").fill(new_date.isoformat())
    row.get_by_label("调整原因").fill("土地指标调整，需重新组卷报批")
    row.get_by_label("文号").fill("钱政办〔2026〕12号")
    cadre.screenshot(path=artifacts / f"replan-form-{width}.png", full_page=True)
    row.get_by_role("button", name="提交申请").click()

    expect(row).to_contain_text(f"申请调整至 {new_date.isoformat()}，待审核")
    expect(cadre.locator("#replans")).to_contain_text("土地指标调整")
    expect(badge).to_have_attribute("data-colour", "red")  # nothing moves before the decision
    cadre.screenshot(path=artifacts / f"replan-pending-{width}.png", full_page=True)

    # The office approves in its queue.
    office = browser.new_page(viewport=size, locale="zh-CN")
    sign_in(office, live_server, "office", "/replans/")
    proposal = ReplanProposal.objects.get()
    queued = office.locator(f"#proposal-{proposal.pk}")
    expect(queued).to_contain_text("钱塘芯片封测项目")
    queued.locator("textarea[name=comment]").fill("同意，按新计划推进")
    office.screenshot(path=artifacts / f"replan-queue-{width}.png", full_page=True)
    queued.get_by_role("button", name="批准").click()
    expect(office.locator(f"#proposal-{proposal.pk}")).to_have_attribute("data-state", "approved")

    # The cadre's page, reloaded: green now, red against the baseline.
    cadre.reload()
    expect(badge).to_have_attribute("data-colour", "green")
    expect(badge).to_contain_text("调整后绿")
    expect(cadre.locator("#replans")).to_contain_text("已批准")
    expect(cadre.locator("#replans")).to_contain_text("同意，按新计划推进")
    cadre.screenshot(path=artifacts / f"replan-approved-{width}.png", full_page=True)
    assert cadre.evaluate("document.documentElement.scrollWidth") <= width + 1
