"""A cadre raises a coordination item on the project page, the department's liaison answers
and marks it handled on the department page, the cadre closes it (销号): no page reloads,
at 1280 and 375 px. Screenshots go to test-artifacts/."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from projects.models import CoordinationItem, Department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-1")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [1280, 375])
def test_raise_answer_handle_and_close_an_item(browser, live_server, role_users, make_project, today, artifacts, width):
    housing = Department.objects.create(name="区住建局")
    housing.liaisons.add(role_users["liaison1"])
    make_project("QT-0001", name="澜康微电子先进封装项目", responsible_cadre=role_users["cadre1"])
    viewport = {"width": width, "height": 900}

    cadre = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    sign_in(cadre, live_server, "cadre1", "/projects/QT-0001/")
    cadre.evaluate("window.__notReloaded = true")
    panel = cadre.locator("#coordination")
    panel.get_by_text("提出协调事项").click()
    panel.get_by_label("需要协调解决的事项").fill("施工许可需消防设计审查意见")
    panel.get_by_label("责任单位").select_option(label="区住建局")
    panel.get_by_label("办结时限").fill((today + timedelta(days=5)).isoformat())
    panel.get_by_role("button", name="提出").click()
    item = cadre.locator("#coordination li.coordination-item")
    expect(item).to_have_attribute("data-state", "open")
    expect(item.locator(".badge")).to_have_text("黄")
    cadre.screenshot(path=artifacts / f"coordination-raised-{width}.png", full_page=True)

    liaison = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    sign_in(liaison, live_server, "liaison1", "/coordination/")
    summary = liaison.locator("#waiting-summary")
    expect(summary).to_contain_text("待责任单位办理 1 项")
    row = liaison.locator("li.coordination-item")
    row.get_by_label("答复或办理情况").fill("已受理，本周出具意见")
    row.get_by_role("button", name="答复").click()
    expect(liaison.locator("li.coordination-item")).to_have_attribute("data-state", "answered")
    liaison.locator("li.coordination-item").get_by_role("button", name="办结").click()
    expect(liaison.locator("li.coordination-item")).to_have_attribute("data-state", "handled")
    expect(summary).to_contain_text("待责任单位办理 0 项")  # the heading follows, no reload
    expect(liaison.locator('#department-ranking tr[data-department="区住建局"] td').nth(3)).to_have_text("1")
    liaison.screenshot(path=artifacts / f"coordination-handled-{width}.png", full_page=True)

    cadre.reload()
    item = cadre.locator("#coordination li.coordination-item")
    expect(item).to_contain_text("已受理，本周出具意见")
    cadre.evaluate("window.__notReloaded = true")
    item.get_by_role("button", name="确认销号").click()
    expect(cadre.locator("#coordination li.coordination-item")).to_have_attribute("data-state", "closed")
    assert cadre.evaluate("window.__notReloaded") is True
    assert CoordinationItem.objects.get().state == "closed"
    assert list(CoordinationItem.objects.get().events.values_list("kind", flat=True)) == [
        "raised", "answered", "handled", "closed",
    ]
