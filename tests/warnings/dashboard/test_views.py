"""/dashboard/: who may see it, what the page and its live partial show, and how many queries.

A leader opens one page in a meeting: the three colours with their investment and
the change since last week, the red and yellow lists with cadre and what is late,
the breakdowns linking to the project list, the trend; the live part refreshes itself.
"""
import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from projects.models import Department, Milestone, Project
from projects.services import milestone_change_record
from qiantang_warnings.models import Escalation, StatusChange
from qiantang_warnings.recompute import recompute_all, recompute_projects

URL = "/dashboard/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SECTOR = "sector=%E9%9B%86%E6%88%90%E7%94%B5%E8%B7%AF"  # 集成电路


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    """The view asks the clock for today: 10:00 in Shanghai on the suite's day."""
    time_machine.move_to(datetime(today.year, today.month, today.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


@pytest.fixture
def board(make_project, role_users, today):
    """Red, yellow and green projects in two sectors, recomputed as of today."""
    bureau = Department.objects.create(name="区经信局")
    wang = User.objects.create_user("wang", last_name="王", first_name="建国")
    li = User.objects.create_user("li", last_name="李", first_name="娜")
    make_project(
        "QT-RED", name="晶圆制造项目", sector="集成电路", responsible_cadre=wang, lead_department=bureau,
        total_investment=Decimal("12.50"),
        milestones={
            "approval": {"planned_date": today - timedelta(days=90), "actual_date": today - timedelta(days=80)},
            "signing": {"planned_date": today - timedelta(days=5)},
        },
    )
    make_project(
        "QT-RED2", name="创新药基地", sector="生物医药", responsible_cadre=li, total_investment=Decimal("3"),
        milestones={"approval": {"planned_date": today - timedelta(days=20)}},
    )
    make_project(
        "QT-YELLOW", name="封测项目", sector="集成电路", responsible_cadre=li,
        milestones={"approval": {"planned_date": today + timedelta(days=3)}},
    )
    make_project(
        "QT-GREEN", name="整车项目", sector="汽车及零部件",
        milestones={"approval": {"planned_date": today + timedelta(days=60)}},
    )
    make_project("QT-PLAN", name="储备项目", sector="集成电路", milestones={"approval": {}})
    recompute_all(today=today)
    return {"wang": wang, "li": li, "bureau": bureau}


def signed_in(client, role_users, username="leader"):
    client.force_login(role_users[username])
    return client


# ---------------------------------------------------------------- access


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_a_poll_after_the_session_ended_sends_the_page_to_the_login_form(client, db):
    response = client.get(
        f"{URL}?since=abc", HTTP_HX_CURRENT_URL="http://testserver/dashboard/?sector=x", **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/dashboard/%3Fsector%3Dx"


@pytest.mark.parametrize("username", ["leader", "office", "cadre1", "liaison1"])
def test_every_signed_in_role_may_read_the_dashboard(client, role_users, board, username):
    response = signed_in(client, role_users, username).get(URL)
    assert response.status_code == 200
    assert reverse("dashboard") == URL


def test_the_dashboard_is_read_only(client, role_users, board):
    response = signed_in(client, role_users).post(URL, {"sector": "集成电路"})
    assert response.status_code == 405


def test_the_nav_links_to_the_dashboard(client, role_users, board):
    page = signed_in(client, role_users, "cadre1").get("/").content.decode()
    assert 'href="/dashboard/"' in page


# ---------------------------------------------------------------- the page


def test_the_leader_sees_colours_investment_lists_breakdowns_and_trend(client, role_users, board):
    response = signed_in(client, role_users).get(URL)
    page = response.content.decode()

    assert re.search(r'<b data-count="red">2</b>', page)
    assert re.search(r'<b data-count="yellow">1</b>', page)
    assert re.search(r'<b data-count="green">2</b>', page)
    assert re.search(r'<b data-count="needs_plan">1</b>', page)
    assert "总投资 15.50 亿元" in page  # red: 12.50 + 3
    # Everything turned its colour today: each count is up on last week.
    assert "较上周 增2" in page
    # Lists: red (most overdue first), then yellow; reason, days, cadre, department.
    assert re.findall(r'<tr data-project="([^"]+)"', page) == ["QT-RED2", "QT-RED", "QT-YELLOW"]
    assert "项目签约逾期5天" in page and "过会将于3天后到期" in page
    red_row = page[page.index('data-project="QT-RED"'):page.index('data-project="QT-YELLOW"')]
    assert "王建国" in red_row and "区经信局" in red_row and ">5</td>" in red_row
    assert 'href="/projects/QT-RED/"' in red_row
    assert "新转红" in red_row  # it was not red at the end of the same day last week
    # Breakdowns link to the filtered project list.
    assert f'href="/projects/?{SECTOR}&amp;colour=red"' in page
    assert f'href="/projects/?cadre={board["wang"].pk}&amp;colour=red"' in page
    assert f'href="/projects/?department={board["bureau"].pk}&amp;colour=red"' in page
    # Trend, export, print, "updated at".
    assert '<svg class="trend-chart"' in page
    assert 'href="/workbook/export/"' in page
    assert "data-print" in page  # static/js/app.js prints (no inline handler under the CSP)
    assert "更新于 10:00:00" in page and "预警计算日期 2026-11-25" in page


def test_escalated_projects_are_marked(client, role_users, board, today):
    project = Project.objects.get(code="QT-YELLOW")
    Escalation.objects.create(project=project, colour="red", reason="区领导批示督办", until=today)
    recompute_projects([project.id], today=today)
    page = signed_in(client, role_users).get(URL).content.decode()
    row = page[page.index('data-project="QT-YELLOW"'):]
    row = row[: row.index("</tr>")]
    assert 'class="mark escalated"' in row and "督办：区领导批示督办" in row


def test_two_clicks_which_red_ic_projects_belong_to_which_cadre_and_what_is_late(
    client, role_users, board
):
    """Click 1: the 集成电路 filter. The red list answers; click 2 opens the project."""
    page = signed_in(client, role_users).get(f"{URL}?sector=集成电路").content.decode()
    red = page[page.index('data-list="red"'):page.index('data-list="yellow"')]
    assert re.findall(r'<tr data-project="([^"]+)"', red) == ["QT-RED"]
    assert "王建国" in red and "项目签约逾期5天" in red
    assert 'href="/projects/QT-RED/"' in red
    assert "创新药基地" not in page
    assert "产业类别 集成电路" in page  # the filter summary, also printed
    assert f'href="/workbook/export/?{SECTOR}"' in page


def test_a_colour_filter_shows_that_list_alone_and_keeps_the_three_counts(client, role_users, board):
    page = signed_in(client, role_users).get(f"{URL}?colour=yellow").content.decode()
    assert 'data-list="yellow"' in page and 'data-list="red"' not in page
    assert re.search(r'<b data-count="red">2</b>', page)
    assert 'class="card yellow selected"' in page


@pytest.mark.parametrize(
    "query",
    ["department=abc", "cadre=999999", "colour=purple", "level=national", "state=x", "q=" + "长" * 300,
     "sector=不存在的产业"],
)
def test_bad_filter_values_are_ignored_never_a_500(client, role_users, board, query):
    response = signed_in(client, role_users).get(f"{URL}?{query}")
    assert response.status_code == 200
    assert re.search(r'<b data-count="red">2</b>', response.content.decode())


# ---------------------------------------------------------------- HTMX


def test_an_htmx_request_gets_the_live_partial_alone(client, role_users, board):
    response = signed_in(client, role_users).get(f"{URL}?sector=集成电路", **HTMX)
    part = response.content.decode()
    assert part.lstrip().startswith('<div id="live"')
    assert "<html" not in part and "dash-filters" not in part
    assert re.search(r'<b data-count="red">1</b>', part)
    # The poll keeps the filters and sends the fingerprint of what the page shows.
    stamp = re.search(r'data-stamp="([0-9a-f]+)"', part).group(1)
    assert f'hx-get="/dashboard/?{SECTOR}&amp;since={stamp}"' in part
    assert "HX-Request" in response["Vary"]
    assert "HX-Push-Url" not in response  # a poll does not touch the address bar


def test_a_filter_change_pushes_the_clean_filters_into_the_address_bar(client, role_users, board):
    response = signed_in(client, role_users).get(
        f"{URL}?sector=集成电路&department=&cadre=&level=&state=&colour=&q=",
        HTTP_HX_TRIGGER="dash-filters", **HTMX,
    )
    assert response["HX-Push-Url"] == f"/dashboard/?{SECTOR}"
    cleared = signed_in(client, role_users).get(URL + "?sector=", HTTP_HX_TRIGGER="dash-filters", **HTMX)
    assert cleared["HX-Push-Url"] == "/dashboard/"


def test_back_and_forward_get_the_whole_page(client, role_users, board):
    response = signed_in(client, role_users).get(
        f"{URL}?sector=集成电路", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    page = response.content.decode()
    assert "<html" in page and 'id="dash-filters"' in page
    assert '<option value="集成电路" selected>' in page
    # The page keeps no history snapshots: back/forward always reload from the server.
    assert '"historyCacheSize": 0' in page and '"refreshOnHistoryMiss": true' in page


def test_the_live_part_polls_every_30_seconds_while_the_tab_is_visible(client, role_users, board):
    page = signed_in(client, role_users).get(URL).content.decode()
    # Paused while hidden, polled once when shown again: static/js/app.js (the CSP forbids
    # htmx's eval-based trigger filters); tests/browser/test_csp_browser.py proves it.
    assert 'hx-trigger="every 30s, visible" data-pause-when-hidden' in page
    assert "每30秒自动刷新" in page


def test_the_polling_interval_is_a_setting(client, role_users, board, settings):
    settings.DASHBOARD_REFRESH_SECONDS = 2
    page = signed_in(client, role_users).get(URL).content.decode()
    assert 'hx-trigger="every 2s, visible"' in page


def stamp_of(page: str) -> str:
    return re.search(r'data-stamp="([0-9a-f]+)"', page).group(1)


def test_a_poll_that_finds_nothing_new_gets_the_status_line_alone(
    client, role_users, board, django_assert_max_num_queries
):
    client = signed_in(client, role_users)
    stamp = stamp_of(client.get(URL).content.decode())
    with django_assert_max_num_queries(POLL_QUERIES):
        response = client.get(f"{URL}?since={stamp}", **HTMX)
    part = response.content.decode()
    assert part.lstrip().startswith('<p id="live-status"')
    assert "更新于 10:00:00" in part and f"since={stamp}" in part
    assert "HX-Retarget" not in response


def test_a_staff_edit_shows_in_the_next_poll(client, role_users, board, today):
    """The cadre records the signing; the recompute turns QT-RED green; the poll brings it."""
    client = signed_in(client, role_users)
    page = client.get(f"{URL}?sector=集成电路").content.decode()
    stamp = stamp_of(page)
    assert re.search(r'<b data-count="red">1</b>', page)
    poll = f"{URL}?sector=集成电路&since={stamp}"
    assert "HX-Retarget" not in client.get(poll, **HTMX)

    milestone = Milestone.objects.get(project__code="QT-RED", milestone_type__code="signing")
    milestone.actual_date = today
    milestone_change_record(milestone, today=today, by=role_users["cadre1"])
    recompute_projects([milestone.project_id], today=today)

    response = client.get(poll, **HTMX)
    assert response["HX-Retarget"] == "#live" and response["HX-Reswap"] == "outerHTML"
    part = response.content.decode()
    assert part.lstrip().startswith('<div id="live"')
    assert re.search(r'<b data-count="red">0</b>', part)
    assert 'data-project="QT-RED"' not in part
    assert stamp_of(part) != stamp


def test_a_poll_that_finds_a_change_being_rendered_elsewhere_keeps_its_page_and_waits_for_nothing(
    client, role_users, board, today
):
    """After a save every open dashboard polls: one process renders the new part, and the
    others' polls answer 204 at once (htmx swaps nothing) instead of holding a server process
    while they wait; the next poll brings the part. A page load still waits for it."""
    from django.core.cache import cache

    from qiantang_warnings.dashboard.fingerprint import fingerprint

    client = signed_in(client, role_users)
    stamp = stamp_of(client.get(URL).content.decode())
    Project.objects.filter(code="QT-RED").update(name="芯片项目（二期）")  # a listed project
    rendering = f"dashboard-live:{fingerprint({}, today=today)}:zh-hans:rendering"
    assert cache.add(rendering, 1)  # another process is rendering the new part

    busy = client.get(f"{URL}?since={stamp}", **HTMX)
    assert busy.status_code == 204 and busy.content == b"" and "HX-Retarget" not in busy

    cache.delete(rendering)  # it finished (here: gave up), so the next poll renders
    response = client.get(f"{URL}?since={stamp}", **HTMX)
    assert response.status_code == 200 and response["HX-Retarget"] == "#live"
    assert "芯片项目（二期）" in response.content.decode()


@pytest.mark.parametrize("change", ["escalation", "rename", "day"])
def test_the_fingerprint_changes_with_anything_the_live_part_shows(
    client, role_users, board, today, change, time_machine
):
    client = signed_in(client, role_users)
    stamp = stamp_of(client.get(URL).content.decode())
    project = Project.objects.get(code="QT-GREEN")
    if change == "escalation":
        Escalation.objects.create(project=project, colour="yellow", reason="督办", until=today)
        recompute_projects([project.id], today=today)
    elif change == "rename":
        Project.objects.filter(pk=project.pk).update(name="整车项目（二期）")
    else:
        time_machine.shift(timedelta(days=1))
        client.force_login(role_users["leader"])  # the session of yesterday has expired
    assert "HX-Retarget" in client.get(f"{URL}?since={stamp}", **HTMX)


# ---------------------------------------------------------------- queries


def bulk_portfolio(n, today):
    """n projects over 8 sectors, 10 departments and 12 cadres, with a month of history."""
    departments = Department.objects.bulk_create(
        [Department(name=f"测试单位{i}") for i in range(10)]
    )
    cadres = User.objects.bulk_create(
        [User(username=f"bulk{i}", last_name="测", first_name=f"试{i}") for i in range(12)]
    )
    colours = ["red", "yellow", "green", "green", "green"]
    projects = Project.objects.bulk_create(
        [
            Project(
                code=f"B-{i:05d}",
                name=f"批量项目{i}",
                sector=f"产业{i % 8}",
                level=["provincial", "municipal", "district"][i % 3],
                state="active" if i % 10 else "paused",
                colour=colours[i % 5] if i % 10 else "",
                needs_plan=i % 17 == 0,
                total_investment=Decimal(i % 50),
                lead_department=departments[i % 10],
                responsible_cadre=cadres[i % 12],
                reasons=[{"colour": "red", "kind": "overdue", "days": i % 90 + 1, "milestone": "signing",
                          "name": "项目签约", "note": ""}] if i % 5 == 0 and i % 10 else [],
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    when = datetime(today.year, today.month, today.day, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    StatusChange.objects.bulk_create(
        [
            StatusChange(project=p, from_colour="green", to_colour=p.colour or "", at=when - timedelta(days=i % 30),
                         as_of=today - timedelta(days=i % 30))
            for i, p in enumerate(projects)
            if p.colour and p.colour != "green"
        ],
        batch_size=1000,
    )
    Escalation.objects.bulk_create(
        [Escalation(project=p, colour="red", reason="督办", until=today) for p in projects[::50]]
    )
    return cadres


# Session, user, three filter choice lists, the data version, the headline with the three
# breakdowns (one scan), trend, coordination items per department, one list per colour
# (red, yellow) and the navigation's count of pending re-plans (leaders see it).
FULL_PAGE_QUERIES = 12
# The same without the three choice lists (read only when the form is shown).
PARTIAL_QUERIES = 9
# Session, user, the data version: whatever the number of projects.
POLL_QUERIES = 3
# A repeat of the live part at the same data version: session, user, the data version.
CACHED_PARTIAL_QUERIES = 3
# A repeat of the whole page: session, user, the data version, the navigation's count; the
# filter form and the live part come rendered from the cache.
CACHED_FULL_PAGE_QUERIES = 4


@pytest.mark.parametrize("n", [250, 2500])
def test_the_number_of_queries_does_not_grow_with_the_projects(
    client, role_users, today, n, django_assert_max_num_queries
):
    cadres = bulk_portfolio(n, today)
    client = signed_in(client, role_users)
    with django_assert_max_num_queries(FULL_PAGE_QUERIES):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(PARTIAL_QUERIES):
        page = client.get(URL, **HTMX).content.decode()
    with django_assert_max_num_queries(POLL_QUERIES):
        assert client.get(f"{URL}?since={stamp_of(page)}", **HTMX).status_code == 200
    filtered = f"{URL}?sector=产业3&cadre={cadres[3].pk}&level=district&q=批量"
    with django_assert_max_num_queries(FULL_PAGE_QUERIES + 2):  # + the department and cadre checks
        assert client.get(filtered).status_code == 200
    with django_assert_max_num_queries(PARTIAL_QUERIES + 2):
        assert client.get(filtered, **HTMX).status_code == 200


def test_bulk_counts_equal_database_counts(client, role_users, today):
    bulk_portfolio(250, today)
    page = signed_in(client, role_users).get(URL + "?level=municipal").content.decode()
    for colour in ("red", "yellow", "green"):
        expected = Project.objects.filter(state="active", colour=colour, level="municipal").count()
        assert re.search(rf'<b data-count="{colour}">{expected}</b>', page), colour


def test_coordination_items_waiting_per_department_with_the_overdue_ones(client, role_users, board, today):
    from datetime import timedelta

    from projects.models import CoordinationItem, Department, Project

    housing = Department.objects.create(name="区住建局")
    project = Project.objects.filter(state="active").first()
    for days, state in [(-3, "open"), (5, "answered"), (-1, "handled")]:
        CoordinationItem.objects.create(
            project=project, need="事项", department=housing, deadline=today + timedelta(days=days),
            state=state, raised_by=role_users["office"],
        )
    page = signed_in(client, role_users).get(URL).content.decode()
    block = page[page.index('data-breakdown="coordination"'):]
    row = block[block.index('data-department="区住建局"'):block.index("</tr>", block.index('data-department="区住建局"'))]
    assert '<td class="num">2</td>' in row and '<td class="num red">1</td>' in row


# ---------------------------------------------------------------- the cache


def test_a_repeat_view_reads_the_cache_and_the_poll_answers_from_the_version(
    client, role_users, today, django_assert_num_queries
):
    bulk_portfolio(250, today)
    client = signed_in(client, role_users)
    first = client.get(URL, **HTMX).content.decode()
    # Session, user, the data version: nothing of the data.
    with django_assert_num_queries(CACHED_PARTIAL_QUERIES):
        again = client.get(URL, **HTMX).content.decode()
    assert re.sub(r"\d\d:\d\d:\d\d", "", again) == re.sub(r"\d\d:\d\d:\d\d", "", first)
    with django_assert_num_queries(POLL_QUERIES):
        client.get(f"{URL}?since={stamp_of(first)}", **HTMX)


def test_a_repeat_of_the_whole_page_reads_rendered_parts_whatever_the_size(
    client, role_users, today, django_assert_num_queries
):
    client = signed_in(client, role_users)
    bulk_portfolio(30, today)
    small_first = client.get(URL).content.decode()
    with django_assert_num_queries(CACHED_FULL_PAGE_QUERIES):
        small_again = client.get(URL).content.decode()
    def shown(page):  # below the navigation (its CSRF token is masked anew each time)
        return re.sub(r"\d\d:\d\d:\d\d", "", page.split('id="filter-panel"')[1])

    assert shown(small_again) == shown(small_first)
    Project.objects.all().delete()
    User.objects.filter(username__startswith="bulk").delete()
    Department.objects.filter(name__startswith="测试单位").delete()
    bulk_portfolio(600, today)
    large_first = client.get(URL).content.decode()
    assert stamp_of(large_first) != stamp_of(small_first), "the data moved: a new stamp, a miss"
    with django_assert_num_queries(CACHED_FULL_PAGE_QUERIES):
        client.get(URL)
    # Filters asked differently (here: an unknown sector, ignored) are the form's own entry:
    # checking the sector reads the sectors, the form shows departments and cadres; the live
    # part is the unfiltered one, already rendered.
    with django_assert_num_queries(CACHED_FULL_PAGE_QUERIES + 3):
        client.get(URL + "?sector=nosuch")


@pytest.mark.parametrize("change", ["recompute", "bulk rename", "item", "department"])
def test_a_cached_part_is_never_stale_after_a_write(client, role_users, board, today, change):
    """Fill the cache, write the way each path writes (a recompute that changes a colour, a bulk
    UPDATE that no signal sees, a new item, a renamed department), read again."""
    from projects.models import CoordinationItem

    client = signed_in(client, role_users)
    before = client.get(URL).content.decode()
    assert re.search(r'<b data-count="red">2</b>', before) and 'data-department="区经信局"' not in before
    if change == "recompute":
        milestone = Milestone.objects.get(project__code="QT-RED", milestone_type__code="signing")
        milestone.actual_date = today
        milestone_change_record(milestone, today=today, by=role_users["cadre1"])
        recompute_projects([milestone.project_id], today=today)
        assert re.search(r'<b data-count="red">1</b>', client.get(URL).content.decode())
    elif change == "bulk rename":
        Project.objects.filter(code="QT-RED2").update(name="创新药基地（二期）")
        assert "创新药基地（二期）" in client.get(URL).content.decode()
    elif change == "item":
        CoordinationItem.objects.create(project=Project.objects.get(code="QT-RED"), need="电力增容",
                                        department=Department.objects.get(name="区经信局"),
                                        deadline=today - timedelta(days=2), raised_by=role_users["office"])
        assert 'data-department="区经信局"' in client.get(URL).content.decode()
    else:
        department = Department.objects.get(name="区经信局")
        Department.objects.filter(pk=department.pk).update(name="区经济和信息化局")
        live = client.get(URL).content.decode().split('id="live"')[1]  # not the filter form's choices
        row = live.split(f'<tr data-key="{department.pk}">')[1].split("</tr>")[0]
        assert "区经济和信息化局" in row


class _Clock:
    """The view's `time` module, made of steps instead of seconds: each sleep moves the
    monotonic clock by what it slept and then does what the other process would do."""

    def __init__(self, on_sleep=lambda: None):
        self.now, self.on_sleep = 0.0, on_sleep

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.on_sleep()


def test_a_part_being_rendered_elsewhere_is_waited_for_not_rendered_again(monkeypatch):
    """After a save every open dashboard polls within seconds: one process renders the new
    part, the others wait for it instead of each reading every project again."""
    from django.core.cache import cache
    from django.utils import translation

    from qiantang_warnings.dashboard import views

    # The other process finishes while this one waits.
    monkeypatch.setattr(views, "time", _Clock(on_sleep=lambda: cache.set("part-a:zh-hans", "<p>theirs</p>")))
    with translation.override("zh-hans"):
        cache.add("part-a:zh-hans:rendering", 1)  # someone else is rendering
        renders = []
        assert views._rendered_once("part-a", lambda: renders.append(1) or "<p>mine</p>") == "<p>theirs</p>"
        assert renders == []
        assert views._rendered_once("part-b", lambda: "<p>first</p>") == "<p>first</p>"
        assert cache.get("part-b:zh-hans:rendering") is None, "the mark goes with the rendering"


def test_a_renderer_that_never_finishes_is_waited_for_only_so_long(monkeypatch):
    from django.core.cache import cache
    from django.utils import translation

    from qiantang_warnings.dashboard import views

    clock = _Clock()
    monkeypatch.setattr(views, "time", clock)
    with translation.override("zh-hans"):
        cache.add("part-c:zh-hans:rendering", 1)  # a renderer that died
        assert views._rendered_once("part-c", lambda: "<p>mine</p>") == "<p>mine</p>"
        assert cache.get("part-c:zh-hans") == "<p>mine</p>"
    assert views.RENDER_WAIT_SECONDS <= clock.now < views.RENDER_WAIT_SECONDS + 0.1
