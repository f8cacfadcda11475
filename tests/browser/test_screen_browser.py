"""The meeting-room screen at 1920, 1280 and 375 px: it opens from its link with nobody signed
in, moves to the next sector by itself, and the rankings page beside it. Screenshots go to
test-artifacts/."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from projects.models import Department
from qiantang_warnings.ledger.freeze import freeze_month
from qiantang_warnings.models import ScreenLink
from qiantang_warnings.recompute import recompute_all

from .test_coordination_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def district(make_project, role_users, today):
    bureau = Department.objects.create(name="区发改局")
    street = Department.objects.create(name="河庄街道", kind="street")
    for number in range(1, 7):
        make_project(f"QT-{number:04d}", name=f"{'澜康微电子先进封装' if number % 2 else '中策橡胶智能工厂'}项目{number}",
                     sector="集成电路" if number % 2 else "汽车", lead_department=bureau if number < 4 else street,
                     milestones={"signing": {"planned_date": today + timedelta(days=(-3 if number % 3 else 40))}})
    recompute_all(today=today)


@pytest.mark.parametrize("width, height", [(1920, 1080), (1280, 800), (375, 812)])
def test_the_screen_opens_without_a_login_and_moves_on_by_itself(browser, live_server, district, artifacts, width, height):
    link = ScreenLink.objects.create(name="三楼会议室大屏", cycle="sector", seconds=5)
    page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/screen/{link.token}/")
    expect(page.locator(".screen-view")).to_have_text("全区")
    expect(page.locator('[data-count="red"]')).to_have_text("4")
    page.screenshot(path=artifacts / f"screen-{width}.png")
    expect(page.locator(".screen-view")).to_have_text("汽车", timeout=12000)  # the next view, by itself
    ScreenLink.objects.filter(pk=link.pk).update(revoked_at=link.created_at)
    expect(page.locator("h1")).to_have_text("此大屏链接已停用", timeout=12000)


@pytest.mark.parametrize("width", [1920, 1280, 375])
def test_the_rankings_page(browser, live_server, district, artifacts, today, width):
    freeze_month(today=today.replace(day=30))
    page = browser.new_context(viewport={"width": width, "height": 1000}, locale="zh-CN").new_page()
    sign_in(page, live_server, "leader", "/rankings/")
    expect(page.locator("section[data-table] tbody tr")).to_have_count(2)
    expect(page.locator('tr[data-rank="1"]').first).to_be_visible()
    page.screenshot(path=artifacts / f"rankings-{width}.png", full_page=True)
