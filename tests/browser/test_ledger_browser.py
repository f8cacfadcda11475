"""The office freezes a snapshot, filters the ledger without a page reload and opens its
changes, at 1920, 1280 and 375 px. Screenshots go to test-artifacts/."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from projects.models import Milestone
from qiantang_warnings.ledger.freeze import freeze_month
from qiantang_warnings.models import Ledger
from qiantang_warnings.recompute import recompute_all

from .test_coordination_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("width", [1920, 1280, 375])
def test_freeze_filter_and_compare_a_ledger(browser, live_server, role_users, make_project, today, artifacts, width):
    make_project("QT-0001", name="澜康微电子先进封装项目", sector="集成电路",
                 milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    fine = make_project("QT-0002", name="中策橡胶智能工厂", sector="汽车",
                        milestones={"signing": {"planned_date": today + timedelta(days=60)}})
    recompute_all(today=today)
    november = freeze_month(today=today.replace(month=11, day=30))
    Milestone.objects.filter(project=fine, milestone_type__code="signing").update(planned_date=today - timedelta(days=1))
    recompute_all(today=today)

    page = browser.new_context(viewport={"width": width, "height": 1000}, locale="zh-CN").new_page()
    sign_in(page, live_server, "office", "/ledger/")
    page.get_by_label("快照名称").fill("   ")  # passes the browser's check, not the server's
    page.get_by_role("button", name="冻结").click()
    expect(page.get_by_text("请填写快照名称")).to_be_visible()
    page.get_by_label("快照名称").fill("12月区委常委会前")
    page.get_by_role("button", name="冻结").click()
    expect(page.locator("h1")).to_have_text("12月区委常委会前")
    snapshot = Ledger.objects.get(kind="snapshot")
    assert page.url.endswith(f"/ledger/{snapshot.pk}/")

    page.evaluate("window.__notReloaded = true")
    if width < 700:  # the filters fold away on a phone
        page.locator("details.filter-panel summary").click()
    page.get_by_label("预警等级").select_option("red")
    expect(page.locator("#ledger-rows tbody tr")).to_have_count(2)
    page.get_by_label("产业类别").select_option("汽车")
    expect(page.locator("#ledger-rows tbody tr")).to_have_count(1)
    expect(page.locator("#ledger-rows tbody tr")).to_have_attribute("data-code", "QT-0002")
    assert page.evaluate("window.__notReloaded") is True
    assert "sector=" in page.url and "colour=red" in page.url
    page.screenshot(path=artifacts / f"ledger-{width}.png", full_page=True)

    page.get_by_role("link", name=f"较“{november.name}”的变化").click()
    expect(page.locator("#turned-red li")).to_have_count(1)
    expect(page.locator("#turned-red li")).to_have_attribute("data-code", "QT-0002")
    page.screenshot(path=artifacts / f"ledger-changes-{width}.png", full_page=True)
    with page.expect_download() as download:  # what the page shows, as a sheet
        page.get_by_role("link", name="下载变化情况").click()
    assert download.value.suggested_filename == f"变化情况-{november.name}至{snapshot.name}.xlsx"
