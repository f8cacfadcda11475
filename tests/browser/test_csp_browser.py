"""Under the Content-Security-Policy (no inline script, no eval) every page still works: the
dashboard polls, pauses while its tab is hidden and polls again when shown; the project page
shows a failed request's message; Escape cancels an edit. No violation is reported."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, live_server, username, next_path):
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-1")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    page.wait_for_load_state()


def set_hidden(page, hidden: bool):
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_the_dashboard_polls_pauses_while_hidden_and_resumes_under_the_policy(page, live_server, role_users, settings):
    settings.DASHBOARD_REFRESH_SECONDS = 1
    violations, polls = [], []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    page.on("request", lambda request: polls.append(request.url) if "since=" in request.url else None)
    sign_in(page, live_server, "leader", "/dashboard/")
    response = page.request.get(f"{live_server.url}/dashboard/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in re.search(r"script-src[^;]*", policy).group(0)

    page.wait_for_timeout(2500)
    assert len(polls) >= 2, "the open dashboard polls every second"

    set_hidden(page, True)
    page.wait_for_timeout(300)
    paused_at = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == paused_at, "no poll while the tab is hidden"

    set_hidden(page, False)
    page.wait_for_timeout(700)
    assert len(polls) > paused_at, "shown again, it polls at once"
    assert violations == []


def test_the_project_page_edits_cancels_and_reports_failures_under_the_policy(page, live_server, role_users, make_project, today):
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    make_project("QT-0001", responsible_cadre=role_users["cadre1"], milestones={"signing": {"planned_date": today}})
    sign_in(page, live_server, "cadre1", "/projects/QT-0001/")
    row = page.locator("tr#m-signing")
    row.get_by_role("link", name="编辑").click()
    expect(page.locator("tr#m-signing.editing")).to_be_visible()
    page.locator("tr#m-signing.editing input[name=actual_date]").press("Escape")
    expect(page.locator("tr#m-signing.editing")).to_have_count(0)

    # The cadre loses the project meanwhile: the save is refused and the page says why.
    page.locator("tr#m-signing").get_by_role("link", name="编辑").click()
    expect(page.locator("tr#m-signing.editing")).to_be_visible()
    from projects.models import Project

    Project.objects.filter(code="QT-0001").update(responsible_cadre=role_users["cadre2"])
    page.locator("tr#m-signing.editing").get_by_role("button", name="今天完成").click()
    expect(page.locator("#request-error")).to_have_text("您无权进行此操作（权限可能已变更），请刷新页面。")
    assert violations == []
