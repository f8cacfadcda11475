"""The office exports its sheet, edits it as it would in Excel, and imports it back.

Upload → preview (created / updated / new cadre, nothing written yet) → confirm →
summary, at 1280 px and 375 px; screenshots go to test-artifacts/.
"""
import re
from io import BytesIO

import openpyxl
import pytest
from playwright.sync_api import expect

from projects.demo import seed_demo
from projects.models import MilestoneReplan, Project, ReplanProposal
from projects.workbook.exporter import build_workbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "browser-demo-pw-1"


@pytest.fixture
def demo(settings, today, tmp_path):
    settings.VAR_DIR = tmp_path
    return seed_demo(projects=40, password=PASSWORD, today=today)


def edited_export(tmp_path) -> str:
    """The export, edited as the office would: a moved plan, a new project with a new cadre."""
    book = build_workbook(Project.objects.all())
    sheet = book.active
    columns = {cell.value: cell.column for cell in sheet[2]}
    for row in range(3, sheet.max_row + 1):
        planned = sheet.cell(row, columns["竣工验收(计划)"])
        actual = sheet.cell(row, columns["竣工验收(实际)"])
        if sheet.cell(row, columns["项目状态"]).value == "推进中" and planned.value and not actual.value:
            planned.value = "2029年6月30日"
            break
    new = sheet.max_row + 1
    for header, value in {
        "项目编号": "QT-9001", "项目名称": "沙芯半导体设备零部件项目", "项目级别": "区重点",
        "产业类别": "集成电路", "总投资(亿元)": "5.6", "牵头单位": "区经信局", "责任干部": "欧新同",
        "过会(计划)": "2026.12.20",
    }.items():
        sheet.cell(new, columns[header], value)
    stream = BytesIO()
    book.save(stream)
    path = tmp_path / "三色预警表-编辑后.xlsx"
    path.write_bytes(stream.getvalue())
    return str(path)


def sign_in_as_office(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill("office")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".topbar .who")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 375])
def test_office_uploads_previews_confirms_and_sees_the_summary(
    page, live_server, demo, tmp_path, artifacts, width
):
    path = edited_export(tmp_path)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as_office(page, live_server)
    page.get_by_role("link", name="导入预警表").click()
    expect(page.get_by_role("heading", name="导入三色预警表")).to_be_visible()
    page.screenshot(path=artifacts / f"workbook-upload-{width}.png", full_page=True)

    page.get_by_label(re.compile("选择工作簿")).set_input_files(path)
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_role("heading", name=re.compile("导入预览"))).to_be_visible()
    expect(page.locator("[data-count=created]")).to_have_text("1")
    expect(page.locator("[data-count=updated]")).to_have_text("1")
    expect(page.locator("[data-count=unchanged]")).to_have_text("39")
    expect(page.locator("[data-count=errors]")).to_have_text("0")
    expect(page.locator("[data-new-cadres]")).to_contain_text("欧新同")
    # A moved plan is proposed to the office's queue, not overwritten (merge mode).
    expect(page.locator("[data-proposals]")).to_contain_text("将提交调整计划申请")
    expect(page.locator("li[data-updated] [data-row-proposals]")).to_have_text("申请调整计划 1 项（待投资管理科审核）")
    expect(page.locator("li[data-updated]")).to_contain_text("竣工验收(计划)")
    assert not Project.objects.filter(code="QT-9001").exists()  # nothing written yet
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=artifacts / f"workbook-preview-{width}.png", full_page=True)

    page.get_by_role("button", name=re.compile("确认导入")).click()
    expect(page.get_by_role("heading", name=re.compile("导入完成"))).to_be_visible()
    expect(page.locator(".wb-done")).to_contain_text("新增 1 个项目，更新 1 个，未变 39 个")
    expect(page.locator("[data-proposals]")).to_contain_text("已提交调整计划申请 1 条")
    page.screenshot(path=artifacts / f"workbook-summary-{width}.png", full_page=True)

    created = Project.objects.get(code="QT-9001")
    assert created.colour == "green" and created.responsible_cadre.is_active is False
    assert not MilestoneReplan.objects.filter(reason="工作簿导入").exists()
    proposal = ReplanProposal.objects.get(reason="工作簿导入：三色预警表-编辑后.xlsx")
    assert (proposal.state, proposal.proposer.username) == ("pending", "office")


def test_office_sees_the_errors_of_a_bad_sheet(page, live_server, demo, tmp_path, artifacts):
    book = openpyxl.Workbook()
    book.active.append(["2025年11月重点项目三色预警表"])
    book.active.append(["项目编号", "项目名称", "土地挂牌（计划）", "联系人"])
    book.active.append(["QT-9002", "新项目", "11月底", "张三"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in_as_office(page, live_server)
    page.goto(f"{live_server.url}/workbook/import/")
    page.get_by_label(re.compile("选择工作簿")).set_input_files(str(path))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.locator(".wb-error-list li")).to_have_text(["第3行 土地挂牌(计划)：无法识别的日期“11月底”"])
    expect(page.get_by_role("button", name=re.compile("确认导入"))).to_have_count(0)
    page.screenshot(path=artifacts / "workbook-errors-1280.png", full_page=True)


@pytest.mark.parametrize("width", [1280, 375])
def test_a_long_import_shows_how_far_it_is_while_it_runs(
    page, live_server, demo, tmp_path, artifacts, width, settings, monkeypatch
):
    """Written in batches (SQLite's short transactions) and slowed between them, the import's
    confirm page shows rows checked, then rows written, until the summary replaces it."""
    import time

    from projects.workbook import importer

    settings.SHORT_TRANSACTIONS = True
    settings.IMPORT_BATCH_ROWS = 10
    monkeypatch.setattr(importer, "let_others_write", lambda: time.sleep(1.5))
    path = edited_export(tmp_path)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as_office(page, live_server)
    page.goto(f"{live_server.url}/workbook/import/")
    page.get_by_label(re.compile("选择工作簿")).set_input_files(path)
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_role("heading", name=re.compile("导入预览"))).to_be_visible()

    page.get_by_role("button", name=re.compile("确认导入")).click()
    progress = page.locator("[data-import-progress]")
    expect(progress).to_have_text(re.compile(r"已写入 (10|20|30) / 41 行"), timeout=10_000)
    page.screenshot(path=artifacts / f"workbook-import-progress-{width}.png", full_page=True)
    expect(page.get_by_role("heading", name=re.compile("导入完成"))).to_be_visible(timeout=20_000)
    assert Project.objects.filter(code="QT-9001").exists()
