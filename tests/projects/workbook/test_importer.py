"""Importing the office's own sheet: upsert by 项目编号, preview first, all or nothing."""
import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from projects.models import Department, Milestone, MilestoneReplan, MilestoneType, Project, ReplanProposal
from projects.replans import replan_propose
from projects.workbook.exporter import build_workbook
from projects.workbook.importer import (
    ENCRYPTED_STREAM,
    MAX_BYTES,
    OLE_MAGIC,
    REPLAN_REASON,
    import_workbook,
)
from qiantang_warnings.models import StatusChange
from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_chinese():
    """Messages are checked in the office's language, whatever a previous test activated."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield

HEADER = [
    "序号", "项目编号", "项目名称", "项目级别", "产业类别", "总投资（亿元）", "牵头单位", "责任干部",
    "项目状态", "过会（计划）", "过会（实际）", "项目签约(计划)", "项目签约(实际)", "土地挂牌 (计划)",
    "备注", "进展情况", "存在问题",
]


def as_bytes(book) -> bytes:
    stream = BytesIO()
    book.save(stream)
    return stream.getvalue()


def office_workbook(rows, *, header=HEADER, title="2025年11月重点项目三色预警表", sheet="三色预警表"):
    """The sheet as the office keeps it: a merged title row, then the header, then rows."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["请按月更新"])
    sheet = book.create_sheet(sheet)
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    return as_bytes(book)


ROWS = [
    [1, "QT-0101", "澜康微电子先进封装项目", "省重点", "集成电路", 12.5, "区经信局", "王建国", "推进中",
     datetime(2026, 3, 1), "2026/3/5", "2026.4.1", "2026年4月20日", "20261201", "领导关注", "正在施工图审查。", ""],
    [2, "QT-0102", "钱芯生物医药基地", "区重点", "生物医药", "3.20", "下沙街道", "陈新人", "",
     "2026-05-10", None, "不适用", "—", None, None, None, "地块征迁未完成"],
]


def import_rows(rows=ROWS, **kwargs):
    kwargs.setdefault("today", date(2026, 11, 25))
    kwargs.setdefault("dry_run", False)
    return import_workbook(office_workbook(rows), **kwargs)


def counts():
    return (
        Project.objects.count(), Milestone.objects.count(), MilestoneReplan.objects.count(),
        Department.objects.count(), User.objects.count(), StatusChange.objects.count(),
        ReplanProposal.objects.count(),
    )


@pytest.fixture
def cadre(db):
    return User.objects.create_user("wangjg", last_name="王", first_name="建国")


def test_preview_of_the_offices_sheet_writes_nothing(cadre):
    before = counts()
    result = import_rows(dry_run=True)
    assert result.ok and not result.applied
    assert result.sheet_name == "三色预警表"  # the named sheet, not the first
    assert [row.code for row in result.created] == ["QT-0101", "QT-0102"]
    assert result.unknown_columns == ["备注"]  # 序号 is a usual column, ignored quietly
    assert result.new_cadres == ["陈新人"]
    assert result.new_departments == ["区经信局", "下沙街道"]
    assert counts() == before


def test_import_creates_projects_milestones_accounts_and_colours(cadre, today):
    result = import_rows()
    assert result.applied and len(result.created) == 2

    chip = Project.objects.get(code="QT-0101")
    assert (chip.name, chip.level, chip.sector, chip.total_investment) == (
        "澜康微电子先进封装项目", "provincial", "集成电路", Decimal("12.50"))
    assert chip.responsible_cadre == cadre
    assert chip.lead_department.name == "区经信局"
    assert chip.progress_note == "正在施工图审查。"
    dates = {m.milestone_type.name: (m.planned_date, m.actual_date, m.baseline_date, m.not_applicable)
             for m in chip.milestones.select_related("milestone_type")}
    assert dates == {
        "过会": (date(2026, 3, 1), date(2026, 3, 5), date(2026, 3, 1), False),
        "项目签约": (date(2026, 4, 1), date(2026, 4, 20), date(2026, 4, 1), False),
        "土地挂牌": (date(2026, 12, 1), None, date(2026, 12, 1), False),
        # The types the sheet left blank are blank milestones, not absent ones.
        **{name: (None, None, None, False) for name in
           ["土地出让", "工程规划许可", "施工许可", "开工", "竣工验收", "投产"]},
    }
    # Colours are recomputed at once, not at the next beat.
    assert (chip.colour, chip.computed_as_of) == ("yellow", today)
    assert chip.headline_reason == "土地挂牌将于6天后到期"

    bio = Project.objects.get(code="QT-0102")
    assert (bio.level, bio.state, bio.lead_department.kind) == ("district", "active", "street")
    assert bio.milestones.get(milestone_type__name="项目签约").not_applicable is True
    newcomer = bio.responsible_cadre
    assert (newcomer.last_name, newcomer.first_name, newcomer.is_active) == ("陈", "新人", False)
    assert not newcomer.has_usable_password()
    assert newcomer.groups.filter(name="cadre").exists()
    assert bio.colour == "red"  # 过会 planned 2026-05-10, still open


