"""Export the 三色预警表: the stored result of the last recompute, coloured as the board.

The project's colour and reasons are read as stored (what the dashboard shows);
each milestone's own colour is re-derived by the pure rules from the stored
milestones, policy and calendar as of that project's `computed_as_of`, so the
sheet never disagrees with the board.
"""
from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from datetime import timezone as dt_timezone
from decimal import Decimal
from io import BytesIO
from typing import IO

from django.db.models import Prefetch, QuerySet
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from qiantang import colours as palette
from qiantang.people import display_name
from qiantang_warnings.reasons import render_reason
from qiantang_warnings.selectors import as_of_aggregates, latest_run_as_of, results_as_of, rules_context

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
    """Each milestone's own colour, by the rules, as of the day each project's stored result
    holds as of: the later of its computed date and the latest full recompute (which writes
    a project only when its result changed)."""

    def __init__(self, as_of: date | None):
        self.context = rules_context(as_of)
        self.run_as_of = latest_run_as_of()

    def of(self, project: Project, milestones: list[Milestone]) -> dict[str, str]:
        if project.computed_as_of is None:  # never recomputed: nothing stored to show
            return {}
        holds_as_of = max(project.computed_as_of, self.run_as_of or project.computed_as_of)
        results = self.context.evaluate_stored(milestones, today=holds_as_of)
        return {code: result.colour for code, result in results.items() if result.colour}


def build_workbook(projects: QuerySet, *, as_of: date | None = None) -> Workbook:
    """The 三色预警表 of `projects` (any filtered queryset), ordered by 项目编号."""
    with translation.override("zh-hans"):
        types, rows, as_of = sheet_rows(projects, as_of=as_of)
        return render_workbook(title=title_text(as_of), types=types, rows=rows)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def sheet_rows(projects: QuerySet, *, as_of: date | None = None) -> tuple[list[list[str]], list[dict], date | None]:
    """What the sheet shows, as plain data: the catalogue's [code, name] pairs, one dict per
    project (ordered by 项目编号) and the date the colours are as of. Plain enough to be
    stored as JSON (the monthly ledger freezes exactly this) and rendered again, identically,
    by render_workbook."""
    types = list(MilestoneType.objects.order_by("order"))
    type_codes = {t.id: t.code for t in types}
    projects = (
        projects.select_related("lead_department", "responsible_cadre")
        .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("milestone_type__order")))
        .order_by("code")
    )
    if as_of is None:
        as_of = results_as_of(projects.aggregate(**as_of_aggregates()))
    colours = _MilestoneColours(as_of)
    # 存在问题 lists the project's coordination items still waiting, where it has any.
    items_text = open_items_text(projects.values_list("id", flat=True))
    rows = []
    for project in projects:
        milestones = list(project.milestones.all())
        active = project.state == Project.State.ACTIVE
        milestone_colours = colours.of(project, milestones) if active else {}
        by_code = {type_codes[m.milestone_type_id]: m for m in milestones}
        rows.append({
            "project_id": project.id,
            "code": project.code,
            "name": project.name,
            "level": fmt.LEVEL_WORDS.get(project.level, ""),
            "sector": project.sector,
            "total_investment": str(project.total_investment) if project.total_investment is not None else None,
            "lead_department": project.lead_department.name if project.lead_department else "",
            "lead_department_id": project.lead_department_id,
            "responsible_cadre": _person(project.responsible_cadre),
            "responsible_cadre_id": project.responsible_cadre_id,
            "level_code": project.level,
            "state": fmt.STATE_WORDS.get(project.state, ""),
            "state_code": project.state,
            "active": active,
            "colour": project.colour if active else "",
            "reasons": list(project.reasons or []) if active else [],
            "baseline_colour": project.baseline_colour if active else "",
            "replan_count": project.replan_count or 0,
            "progress_note": project.progress_note,
            "open_problems": items_text.get(project.id) or project.open_problems,
            # No stored row is a blank milestone: no dates, but coloured by the rules.
            "milestones": {
                t.code: {
                    "planned": _day(by_code[t.code].planned_date) if t.code in by_code else None,
                    "actual": _day(by_code[t.code].actual_date) if t.code in by_code else None,
                    "baseline": _day(by_code[t.code].baseline_date) if t.code in by_code else None,
                    "not_applicable": bool(t.code in by_code and by_code[t.code].not_applicable),
                    "colour": milestone_colours.get(t.code, ""),
                }
                for t in types
            },
        })
    return [[t.code, t.name] for t in types], rows, as_of


