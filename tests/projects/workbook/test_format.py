"""Reading the office's sheet: header matching, every date format, cell values, row errors."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from projects.workbook import format as fmt

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def in_chinese():
    """Messages are checked in the office's language, whatever a previous test activated."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield
NAMES = ["过会", "项目签约", "土地挂牌"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (" 项目 名称 ", "项目名称"),
        ("总投资（亿元）", "总投资(亿元)"),
        ("土地挂牌（ 计划 ）", "土地挂牌(计划)"),
        ("过会\u3000(实际)", "过会(实际)"),
        (None, ""),
    ],
)
def test_headers_read_alike_whatever_the_spaces_and_brackets(text, expected):
    assert fmt.normalise_header(text) == expected


def test_the_named_sheet_wins_over_the_first_one():
    assert fmt.choose_sheet(["说明", "三色预警表 ", "汇总"]) == "三色预警表 "
    assert fmt.choose_sheet(["Sheet1", "汇总"]) == "Sheet1"


def test_title_rows_above_the_header_are_skipped():
    rows = [("2025年11月重点项目三色预警表",), (None, None), ("序号", " 项目名称 ", "项目编号")]
    assert fmt.find_header_row(rows) == 2
    assert fmt.find_header_row([("名称",), ("编号",)]) is None


def test_columns_in_any_order_with_unknown_ones_listed():
    header = ["备注", "项目名称", None, "土地挂牌（计划）", "项目编号", "过会(实际)", "预警等级", "联系人"]
    columns = fmt.map_columns(header, NAMES)
    assert columns.fields == {"name": 1, "code": 4}
    assert columns.milestones == {"土地挂牌": {"planned": 3}, "过会": {"actual": 5}}
    assert columns.unknown == ["备注", "联系人"]  # 预警等级 is the export's own, ignored quietly
    assert columns.missing_required == []
    assert fmt.map_columns(["项目名称"], NAMES).missing_required == ["项目编号"]


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 11, 3), date(2025, 11, 3), "2025-11-03", "2025/11/3", "2025.11.3",
        "2025年11月3日", "20251103", 20251103, " 2025-11-03 ", "2025-11-03 00:00:00", 45964,
    ],
)
def test_every_date_format_of_the_spec(value):
    assert fmt.parse_date(value) == date(2025, 11, 3)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("11月底", "无法识别的日期"),
        ("2025-02-30", "不存在的日期"),
        ("1999-12-31", "日期须在2000年至2099年之间"),
        ("2100/1/1", "日期须在2000年至2099年之间"),
        (datetime(1998, 1, 1), "日期须在2000年至2099年之间"),
        (3.5, "无法识别的日期"),
    ],
)
def test_dates_that_cannot_be_read(value, problem):
    with pytest.raises(fmt.CellError) as raised:
        fmt.parse_date(value)
    assert raised.value.problem == problem


@pytest.mark.parametrize("word", ["不适用", "/", "—", "-", " 不适用 "])
def test_not_applicable_words(word):
    assert fmt.parse_milestone_cell(word) is fmt.NOT_APPLICABLE
    assert fmt.parse_milestone_cell(None) is None


def test_levels_states_and_amounts():
    assert fmt.parse_choice("省重点", fmt.LEVELS) == "provincial"
    assert fmt.parse_choice(" 暂缓 ", fmt.STATES) == "paused"
    with pytest.raises(fmt.CellError):
        fmt.parse_choice("国家重点", fmt.LEVELS)
    assert fmt.parse_investment(12.5) == Decimal("12.50")
    assert fmt.parse_investment("1,250.456亿元") == Decimal("1250.46")
    with pytest.raises(fmt.CellError):
        fmt.parse_investment("约十亿")
    with pytest.raises(fmt.CellError):
        fmt.parse_investment(-1)


def header_and_columns():
    header = ["项目编号", "项目名称", "项目状态", "总投资(亿元)", "过会(计划)", "过会(实际)", "土地挂牌(计划)"]
    return fmt.map_columns(header, NAMES)


def test_a_row_into_plain_values():
    row, errors = fmt.parse_row(
        5, ["QT-1", "芯片项目", "推进中", "3.2", "2026/1/5", "2026年2月1日", "不适用"],
        header_and_columns(), today=TODAY,
    )
    assert errors == []
    assert row.code == "QT-1" and row.row == 5
    assert row.values == {"code": "QT-1", "name": "芯片项目", "state": "active", "total_investment": Decimal("3.20")}
    assert row.milestones["过会"].planned == date(2026, 1, 5)
    assert row.milestones["过会"].actual == date(2026, 2, 1)
    assert row.milestones["土地挂牌"].not_applicable is True


def test_a_blank_row_is_skipped_and_a_short_row_is_blank_at_its_end():
    assert fmt.parse_row(9, [None, " ", None], header_and_columns(), today=TODAY) == (None, [])
    row, errors = fmt.parse_row(9, ["QT-2", "名称"], header_and_columns(), today=TODAY)
    assert errors == [] and row.values["state"] is None and row.milestones["过会"].planned is None


def test_every_error_of_a_row_names_row_column_problem_and_value():
    row, errors = fmt.parse_row(
        12, ["QT-1", "项目", "在建", "很多", "11月底", "2026-12-01", "2026-01-01"],
        header_and_columns(), today=TODAY,
    )
    assert row is None
    assert [str(e) for e in errors] == [
        "第12行 项目状态：应为推进中、暂缓、已完成、终止之一，无法识别“在建”",
        "第12行 总投资(亿元)：应为数字“很多”",
        "第12行 过会(计划)：无法识别的日期“11月底”",
        "第12行 过会(实际)：实际完成日期不能晚于今天“2026-12-01”",
    ]


def test_a_row_without_code_and_a_date_beside_not_applicable():
    _row, errors = fmt.parse_row(3, [None, "无编号项目"], header_and_columns(), today=TODAY)
    assert [str(e) for e in errors] == ["第3行 项目编号：不能为空“”"]
    _row, errors = fmt.parse_row(
        4, ["QT-4", "项目", None, None, "不适用", "2026-01-02"], header_and_columns(), today=TODAY
    )
    assert [str(e) for e in errors] == ["第4行 过会(实际)：节点已标为不适用，不能再填日期“2026-01-02”"]


@pytest.mark.parametrize("value", ["1e26", "1E400", 1e26, 1e400, float("nan"), "-1e400", "99999999.995"])
def test_huge_or_odd_investments_are_refused_with_a_message_never_a_crash(value):
    with pytest.raises(fmt.CellError) as refused:
        fmt.parse_investment(value)
    assert refused.value.problem in {"数额过大", "应为数字", "不能为负数"}


@pytest.mark.parametrize("value", ["1,2,3", "12,34", "1,,000", ",100"])
def test_commas_are_thousands_separators_or_the_cell_is_no_number(value):
    with pytest.raises(fmt.CellError, match="应为数字"):
        fmt.parse_investment(value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e308])
def test_a_date_cell_holding_no_finite_number_is_an_error_not_a_crash(value):
    with pytest.raises(fmt.CellError, match="无法识别的日期"):
        fmt.parse_date(value)


def test_thousands_separators_still_read():
    assert fmt.parse_investment("12,345.6") == Decimal("12345.60")
    assert fmt.parse_investment("1，000亿") == Decimal("1000.00")
