"""A leader keeps the dashboard open; a cadre marks a milestone done elsewhere; the page follows.

The leader signs in, filters by 集成电路 (the address bar and the counts change,
back returns to all projects), and watches. In a second browser session the
responsible cadre of a red 集成电路 project records its overdue milestones as done
today through the project page. Without any reload, the leader's red count and red
list follow at the next poll (DASHBOARD_REFRESH_SECONDS is 1 s here; 30 s in use).
Screenshots at 1280 px and 375 px go to test-artifacts/.
"""
import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from projects.demo import seed_demo
from projects.models import Project
from qiantang.clock import local_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "browser-demo-pw-1"
SECTOR = "集成电路"


@pytest.fixture
def demo(settings):
    settings.DASHBOARD_REFRESH_SECONDS = 1
    # The pages ask the clock for today, so the demo is placed around the real today.
    return seed_demo(projects=60, password=PASSWORD, today=local_today())


def sign_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    page.wait_for_load_state()  # the whole page, not only its address


def active(colour, **filters):
    return Project.objects.filter(state="active", colour=colour, **filters).count()


def count(page, colour):
    return page.locator(f'#live [data-count="{colour}"]')


def test_leader_filters_and_sees_a_cadres_edit_without_reloading(
    page, browser, live_server, demo, artifacts
):
    target = next(
        p for p in Project.objects.filter(sector=SECTOR, state="active", colour="red").order_by("code")
        if not p.escalations.exists()
    )
    cadre = target.responsible_cadre.username

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "leader", "/dashboard/")
    expect(page.get_by_role("heading", name="重点项目三色预警 · 领导驾驶舱")).to_be_visible()
    for colour in ("red", "yellow", "green"):
        expect(count(page, colour)).to_have_text(str(active(colour)))
    page.screenshot(path=artifacts / "dashboard-1280.png", full_page=False)

    # Filter by sector: only the live part is swapped, the URL carries the filter.
    page.evaluate("window.__notReloaded = true")
    page.locator("#dash-filters select[name=sector]").select_option(SECTOR)
    expect(page).to_have_url(f"{live_server.url}/dashboard/?sector={quote(SECTOR)}")
    red_in_sector = active("red", sector=SECTOR)
    expect(count(page, "red")).to_have_text(str(red_in_sector))
    expect(count(page, "green")).to_have_text(str(active("green", sector=SECTOR)))
    assert page.evaluate("window.__notReloaded") is True
    red_list = page.locator('[data-list="red"] tbody tr[data-project]')
    expect(red_list).to_have_count(red_in_sector)
    row = page.locator(f'[data-list="red"] tr[data-project="{target.code}"]')
    expect(row).to_contain_text(re.compile(r"逾期\d+天"))
    expect(row).to_contain_text(target.responsible_cadre.last_name + target.responsible_cadre.first_name)
    page.screenshot(path=artifacts / "dashboard-ic-1280.png", full_page=False)

    # Back: all projects again; forward: the filter again (the form agrees with the figures).
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(count(page, "red")).to_have_text(str(active("red")))
    expect(page.locator("#dash-filters select[name=sector]")).to_have_value("")
    page.go_forward()
    expect(page).to_have_url(f"{live_server.url}/dashboard/?sector={quote(SECTOR)}")
    expect(count(page, "red")).to_have_text(str(red_in_sector))
    expect(page.locator("#dash-filters select[name=sector]")).to_have_value(SECTOR)
    page.evaluate("window.__notReloaded = true")
    updated = page.locator("#live .updated").inner_text()

    # A second session: the cadre marks the project's overdue milestones done today.
    other = browser.new_context(locale="zh-CN")
    cadre_page = other.new_page()
    sign_in(cadre_page, live_server, cadre, f"/projects/{target.code}/")
    for _attempt in range(5):
        red_rows = cadre_page.locator('tr[data-milestone][data-colour="red"]')
        if red_rows.count() == 0:
            break
        milestone = red_rows.first.get_attribute("data-milestone")
        red_rows.first.get_by_role("link", name="编辑").click()
        cadre_page.locator(f"tr#m-{milestone}.editing").get_by_role("button", name="今天完成").click()
        expect(cadre_page.locator(f'tr#m-{milestone}[data-status="done"]')).to_be_visible()
    expect(cadre_page.locator('tr[data-milestone][data-colour="red"]')).to_have_count(0)
    other.close()
    target.refresh_from_db()
    assert target.colour != "red"

    # The leader's page follows by itself at the next poll.
    expect(count(page, "red")).to_have_text(str(red_in_sector - 1), timeout=10_000)
    expect(page.locator(f'[data-list="red"] tr[data-project="{target.code}"]')).to_have_count(0)
    expect(page.locator("#live .updated")).not_to_have_text(updated)
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=artifacts / "dashboard-after-edit-1280.png", full_page=False)

    # From here on the polls are held back, so that no swap lands mid-screenshot.
    page.route(re.compile(r"/dashboard/\?"), lambda route: route.abort())

    # Phone width: the filters fold away, the headline comes first; no sideways scrolling.
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#dash-filters")).to_be_hidden()
    expect(count(page, "red")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=artifacts / "dashboard-375.png", full_page=False)
    page.get_by_text("筛选条件").click()
    expect(page.locator("#dash-filters select[name=sector]")).to_be_visible()
    page.locator('[data-list="red"]').scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "dashboard-lists-375.png", full_page=False)

    # Print: A4 landscape (297 mm ≈ 1123 px at 96 dpi), without the filter form.
    page.set_viewport_size({"width": 1123, "height": 794})
    page.emulate_media(media="print")
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("#dash-filters")).to_be_hidden()
    page.pdf(path=artifacts / "dashboard-print.pdf", prefer_css_page_size=True)
    page.screenshot(path=artifacts / "dashboard-print-a4.png", full_page=True)


