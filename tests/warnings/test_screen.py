"""The meeting-room screen: opened by the office's link without a login, read-only, cycling,
refreshing itself; refused once revoked (an open screen reloads into the refusal)."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import Department
from qiantang_warnings.models import ScreenLink
from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def district(make_project, role_users, today):
    bureau = Department.objects.create(name="区发改局")
    make_project("QT-0001", name="澜康微电子先进封装项目", sector="集成电路", lead_department=bureau,
                 milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    make_project("QT-0002", name="中策橡胶智能工厂", sector="汽车",
                 milestones={"signing": {"planned_date": today + timedelta(days=60)}})
    recompute_all(today=today)
    return ScreenLink.objects.create(name="三楼会议室大屏", cycle="sector", seconds=15, created_by=role_users["office"])


def test_the_link_opens_the_board_without_a_login_and_cycles_through_the_sectors(client, district, django_assert_max_num_queries):
    url = reverse("screen", kwargs={"token": district.token})
    with django_assert_max_num_queries(25):
        page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "no-referrer"
    assert "全区" in html and 'data-count="red">1<' in html and "澜康微电子先进封装项目" in html
    assert "项目签约逾期3天" in html and "更新于" in html
    assert 'hx-trigger="every 15s"' in html and "?view=1" in html
    assert "<form" not in html and "/projects/" not in html  # read-only, no way into the site
    # The next views, as the page asks for them: the sectors in order, then the district again.
    second = client.get(url, {"view": 1}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in second and "汽车" in second and 'data-count="red">0<' in second and "?view=2" in second
    third = client.get(url, {"view": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert "集成电路" in third and "?view=0" in third
    district.refresh_from_db()
    assert district.last_seen_at is not None


def test_a_revoked_link_is_refused_and_an_open_screen_reloads_into_the_refusal(client, district):
    url = reverse("screen", kwargs={"token": district.token})
    ScreenLink.objects.filter(pk=district.pk).update(revoked_at=timezone.now())
    page = client.get(url)
    assert page.status_code == 410 and "此大屏链接已停用" in page.content.decode()
    assert "澜康" not in page.content.decode()
    polled = client.get(url, {"view": 1}, HTTP_HX_REQUEST="true")
    assert polled.status_code == 410 and polled["HX-Refresh"] == "true"
    unknown = client.get(reverse("screen", kwargs={"token": "not-a-token"}))
    assert unknown.status_code == 404 and "大屏链接无效" in unknown.content.decode()


def test_the_office_makes_and_revokes_links_in_the_admin_and_nobody_else_sees_them(client, district, role_users):
    client.force_login(role_users["office"])
    made = client.post(reverse("admin:warnings_screenlink_add"), {"name": "指挥中心", "cycle": "department", "seconds": "30"})
    assert made.status_code == 302
    link = ScreenLink.objects.get(name="指挥中心")
    assert link.created_by == role_users["office"] and len(link.token) >= 40
    listing = client.get(reverse("admin:warnings_screenlink_changelist")).content.decode()
    assert link.token in listing
    too_fast = client.post(reverse("admin:warnings_screenlink_add"), {"name": "快", "cycle": "none", "seconds": "1"})
    assert too_fast.status_code == 200 and not ScreenLink.objects.filter(name="快").exists()
    client.post(reverse("admin:warnings_screenlink_changelist"), {"action": "revoke", "_selected_action": [link.pk]})
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert client.get(reverse("screen", kwargs={"token": link.token})).status_code == 410
    client.force_login(role_users["leader"])
    assert client.get(reverse("admin:warnings_screenlink_changelist")).status_code == 403


def screen_trend(html: str) -> str:
    """The weekly trend's section, and in it the chart's summary (oldest week first)."""
    import re

    section = html.split('<section class="screen-trend">')[1].split("</section>")[0]
    assert '<svg class="trend-chart"' in section and 'role="img"' in section
    return re.search(r'aria-label="([^"]+)"', section).group(1)


def test_the_screen_shows_the_weekly_trend_of_each_view(client, district, today):
    from qiantang_warnings.models import StatusChange

    # A constructed history: QT-0001 turned red ten days ago, QT-0002 green today.
    StatusChange.objects.filter(project__code="QT-0001").update(at=timezone.now() - timedelta(days=10))
    url = reverse("screen", kwargs={"token": district.token})
    html = client.get(url).content.decode()
    assert "每周趋势" in html
    summary = screen_trend(html)  # red/yellow/green per week
    assert summary.startswith("近12周红、黄、绿项目数：")
    assert summary.endswith("11-11 0/0/0；11-18 1/0/0；11-25 1/0/1")
    # Each view's trend is its own projects': the 汽车 sector has only QT-0002.
    cars = client.get(url, {"view": 1}, HTTP_HX_REQUEST="true").content.decode()
    assert screen_trend(cars).endswith("11-11 0/0/0；11-18 0/0/0；11-25 0/0/1")


def test_a_department_link_cycles_through_the_lead_departments_with_active_projects(client, district, make_project, today):
    from projects.models import Project

    street = Department.objects.create(name="河庄街道", kind="street")
    Project.objects.filter(code="QT-0002").update(lead_department=street)
    idle = Department.objects.create(name="区住建局")  # leads only a finished project: not shown
    make_project("QT-0003", lead_department=idle, state="completed")
    Department.objects.create(name="区资规分局")  # leads nothing
    recompute_all(today=today)
    ScreenLink.objects.filter(pk=district.pk).update(cycle="department")
    url = reverse("screen", kwargs={"token": district.token})

    def view(n=None):
        if n is None:
            return client.get(url).content.decode()
        return client.get(url, {"view": n}, HTTP_HX_REQUEST="true").content.decode()

    first = view()
    assert '<span class="screen-view">全区</span>' in first and "1/3" in first and "?view=1" in first
    assert 'data-count="red">1<' in first and 'data-count="green">1<' in first
    bureau = view(1)  # departments (部门) before streets, each by name
    assert '<span class="screen-view">区发改局</span>' in bureau and "2/3" in bureau and "?view=2" in bureau
    assert 'data-count="red">1<' in bureau and 'data-count="green">0<' in bureau and 'data-project="QT-0001"' in bureau
    street_view = view(2)
    assert '<span class="screen-view">河庄街道</span>' in street_view and "3/3" in street_view
    assert 'data-count="red">0<' in street_view and 'data-count="green">1<' in street_view
    assert "没有红色预警项目" in street_view and "?view=0" in street_view  # then the district again
    assert '<span class="screen-view">全区</span>' in view(3)  # past the end wraps round
    for page in (first, bureau, street_view):
        assert "区住建局" not in page and "区资规分局" not in page
