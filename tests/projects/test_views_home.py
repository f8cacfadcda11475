"""The first page: `/` shows a signed-in user the coloured project list."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from projects.demo import seed_demo
from projects.models import Project
from projects.selectors import BOARD_FILTERS, listed_projects
from projects.views import PAGE_SIZE
from qiantang_warnings.models import Escalation
from qiantang_warnings.recompute import recompute_all

PASSWORD = "pw-for-tests-1"  # the role_users fixture's password


@pytest.fixture
def board(make_project, today):
    """One project of each colour, one waiting for a plan, one paused; recomputed as of today."""
    make_project(
        "QT-RED",
        name="红色测试项目",
        milestones={
            "approval": {"planned_date": today - timedelta(days=90), "actual_date": today - timedelta(days=80)},
            "signing": {"planned_date": today - timedelta(days=5)},
        },
    )
    make_project(
        "QT-YELLOW",
        name="黄色测试项目",
        milestones={"approval": {"planned_date": today + timedelta(days=3)}},
    )
    make_project(
        "QT-GREEN",
        name="绿色测试项目",
        milestones={"approval": {"planned_date": today + timedelta(days=60)}},
    )
    make_project("QT-PLAN", name="待排期测试项目", milestones={"approval": {}})
    make_project(
        "QT-PAUSED",
        name="暂缓测试项目",
        state="paused",
        milestones={"approval": {"planned_date": today - timedelta(days=30)}},
    )
    recompute_all(today=today)


def rows(response) -> list[str]:
    """Project codes in the order the page lists them."""
    return re.findall(r'<tr data-project="([^"]+)"', response.content.decode())


def test_anonymous_user_is_sent_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_renders(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    assert "登录" in page
    assert 'lang="zh-hans"' in page


def test_bad_login_shows_the_chinese_error_not_a_500(client, role_users):
    response = client.post("/accounts/login/", {"username": "cadre1", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确，请重新输入。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_empty_login_form_is_refused_without_a_500(client, db):
    response = client.post("/accounts/login/", {})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_good_login_goes_to_the_board(client, role_users):
    response = client.post(
        "/accounts/login/?next=/", {"username": "cadre1", "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_signed_in_user_sees_colours_worst_first_with_reasons(client, role_users, board):
    client.force_login(role_users["cadre1"])
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()

    assert rows(response) == ["QT-RED", "QT-YELLOW", "QT-GREEN", "QT-PLAN", "QT-PAUSED"]
    assert '<span class="badge red">红</span>' in page
    assert '<span class="badge yellow">黄</span>' in page
    assert '<span class="badge green">绿</span>' in page
    assert "项目签约逾期5天" in page
    assert "过会将于3天后到期" in page
    assert "待排期" in page
    assert "暂缓" in page
    counts = response.context["counts"]
    assert (counts["red"], counts["yellow"], counts["green"]) == (1, 1, 2)
    assert (counts["needs_plan"], counts["active"], counts["inactive"]) == (1, 4, 1)
    assert "2026-11-25" in page  # the as-of date of the colours


def test_escalation_reason_heads_the_list_and_others_are_counted(client, role_users, board, today):
    project = Project.objects.get(code="QT-RED")
    Escalation.objects.create(project=project, colour="red", reason="区领导批示督办", until=today)
    recompute_all(today=today)
    client.force_login(role_users["leader"])
    page = client.get("/").content.decode()
    assert "督办：区领导批示督办" in page
    assert "另1项" in page


@pytest.mark.parametrize(
    "show, expected",
    [
        ("red", ["QT-RED"]),
        ("yellow", ["QT-YELLOW"]),
        ("green", ["QT-GREEN", "QT-PLAN"]),
        ("needs_plan", ["QT-PLAN"]),
        ("inactive", ["QT-PAUSED"]),
        ("nonsense", ["QT-RED", "QT-YELLOW", "QT-GREEN", "QT-PLAN", "QT-PAUSED"]),
    ],
)
def test_filters(client, role_users, board, show, expected):
    client.force_login(role_users["cadre1"])
    assert rows(client.get("/", {"show": show})) == expected


def test_empty_filter_says_so(client, role_users, make_project):
    make_project("QT-NEW")
    client.force_login(role_users["cadre1"])
    assert "没有符合条件的项目" in client.get("/", {"show": "red"}).content.decode()


def test_no_projects_yet(client, role_users):
    client.force_login(role_users["office"])
    assert "还没有项目" in client.get("/").content.decode()


def test_names_are_shown_surname_first(client, role_users, make_project):
    cadre = role_users["cadre1"]
    cadre.last_name, cadre.first_name = "王", "建国"
    cadre.save()
    make_project("QT-001", responsible_cadre=cadre)
    make_project("QT-002", responsible_cadre=role_users["cadre2"])  # no name: the username
    client.force_login(cadre)
    page = client.get("/").content.decode()
    assert '<span class="who">王建国</span>' in page
    assert page.count("王建国") >= 2
    assert "建国 王" not in page
    assert "cadre2" in page


def test_query_count_does_not_grow_with_projects(
    client, db, today, django_assert_max_num_queries
):
    seed_demo(projects=120, password="demo-pw-views", today=today)
    client.force_login(get_user_model().objects.get(username="cadre1"))
    # session, user, the counts, the page's rows: nothing per project, and no COUNT of
    # its own for the pager (the counts query already has every filter's number).
    with django_assert_max_num_queries(4):
        response = client.get("/")
    assert len(rows(response)) == PAGE_SIZE
    page = response.context["page"]
    assert (page.paginator.count, page.paginator.num_pages) == (120, 3)
    assert "第 1 / 3 页" in response.content.decode()
    for params in ({"show": "red"}, {"page": "3"}, {"show": "green", "page": "2"}):
        with django_assert_max_num_queries(4):
            assert client.get("/", params).status_code == 200


@pytest.fixture
def big_board(db, today):
    """More projects than one page holds."""
    seed_demo(projects=120, password="demo-pw-views", today=today)
    return list(listed_projects().values_list("code", flat=True))


def test_later_pages_show_the_rest_worst_first(client, big_board):
    client.force_login(get_user_model().objects.get(username="cadre1"))
    seen = []
    for number in (1, 2, 3):
        response = client.get("/", {"page": number})
        seen += rows(response)
    assert seen == big_board  # every project once, in the list's order
    assert len(rows(client.get("/", {"page": 2}))) == PAGE_SIZE
    assert len(rows(response)) == 120 - 2 * PAGE_SIZE

    page = client.get("/", {"page": 2}).content.decode()
    assert 'href="?page=1"' in page and 'href="?page=3"' in page
    assert "第 2 / 3 页" in page


def test_the_filter_survives_paging(client, big_board, django_assert_max_num_queries):
    green = list(listed_projects().filter(BOARD_FILTERS["green"]).values_list("code", flat=True))
    assert len(green) > PAGE_SIZE  # the demo's mix: most projects are green
    client.force_login(get_user_model().objects.get(username="cadre1"))

    first = client.get("/", {"show": "green"})
    assert first.context["page"].paginator.count == first.context["counts"]["green"] == len(green)
    assert 'href="?show=green&amp;page=2"' in first.content.decode()
    with django_assert_max_num_queries(4):
        second = client.get("/", {"show": "green", "page": 2})
    assert rows(first) + rows(second) == green[: 2 * PAGE_SIZE]
    page = second.content.decode()
    assert 'href="?show=green&amp;page=1"' in page
    assert 'aria-current="page">' in page and second.context["show"] == "green"


@pytest.mark.parametrize("number", ["abc", "0", "-1", "999", "1.5", "", "\x00"])
def test_a_bad_page_number_is_not_an_error(client, big_board, number):
    client.force_login(get_user_model().objects.get(username="cadre1"))
    response = client.get("/", {"page": number})
    assert response.status_code == 200
    assert len(rows(response)) in (PAGE_SIZE, 120 - 2 * PAGE_SIZE)


def test_one_page_has_no_pager(client, role_users, board):
    client.force_login(role_users["cadre1"])
    assert 'class="pager"' not in client.get("/").content.decode()


def test_logout_is_a_post(client, role_users):
    client.force_login(role_users["cadre1"])
    page = client.get("/").content.decode()
    assert f'<form method="post" action="{reverse("logout")}"' in page
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_language_switch_to_english_and_back(client, role_users):
    client.force_login(role_users["cadre1"])
    assert 'lang="zh-hans"' in client.get("/").content.decode()

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/").content.decode()
    assert 'lang="en"' in page
    assert 'name="language" value="zh-hans"' in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="zh-hans"' in page
    assert 'name="language" value="en"' in page


def test_language_switch_works_on_the_login_page(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response["Location"] == "/accounts/login/"
    assert 'lang="en"' in client.get("/accounts/login/").content.decode()