def moved_plan(**cells):
    """ROWS with QT-0101's 土地挂牌(计划) moved from 2026-12-01 to 2027-01-15 (and more cells)."""
    edited = [row[:] for row in ROWS]
    edited[0][13] = "2027-01-15"
    for index, value in cells.items():
        edited[0][int(index.lstrip("c"))] = value
    return edited


def test_a_blank_cell_never_erases_and_a_changed_plan_is_proposed_not_overwritten(cadre, role_users):
    """Merge mode (was: the plan overwritten with a MilestoneReplan). Issue 11: a changed
    planned date is a re-plan the office decides, so the import files a pending proposal by
    the importing user; the plan, its baseline and the colour stay until approval."""
    import_rows()
    edited = moved_plan(c3=None, c11=None, c16="电力增容待确认")  # 项目级别, 项目签约(计划) blank: kept
    result = import_rows(edited, by=role_users["office"])
    assert [row.code for row in result.updated] == ["QT-0101"]
    assert [row.code for row in result.unchanged] == ["QT-0102"]
    row = result.updated[0]
    assert (row.proposals, row.replans, row.skipped) == (["土地挂牌：2026-12-01 → 2027-01-15"], [], [])
    assert "土地挂牌(计划)：2026-12-01 → 2027-01-15（申请调整计划，待审核）" in row.changes
    assert "存在问题：（空） → 电力增容待确认" in row.changes
    assert (result.proposal_count, result.replan_count) == (1, 0)

    chip = Project.objects.get(code="QT-0101")
    assert chip.level == "provincial"
    assert chip.open_problems == "电力增容待确认"
    signing = chip.milestones.get(milestone_type__name="项目签约")
    assert signing.planned_date == date(2026, 4, 1)
    listing = chip.milestones.get(milestone_type__name="土地挂牌")
    assert (listing.planned_date, listing.baseline_date) == (date(2026, 12, 1), date(2026, 12, 1))
    assert not MilestoneReplan.objects.exists()
    proposal = ReplanProposal.objects.get()
    assert (proposal.milestone, proposal.state, proposal.proposer) == (listing, "pending", role_users["office"])
    assert (proposal.previous_planned_date, proposal.proposed_planned_date) == (
        date(2026, 12, 1), date(2027, 1, 15))
    assert proposal.reason == "工作簿导入：三色预警表"  # the sheet's name when no file name is given
    assert proposal.history.get().history_user == role_users["office"]
    # Still due in 6 days: yellow until the office approves.
    assert (chip.colour, chip.headline_reason) == ("yellow", "土地挂牌将于6天后到期")


def test_the_proposals_reason_names_the_file(cadre, role_users):
    import_rows()
    import_rows(moved_plan(), by=role_users["office"], source_name=" 2026年11月三色预警表.xlsx ")
    assert ReplanProposal.objects.get().reason == "工作簿导入：2026年11月三色预警表.xlsx"


def test_a_first_plan_an_actual_date_and_not_applicable_stay_direct_edits(cadre, role_users):
    import_rows()
    edited = [row[:] for row in ROWS]
    edited[1][13] = "2026-12-30"  # QT-0102 土地挂牌: no plan yet
    edited[1][10] = "2026-05-12"  # 过会(实际)
    edited[0][13] = "不适用"  # QT-0101 土地挂牌: planned, not done
    result = import_rows(edited, by=role_users["office"])
    assert result.applied and result.proposal_count == 0 and result.replan_count == 0
    bio = Project.objects.get(code="QT-0102")
    listing = bio.milestones.get(milestone_type__name="土地挂牌")
    assert (listing.planned_date, listing.baseline_date) == (date(2026, 12, 30), date(2026, 12, 30))
    assert bio.milestones.get(milestone_type__name="过会").actual_date == date(2026, 5, 12)
    assert Project.objects.get(code="QT-0101").milestones.get(milestone_type__name="土地挂牌").not_applicable
    assert not ReplanProposal.objects.exists() and not MilestoneReplan.objects.exists()


