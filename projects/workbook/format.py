"""The 三色预警表 workbook format (README, "The workbook") as pure functions.

Header matching, cell values (dates, 不适用, levels, states, amounts) and rows
into plain values with row errors. No ORM, no clock: the importer and the
exporter pass in the milestone type names and "today".
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qiantang.dates import EARLIEST_DATE, LATEST_DATE, is_in_range

from ..codes import clean_project_code, normalize_project_code

SHEET_NAME = "三色预警表"

# Project columns: (header, field). Milestone columns sit between 项目状态 and 进展情况.
CODE = "code"
NAME = "name"
PROJECT_COLUMNS_BEFORE = [
    ("项目编号", CODE),
    ("项目名称", NAME),
    ("项目级别", "level"),
    ("产业类别", "sector"),
    ("总投资(亿元)", "total_investment"),
    ("牵头单位", "lead_department"),
    ("责任干部", "responsible_cadre"),
    ("项目状态", "state"),
]
PROJECT_COLUMNS_AFTER = [("进展情况", "progress_note"), ("存在问题", "open_problems")]
PROJECT_COLUMNS = PROJECT_COLUMNS_BEFORE + PROJECT_COLUMNS_AFTER
HEADER_OF = {fieldname: header for header, fieldname in PROJECT_COLUMNS}
# Written by the export, read back without complaint (the import ignores them).
# Written by the export from the recompute's results; an import reads past them.
EXPORT_ONLY_COLUMNS = ("预警等级", "预警原因", "基准预警等级", "调整计划次数", "序号")
PLANNED = "planned"
ACTUAL = "actual"
PLANNED_SUFFIX = "(计划)"
ACTUAL_SUFFIX = "(实际)"

# Workbook words for the model's choice values (the workbook is Chinese whatever the UI).
LEVELS = {"省重点": "provincial", "市重点": "municipal", "区重点": "district"}
STATES = {"推进中": "active", "暂缓": "paused", "已完成": "completed", "终止": "terminated"}
LEVEL_WORDS = {value: word for word, value in LEVELS.items()}
STATE_WORDS = {value: word for word, value in STATES.items()}
NOT_APPLICABLE_WORDS = {"不适用", "/", "—", "-", "－", "／", "——"}
NOT_APPLICABLE_WORD = "不适用"

MAX_TEXT = {NAME: 200, "sector": 50, "lead_department": 100, "responsible_cadre": 150}
# Any text cell (进展情况 and 存在问题 too): longer is an error, not stored.
MAX_CELL_CHARS = 5000
# An error quotes a bad value up to this many characters.
QUOTED_CHARS = 40
MAX_INVESTMENT = Decimal("99999999.99")

_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "\u3000": " "})
_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


class NotApplicable:
    """The value of a milestone cell reading 不适用 (or /, —, -)."""

    def __repr__(self):
        return "NOT_APPLICABLE"


NOT_APPLICABLE = NotApplicable()


class CellError(ValueError):
    """A cell's value cannot be read; `problem` says why (without the value)."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


# ---------------------------------------------------------------- headers


def normalise_header(value: Any) -> str:
    """Header text without spaces, with ASCII brackets: （计划） and ( 计划 ) read alike."""
    if value is None:
        return ""
    return _SPACES.sub("", str(value).translate(_FULL_WIDTH))


def choose_sheet(sheet_names: Sequence[str]) -> str:
    """The sheet named 三色预警表 where there is one, else the first."""
    for name in sheet_names:
        if normalise_header(name) == SHEET_NAME:
            return name
    return sheet_names[0]


HEADER_SEARCH_ROWS = 50  # title rows and notes above the header, at most


def find_header_row(rows: Iterable[Sequence[Any]]) -> int | None:
    """Index (0-based) of the first row with a cell reading 项目名称; title rows sit above."""
    for index, row in enumerate(rows):
        if index >= HEADER_SEARCH_ROWS:
            return None
        if any(normalise_header(cell) == "项目名称" for cell in row):
            return index
    return None


@dataclass
class ColumnMap:
    """Where each known column is (0-based), and what was not recognised."""

    fields: dict[str, int] = field(default_factory=dict)  # project field -> index
    milestones: dict[str, dict[str, int]] = field(default_factory=dict)  # type name -> {planned/actual: index}
    headers: dict[int, str] = field(default_factory=dict)  # index -> canonical header text
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    @property
    def missing_required(self) -> list[str]:
        return [HEADER_OF[f] for f in (CODE, NAME) if f not in self.fields]


