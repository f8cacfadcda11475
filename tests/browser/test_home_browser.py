"""A cadre signs in through the form, sees the coloured board, pages to page 2, and
switches to English.

Screenshots at 1280 px and 375 px go to test-artifacts/ for a person to look at.
"""
import re

import pytest
from playwright.sync_api import expect

from projects.demo import seed_demo
from projects.views import PAGE_SIZE

# live_server needs committed data (a transactional test). serialized_rollback restores
# the migrations' data (milestone catalogue, role groups) at set-up and keeps the
# flush at tear-down from re-running post_migrate, which would recreate the role
# groups under new ids and break the next serialized test's restore.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "browser-demo-pw-1"
PROJECTS = 60  # more than one page of the board


@pytest.fixture
def demo_board(settings, today):
    return seed_demo(projects=PROJECTS, password=PASSWORD, today=today)


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/")
    page.wait_for_load_state()  # the whole page, not only its address


def test_cadre_signs_in_sees_colours_and_switches_to_english(
    page, live_server, demo_board, artifacts
):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.screenshot(path=artifacts / "login-1280.png")

    sign_in(page, live_server, "cadre1")
    expect(page.get_by_role("heading", name="重点项目三色预警表")).to_be_visible()
    expect(page.locator("tbody tr[data-project]")).to_have_count(PAGE_SIZE)
    expect(page.locator("nav.pager")).to_contain_text("第 1 / 2 页")
    for colour in ("red", "yellow", "green"):
        assert page.locator(f"tbody td.colour .badge.{colour}").count() >= 1, colour
    # Worst first: the first row is red and says why.
    first = page.locator("tbody tr[data-project]").first
    expect(first.locator(".badge.red")).to_be_visible()
    expect(first.locator("td.reason")).to_contain_text(re.compile(r"逾期\d+天|督办："))
    expect(page.locator(".topbar .who")).to_have_text("王建国")
    page.screenshot(path=artifacts / "home-1280.png")

    # The red filter keeps only red rows.
    page.locator(".filters a.filter.red").click()
    expect(page).to_have_url(f"{live_server.url}/?show=red")
    expect(page.locator("tbody tr[data-project]")).to_have_count(demo_board.colours["red"])
    expect(page.locator("tbody tr[data-colour=yellow]")).to_have_count(0)
    expect(page.locator("nav.pager")).to_have_count(0)  # one page of red
    page.goto(f"{live_server.url}/")

    # Page 2 has the rest, still worst first (no red left before a yellow on page 1's tail).
    last_on_first = page.locator("tbody tr[data-project]").last.get_attribute("data-colour")
    page.locator("nav.pager").get_by_role("link", name="下一页").click()
    expect(page).to_have_url(f"{live_server.url}/?page=2")
    expect(page.locator("tbody tr[data-project]")).to_have_count(PROJECTS - PAGE_SIZE)
    expect(page.locator("nav.pager")).to_contain_text("第 2 / 2 页")
    expect(page.locator("nav.pager").get_by_role("link", name="上一页")).to_be_visible()
    rank = ["red", "yellow", "green", "none"]
    colours = [last_on_first] + [
        row.get_attribute("data-colour") for row in page.locator("tbody tr[data-project]").all()
    ]
    assert [rank.index(c) for c in colours] == sorted(rank.index(c) for c in colours), colours
    page.screenshot(path=artifacts / "home-page2-1280.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "home-page2-375.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")

    # Phone width: no sideways scrolling, the reason column stays visible.
    page.set_viewport_size({"width": 375, "height": 812})
    expect(page.locator("thead th.wide-only").first).to_be_hidden()
    expect(first.locator("td.reason")).to_be_visible()
    expect(first.locator(".meta")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "home-375.png")

    # Language switch (Django's set_language), back on the same page.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="中文")).to_be_visible()
    expect(page.locator("tbody tr[data-project]")).to_have_count(PAGE_SIZE)
    expect(page.locator("nav.pager")).to_contain_text("Page 1 of 2")
    page.screenshot(path=artifacts / "home-en-1280.png")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # Logout is a POST form; afterwards the board sends us to the login page again.
    page.locator(".topbar form[action='/accounts/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_login_page_at_phone_width(page, live_server, demo_board, artifacts):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("cadre1")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".login .error")).to_contain_text("用户名或密码不正确")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "login-error-375.png")