@pytest.mark.parametrize("replace", [False, True])
def test_marking_a_done_milestone_not_applicable_is_refused_and_nothing_is_written(cadre, role_users, replace):
    """Done and not applicable never both: the import names the stored actual date and writes
    nothing, in either mode (the office clears the actual date on the project page first)."""
    import_rows()
    edited = [row[:] for row in ROWS]
    edited[0][11], edited[0][12] = "不适用", "—"  # QT-0101 项目签约, done on 2026-04-20
    edited[0][15] = "改过的进展"
    result = import_rows(edited, by=role_users["office"], replace=replace)
    assert not result.applied
    assert [str(error) for error in result.errors] == [
        "第3行 项目签约(实际)：已有实际完成日期，不能标为不适用（须先在项目页面清除实际完成日期）“2026-04-20”"
    ]
    signing = Milestone.objects.get(project__code="QT-0101", milestone_type__name="项目签约")
    assert (signing.actual_date, signing.not_applicable) == (date(2026, 4, 20), False)
    assert Project.objects.get(code="QT-0101").progress_note == "正在施工图审查。"


def test_replace_mode_overwrites_a_plan_with_a_replan_record(cadre, role_users):
    import_rows()
    result = import_rows(moved_plan(), by=role_users["office"], replace=True)
    row = result.updated[0]
    assert (row.replans, row.proposals) == (["土地挂牌：2026-12-01 → 2027-01-15"], [])
    assert "土地挂牌(计划)：2026-12-01 → 2027-01-15（记为调整计划）" in row.changes
    chip = Project.objects.get(code="QT-0101")
    listing = chip.milestones.get(milestone_type__name="土地挂牌")
    assert (listing.planned_date, listing.baseline_date) == (date(2027, 1, 15), date(2026, 12, 1))
    replan = MilestoneReplan.objects.get()
    assert (replan.old_planned_date, replan.new_planned_date, replan.reason, replan.author) == (
        date(2026, 12, 1), date(2027, 1, 15), REPLAN_REASON, role_users["office"])
    assert not ReplanProposal.objects.exists()
    assert chip.colour == "green"


def test_replace_mode_overwrites_beside_a_pending_proposal_and_says_so(cadre, role_users, today):
    import_rows()
    listing = Milestone.objects.get(project__code="QT-0101", milestone_type__name="土地挂牌")
    pending = replan_propose(listing, proposed_planned_date=date(2027, 2, 1), reason="电力增容",
                             by=role_users["cadre1"], today=today)
    result = import_rows(moved_plan(), by=role_users["office"], replace=True)
    assert ("土地挂牌(计划)：2026-12-01 → 2027-01-15（记为调整计划；该节点另有待审核的调整计划申请）"
            in result.updated[0].changes)
    listing.refresh_from_db()
    assert listing.planned_date == date(2027, 1, 15)
    pending.refresh_from_db()
    assert pending.is_pending  # still the office's to decide, in its queue


@pytest.mark.parametrize("policy_on", ["type", "project"])
def test_where_the_office_allows_direct_re_plans_a_merge_import_overwrites(cadre, role_users, policy_on):
    import_rows()
    if policy_on == "type":
        MilestoneType.objects.filter(name="土地挂牌").update(direct_replan_allowed=True)
    else:
        Project.objects.filter(code="QT-0101").update(direct_replan_allowed=True)
    result = import_rows(moved_plan(), by=role_users["office"])
    assert (result.replan_count, result.proposal_count) == (1, 0)
    listing = Milestone.objects.get(project__code="QT-0101", milestone_type__name="土地挂牌")
    assert listing.planned_date == date(2027, 1, 15)
    assert MilestoneReplan.objects.get().reason == REPLAN_REASON
    assert not ReplanProposal.objects.exists()