def map_columns(header: Sequence[Any], milestone_names: Iterable[str]) -> ColumnMap:
    """Match header cells by text, in any order; unknown headers are listed."""
    known = {normalise_header(h): ("field", f, h) for h, f in PROJECT_COLUMNS}
    for name in milestone_names:
        known[normalise_header(name + PLANNED_SUFFIX)] = ("milestone", (name, PLANNED), name + PLANNED_SUFFIX)
        known[normalise_header(name + ACTUAL_SUFFIX)] = ("milestone", (name, ACTUAL), name + ACTUAL_SUFFIX)
    ignored = {normalise_header(h) for h in EXPORT_ONLY_COLUMNS}
    columns = ColumnMap()
    seen: set[str] = set()
    for index, cell in enumerate(header):
        text = normalise_header(cell)
        if not text:
            continue
        if text in seen:
            columns.duplicates.append(str(cell).strip())
            continue
        seen.add(text)
        if text in known:
            kind, key, canonical = known[text]
            columns.headers[index] = canonical
            if kind == "field":
                columns.fields[key] = index
            else:
                name, which = key
                columns.milestones.setdefault(name, {})[which] = index
        elif text not in ignored:
            columns.unknown.append(str(cell).strip())
    return columns


# ---------------------------------------------------------------- cell values


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as it reads, for error messages and text fields."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
_EXCEL_EPOCH = date(1899, 12, 30)


def _in_range(day: date) -> date:
    if not is_in_range(day):
        raise CellError(
            _("日期须在%(earliest)s年至%(latest)s年之间") % {"earliest": EARLIEST_DATE.year, "latest": LATEST_DATE.year}
        )
    return day


def parse_date(value: Any) -> date | None:
    """A date cell: a real Excel date or text in the spec's formats; blank is None."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return _in_range(value.date())
    if isinstance(value, date):
        return _in_range(value)
    if isinstance(value, bool):
        raise CellError(_("无法识别的日期"))
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError(_("无法识别的日期"))
    if isinstance(value, (int, float)):
        number = int(value)
        if number != value:
            raise CellError(_("无法识别的日期"))
        if 10_000_000 <= number <= 99_999_999:  # 20251103 typed as a number
            return parse_date(str(number))
        if 0 < number < 100_000:  # an Excel serial number left unformatted
            return _in_range(_EXCEL_EPOCH + timedelta(days=number))
        raise CellError(_("无法识别的日期"))
    text = _SPACES.sub("", str(value).translate(_FULL_WIDTH))
    # A datetime typed as text ("2025-11-03 00:00:00", spaces already gone): keep the date.
    text = re.sub(r"(\d)T?00:00(?::00)?$", r"\1", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                parsed = date(year, month, day)
            except ValueError:
                raise CellError(_("不存在的日期")) from None
            return _in_range(parsed)
    raise CellError(_("无法识别的日期"))


def parse_milestone_cell(value: Any) -> date | NotApplicable | None:
    if isinstance(value, str) and value.strip() in NOT_APPLICABLE_WORDS:
        return NOT_APPLICABLE
    return parse_date(value)


def parse_choice(value: Any, words: dict[str, str]) -> str | None:
    if is_blank(value):
        return None
    text = _SPACES.sub("", str(value))
    if text in words:
        return words[text]
    if text in words.values():  # the stored value itself (provincial, active, …)
        return text
    raise CellError(_("应为%(choices)s之一，无法识别") % {"choices": "、".join(words)})


def parse_investment(value: Any) -> Decimal | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(_("应为数字"))
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(str(value))
    else:
        text = _SPACES.sub("", str(value)).replace("，", ",")
        text = text.removesuffix("亿元").removesuffix("亿")
        if "," in text:
            # Only thousands separators (1,250.5); "1,2,3" is no number, not 123.
            if not _THOUSANDS.fullmatch(text):
                raise CellError(_("应为数字"))
            text = text.replace(",", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise CellError(_("应为数字")) from None
    if not amount.is_finite():
        raise CellError(_("应为数字"))
    if amount < 0:
        raise CellError(_("不能为负数"))
    # Compared before rounding: 1e26 would not fit the rounding's precision.
    if amount > MAX_INVESTMENT:
        raise CellError(_("数额过大"))
    return amount.quantize(Decimal("0.01"))


def parse_code(value: Any) -> str | None:
    """项目编号 in its one spelling (codes.py), so duplicates and updates match the
    stored code whatever the sheet's width, case or invisible characters."""
    if is_blank(value) or not normalize_project_code(cell_text(value)):
        return None  # blank, or nothing but zero-width characters: 不能为空
    try:
        return clean_project_code(cell_text(value))
    except ValidationError as error:
        raise CellError(str(error.messages[0])) from None


