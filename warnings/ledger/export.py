"""A ledger as the office's coloured workbook, titled with its month: the frozen rows through
the live export's renderer, and a second sheet of the changes since the ledger before it.
The same bytes whenever it is downloaded (stamped with the freeze time)."""
from __future__ import annotations

from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from projects.workbook.exporter import render_workbook, solid, stable_bytes, write_value
from qiantang import colours

from ..models import Ledger
from ..reasons import render_reason
from .changes import Changes, changes_between
from .ranking import SLIP_DAYS_PER_POINT, SLIP_PENALTY_CAP, WEIGHT_COLOUR, WEIGHT_ITEMS, WEIGHT_MILESTONES
from .selectors import previous_ledger, rows_data

CHANGES_SHEET = "变化情况"


def ledger_filename(ledger: Ledger) -> str:
    return f"{ledger.name}.xlsx".replace("/", "-")


def ledger_title(ledger: Ledger) -> str:
    return f"{ledger.name}（截至{ledger.as_of.year}年{ledger.as_of.month}月{ledger.as_of.day}日）"


def ledger_workbook(ledger: Ledger) -> bytes:
    with translation.override("zh-hans"):
        rows = rows_data(ledger)
        book = render_workbook(title=ledger_title(ledger), types=ledger.milestone_types, rows=rows)
        earlier = previous_ledger(ledger)
        sheet = book.create_sheet(CHANGES_SHEET)
        if earlier is None:
            sheet.cell(1, 1, "这是第一份台账，没有可比较的上一份。")
        else:
            write_changes(sheet, changes_between(rows_data(earlier), rows, ledger.milestone_types),
                          title=f"{ledger.name} 较 {earlier.name} 的变化")
        return stable_bytes(book, at=ledger.frozen_at)


def changes_title(since: Ledger, until: Ledger | None, *, today) -> str:
    """The changes page's heading, in the workbook's language (and dated when until now)."""
    if until is not None:
        return f"{until.name} 较 {since.name} 的变化"
    return f"“{since.name}”以来的变化（截至{today.year}年{today.month}月{today.day}日）"


def changes_filename(since: Ledger, until: Ledger | None, *, today) -> str:
    end = until.name if until is not None else today.isoformat()
    return f"变化情况-{since.name}至{end}.xlsx".replace("/", "-")


def changes_workbook(since: Ledger, until: Ledger | None, changes: Changes, *, today, at) -> bytes:
    """The changes page for the chosen pair as a workbook of one 变化情况 sheet: the same
    blocks as the ledger's own second sheet. Between two ledgers it is the same bytes
    whenever downloaded (stamped with the later freeze); until now it is stamped `at`."""
    with translation.override("zh-hans"):
        book = Workbook()
        sheet = book.active
        sheet.title = CHANGES_SHEET
        write_changes(sheet, changes, title=changes_title(since, until, today=today))
        return stable_bytes(book, at=until.frozen_at if until is not None else at)


def write_changes(sheet, changes: Changes, *, title: str) -> None:
    """One block per kind of change: a heading, then its rows."""
    write_value(sheet.cell(1, 1), title)  # starts with the office's name for a snapshot
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    row = 2
    blocks = [
        ("新转红", ["项目编号", "项目名称", "原等级", "预警原因"],
         [(c.code, c.name, colours.label(c.before) or "新纳入", "；".join(render_reason(r) for r in c.reasons))
          for c in changes.turned_red]),
        ("好转", ["项目编号", "项目名称", "原等级", "现等级"],
         [(c.code, c.name, colours.label(c.before), colours.label(c.after)) for c in changes.recovered]),
        ("调整计划", ["项目编号", "项目名称", "节点", "原计划", "新计划", "较基准推迟（天）"],
         [(r.code, r.name, r.milestone, r.before, r.after, r.slipped_days) for r in changes.replanned]),
        ("完成节点", ["项目编号", "项目名称", "节点", "完成日期"],
         [(d.code, d.name, d.milestone, d.on) for d in changes.milestones_done]),
        ("新增协调事项", ["项目编号", "项目名称", "事项", "责任单位", "办结时限"],
         [(i.code, i.name, i.need, i.department or "待分派", i.deadline) for i in changes.items_opened]),
        ("销号的协调事项", ["项目编号", "项目名称", "事项", "责任单位", "办结时限"],
         [(i.code, i.name, i.need, i.department or "待分派", i.deadline) for i in changes.items_closed]),
        ("新增项目", ["项目编号", "项目名称"], changes.added),
        ("移出项目", ["项目编号", "项目名称"], changes.removed),
    ]
    for heading, headers, lines in blocks:
        row += 1
        sheet.cell(row, 1, f"{heading}（{len(lines)}）").font = Font(bold=True)
        if heading == "新转红" and lines:
            sheet.cell(row, 1).fill = solid(colours.EXCEL_LIGHT_FILL[colours.RED])
        if not lines:
            row += 1
            continue
        row += 1
        for column, header in enumerate(headers, start=1):
            write_value(sheet.cell(row, column), header)
            sheet.cell(row, column).font = Font(bold=True)
        for line in lines:
            row += 1
            for column, value in enumerate(line, start=1):
                cell = sheet.cell(row, column)
                if value is None:
                    continue
                write_value(cell, value)
                if hasattr(value, "isoformat"):
                    cell.number_format = "yyyy-mm-dd"
                cell.alignment = Alignment(vertical="top", wrap_text=column >= 3)
        row += 1
    for column, width in zip("ABCDEF", (14, 30, 18, 40, 16, 16)):
        sheet.column_dimensions[column].width = width


RANKING_HEADERS = ["名次", "单位", "项目数", "红", "黄", "绿", "节点按期率", "协调事项按期答复率", "平均推迟天数", "得分"]


def ranking_formula() -> str:
    return (f"得分 = {WEIGHT_COLOUR}×灯色分（绿1、黄0.5、红0的平均） + {WEIGHT_MILESTONES}×节点按期率"
            f" + {WEIGHT_ITEMS}×协调事项按期答复率 − min({SLIP_PENALTY_CAP}, 平均推迟天数÷{SLIP_DAYS_PER_POINT})")


def rankings_workbook(ledger: Ledger, tables) -> bytes:
    """One sheet per table (部门, 街道), with the formula under the title."""
    book = Workbook()
    book.remove(book.active)
    for title, standings in tables:
        sheet = book.create_sheet(f"{title}红黑榜")
        write_value(sheet.cell(1, 1), f"{ledger.name} · {title}红黑榜")  # the office's name for a snapshot
        sheet.cell(1, 1).font = Font(bold=True, size=13)
        write_value(sheet.cell(2, 1), ranking_formula())
        for column, header in enumerate(RANKING_HEADERS, start=1):
            sheet.cell(4, column, header).font = Font(bold=True)
        for line, entry in enumerate(standings, start=5):
            values = [entry.rank, entry.name, entry.projects, entry.red, entry.yellow, entry.green,
                      round(entry.milestone_share, 3), round(entry.item_share, 3),
                      round(entry.mean_slipped_days, 1), entry.score]
            for column, value in enumerate(values, start=1):
                write_value(sheet.cell(line, column), value)
            for column in (7, 8):
                sheet.cell(line, column).number_format = "0.0%"
        for column, width in zip("ABCDEFGHIJ", (6, 20, 8, 6, 6, 6, 12, 18, 14, 8)):
            sheet.column_dimensions[column].width = width
    return stable_bytes(book, at=ledger.frozen_at)