def test_a_plan_with_a_pending_proposal_is_left_alone_and_the_rest_of_the_row_applies(
    cadre, role_users, today
):
    """An office re-importing its sheet should not be blocked by one proposal a cadre filed:
    that cell is reported and skipped (the queue decides it); the row's other changes apply."""
    import_rows()
    listing = Milestone.objects.get(project__code="QT-0101", milestone_type__name="土地挂牌")
    pending = replan_propose(
        listing, proposed_planned_date=date(2027, 2, 1), reason="电力增容", by=role_users["cadre1"],
        today=today,
    )
    result = import_rows(moved_plan(c16="电力增容待确认"), by=role_users["office"])
    assert result.applied and result.ok
    row = result.updated[0]
    assert row.proposals == [] and row.changes == ["存在问题：（空） → 电力增容待确认"]
    assert row.skipped == [
        "土地挂牌(计划)：该节点已有待审核的调整计划申请（申请改为2027-02-01），本次不调整，请先在“调整计划审核”中处理"
    ]
    assert result.skipped == [row] and result.skipped_count == 1
    assert list(ReplanProposal.objects.all()) == [pending]
    listing.refresh_from_db()
    assert listing.planned_date == date(2026, 12, 1)
    assert Project.objects.get(code="QT-0101").open_problems == "电力增容待确认"


def test_a_done_milestone_s_plan_is_not_proposed(cadre, role_users):
    import_rows()
    edited = [row[:] for row in ROWS]
    edited[0][9] = "2026-03-02"  # 过会(计划): 过会 was done on 2026-03-05
    result = import_rows(edited, by=role_users["office"])
    assert result.applied
    assert [row.action for row in result.rows] == ["unchanged", "unchanged"]
    assert result.rows[0].skipped == ["过会(计划)：该节点已完成，计划日期不调整（表中为2026-03-02）"]
    assert not ReplanProposal.objects.exists()
    approval = Milestone.objects.get(project__code="QT-0101", milestone_type__name="过会")
    assert approval.planned_date == date(2026, 3, 1)


def test_a_plan_moved_in_the_row_that_records_its_actual_date_is_not_proposed(cadre, role_users):
    import_rows()
    result = import_rows(moved_plan(), by=role_users["office"], dry_run=True)
    assert result.proposal_count == 1
    header = HEADER + ["土地挂牌(实际)"]
    rows = [row + [None] for row in moved_plan()]
    rows[0][-1] = "2026-11-20"
    result = import_workbook(office_workbook(rows, header=header), today=date(2026, 11, 25),
                             by=role_users["office"], dry_run=False)
    assert result.applied and result.proposal_count == 0
    assert result.rows[0].skipped == ["土地挂牌(计划)：该节点已完成，计划日期不调整（表中为2027-01-15）"]
    listing = Milestone.objects.get(project__code="QT-0101", milestone_type__name="土地挂牌")
    assert (listing.planned_date, listing.actual_date) == (date(2026, 12, 1), date(2026, 11, 20))


def test_proposals_need_a_proposer_or_nothing_is_written(cadre):
    import_rows()
    before = counts()
    result = import_rows(moved_plan(c16="电力增容待确认"))  # by=None
    assert result.ok and result.proposer_missing and not result.applied
    assert counts() == before
    assert Project.objects.get(code="QT-0101").open_problems == ""
    # A sheet that proposes nothing needs no proposer.
    assert import_rows([row[:15] + ["新进展", ""] for row in ROWS]).applied


