"""Export the 三色预警表: the stored result of the last recompute, coloured as the board.

The project's colour and reasons are read as stored (what the dashboard shows);
each milestone's own colour is re-derived by the pure rules from the stored
milestones, policy and calendar as of that project's `computed_as_of`, so the
sheet never disagrees with the board.
"""
from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import IO

from django.db.models import Max, Prefetch, QuerySet
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from qiantang import colours as palette
from qiantang.people import display_name
from qiantang_warnings.selectors import rules_context

from ..coordination.selectors import open_items_text
from ..models import Milestone, MilestoneType, Project
from . import format as fmt

# The office's colours: strong fills for the project's 预警等级, Excel's light
# "bad / neutral / good" fills for milestone date cells, so dates stay legible.
LEVEL_FILLS = palette.EXCEL_FILL
LEVEL_FONTS = palette.EXCEL_FONT
MILESTONE_FILLS = palette.EXCEL_LIGHT_FILL
HEADER_FILL = "FFD9E1F2"
DATE_FORMAT = "yyyy-mm-dd"
TITLE_ROW = 1
HEADER_ROW = 2
FROZEN = "C3"  # header and the code and name columns stay in view
WIDTH_CAP = {"progress_note": 40, "open_problems": 40, "reasons": 40, "name": 36}


def solid(colour: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


# A text starting with one of these is a formula to Excel once its cell is edited.
FORMULA_STARTS = ("=", "+", "-", "@")


def write_value(cell, value) -> None:
    """Write a value; every text goes out as text, never as a formula: what a user typed
    (=HYPERLINK(...) in 存在问题, say) stays inert in the office's Excel, even when its cell is
    edited (the quote prefix). Control characters a worksheet cannot hold are dropped."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True


def title_text(as_of: date | None) -> str:
    if as_of is None:
        return "钱塘区重点项目三色预警表"
    return f"钱塘区重点项目三色预警表（截至{as_of.year}年{as_of.month}月{as_of.day}日）"


def export_columns(milestone_names: list[str]) -> list[tuple[str, str]]:
    """(header, key) in the office's order; milestone keys are (name, planned|actual)."""
    columns = [(header, fieldname) for header, fieldname in fmt.PROJECT_COLUMNS_BEFORE]
    columns += [("预警等级", "colour"), ("预警原因", "reasons")]
    # Beside the colour, what it would be against the first planned dates, and how many
    # times plans were moved: a re-planned green (调整后绿) is visible in the sheet too.
    columns += [("基准预警等级", "baseline_colour"), ("调整计划次数", "replan_count")]
    for name in milestone_names:
        columns.append((name + fmt.PLANNED_SUFFIX, (name, fmt.PLANNED)))
        columns.append((name + fmt.ACTUAL_SUFFIX, (name, fmt.ACTUAL)))
    columns += [(header, fieldname) for header, fieldname in fmt.PROJECT_COLUMNS_AFTER]
    return columns


def _display_width(value) -> int:
    text = fmt.cell_text(value) if not isinstance(value, date) else "2025-11-03"
    longest = max((line for line in text.splitlines()), key=len, default="")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in longest)


def _person(user) -> str:
    if user is None:
        return ""
    return display_name(user)


class _MilestoneColours:
    """Each milestone's own colour, by the rules, as of each project's computed date."""

    def __init__(self, as_of: date | None):
        self.context = rules_context(as_of)

    def of(self, project: Project, milestones: list[Milestone]) -> dict[str, str]:
        if project.computed_as_of is None:  # never recomputed: nothing stored to show
            return {}
        results = self.context.evaluate_stored(milestones, today=project.computed_as_of)
        return {code: result.colour for code, result in results.items() if result.colour}


def build_workbook(projects: QuerySet, *, as_of: date | None = None) -> Workbook:
    """The 三色预警表 of `projects` (any filtered queryset), ordered by 项目编号."""
    with translation.override("zh-hans"):
        return _build(projects, as_of)


