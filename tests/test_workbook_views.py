"""Workbook pages: every signed-in user exports (with the board's filters); only the office imports."""
from datetime import timedelta
from io import BytesIO

import openpyxl
import pytest
from django.urls import reverse

from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_projects(make_project, today):
    make_project("QT-0001", sector="生物医药", milestones={"approval": dict(planned_date=today - timedelta(days=3))})
    make_project("QT-0002", sector="集成电路", milestones={"approval": dict(planned_date=today + timedelta(days=90))})
    recompute_all(today=today)


def exported_codes(response):
    sheet = openpyxl.load_workbook(BytesIO(response.content)).active
    return [row[0].value for row in sheet.iter_rows(min_row=3)]


@pytest.mark.parametrize("username", ["cadre1", "leader", "liaison1", "office"])
def test_every_signed_in_user_downloads_the_export(client, role_users, two_projects, username):
    client.force_login(role_users[username])
    response = client.get(reverse("workbook_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert "2026-11-25.xlsx" in response["Content-Disposition"]
    assert exported_codes(response) == ["QT-0001", "QT-0002"]


def test_export_applies_the_dashboards_filters(client, role_users, two_projects):
    client.force_login(role_users["leader"])
    assert exported_codes(client.get(reverse("workbook_export"), {"colour": "red"})) == ["QT-0001"]
    assert exported_codes(client.get(reverse("workbook_export"), {"sector": "集成电路"})) == ["QT-0002"]
    assert exported_codes(client.get(reverse("workbook_export"), {"q": "0002"})) == ["QT-0002"]


def test_export_needs_a_sign_in(client, two_projects):
    response = client.get(reverse("workbook_export"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_export_query_count_does_not_grow_with_projects(
    client, role_users, make_project, today, django_assert_max_num_queries
):
    for n in range(30):
        make_project(f"QT-1{n:03d}", milestones={"approval": dict(planned_date=today)})
    recompute_all(today=today)
    client.force_login(role_users["cadre1"])
    with django_assert_max_num_queries(14):
        response = client.get(reverse("workbook_export"))
    assert len(exported_codes(response)) == 30
