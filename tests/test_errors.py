"""Error answers in the reader's language: a busy embedded database is a 503 that loses
nothing and says to retry; 403 and 404 are pages of the site, not Django's English stubs."""
import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import translation

from projects.models import Project

pytestmark = pytest.mark.django_db

BUSY = "系统正忙（正在重算预警或导入数据），您的操作未保存，请稍后重试。"


@pytest.fixture
def locked_database(monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("projects.views.services.project_progress_save", locked)


def test_a_save_that_finds_the_database_locked_answers_503_and_says_so(client, role_users, make_project, locked_database):
    project = make_project("QT-0001", responsible_cadre=role_users["cadre1"])
    client.force_login(role_users["cadre1"])
    url = reverse("progress_edit", kwargs={"code": project.code, "kind": "progress"})
    page = client.post(url, {"text": "已开工"})
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert BUSY in page.content.decode()
    fragment = client.post(url, {"text": "已开工"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 503 and fragment.content.decode() == BUSY
    assert Project.objects.get().progress_note == ""


def test_the_handler500_answers_busy_for_a_locked_database_and_500_otherwise(rf):
    from qiantang.errors import server_error

    request = rf.get("/")
    try:
        raise OperationalError("database is locked")
    except OperationalError:
        assert server_error(request).status_code == 503
    try:
        raise OperationalError("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused")
    except OperationalError:
        unreachable = server_error(request)
    assert unreachable.status_code == 503 and unreachable["Retry-After"] == "5"
    assert "数据库暂时无法访问" in unreachable.content.decode()
    try:
        raise ValueError("boom")
    except ValueError:
        page = server_error(request)
    assert page.status_code == 500 and "服务器出错" in page.content.decode()


def test_a_view_whose_database_goes_away_answers_503_and_says_to_retry(client, role_users, make_project, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("projects.views.services.project_progress_save", unreachable)
    project = make_project("QT-0001", responsible_cadre=role_users["cadre1"])
    client.force_login(role_users["cadre1"])
    url = reverse("progress_edit", kwargs={"code": project.code, "kind": "progress"})
    fragment = client.post(url, {"text": "已开工"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 503 and "数据库暂时无法访问" in fragment.content.decode()


def test_403_and_404_are_the_site_s_own_pages_in_the_reader_s_language(client, role_users):
    client.force_login(role_users["leader"])
    missing = client.get("/projects/QT-NOPE-0000/")
    assert missing.status_code == 404 and "页面不存在" in missing.content.decode()
    forbidden = client.get(reverse("workbook_import"))
    assert forbidden.status_code == 403 and "无权访问" in forbidden.content.decode()
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        assert "Page not found" in client.get("/projects/QT-NOPE-0000/").content.decode()
