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


# ---------------------------------------------------------------- import

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402

from projects.models import Project  # noqa: E402
from tests.test_workbook_import import ROWS, office_workbook  # noqa: E402


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path / "imports"


def token_of(response) -> str:
    import re

    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def upload(client, data=None, *, htmx=False, **extra):
    data = office_workbook(ROWS) if data is None else data
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        reverse("workbook_import"),
        {"workbook": SimpleUploadedFile("三色预警表.xlsx", data), **extra},
        **headers,
    )


@pytest.mark.parametrize("username", ["cadre1", "leader", "liaison1"])
def test_only_the_office_may_import(client, role_users, username, uploads_in_tmp):
    client.force_login(role_users[username])
    assert client.get(reverse("workbook_import")).status_code == 403
    assert upload(client).status_code == 403
    assert client.post(reverse("workbook_import_confirm"), {"token": "x"}).status_code == 403
    assert not Project.objects.exists()
    assert not uploads_in_tmp.exists() or not list(uploads_in_tmp.iterdir())


def test_signed_out_visitors_go_to_the_login_page(client):
    response = client.get(reverse("workbook_import"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nav_offers_import_to_the_office_only(client, role_users):
    client.force_login(role_users["office"])
    page = client.get(reverse("workbook_import")).content.decode()
    assert 'href="/workbook/import/"' in page and 'href="/workbook/export/"' in page
    client.force_login(role_users["cadre1"])
    home = client.get("/").content.decode()
    assert 'href="/workbook/import/"' not in home and 'href="/workbook/export/"' in home


def test_office_uploads_previews_confirms_and_sees_the_summary(client, role_users, uploads_in_tmp):
    client.force_login(role_users["office"])
    page = client.get(reverse("workbook_import"))
    assert page.status_code == 200 and "上传并预览" in page.content.decode()

    preview = upload(client, htmx=True)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert 'data-stage="preview"' in html and "<html" not in html  # the partial alone
    assert 'data-count="created">2<' in html
    assert "陈新人" in html and "备注" in html
    assert not Project.objects.exists()  # a preview writes nothing
    token = token_of(preview)
    assert (uploads_in_tmp / f"{token}.xlsx").exists()

    summary = client.post(reverse("workbook_import_confirm"), {"token": token}, HTTP_HX_REQUEST="true")
    assert summary.status_code == 200
    assert "新增 2 个项目，更新 0 个，未变 0 个" in summary.content.decode()
    assert Project.objects.count() == 2
    assert Project.objects.get(code="QT-0101").colour == "yellow"
    assert not (uploads_in_tmp / f"{token}.xlsx").exists()
    # The token is spent: confirming twice imports nothing more.
    again = client.post(reverse("workbook_import_confirm"), {"token": token})
    assert again.status_code == 400 and "预览已失效" in again.content.decode()


def test_preview_with_errors_offers_no_confirm(client, role_users):
    client.force_login(role_users["office"])
    rows = [row[:] for row in ROWS]
    rows[0][13] = "11月底"
    html = upload(client, office_workbook(rows)).content.decode()
    assert "第3行 土地挂牌(计划)：无法识别的日期“11月底”" in html
    assert "确认导入" not in html
    assert 'data-count="errors">1<' in html


def test_replace_mode_is_stated_in_the_preview_and_kept_for_the_confirm(client, role_users):
    client.force_login(role_users["office"])
    preview = upload(client, replace="1")
    assert "覆盖模式：表中空白的单元格将清除系统中已有的值。" in preview.content.decode()
    token = token_of(preview)
    assert client.session["workbook_imports"][token]["replace"] is True


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a workbook at all", "这不是Excel工作簿（.xlsx），无法导入。"),
        (b"", "文件是空的"),
    ],
)
def test_bad_files_get_one_clear_message(client, role_users, data, message):
    client.force_login(role_users["office"])
    response = upload(client, data, htmx=True)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'data-stage="upload"' in response.content.decode()


def test_no_file_and_a_foreign_token(client, role_users, uploads_in_tmp):
    client.force_login(role_users["office"])
    assert "请选择要导入的三色预警表" in client.post(reverse("workbook_import")).content.decode()
    uploads_in_tmp.mkdir(parents=True, exist_ok=True)
    (uploads_in_tmp / "someone-elses.xlsx").write_bytes(office_workbook(ROWS))
    response = client.post(reverse("workbook_import_confirm"), {"token": "someone-elses"})
    assert response.status_code == 400 and not Project.objects.exists()
    assert client.post(reverse("workbook_import_confirm"), {"token": "../x"}).status_code == 400


def test_old_abandoned_uploads_are_cleaned(client, role_users, uploads_in_tmp):
    import os
    import time

    uploads_in_tmp.mkdir(parents=True, exist_ok=True)
    old = uploads_in_tmp / "old.xlsx"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    client.force_login(role_users["office"])
    upload(client)
    assert not old.exists()
    assert len(list(uploads_in_tmp.glob("*.xlsx"))) == 1


def test_an_upload_over_10_mb_is_refused_before_reading(client, role_users, monkeypatch):
    monkeypatch.setattr("projects.workbook_views.MAX_BYTES", 1000)
    client.force_login(role_users["office"])
    response = upload(client, b"x" * 1001)
    assert response.status_code == 400
    assert "文件超过10 MB，无法导入。" in response.content.decode()