def test_proposals_are_written_in_bulk(make_project, role_users, today):
    """A 260-row sheet of moved plans: the queries do not grow with the rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def sheet(codes, planned):
        return code_and_name_and_plan([[code, f"测试项目{code}", planned] for code in codes])

    codes = [f"QT-{n:04d}" for n in range(30)]
    for code in codes:
        make_project(code, milestones={"approval": dict(planned_date=date(2026, 12, 1),
                                                        baseline_date=date(2026, 12, 1))})
    queries = []
    for few in (codes[:3], codes[3:30]):
        with CaptureQueriesContext(connection) as captured:
            result = import_workbook(sheet(few, "2027-01-15"), today=today, by=role_users["office"],
                                     dry_run=False)
        assert result.applied and result.proposal_count == len(few)
        queries.append(len(captured))
    assert queries[0] == queries[1], queries
    assert ReplanProposal.objects.filter(state="pending").count() == 30


def code_and_name_and_plan(rows):
    return office_workbook(rows, header=["项目编号", "项目名称", "过会(计划)"], title=None)


def test_replace_mode_erases_blank_cells_of_the_columns_in_the_file(cadre):
    import_rows()
    edited = [row[:] for row in ROWS]
    edited[0][3] = None
    edited[0][15] = None  # 进展情况
    edited[0][13] = None  # 土地挂牌(计划)
    result = import_rows(edited, replace=True)
    assert result.replace
    chip = Project.objects.get(code="QT-0101")
    assert chip.level == "district" and chip.progress_note == ""
    assert chip.name == "澜康微电子先进封装项目"  # never erased
    assert chip.milestones.get(milestone_type__name="土地挂牌").planned_date is None


def test_any_error_means_nothing_is_written(cadre):
    import_rows()
    before = counts()
    edited = [row[:] for row in ROWS]
    edited[0][2] = "改了名字"
    edited[1][13] = "11月底"
    edited.append([3, "QT-0103", "", None, None, None, None, None, None, "2030-01-01", "2026-12-31"])
    result = import_rows(edited)
    assert not result.applied
    assert [str(error) for error in result.errors] == [
        "第4行 土地挂牌(计划)：无法识别的日期“11月底”",
        "第5行 过会(实际)：实际完成日期不能晚于今天“2026-12-31”",
    ]
    assert counts() == before
    assert Project.objects.get(code="QT-0101").name == "澜康微电子先进封装项目"


def test_a_new_project_needs_its_name(cadre):
    result = import_rows([[1, "QT-0109", None]])
    assert [str(e) for e in result.errors] == ["第3行 项目名称：新项目须填写项目名称“”"]
    assert not Project.objects.exists()


def test_round_trip_of_the_export_changes_nothing(make_project, today, cadre):
    bureau = Department.objects.create(name="区住建局")
    make_project(
        "QT-0001", level="municipal", sector="新材料", total_investment=Decimal("7.05"),
        lead_department=bureau, responsible_cadre=cadre, progress_note="第一行\n第二行",
        milestones={
            "approval": dict(planned_date=date(2026, 1, 4), actual_date=date(2026, 1, 9),
                             baseline_date=date(2025, 12, 1)),
            "signing": dict(not_applicable=True),
            "land_listing": dict(planned_date=today - timedelta(days=3)),
        },
    )
    make_project("QT-0002", state=Project.State.TERMINATED, open_problems="企业撤资")
    recompute_all(today=today)
    before = counts()
    data = as_bytes(build_workbook(Project.objects.all()))
    result = import_workbook(data, today=today, dry_run=False)
    assert result.ok and result.unknown_columns == [] and result.new_cadres == []
    assert [row.code for row in result.unchanged] == ["QT-0001", "QT-0002"]
    assert counts() == before


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "文件是空的"),
        (b"project,name\nQT-1,x\n", "这不是Excel工作簿（.xlsx）"),
        (OLE_MAGIC + b"\0" * 600 + ENCRYPTED_STREAM + b"\0" * 100, "工作簿设有打开密码"),
        (OLE_MAGIC + b"\0" * 700, "旧版Excel（.xls）"),
        (b"x" * (MAX_BYTES + 1), "文件超过10 MB"),
    ],
    ids=["empty-file", "csv", "password", "xls", "too-big"],
)
def test_files_that_are_refused_with_one_message(data, message):
    result = import_workbook(data, today=date(2026, 11, 25), dry_run=False)
    assert message in result.refusal
    assert not result.applied and not Project.objects.exists()


def test_a_zip_that_is_no_workbook_is_refused():
    stream = BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("hello.txt", "hi")
    result = import_workbook(stream.getvalue(), today=date(2026, 11, 25))
    assert "这不是Excel工作簿" in result.refusal


def test_an_empty_workbook_is_refused():
    result = import_workbook(as_bytes(openpyxl.Workbook()), today=date(2026, 11, 25))
    assert result.refusal == "工作簿是空的，没有可导入的项目。"
    header_only = office_workbook([])
    assert import_workbook(header_only, today=date(2026, 11, 25)).refusal == "工作簿是空的，没有可导入的项目。"


def test_a_sheet_without_code_or_name_is_refused():
    no_code = office_workbook([["X", "名称"]], header=["备注", "项目名称"])
    assert import_workbook(no_code, today=date(2026, 11, 25)).refusal == "缺少“项目编号”列，请检查表头。"
    no_header = office_workbook([["QT-1", "名称"]], header=["编号", "名称"])
    assert "找不到“项目编号”和“项目名称”列" in import_workbook(no_header, today=date(2026, 11, 25)).refusal


def test_duplicate_codes_in_one_file_are_refused(cadre):
    rows = [ROWS[0], ROWS[1], [3, "QT-0101", "又一个"]]
    result = import_rows(rows)
    assert result.refusal == "同一文件中项目编号重复：QT-0101（第3、5行）。"
    assert not Project.objects.exists()


CODE_MESSAGE = (
    "项目编号只能包含字母、数字、汉字和连字符“-”、下划线“_”、点“.”，"
    "须以字母、数字或汉字开头，最长40个字符"
)


def code_and_name(rows):
    """The smallest sheet the office could send: 项目编号, 项目名称 and nothing else."""
    return office_workbook(rows, header=["项目编号", "项目名称"], title=None)


def test_a_code_that_would_break_the_project_s_url_is_refused_by_row(cadre):
    result = import_workbook(code_and_name([["QT/9001", "x"]]), today=date(2026, 11, 25), dry_run=False)
    assert not result.applied
    assert [str(e) for e in result.errors] == [f"第2行 项目编号：{CODE_MESSAGE}“QT/9001”"]
    assert not Project.objects.exists()


def test_one_bad_code_among_good_rows_means_nothing_is_written(cadre):
    rows = [row[:] for row in ROWS] + [[3, "QT 0103", "新项目"]]
    result = import_rows(rows)
    assert not result.applied
    assert [(e.row, e.column, e.value) for e in result.errors] == [(5, "项目编号", "QT 0103")]
    assert not Project.objects.exists()


def test_codes_are_compared_in_their_one_spelling(cadre):
    result = import_workbook(
        code_and_name([["qt-0001", "甲"], ["QT-0001\u200b", "乙"]]), today=date(2026, 11, 25), dry_run=False
    )
    assert result.refusal == "同一文件中项目编号重复：QT-0001（第2、3行）。"
    assert not Project.objects.exists()


def test_a_lower_case_or_full_width_code_updates_the_stored_project(make_project, cadre):
    stored = make_project("QT-0001", name="旧名")
    result = import_workbook(
        code_and_name([["ｑｔ－０００１", "新名"], [" 2025-钱塘-017\ufeff", "钱塘新项目"]]),
        today=date(2026, 11, 25), dry_run=False,
    )
    assert result.applied, result.errors
    assert [row.code for row in result.updated] == ["QT-0001"]
    assert [row.code for row in result.created] == ["2025-钱塘-017"]
    stored.refresh_from_db()
    assert stored.name == "新名"
    assert sorted(Project.objects.values_list("code", flat=True)) == ["2025-钱塘-017", "QT-0001"]


def test_a_code_of_nothing_but_zero_width_characters_is_blank(cadre):
    result = import_workbook(code_and_name([["\u200b", "x"]]), today=date(2026, 11, 25), dry_run=False)
    assert [str(e) for e in result.errors] == ["第2行 项目编号：不能为空“”"]


def test_command_refuses_a_bad_code_and_writes_nothing(tmp_path, cadre):
    path = tmp_path / "slash.xlsx"
    path.write_bytes(code_and_name([["QT/9001", "x"]]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="有 1 处错误，未写入任何数据"):
        call_command("import_workbook", str(path), stdout=out, stderr=io.StringIO())
    assert f"第2行 项目编号：{CODE_MESSAGE}“QT/9001”" in out.getvalue()
    assert not Project.objects.exists()


def test_more_than_20000_rows_are_refused(monkeypatch):
    monkeypatch.setattr("projects.workbook.importer.MAX_ROWS", 3)
    rows = [[n, f"QT-{n}", "项目"] for n in range(5)]
    result = import_workbook(office_workbook(rows, header=HEADER[:3], title=None), today=date(2026, 11, 25))
    assert result.refusal == "文件超过20000行，请分批导入。"


def test_command_lists_every_error_and_exits_non_zero(tmp_path, cadre):
    path = tmp_path / "bad.xlsx"
    edited = [row[:] for row in ROWS]
    edited[1][9] = "五月中旬"
    path.write_bytes(office_workbook(edited))
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="有 1 处错误，未写入任何数据"):
        call_command("import_workbook", str(path), stdout=out, stderr=err)
    output = out.getvalue()
    assert "第4行 过会(计划)：无法识别的日期“五月中旬”" in output
    assert output.index("五月中旬") < output.index("新增 1 个，更新 0 个，未变 0 个")
    assert not Project.objects.exists()


def test_command_dry_run_then_import(tmp_path, cadre):
    path = tmp_path / "good.xlsx"
    path.write_bytes(office_workbook(ROWS))
    out = io.StringIO()
    call_command("import_workbook", str(path), "--dry-run", stdout=out)
    assert "新增 2 个，更新 0 个，未变 0 个" in out.getvalue()
    assert "陈新人" in out.getvalue() and "未识别的列（已忽略）：备注" in out.getvalue()
    assert not Project.objects.exists()
    out = io.StringIO()
    call_command("import_workbook", str(path), stdout=out)
    assert "导入完成：新增 2 个" in out.getvalue()
    assert Project.objects.count() == 2

    with pytest.raises(CommandError, match="这不是Excel工作簿"):
        bad = tmp_path / "notes.xlsx"
        bad.write_text("just text")
        call_command("import_workbook", str(bad))


def test_command_files_proposals_in_the_name_given_by_by(tmp_path, cadre, role_users):
    import_rows()
    path = tmp_path / "11月预警表.xlsx"
    path.write_bytes(office_workbook(moved_plan(c16="电力增容待确认")))
    before = counts()

    out = io.StringIO()
    call_command("import_workbook", str(path), "--dry-run", stdout=out)
    assert "第3行 QT-0101 申请调整计划（待投资管理科审核）：土地挂牌：2026-12-01 → 2027-01-15" in out.getvalue()
    assert "导入时须用 --by 用户名 指明申请人" in out.getvalue()

    out = io.StringIO()
    with pytest.raises(CommandError, match="须用 --by 用户名 指明申请人.*未写入任何数据"):
        call_command("import_workbook", str(path), stdout=out)
    assert counts() == before and Project.objects.get(code="QT-0101").open_problems == ""

    for username, message in [("nobody", "找不到用户“nobody”"), ("cadre1", "不是启用的投资管理科账号")]:
        with pytest.raises(CommandError, match=message):
            call_command("import_workbook", str(path), "--by", username, stdout=io.StringIO())
    assert counts() == before

    out = io.StringIO()
    call_command("import_workbook", str(path), "--by", "office", stdout=out)
    assert "已提交调整计划申请 1 条，待投资管理科审核。" in out.getvalue()
    proposal = ReplanProposal.objects.get()
    assert (proposal.proposer, proposal.reason) == (role_users["office"], "工作簿导入：11月预警表.xlsx")
    assert Project.objects.get(code="QT-0101").open_problems == "电力增容待确认"

    out = io.StringIO()  # the same sheet again: the pending proposal is reported, nothing proposed
    call_command("import_workbook", str(path), "--by", "office", stdout=out)
    assert "第3行 QT-0101 计划日期未调整：土地挂牌(计划)：该节点已有待审核的调整计划申请" in out.getvalue()
    assert ReplanProposal.objects.count() == 1


def test_command_replace_mode_overwrites_without_by(tmp_path, cadre):
    import_rows()
    path = tmp_path / "replace.xlsx"
    path.write_bytes(office_workbook(moved_plan()))
    out = io.StringIO()
    call_command("import_workbook", str(path), "--replace", stdout=out)
    assert "第3行 QT-0101 调整计划（原因“工作簿导入”）：土地挂牌：2026-12-01 → 2027-01-15" in out.getvalue()
    listing = Milestone.objects.get(project__code="QT-0101", milestone_type__name="土地挂牌")
    assert listing.planned_date == date(2027, 1, 15)
    assert MilestoneReplan.objects.get().author is None and not ReplanProposal.objects.exists()


def test_the_import_is_in_the_history_with_its_author(cadre, role_users):
    """The moved plan is now a proposal (its own history entry), not a milestone change."""
    import_rows(by=role_users["office"])
    edited = moved_plan(c8="暂缓")
    import_rows(edited, by=role_users["office"])
    chip = Project.objects.get(code="QT-0101")
    latest = chip.history.first()
    assert (latest.state, latest.history_user, latest.history_change_reason) == (
        "paused", role_users["office"], "工作簿导入")
    listing = chip.milestones.get(milestone_type__name="土地挂牌")
    assert listing.history.count() == 1  # unchanged until the office approves
    assert ReplanProposal.objects.get().history.get().history_user == role_users["office"]
    approval = chip.milestones.get(milestone_type__name="过会")
    edited[0][10] = "2026-03-06"  # an actual date: a direct edit
    import_rows(edited, by=role_users["office"])
    assert approval.history.count() == 2
    assert approval.history.first().history_user == role_users["office"]
    # A project whose milestones alone changed gets no new project history record.
    bio_history = Project.objects.get(code="QT-0102").history.count()
    edited[1][13] = "2026-12-30"
    import_rows(edited, by=role_users["office"])
    assert Project.objects.get(code="QT-0102").history.count() == bio_history


def test_namesakes_keep_the_cadre_already_responsible(cadre, today):
    namesake = User.objects.create_user("wangjg2", last_name="王", first_name="建国")
    import_rows()  # creates nothing when the name is ambiguous...
    assert not Project.objects.exists()
    Project.objects.create(code="QT-0101", name="澜康微电子先进封装项目", responsible_cadre=namesake)
    result = import_rows([ROWS[0]], dry_run=True)
    assert result.ok, result.errors  # ...but the stored one of the namesakes is kept
    result = import_rows([ROWS[0][:2] + ["新项目"] + ROWS[0][3:]], dry_run=True)
    assert result.rows[0].action == "updated"
    ambiguous = import_rows([[1, "QT-0199", "另一个项目", None, None, None, None, "王建国"]], dry_run=True)
    assert [str(e) for e in ambiguous.errors] == ["第3行 责任干部：有多个同名账号，请先在系统中区分“王建国”"]


def test_a_column_given_twice_is_refused():
    data = office_workbook([["QT-1", "名称", "2026-01-01", "2026-02-01"]],
                           header=["项目编号", "项目名称", "过会(计划)", "过会（计划）"])
    assert import_workbook(data, today=date(2026, 11, 25)).refusal == "表头有重复的列：过会（计划）。"


def test_the_first_sheet_is_read_when_none_is_named(cadre):
    book = openpyxl.Workbook()
    book.active.append(["项目名称", "项目编号"])
    book.active.append(["第一张表里的项目", "QT-0300"])
    book.create_sheet("其他").append(["项目名称", "项目编号"])
    result = import_workbook(as_bytes(book), today=date(2026, 11, 25))
    assert result.sheet_name == "Sheet" and [r.code for r in result.created] == ["QT-0300"]


def test_a_huge_cell_is_an_error_quoted_only_in_part():
    edited = [row[:] for row in ROWS]
    edited[0][2] = "超长名称" * 50_000  # 200,000 characters in 项目名称
    result = import_workbook(office_workbook(edited), today=date(2026, 11, 25))
    assert not result.applied
    (error,) = result.errors
    assert (error.row, error.column, error.problem) == (3, "项目名称", "超过200个字")
    assert len(str(error)) < 100 and error.value.endswith("…")


def test_a_long_progress_note_is_refused_not_stored():
    edited = [row[:] for row in ROWS]
    edited[0][HEADER.index("进展情况")] = "进" * 5001
    result = import_rows(edited)
    assert [(e.column, e.problem) for e in result.errors] == [("进展情况", "超过5000个字")]
    assert not Project.objects.exists()


def test_a_workbook_that_unpacks_too_large_is_refused_before_parsing(monkeypatch):
    import openpyxl as real_openpyxl

    data = office_workbook(ROWS)
    monkeypatch.setattr("projects.workbook.importer.MAX_UNPACKED_PART", 2000)
    opened = []
    monkeypatch.setattr(real_openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    result = import_workbook(data, today=date(2026, 11, 25))
    assert result.refusal.startswith("工作簿解压后内容过多")
    assert opened == []


def _without_dimension(data: bytes) -> bytes:
    """The same workbook with no <dimension> in its sheets (other writers omit it)."""
    import re

    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                content = re.sub(rb"<dimension [^>]*/>", b"", content)
            target.writestr(info, content)
    return out.getvalue()


@pytest.mark.parametrize("declared", [True, False])
def test_a_sheet_of_300_columns_is_refused_quickly(monkeypatch, declared):
    import time

    wide = HEADER + [f"列{n}" for n in range(300 - len(HEADER))]
    rows = [row + ["x"] * (300 - len(row)) for row in ROWS]
    data = office_workbook(rows, header=wide, title=None)
    if not declared:
        data = _without_dimension(data)
    parsed = []
    monkeypatch.setattr("projects.workbook.importer.fmt.parse_row",
                        lambda *a, **k: parsed.append(1) or (None, []))
    started = time.monotonic()
    result = import_workbook(data, today=date(2026, 11, 25))
    assert result.refusal == "工作表有300列，超过60列，请删除多余的列后再导入。"
    assert parsed == [] and time.monotonic() - started < 2
    assert not Project.objects.exists()


@pytest.mark.parametrize("short, expected", [
    (False, [("check", 2, 2)]),
    (True, [("check", 2, 2), ("write", 1, 2), ("write", 2, 2)]),
])
def test_the_import_reports_how_far_it_is(settings, cadre, short, expected):
    """Rows checked (every 100, and the last), then on SQLite's short transactions each batch written."""
    settings.SHORT_TRANSACTIONS = short
    settings.IMPORT_BATCH_ROWS = 1
    heard = []
    result = import_rows(progress=lambda phase, done, total: heard.append((phase, done, total)))
    assert result.applied and heard == expected
