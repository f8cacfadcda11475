"""The office accepts the ladder's prefilled 督办 without a page reload, at 1280 and 375 px.
Screenshots go to test-artifacts/."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from qiantang_warnings.escalations.services import ladder_suggest
from qiantang_warnings.models import Escalation
from qiantang_warnings.recompute import recompute_all

from .test_coordination_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("width", [1280, 375])
def test_the_office_accepts_a_prefilled_escalation(browser, live_server, role_users, make_project, today, artifacts,
                                                   time_machine, width):
    time_machine.move_to(datetime(2026, 11, 4, 9, tzinfo=SHANGHAI), tick=True)
    make_project("QT-0001", name="澜康微电子先进封装项目", milestones={"signing": {"planned_date": date(2026, 11, 1)}})
    recompute_all(today=date(2026, 11, 4))
    time_machine.move_to(datetime(2026, 11, 25, 10, tzinfo=SHANGHAI), tick=True)
    recompute_all(today=today)
    ladder_suggest(today=today)

    page = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN").new_page()
    sign_in(page, live_server, "office", "/ladder/")
    item = page.locator("li.ladder-item")
    expect(item).to_have_attribute("data-state", "open")
    expect(item.get_by_label("督办原因")).to_have_value("连续3周红灯：项目签约逾期24天")
    page.screenshot(path=artifacts / f"ladder-{width}.png", full_page=True)
    page.evaluate("window.__notReloaded = true")
    # A dismissal without a reason is refused on the spot, in the row.
    item.locator("summary", has_text="不采纳").click()
    item.get_by_label("不采纳理由").fill("   ")
    item.get_by_role("button", name="不采纳", exact=True).click()
    expect(page.locator("li.ladder-item").get_by_text("请说明不采纳的理由")).to_be_visible()
    item = page.locator("li.ladder-item")
    item.get_by_role("button", name="采纳并督办").click()
    expect(page.locator("li.ladder-item")).to_have_attribute("data-state", "accepted")
    assert page.evaluate("window.__notReloaded") is True
    assert Escalation.objects.get().reason == "连续3周红灯：项目签约逾期24天"