def render_workbook(*, title: str, types: list[list[str]], rows: list[dict]) -> Workbook:
    """Write sheet rows (sheet_rows' or a ledger's) as the office's coloured 三色预警表."""
    book = Workbook()
    sheet = book.active
    sheet.title = fmt.SHEET_NAME
    names = [name for _code, name in types]
    codes = {name: code for code, name in types}
    columns = export_columns(names)
    widths = [_display_width(header) + 2 for header, _key in columns]
    thin = Side(style="thin", color="FFBFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    write_value(sheet.cell(TITLE_ROW, 1), title)  # a ledger's title starts with the office's name for it
    sheet.cell(TITLE_ROW, 1).font = Font(bold=True, size=14)
    sheet.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=len(columns))
    sheet.row_dimensions[TITLE_ROW].height = 28
    for index, (header, _key) in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index)
        write_value(cell, header)  # milestone type names are the office's text
        cell.font = Font(bold=True)
        cell.fill = solid(HEADER_FILL)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border

    row = HEADER_ROW
    for data in rows:
        row += 1
        colour, baseline_colour = data["colour"], data["baseline_colour"]
        values = {
            **{key: data[key] for key in ("code", "name", "level", "sector", "lead_department",
                                          "responsible_cadre", "state", "progress_note", "open_problems")},
            "total_investment": Decimal(data["total_investment"]) if data["total_investment"] is not None else None,
            "colour": palette.label(colour),
            "reasons": "；".join(render_reason(reason) for reason in data["reasons"]),
            "baseline_colour": palette.label(baseline_colour),
            "replan_count": data["replan_count"] or "",
        }
        for index, (_header, key) in enumerate(columns, start=1):
            cell = sheet.cell(row, index)
            cell.border = border
            if isinstance(key, tuple):
                name, which = key
                milestone = data["milestones"].get(codes[name], {})
                if milestone.get("not_applicable"):
                    cell.value = fmt.NOT_APPLICABLE_WORD
                    cell.alignment = Alignment(horizontal="center")
                    continue
                day = milestone.get("planned" if which == fmt.PLANNED else "actual")
                if day is not None:
                    cell.value = date.fromisoformat(day)
                    cell.number_format = DATE_FORMAT
                if milestone.get("colour"):
                    cell.fill = solid(MILESTONE_FILLS[milestone["colour"]])
                continue
            value = values[key]
            if value in ("", None):
                continue
            write_value(cell, value)
            if key == "total_investment":
                cell.number_format = "0.00"
            elif key == "colour":
                cell.fill = solid(LEVEL_FILLS[colour])
                cell.font = Font(bold=True, color=LEVEL_FONTS[colour])
                cell.alignment = Alignment(horizontal="center")
            elif key == "baseline_colour":
                cell.fill = solid(MILESTONE_FILLS[baseline_colour])
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
    as_of = results_as_of(projects.aggregate(**as_of_aggregates()))
    stream = BytesIO()
    build_workbook(projects, as_of=as_of).save(stream)
    return stream.getvalue(), export_filename(as_of)


def stable_bytes(book: Workbook, *, at: datetime) -> bytes:
    """The workbook's file, the same bytes every time for the same content: every zip entry
    and the document's created/modified properties carry `at` (a frozen ledger's time)
    instead of the moment of saving."""
    stamp = at.astimezone(dt_timezone.utc).replace(tzinfo=None, microsecond=0)
    book.properties.created = stamp
    raw = BytesIO()
    book.save(raw)
    moment = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + moment.encode() + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, content)
    return out.getvalue()
