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
from tests.projects.workbook.test_importer import ROWS, office_workbook  # noqa: E402


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path
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
    monkeypatch.setattr("projects.workbook.views.MAX_BYTES", 1000)
    client.force_login(role_users["office"])
    response = upload(client, b"x" * 1001)
    assert response.status_code == 400
    assert "文件超过10 MB，无法导入。" in response.content.decode()


# ---------------------------------------------------------------- re-plans: proposed, or overwritten in replace mode

from datetime import date  # noqa: E402

from projects.models import Milestone, MilestoneReplan, ReplanProposal  # noqa: E402
from projects.replans import replan_propose  # noqa: E402
from projects.workbook.importer import import_workbook  # noqa: E402
from tests.projects.workbook.test_importer import moved_plan  # noqa: E402


@pytest.fixture
def imported(role_users, today):
    """QT-0101 and QT-0102 as the office imported them; QT-0101's 土地挂牌 planned 2026-12-01."""
    assert import_workbook(office_workbook(ROWS), today=today, by=role_users["office"], dry_run=False).applied


def land_listing():
    return Milestone.objects.get(project__code="QT-0101", milestone_type__name="土地挂牌")


def test_a_moved_plan_is_proposed_and_the_preview_and_summary_say_so(client, role_users, imported):
    client.force_login(role_users["office"])
    preview = upload(client, office_workbook(moved_plan()), htmx=True)
    html = preview.content.decode()
    assert "申请调整计划 1 项（待投资管理科审核）" in html
    assert ("1 个节点的计划日期有变，将提交调整计划申请（原因“工作簿导入：三色预警表.xlsx”），"
            "待投资管理科审核后生效；审核前这些节点保持原计划，预警等级不变。") in html
    assert "土地挂牌(计划)：2026-12-01 → 2027-01-15（申请调整计划，待审核）" in html
    assert "直接调整计划" not in html and "data-replans" not in html
    assert not ReplanProposal.objects.exists()  # a preview writes nothing

    summary = client.post(reverse("workbook_import_confirm"), {"token": token_of(preview)}, HTTP_HX_REQUEST="true")
    html = summary.content.decode()
    assert "已提交调整计划申请 1 条，待投资管理科审核" in html
    assert f'href="{reverse("replan_queue")}"' in html
    proposal = ReplanProposal.objects.get()
    assert (proposal.proposer, proposal.reason, proposal.proposed_planned_date) == (
        role_users["office"], "工作簿导入：三色预警表.xlsx", date(2027, 1, 15))
    listing = land_listing()
    assert (listing.planned_date, listing.baseline_date) == (date(2026, 12, 1), date(2026, 12, 1))
    assert listing.project.colour == "yellow"  # until the office approves
    assert not MilestoneReplan.objects.exists()


def test_the_office_s_replace_mode_overwrites_and_the_preview_says_so(client, role_users, imported):
    client.force_login(role_users["office"])
    page = client.get(reverse("workbook_import")).content.decode()
    assert 'name="replace"' in page and "已有的计划日期直接改为表中日期，不经审核" in page
    preview = upload(client, office_workbook(moved_plan()), replace="1")
    html = preview.content.decode()
    assert "直接调整计划 1 项（覆盖模式）" in html
    assert "1 个节点的计划日期将直接调整（覆盖模式），记为“调整计划”（原因：工作簿导入）。" in html
    assert "申请调整计划" not in html
    summary = client.post(reverse("workbook_import_confirm"), {"token": token_of(preview)})
    assert "记录调整计划 1 条（原因：工作簿导入）。" in summary.content.decode()
    assert land_listing().planned_date == date(2027, 1, 15)
    assert MilestoneReplan.objects.get().author == role_users["office"]
    assert not ReplanProposal.objects.exists()


def test_a_pending_proposal_is_reported_in_the_preview_and_the_rest_imports(
    client, role_users, imported, today
):
    pending = replan_propose(land_listing(), proposed_planned_date=date(2027, 2, 1), reason="电力增容",
                             by=role_users["cadre1"], today=today)
    client.force_login(role_users["office"])
    rows = moved_plan(c16="电力增容待确认")
    preview = upload(client, office_workbook(rows))
    html = preview.content.decode()
    assert "1 个计划日期本次不调整（不算错误，该行其余改动照常导入）" in html
    assert ("第3行 QT-0101：土地挂牌(计划)：该节点已有待审核的调整计划申请（申请改为2027-02-01），"
            "本次不调整，请先在“调整计划审核”中处理") in html
    assert "确认导入（新增 0，更新 1）" in html and "申请调整计划 1 项" not in html
    summary = client.post(reverse("workbook_import_confirm"), {"token": token_of(preview)})
    assert "1 个计划日期未调整（该行其余改动已导入）" in summary.content.decode()
    assert list(ReplanProposal.objects.all()) == [pending]
    assert land_listing().planned_date == date(2026, 12, 1)
    assert Project.objects.get(code="QT-0101").open_problems == "电力增容待确认"