def test_a_breakdown_cell_opens_the_filtered_project_list(page, live_server, demo):
    """Two clicks: the 集成电路 red cell, then a project."""
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "leader", "/dashboard/")
    cell = page.locator(f'[data-breakdown="sector"] tr[data-key="{SECTOR}"] a[data-colour="red"]')
    expect(cell).to_have_text(str(active("red", sector=SECTOR)))
    cell.click()
    expect(page).to_have_url(f"{live_server.url}/projects/?sector={quote(SECTOR)}&colour=red")
    red = Project.objects.filter(sector=SECTOR, state="active", colour="red").order_by("code").first()
    page.get_by_role("link", name=red.name).first.click()
    expect(page).to_have_url(f"{live_server.url}/projects/{red.code}/")


def test_a_poll_answered_204_leaves_the_page_as_it_is_and_the_next_brings_the_change(
    page, live_server, demo, artifacts
):
    """While another process renders the new live part, the poll gets 204: htmx swaps
    nothing, the page keeps polling, and once the part can be had it arrives."""
    from django.core.cache import cache

    from qiantang_warnings.dashboard.fingerprint import fingerprint

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "leader", "/dashboard/")
    stamp = page.locator("#live").get_attribute("data-stamp")
    red = Project.objects.filter(state="active", colour="red").order_by("urgency", "code").first()
    Project.objects.filter(pk=red.pk).update(name="改名后的红色项目")
    rendering = f"dashboard-live:{fingerprint({}, today=local_today())}:zh-hans:rendering"
    assert cache.add(rendering, 1, timeout=60)  # "another process" is rendering the new part

    with page.expect_response(lambda r: "since=" in r.url and r.status == 204, timeout=5000):
        pass
    page.wait_for_timeout(1500)  # a poll or two more, still 204
    expect(page.locator("#live")).to_have_attribute("data-stamp", stamp)
    expect(page.locator("#live-status")).to_be_visible()  # still there, still polling

    cache.delete(rendering)
    expect(page.locator("#live")).not_to_have_attribute("data-stamp", stamp, timeout=5000)
    expect(page.locator("#live")).to_contain_text("改名后的红色项目")
    page.screenshot(path=artifacts / "dashboard-after-204-1280.png", full_page=False)
