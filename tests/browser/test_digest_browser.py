"""The digest as people see it: the HTML mail rendered by Chromium, and the preview page.

Screenshots at 1280 px and 375 px go to test-artifacts/ for a person to look at.
"""
import pytest
from playwright.sync_api import expect

from qiantang_warnings.digest.delivery import render_message
from qiantang_warnings.digest.recipients import digest_for_user

from ..warnings.digest.scenario import MONDAY, WEEK, district_week  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_leaders_html_mail_reads_well_at_desktop_and_phone_width(page, district_week, artifacts):
    digest = digest_for_user(district_week.users["leader"], week=WEEK, today=MONDAY)
    html = render_message(digest, to="leader@qiantang.example", msg_id="<m@x>").alternatives[0][0]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_content(html)
    expect(page.get_by_role("heading", name="钱塘区重点项目三色预警周报")).to_be_visible()
    counts = page.locator("table[data-section=counts]")
    expect(counts.locator("[data-colour=red]")).to_have_text("2")
    expect(page.locator("table[data-section=turned] tr[data-project=QT-RED]")).to_contain_text("过会逾期3天")
    expect(page.locator("table[data-section=recovered] tr[data-project=QT-REC]")).to_be_visible()
    expect(page.locator("table[data-section=overdue] tr").first).to_contain_text("QT-OLD")
    expect(page.locator("table[data-section=escalations]")).to_contain_text("区领导批示督办")
    page.screenshot(path=artifacts / "digest-mail-leader-1280.png", full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "digest-mail-leader-375.png", full_page=True)


def test_the_liaisons_mail_at_phone_width(page, district_week, artifacts):
    digest = digest_for_user(district_week.users["liaison1"], week=WEEK, today=MONDAY)
    html = render_message(digest, to="liaison1@qiantang.example", msg_id="<m@x>").alternatives[0][0]
    page.set_viewport_size({"width": 375, "height": 812})
    page.set_content(html)
    rows = page.locator("table[data-section=department-milestones] tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("逾期175天")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "digest-mail-liaison-375.png", full_page=True)


def test_cadre1_previews_their_digest_and_turns_off_empty_digests(page, live_server, district_week, artifacts):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/?next=/digest/preview/")
    page.get_by_label("用户名").fill("cadre1")
    page.get_by_label("密码").fill("pw-for-tests-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="我的预警周报")).to_be_visible()
    expect(page.locator(".digest-mail tr[data-project=QT-RED]").first).to_be_visible()
    expect(page.locator(".digest-mail")).not_to_contain_text("QT-OLD")
    page.screenshot(path=artifacts / "digest-preview-1280.png", full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "digest-preview-375.png", full_page=True)

    page.get_by_role("link", name="周报设置").first.click()
    expect(page.get_by_role("heading", name="周报设置")).to_be_visible()
    page.get_by_label("没有预警事项时也发送").uncheck()
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("周报设置已保存")
    expect(page.get_by_label("没有预警事项时也发送")).not_to_be_checked()
    expect(page.get_by_label("每周一早上接收预警周报邮件")).to_be_checked()
    page.screenshot(path=artifacts / "digest-preferences-375.png", full_page=True)