def test_replace_mode_is_the_office_s_alone(client, role_users, imported, monkeypatch, uploads_in_tmp):
    """Should anyone but the office ever import, they propose re-plans: replace is refused."""
    monkeypatch.setattr("projects.workbook.views.can_import_workbook", lambda user: user.is_authenticated)
    client.force_login(role_users["cadre1"])
    page = client.get(reverse("workbook_import"))
    assert page.status_code == 200 and 'name="replace"' not in page.content.decode()
    assert upload(client, office_workbook(moved_plan()), replace="1").status_code == 403
    assert not uploads_in_tmp.exists() or not list(uploads_in_tmp.iterdir())
    preview = upload(client, office_workbook(moved_plan()))
    assert "申请调整计划 1 项（待投资管理科审核）" in preview.content.decode()

    token = token_of(preview)  # a session entry turned to replace mode is refused at confirm
    session = client.session
    session["workbook_imports"][token]["replace"] = True
    session.save()
    assert client.post(reverse("workbook_import_confirm"), {"token": token}).status_code == 403
    assert land_listing().planned_date == date(2026, 12, 1) and not ReplanProposal.objects.exists()


def test_a_changed_problems_cell_is_said_in_the_preview_to_become_an_item(client, role_users, imported):
    from projects.models import CoordinationItem

    before = set(CoordinationItem.objects.values_list("pk", flat=True))  # QT-0102's, from the first import
    client.force_login(role_users["office"])
    unchanged = upload(client, office_workbook(ROWS), htmx=True).content.decode()
    assert "data-items" not in unchanged and "将转为协调事项" not in unchanged

    rows = [row[:] for row in ROWS]
    rows[0][16] = "施工用电增容待供电公司确认"  # QT-0101's 存在问题, stored empty
    preview = upload(client, office_workbook(rows), htmx=True)
    html = preview.content.decode()
    assert ("<p data-items>1 个项目的“存在问题”有变，将转为协调事项，"
            "待投资管理科分派责任单位和办结时限。</p>") in html
    assert set(CoordinationItem.objects.values_list("pk", flat=True)) == before  # a preview writes nothing

    client.post(reverse("workbook_import_confirm"), {"token": token_of(preview)}, HTTP_HX_REQUEST="true")
    item = CoordinationItem.objects.exclude(pk__in=before).get()
    assert (item.project.code, item.need, item.department) == ("QT-0101", "施工用电增容待供电公司确认", None)


def test_the_confirm_page_asks_how_far_the_import_is_and_hears_it_row_by_row(client, role_users, monkeypatch):
    """While the confirm request runs, its page asks the progress URL every second: 204 until
    the import reports, then how many rows are checked or written; nothing is left after."""
    from projects.workbook import views as workbook_views
    from projects.workbook.progress import progress_text

    client.force_login(role_users["office"])
    preview = upload(client, htmx=True)
    token = token_of(preview)
    url = reverse("workbook_import_progress") + f"?token={token}"
    assert f'data-import-progress="{url}"' in preview.content.decode()
    assert client.get(url).status_code == 204

    heard = []
    real_import = workbook_views.import_workbook

    def import_and_ask(*args, **kwargs):
        def progress(phase, done, total):
            kwargs_progress(phase, done, total)
            answer = client.get(url)
            heard.append((answer.status_code, answer.content.decode()))

        kwargs_progress = kwargs["progress"]
        return real_import(*args, **{**kwargs, "progress": progress})

    monkeypatch.setattr(workbook_views, "import_workbook", import_and_ask)
    summary = client.post(reverse("workbook_import_confirm"), {"token": token}, HTTP_HX_REQUEST="true")
    assert summary.status_code == 200 and Project.objects.count() == 2
    assert (200, "已检查 2 / 2 行") in heard
    assert progress_text(token) is None, "forgotten when the import ends"


def test_only_the_office_asks_for_an_import_s_progress_and_only_of_its_own_upload(client, role_users):
    from projects.workbook.progress import progress_reporter

    client.force_login(role_users["office"])
    token = token_of(upload(client, htmx=True))
    progress_reporter(token)("write", 400, 1500)
    url = reverse("workbook_import_progress")
    answer = client.get(url, {"token": token})
    assert answer.status_code == 200 and answer.content.decode() == "已写入 400 / 1,500 行"
    assert answer["Content-Type"].startswith("text/plain")
    assert client.get(url, {"token": "someone-elses"}).status_code == 204

    other_office = role_users["office"].__class__.objects.create_user("office2", password="pw-for-tests-1")
    other_office.groups.set(role_users["office"].groups.all())
    client.force_login(other_office)
    assert client.get(url, {"token": token}).status_code == 204, "another session's upload"
    client.force_login(role_users["cadre1"])
    assert client.get(url, {"token": token}).status_code == 403