def parse_text(value: Any, *, max_length: int | None = None) -> str | None:
    if is_blank(value):
        return None
    text = cell_text(value)
    limit = MAX_CELL_CHARS if max_length is None else min(max_length, MAX_CELL_CHARS)
    if len(text) > limit:
        raise CellError(_("超过%(n)s个字") % {"n": limit})
    return text


# ---------------------------------------------------------------- rows


@dataclass
class RowError:
    row: int  # the workbook's row number, as Excel shows it
    column: str
    problem: str
    value: str = ""

    def __post_init__(self):
        # Quote a bad value only in part: a 50 MB cell must not make a 50 MB page.
        if len(self.value) > QUOTED_CHARS:
            self.value = self.value[:QUOTED_CHARS] + "…"

    def __str__(self) -> str:
        return _("第%(row)s行 %(column)s：%(problem)s“%(value)s”") % {
            "row": self.row, "column": self.column, "problem": self.problem, "value": self.value,
        }


@dataclass
class MilestoneCells:
    """One milestone's cells in a row; None means the cell is blank or absent."""

    planned: date | None = None
    actual: date | None = None
    not_applicable: bool = False
    has_planned_column: bool = False
    has_actual_column: bool = False


@dataclass
class ParsedRow:
    row: int
    code: str
    values: dict[str, Any]  # project field -> value; None: blank (column present)
    milestones: dict[str, MilestoneCells]  # by milestone type name


def parse_row(
    row_number: int, cells: Sequence[Any], columns: ColumnMap, *, today: date
) -> tuple[ParsedRow | None, list[RowError]]:
    """Read one data row into plain values; a fully blank row gives (None, [])."""
    def cell(index: int) -> Any:
        return cells[index] if index < len(cells) else None

    used = list(columns.fields.values()) + [
        i for where in columns.milestones.values() for i in where.values()
    ]
    if all(is_blank(cell(i)) for i in used):
        return None, []

    errors: list[RowError] = []

    def fail(column: str, problem: str, value: Any) -> None:
        errors.append(RowError(row_number, column, problem, cell_text(value)))

    values: dict[str, Any] = {}
    for fieldname, index in columns.fields.items():
        raw = cell(index)
        header = HEADER_OF[fieldname]
        try:
            if fieldname == "level":
                values[fieldname] = parse_choice(raw, LEVELS)
            elif fieldname == "state":
                values[fieldname] = parse_choice(raw, STATES)
            elif fieldname == "total_investment":
                values[fieldname] = parse_investment(raw)
            elif fieldname == CODE:
                values[fieldname] = parse_code(raw)
            else:
                values[fieldname] = parse_text(raw, max_length=MAX_TEXT.get(fieldname))
        except CellError as error:
            fail(header, error.problem, raw)
    if not values.get(CODE) and not any(e.column == HEADER_OF[CODE] for e in errors):
        fail(HEADER_OF[CODE], _("不能为空"), None)

    milestones: dict[str, MilestoneCells] = {}
    for name, where in columns.milestones.items():
        cells_of = MilestoneCells(
            has_planned_column=PLANNED in where, has_actual_column=ACTUAL in where
        )
        for which, suffix in ((PLANNED, PLANNED_SUFFIX), (ACTUAL, ACTUAL_SUFFIX)):
            if which not in where:
                continue
            raw = cell(where[which])
            try:
                parsed = parse_milestone_cell(raw)
            except CellError as error:
                fail(name + suffix, error.problem, raw)
                continue
            if parsed is NOT_APPLICABLE:
                cells_of.not_applicable = True
            elif which == ACTUAL and parsed is not None and parsed > today:
                fail(name + suffix, _("实际完成日期不能晚于今天"), raw)
            else:
                setattr(cells_of, which, parsed)
        if cells_of.not_applicable and (cells_of.planned or cells_of.actual):
            raw = cell(where[PLANNED if cells_of.planned else ACTUAL])
            suffix = PLANNED_SUFFIX if cells_of.planned else ACTUAL_SUFFIX
            fail(name + suffix, _("节点已标为不适用，不能再填日期"), raw)
        milestones[name] = cells_of

    if errors:
        return None, errors
    return ParsedRow(row_number, values[CODE], values, milestones), []