def _build(projects: QuerySet, as_of: date | None) -> Workbook:
    types = list(MilestoneType.objects.order_by("order"))
    names = [t.name for t in types]
    type_names = {t.id: t.name for t in types}
    codes = {t.name: t.code for t in types}
    projects = (
        projects.select_related("lead_department", "responsible_cadre")
        .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("milestone_type__order")))
        .order_by("code")
    )
    if as_of is None:
        as_of = projects.aggregate(as_of=Max("computed_as_of"))["as_of"]
    colours = _MilestoneColours(as_of)
    # 存在问题 lists the project's coordination items still waiting, where it has any.
    items_text = open_items_text(projects.values_list("id", flat=True))

    book = Workbook()
    sheet = book.active
    sheet.title = fmt.SHEET_NAME
    columns = export_columns(names)
    widths = [_display_width(header) + 2 for header, _key in columns]
    thin = Side(style="thin", color="FFBFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    sheet.cell(TITLE_ROW, 1, title_text(as_of)).font = Font(bold=True, size=14)
    sheet.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=len(columns))
    sheet.row_dimensions[TITLE_ROW].height = 28
    for index, (header, _key) in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index, header)
        cell.font = Font(bold=True)
        cell.fill = solid(HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border

    row = HEADER_ROW
    for project in projects:
        row += 1
        milestones = list(project.milestones.all())
        by_name = {type_names[m.milestone_type_id]: m for m in milestones}
        active = project.state == Project.State.ACTIVE
        milestone_colours = colours.of(project, milestones) if active else {}
        values = {
            "code": project.code,
            "name": project.name,
            "level": fmt.LEVEL_WORDS.get(project.level, ""),
            "sector": project.sector,
            "total_investment": project.total_investment,
            "lead_department": project.lead_department.name if project.lead_department else "",
            "responsible_cadre": _person(project.responsible_cadre),
            "state": fmt.STATE_WORDS.get(project.state, ""),
            "colour": palette.label(project.colour) if active else "",
            "reasons": "；".join(project.reason_texts) if active else "",
            "baseline_colour": palette.label(project.baseline_colour) if active else "",
            "replan_count": project.replan_count or "",
            "progress_note": project.progress_note,
            "open_problems": items_text.get(project.id) or project.open_problems,
        }
        for index, (_header, key) in enumerate(columns, start=1):
            cell = sheet.cell(row, index)
            cell.border = border
            if isinstance(key, tuple):
                name, which = key
                # No stored row is a blank milestone: no dates, but coloured by the rules.
                milestone = by_name.get(name)
                if milestone is not None and milestone.not_applicable:
                    cell.value = fmt.NOT_APPLICABLE_WORD
                    cell.alignment = Alignment(horizontal="center")
                    continue
                if milestone is None:
                    day = None
                else:
                    day = milestone.planned_date if which == fmt.PLANNED else milestone.actual_date
                if day is not None:
                    cell.value = day
                    cell.number_format = DATE_FORMAT
                colour = milestone_colours.get(codes[name])
                if colour:
                    cell.fill = solid(MILESTONE_FILLS[colour])
                continue
            value = values[key]
            if value in ("", None):
                continue
            write_value(cell, value)
            if key == "total_investment":
                cell.number_format = "0.00"
            elif key == "colour":
                cell.fill = solid(LEVEL_FILLS[project.colour])
                cell.font = Font(bold=True, color=LEVEL_FONTS[project.colour])
                cell.alignment = Alignment(horizontal="center")
            elif key == "baseline_colour":
                cell.fill = solid(MILESTONE_FILLS[project.baseline_colour])
                cell.alignment = Alignment(horizontal="center")
            elif key == "replan_count":
                cell.alignment = Alignment(horizontal="center")
            elif key in ("progress_note", "open_problems", "reasons", "name"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[index - 1] = max(
                widths[index - 1], min(_display_width(value) + 2, WIDTH_CAP.get(key, 30))
            )
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(width, 8)
    sheet.freeze_panes = FROZEN
    if row > HEADER_ROW:
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(columns))}{row}"
    return book


def write_workbook(projects: QuerySet, target: str | IO[bytes], *, as_of: date | None = None) -> int:
    """Write the workbook to a path or binary stream; returns the number of projects."""
    book = build_workbook(projects, as_of=as_of)
    book.save(target)
    return book.active.max_row - HEADER_ROW


def export_filename(as_of: date | None) -> str:
    return f"三色预警表-{as_of.isoformat()}.xlsx" if as_of else "三色预警表.xlsx"


def workbook_download(projects: QuerySet) -> tuple[bytes, str]:
    """The export page's file: the workbook's bytes and its name (dated by the latest
    recompute among `projects`)."""
    as_of = projects.aggregate(as_of=Max("computed_as_of"))["as_of"]
    stream = BytesIO()
    build_workbook(projects, as_of=as_of).save(stream)
    return stream.getvalue(), export_filename(as_of)
