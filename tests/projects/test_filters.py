"""The shared project filters: each parameter narrows, bad values are ignored."""
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from projects.filters import ProjectFilterForm
from projects.models import Department, Project


@pytest.fixture
def portfolio(db):
    bureau = Department.objects.create(name="区经信局")
    street = Department.objects.create(name="下沙街道", kind=Department.Kind.STREET)
    wang = User.objects.create_user("cadre1", last_name="王", first_name="建国")
    li = User.objects.create_user("cadre2", last_name="李", first_name="娜")
    rows = [
        ("QT-1", "晶圆制造项目", "集成电路", bureau, wang, "provincial", "active", "red"),
        ("QT-2", "创新药基地", "生物医药", street, li, "district", "active", "yellow"),
        ("QT-3", "芯片封测项目", "集成电路", street, li, "municipal", "active", "green"),
        ("QT-4", "整车项目", "汽车及零部件", bureau, wang, "district", "paused", ""),
    ]
    for code, name, sector, dept, cadre, level, state, colour in rows:
        Project.objects.create(
            code=code, name=name, sector=sector, lead_department=dept, responsible_cadre=cadre,
            level=level, state=state, colour=colour, total_investment=Decimal("1.00"),
        )
    return {"bureau": bureau, "street": street, "wang": wang, "li": li}


def codes(params):
    form = ProjectFilterForm(params)
    return sorted(form.filter(Project.objects.all()).values_list("code", flat=True))


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["QT-1", "QT-2", "QT-3", "QT-4"]),
        ({"sector": "集成电路"}, ["QT-1", "QT-3"]),
        ({"level": "district"}, ["QT-2", "QT-4"]),
        ({"state": "paused"}, ["QT-4"]),
        ({"colour": "red"}, ["QT-1"]),
        ({"sector": "集成电路", "colour": "green"}, ["QT-3"]),
        ({"q": "芯片"}, ["QT-3"]),
        ({"q": "qt-2"}, ["QT-2"]),
        ({"colour": "purple"}, ["QT-1", "QT-2", "QT-3", "QT-4"]),  # invalid: ignored
    ],
)
def test_each_filter_narrows_the_projects(portfolio, params, expected):
    assert codes(params) == expected


def test_department_and_cadre_filter_by_id(portfolio):
    assert codes({"department": portfolio["street"].pk}) == ["QT-2", "QT-3"]
    assert codes({"cadre": portfolio["wang"].pk}) == ["QT-1", "QT-4"]
    assert codes({"cadre": portfolio["wang"].pk, "sector": "集成电路"}) == ["QT-1"]


def test_an_unknown_department_is_ignored_not_an_error(portfolio):
    form = ProjectFilterForm({"department": "999999", "sector": "生物医药"})
    assert sorted(form.filter(Project.objects.all()).values_list("code", flat=True)) == ["QT-2"]
    assert "department" in form.errors


def test_the_query_string_reproduces_the_filters(portfolio):
    form = ProjectFilterForm({"sector": "集成电路", "colour": "red", "q": "", "page": "2"})
    assert form.query_string() == "sector=%E9%9B%86%E6%88%90%E7%94%B5%E8%B7%AF&colour=red"
