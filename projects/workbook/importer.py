"""Import the 三色预警表: an upsert by 项目编号, planned first, applied all or nothing.

`import_workbook(data, today=..., by=..., replace=..., dry_run=..., source_name=...)`
reads the file, plans every change in memory (what would be created, updated or
left alone, the new cadre accounts and departments, the re-plan proposals, every
row error), and, unless this is a dry run or any error remains, writes the plan
in one transaction and recomputes the affected projects at once. Where a transaction
locks the whole database (SHORT_TRANSACTIONS: SQLite) every row is checked holding
no lock, then written in batches of rows, each its own transaction (_apply_in_batches).

Choices (the format itself: README, "The workbook"):
- A blank cell keeps what is stored; in replace mode it erases (only for the
  columns the file has; 项目名称 is never erased).
- A first planned date, an actual date and 不适用 are direct edits.
- Changing a stored planned date is a re-plan (调整计划), which the office decides:
  in the normal (merge) mode the import files a ReplanProposal by the importing
  user (reason "工作簿导入：<file>") and the milestone keeps its plan and colour
  until the office approves; a milestone whose type or project allows direct
  re-plans, and every milestone in the office's replace mode, is re-planned at
  once, recorded as a MilestoneReplan with the reason "工作簿导入". A cell that
  cannot be proposed (a proposal already pending, the milestone done) is left
  alone and reported in the preview; the row's other changes still apply.
- 不适用 marks the milestone not applicable and leaves its stored dates alone;
  a date in a milestone's cell makes it applicable again.
"""
from __future__ import annotations

import io
import itertools
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from qiantang.people import display_name
from qiantang.transactions import let_others_write, short_transactions
from qiantang_warnings.services import recompute_projects

from ..coordination.selectors import open_items_text
from ..coordination.services import items_from_workbook
from ..models import (
    Department,
    Milestone,
    MilestoneReplan,
    MilestoneType,
    Project,
    ReplanProposal,
    create_missing_milestones,
)
from ..roles import CADRE
from . import format as fmt

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
# An .xlsx is a zip: a small file can unpack into a huge sheet or one huge cell. What a
# 20,000-row sheet needs (about 25 MB of sheet XML, a few MB of text), with room to spare;
# more is refused before anything is parsed.
MAX_UNPACKED_PART = 40 * 1024 * 1024
MAX_UNPACKED_TOTAL = 80 * 1024 * 1024
# The sheet has a fixed, small set of columns (format.py: the project's, two per milestone
# type, the export's own); a wider sheet is refused from its declared size before any cell
# is read (or, undeclared, at its first row this wide).
MAX_COLUMNS = 60
REPLAN_REASON = "工作簿导入"
# Stored text, the same for every reader of the queue (like a reason a cadre types),
# so it is not translated.
PROPOSAL_REASON = "工作簿导入：{source}"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .xlsx is an OLE compound file holding a stream of this name.
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"


class WorkbookRefused(Exception):
    """The file as a whole cannot be imported; the message says why, in one sentence."""


# ---------------------------------------------------------------- reading


@dataclass
class ReadResult:
    sheet_name: str
    columns: fmt.ColumnMap
    rows: list[fmt.ParsedRow]
    errors: list[fmt.RowError]


def _open(data: bytes):
    if not data:
        raise WorkbookRefused(_("文件是空的，请选择要导入的三色预警表。"))
    if len(data) > MAX_BYTES:
        raise WorkbookRefused(_("文件超过10 MB，无法导入。"))
    if data.startswith(OLE_MAGIC):
        if ENCRYPTED_STREAM in data:
            raise WorkbookRefused(_("工作簿设有打开密码，请在Excel中取消密码后再导入。"))
        raise WorkbookRefused(_("这是旧版Excel（.xls）文件，请在Excel中另存为.xlsx后再导入。"))
    not_a_workbook = _("这不是Excel工作簿（.xlsx），无法导入。")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused(not_a_workbook)
    _refuse_oversized_parts(data, not_a_workbook)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a zip that is no workbook
        raise WorkbookRefused(not_a_workbook) from None


def _refuse_oversized_parts(data: bytes, not_a_workbook: str) -> None:
    """Refuse a workbook whose parts unpack beyond what any real 三色预警表 needs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sizes = [info.file_size for info in archive.infolist()]
    # zipfile reads the central directory here: a damaged one may claim a zip version it
    # cannot read (NotImplementedError) or a name it cannot decode (ValueError).
    except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError):
        raise WorkbookRefused(not_a_workbook) from None
    if sizes and (max(sizes) > MAX_UNPACKED_PART or sum(sizes) > MAX_UNPACKED_TOTAL):
        raise WorkbookRefused(
            _("工作簿解压后内容过多（单元格过多或单元格内容过长），请删除多余的行、列后再导入。")
        )


def read_workbook(data: bytes, *, milestone_names: list[str], today: date) -> ReadResult:
    """Parse the file into rows and row errors; raise WorkbookRefused for the whole file."""
    book = _open(data)
    try:
        sheet_name = fmt.choose_sheet(book.sheetnames)
        sheet = book[sheet_name]
        if (sheet.max_row or 0) > MAX_ROWS + 60:
            raise WorkbookRefused(_("文件超过20000行，请分批导入。"))
        max_columns = max(MAX_COLUMNS, len(fmt.PROJECT_COLUMNS) + len(fmt.EXPORT_ONLY_COLUMNS)
                          + 2 * len(milestone_names) + 20)
        _refuse_too_wide(sheet.max_column, max_columns)
        rows = sheet.iter_rows(values_only=True)
        top = list(itertools.islice(rows, fmt.HEADER_SEARCH_ROWS))
        index = fmt.find_header_row(top)
        if index is None:
            blank = all(fmt.is_blank(cell) for row in top for cell in row)
            if blank and all(fmt.is_blank(cell) for row in rows for cell in row):
                raise WorkbookRefused(_("工作簿是空的，没有可导入的项目。"))
            raise WorkbookRefused(_("找不到“项目编号”和“项目名称”列，请检查表头。"))
        header, header_row = top[index], index + 1
        _refuse_too_wide(max(map(len, top)), max_columns)
        rows = itertools.chain(top[index + 1 :], rows)
        columns = fmt.map_columns(header, milestone_names)
        if columns.missing_required:
            raise WorkbookRefused(
                _("缺少“%(columns)s”列，请检查表头。") % {"columns": "”“".join(columns.missing_required)}
            )
        if columns.duplicates:
            raise WorkbookRefused(
                _("表头有重复的列：%(columns)s。") % {"columns": "、".join(columns.duplicates)}
            )
        parsed: list[fmt.ParsedRow] = []
        errors: list[fmt.RowError] = []
        for number, row in enumerate(rows, start=header_row + 1):
            if number - header_row > MAX_ROWS:
                raise WorkbookRefused(_("文件超过20000行，请分批导入。"))
            _refuse_too_wide(len(row), max_columns)
            result, row_errors = fmt.parse_row(number, row, columns, today=today)
            errors += row_errors
            if result is not None:
                parsed.append(result)
    finally:
        book.close()
    if not parsed and not errors:
        raise WorkbookRefused(_("工作簿是空的，没有可导入的项目。"))
    _refuse_duplicate_codes(parsed)
    return ReadResult(sheet_name, columns, parsed, errors)


def _refuse_too_wide(columns: int | None, limit: int) -> None:
    if columns is not None and columns > limit:
        raise WorkbookRefused(
            _("工作表有%(columns)d列，超过%(limit)d列，请删除多余的列后再导入。") % {"columns": columns, "limit": limit}
        )


def _refuse_duplicate_codes(rows: list[fmt.ParsedRow]) -> None:
    by_code: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_code[row.code].append(row.row)
    duplicates = {code: numbers for code, numbers in by_code.items() if len(numbers) > 1}
    if duplicates:
        listed = "；".join(
            _("%(code)s（第%(rows)s行）") % {"code": code, "rows": "、".join(map(str, numbers))}
            for code, numbers in list(duplicates.items())[:10]
        )
        raise WorkbookRefused(_("同一文件中项目编号重复：%(list)s。") % {"list": listed})


# ---------------------------------------------------------------- planning


@dataclass
class RowPlan:
    row: int
    code: str
    name: str
    action: str  # CREATED, UPDATED or UNCHANGED
    changes: list[str] = field(default_factory=list)
    replans: list[str] = field(default_factory=list)  # planned dates overwritten (MilestoneReplan)
    proposals: list[str] = field(default_factory=list)  # re-plans proposed to the office
    skipped: list[str] = field(default_factory=list)  # planned dates left alone, and why
    items: list[str] = field(default_factory=list)  # 存在问题 that becomes a coordination item


@dataclass
class ImportResult:
    sheet_name: str = ""
    replace: bool = False
    dry_run: bool = True
    applied: bool = False
    refusal: str = ""
    unknown_columns: list[str] = field(default_factory=list)
    new_cadres: list[str] = field(default_factory=list)
    new_departments: list[str] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[fmt.RowError] = field(default_factory=list)
    proposal_reason: str = ""
    # Proposals need a proposer: a merge import that files them, run without a user
    # (the command without --by), writes nothing.
    proposer_missing: bool = False

    def _of(self, action: str) -> list[RowPlan]:
        return [row for row in self.rows if row.action == action]

    @property
    def items_raised(self) -> int:
        """Changed 存在问题 cells: each becomes a coordination item for the office to assign."""
        return sum(len(row.items) for row in self.rows)

    @property
    def created(self) -> list[RowPlan]:
        return self._of(CREATED)

    @property
    def updated(self) -> list[RowPlan]:
        return self._of(UPDATED)

    @property
    def unchanged(self) -> list[RowPlan]:
        return self._of(UNCHANGED)

    @property
    def replan_count(self) -> int:
        return sum(len(row.replans) for row in self.rows)

    @property
    def proposal_count(self) -> int:
        return sum(len(row.proposals) for row in self.rows)

    @property
    def skipped(self) -> list[RowPlan]:
        return [row for row in self.rows if row.skipped]

    @property
    def skipped_count(self) -> int:
        return sum(len(row.skipped) for row in self.rows)

    @property
    def ok(self) -> bool:
        return not self.refusal and not self.errors


def _show(value: Any) -> str:
    if value is None or value == "":
        return _("（空）")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _split_name(full: str) -> tuple[str, str]:
    """Surname (last_name) and given name (first_name), as the demo accounts store them."""
    if len(full) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in full):
        return full[0], full[1:]
    return "", full


@dataclass
class _MilestonePlan:
    """One row's milestone changes, as _Planner._plan_milestones finds them."""

    changes: list[str] = field(default_factory=list)
    replans: list[str] = field(default_factory=list)
    proposals: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    written: bool = False  # a milestone row is created or updated


class _Planner:
    """Builds the changes in memory from one read of the database."""

    def __init__(self, read: ReadResult, *, replace: bool, lock: bool, proposal_reason: str):
        self.read = read
        self.replace = replace
        self.proposal_reason = proposal_reason
        codes = [row.code for row in read.rows]
        projects = Project.objects.filter(code__in=codes).select_related(
            "lead_department", "responsible_cadre"
        )
        if lock:
            projects = projects.select_for_update(of=("self",)).order_by("id")
        self.projects = {p.code: p for p in projects}
        self.types = {t.name: t for t in MilestoneType.objects.all()}
        project_ids = [p.id for p in self.projects.values()]
        milestones = Milestone.objects.filter(project__in=project_ids)
        if lock:
            # Locked before the pending proposals are read: replan_propose and the
            # decisions lock the milestone first, so none slips in between this read
            # and the proposals written below (one pending per milestone).
            milestones = milestones.select_for_update().order_by("id")
        self.milestones: dict[tuple[int, int], Milestone] = {
            (m.project_id, m.milestone_type_id): m for m in milestones
        }
        # milestone id -> the date its pending proposal asks for (one query for the file).
        self.pending: dict[int, date] = dict(
            ReplanProposal.objects.filter(
                state=ReplanProposal.State.PENDING, milestone__project__in=project_ids
            ).values_list("milestone_id", "proposed_planned_date")
        ) if project_ids else {}
        self.departments = {d.name: d for d in Department.objects.all()}
        self.new_departments: dict[str, Department] = {}
        User = get_user_model()
        self.users_by_name: dict[str, list] = defaultdict(list)
        self.users_by_username = {}
        if "responsible_cadre" in read.columns.fields:
            for user in User.objects.only("id", "username", "last_name", "first_name"):
                full = f"{user.last_name}{user.first_name}"
                if full:
                    self.users_by_name[full].append(user)
                self.users_by_username[user.username] = user
        self.new_cadres: dict[str, Any] = {}
        self.errors: list[fmt.RowError] = []
        # Writes, gathered for apply().
        self.create_projects: list[Project] = []
        self.update_projects: dict[str, Project] = {}
        self.project_fields: set[str] = set()
        self.touched_ids: set[int] = set()  # existing projects with any change
        self.create_milestones: list[Milestone] = []
        self.update_milestones: list[Milestone] = []
        self.replans: list[MilestoneReplan] = []
        self.proposals: list[ReplanProposal] = []
        # A changed 存在问题 cell becomes a coordination item; the export's list of the open
        # items, read back unchanged, is no change.
        self.item_needs: list[tuple[Project, str]] = []
        self.items_text = (
            open_items_text(project_ids) if "open_problems" in read.columns.fields and project_ids else {}
        )

    # -- values

    def _cadre(self, name: str, row: int, current=None):
        matches = self.users_by_name.get(name, [])
        if current is not None and any(user.pk == current.pk for user in matches):
            return current  # two people share the name: keep the one already responsible
        if len(matches) > 1:
            self.errors.append(fmt.RowError(row, "责任干部", _("有多个同名账号，请先在系统中区分"), name))
            return None
        if matches:
            return matches[0]
        if name in self.users_by_username:
            return self.users_by_username[name]
        if name not in self.new_cadres:
            last, first = _split_name(name)
            self.new_cadres[name] = get_user_model()(last_name=last, first_name=first, is_active=False)
        return self.new_cadres[name]

    def _department(self, name: str) -> Department:
        if name in self.departments:
            return self.departments[name]
        if name not in self.new_departments:
            kind = Department.Kind.STREET if name.endswith("街道") else Department.Kind.BUREAU
            self.new_departments[name] = Department(name=name, kind=kind)
        return self.new_departments[name]

    def _target(self, fieldname: str, value: Any, row: int, project: Project):
        """The value to store for a non-blank cell (departments and cadres as objects)."""
        if fieldname == "lead_department":
            return self._department(value)
        if fieldname == "responsible_cadre":
            return self._cadre(value, row, project.responsible_cadre if project.pk else None)
        return value

    @staticmethod
    def _blank(fieldname: str):
        if fieldname in ("lead_department", "responsible_cadre", "total_investment"):
            return None
        if fieldname == "level":
            return Project.Level.DISTRICT
        if fieldname == "state":
            return Project.State.ACTIVE
        return ""

    @staticmethod
    def _same(fieldname: str, current: Any, new: Any) -> bool:
        if fieldname in ("lead_department", "responsible_cadre"):
            if current is None or new is None:
                return current is new
            return new.pk is not None and current.pk == new.pk
        if isinstance(current, str) and isinstance(new, str):
            return current.strip() == new.strip()
        if fieldname == "total_investment" and current is not None and new is not None:
            return Decimal(current) == Decimal(new)
        return current == new

    @staticmethod
    def _word(fieldname: str, value: Any) -> str:
        if fieldname == "level":
            return fmt.LEVEL_WORDS.get(value, value)
        if fieldname == "state":
            return fmt.STATE_WORDS.get(value, value)
        if fieldname == "responsible_cadre" and value is not None:
            return display_name(value)
        return _show(value)

    # -- one row

    def plan_row(self, row: fmt.ParsedRow) -> RowPlan | None:
        errors_before = len(self.errors)
        project = self.projects.get(row.code)
        is_new = project is None
        changes: list[str] = []
        if is_new:
            if not row.values.get("name"):
                self.errors.append(fmt.RowError(row.row, "项目名称", _("新项目须填写项目名称"), ""))
                return None
            # bulk_create skips Project.save(): the code is already in its one
            # spelling and checked, by workbook.parse_code.
            project = Project(code=row.code)
        changed_fields: set[str] = set()
        row_items: list[str] = []
        for fieldname, value in row.values.items():
            if fieldname == fmt.CODE:
                continue
            if (
                fieldname == "open_problems" and value is not None and not is_new
                and self._same(fieldname, self.items_text.get(project.id, ""), value)
            ):
                continue  # the export's list of this project's open items
            if value is None:
                if is_new or not self.replace or fieldname == fmt.NAME:
                    continue
                new = self._blank(fieldname)
            else:
                new = self._target(fieldname, value, row.row, project)
                if len(self.errors) > errors_before:
                    continue
            current = getattr(project, fieldname)
            if self._same(fieldname, current, new):
                continue
            if not is_new:
                changes.append(
                    f"{fmt.HEADER_OF[fieldname]}：{self._word(fieldname, current)} → {self._word(fieldname, new)}"
                )
            setattr(project, fieldname, new)
            changed_fields.add(fieldname)
            if fieldname == "open_problems" and new:
                row_items.append(new)
                self.item_needs.append((project, new))

        planned = self._plan_milestones(project, row, is_new)
        if len(self.errors) > errors_before:
            return None
        changes += planned.changes
        if is_new:
            self.create_projects.append(project)
            action = CREATED
        elif changed_fields or planned.changes:
            if changed_fields:
                self.update_projects[project.code] = project
                self.project_fields |= changed_fields
            if changed_fields or planned.written:
                # A row that only proposes re-plans changes no stored value: no recompute.
                self.touched_ids.add(project.id)
            action = UPDATED
        else:
            action = UNCHANGED
        return RowPlan(
            row.row, row.code, project.name, action, changes,
            planned.replans, planned.proposals, planned.skipped, items=row_items,
        )

    def _plan_milestones(self, project: Project, row: fmt.ParsedRow, is_new: bool) -> _MilestonePlan:
        plan = _MilestonePlan()
        for name, cells in row.milestones.items():
            milestone_type = self.types[name]
            stored = None if is_new else self.milestones.get((project.id, milestone_type.id))
            current_planned = stored.planned_date if stored else None
            current_actual = stored.actual_date if stored else None
            current_na = stored.not_applicable if stored else False
            if cells.not_applicable:
                if current_actual is not None:
                    # Done and not applicable never both (Milestone.clean): the office clears
                    # the actual date on the project page first; the import does not choose.
                    self.errors.append(fmt.RowError(
                        row.row, name + fmt.ACTUAL_SUFFIX,
                        _("已有实际完成日期，不能标为不适用（须先在项目页面清除实际完成日期）"),
                        _show(current_actual),
                    ))
                    continue
                planned, actual, na = current_planned, current_actual, True
            else:
                planned = cells.planned if cells.planned is not None else (
                    None if self.replace and cells.has_planned_column else current_planned
                )
                actual = cells.actual if cells.actual is not None else (
                    None if self.replace and cells.has_actual_column else current_actual
                )
                has_date = cells.planned is not None or cells.actual is not None
                na = False if (has_date or self.replace) else current_na
            label = name + fmt.PLANNED_SUFFIX
            moved = _("%(name)s：%(old)s → %(new)s") % {
                "name": name, "old": _show(current_planned), "new": _show(planned)
            }
            # A stored plan changed: a re-plan, overwritten at once (replace mode, or a
            # type or project the office lets re-plan directly) or proposed to the office.
            replan = current_planned is not None and planned != current_planned
            overwrite = replan and (
                self.replace or milestone_type.direct_replan_allowed or project.direct_replan_allowed
            )
            if replan and not overwrite:
                skip = self._why_not_proposed(stored, label, planned, actual)
                if skip:
                    plan.skipped.append(skip)
                else:
                    plan.changes.append(
                        f"{label}：{_show(current_planned)} → {_show(planned)}"
                        + _("（申请调整计划，待审核）")
                    )
                    plan.proposals.append(moved)
                    self._propose(stored, row.row, label, current_planned, planned)
                planned = current_planned  # the plan stands until the office decides
            if (planned, actual, na) == (current_planned, current_actual, current_na):
                continue
            if stored is None:
                milestone = Milestone(milestone_type=milestone_type, project=project)
                self.create_milestones.append(milestone)
            else:
                milestone = stored
                self.update_milestones.append(milestone)
            plan.written = True
            if na != current_na:
                plan.changes.append(
                    _("%(name)s：标为不适用") % {"name": name} if na
                    else _("%(name)s：恢复为适用") % {"name": name}
                )
            if planned != current_planned:
                change = f"{label}：{_show(current_planned)} → {_show(planned)}"
                if overwrite:
                    change += (
                        _("（记为调整计划；该节点另有待审核的调整计划申请）")
                        if stored.pk in self.pending else _("（记为调整计划）")
                    )
                    plan.replans.append(moved)
                    self.replans.append(
                        MilestoneReplan(
                            milestone=milestone, old_planned_date=current_planned,
                            new_planned_date=planned, reason=REPLAN_REASON,
                        )
                    )
                plan.changes.append(change)
            if actual != current_actual:
                plan.changes.append(
                    f"{name}{fmt.ACTUAL_SUFFIX}：{_show(current_actual)} → {_show(actual)}"
                )
            milestone.planned_date = planned
            milestone.actual_date = actual
            milestone.not_applicable = na
            if milestone.baseline_date is None and planned is not None:
                milestone.baseline_date = planned  # the first planned date, kept forever
        return plan

    def _why_not_proposed(self, stored: Milestone, label: str, planned, actual) -> str:
        """Why a changed plan cannot be proposed (the cell is then left alone), or ""."""
        if stored.pk in self.pending:
            return _(
                "%(label)s：该节点已有待审核的调整计划申请（申请改为%(date)s），"
                "本次不调整，请先在“调整计划审核”中处理"
            ) % {"label": label, "date": _show(self.pending[stored.pk])}
        # As the milestone will stand after this row (an actual date in the same row
        # counts): replan_propose refuses the same.
        # (Not applicable cannot arise here: a date in the cell makes it applicable again.)
        if actual is not None:
            return _("%(label)s：该节点已完成，计划日期不调整（表中为%(date)s）") % {
                "label": label, "date": _show(planned)
            }
        return ""

    def _propose(self, stored: Milestone, row: int, label: str, current: date, planned: date) -> None:
        """A pending ReplanProposal, checked by the model's rules without a query.

        The proposer is set when applying (a dry run may have none). Excluded from the
        checks: the foreign keys (their existence checks would be a query each) and
        the constraints, which hold by construction: one pending per milestone is
        `self.pending` read under the milestones' locks, and a new proposal is pending
        and undecided.
        """
        proposal = ReplanProposal(
            milestone=stored, previous_planned_date=current, proposed_planned_date=planned,
            reason=self.proposal_reason,
        )
        try:
            proposal.full_clean(exclude=["milestone", "proposer"], validate_constraints=False)
        except ValidationError as error:
            for message in error.messages:
                self.errors.append(fmt.RowError(row, label, message, _show(planned)))
            return
        self.proposals.append(proposal)

    # -- writing

    def apply(self, *, by, today: date) -> list[int]:
        now = timezone.now()
        for department in self.new_departments.values():
            department.save()
        if self.new_cadres:
            group = Group.objects.filter(name=CADRE).first()
            taken = set(get_user_model().objects.values_list("username", flat=True))
            number = 1
            for user in self.new_cadres.values():
                while f"cadre{number}" in taken:
                    number += 1
                user.username = f"cadre{number}"
                taken.add(user.username)
                user.set_unusable_password()
                user.save()
                if group is not None:
                    user.groups.add(group)
        # The bulk writes take the ids of the departments and accounts saved just above
        # from the related objects (Model._prepare_related_fields_for_save); the
        # *_with_history helpers keep django-simple-history's record of who changed what.
        author = by if getattr(by, "is_authenticated", False) else None
        history = {"default_user": author, "default_change_reason": REPLAN_REASON, "default_date": now}
        bulk_create_with_history(self.create_projects, Project, batch_size=500, **history)
        if self.update_projects:
            updated = list(self.update_projects.values())
            for project in updated:
                project.updated_at = now
            bulk_update_with_history(
                updated, Project, sorted(self.project_fields | {"updated_at"}), batch_size=500,
                **history,
            )
        bulk_create_with_history(self.create_milestones, Milestone, batch_size=1000, **history)
        if self.create_projects:
            # The bulk write skips Project.save(): the types the sheet left blank get their
            # blank milestone here, as a project made any other way has.
            create_missing_milestones(
                Project, MilestoneType, Milestone, project_ids=[p.id for p in self.create_projects]
            )
        if self.update_milestones:
            for milestone in self.update_milestones:
                milestone.updated_at = now
            bulk_update_with_history(
                self.update_milestones, Milestone,
                ["planned_date", "baseline_date", "actual_date", "not_applicable", "updated_at"],
                batch_size=1000, **history,
            )
        for replan in self.replans:
            replan.author = author
        MilestoneReplan.objects.bulk_create(self.replans, batch_size=1000)
        if self.proposals:
            for proposal in self.proposals:
                proposal.proposer = author
            bulk_create_with_history(self.proposals, ReplanProposal, batch_size=1000, **history)
        if self.item_needs:
            items_from_workbook([(project.id, need) for project, need in self.item_needs], by=author)
        ids = [p.id for p in self.create_projects] + sorted(self.touched_ids)
        if ids:
            recompute_projects(ids, today=today)
        return ids


def import_workbook(
    data: bytes,
    *,
    today: date,
    by=None,
    replace: bool = False,
    dry_run: bool = True,
    source_name: str = "",
    progress: Callable[[str, int, int], None] | None = None,
) -> ImportResult:
    """Plan (and unless dry_run or any error, apply) an import; never raises for bad files.

    `by` is the importing user: the author of the changes and the proposer of the
    re-plans a merge import files. `source_name` (the file's name) goes into the
    proposals' reason; the sheet's name when there is none. `progress(phase, done, total)`
    hears how far the rows are checked ("check") and, batch by batch, written ("write").
    """
    result = ImportResult(replace=replace, dry_run=dry_run)
    milestone_names = list(MilestoneType.objects.order_by("order").values_list("name", flat=True))
    try:
        read = read_workbook(data, milestone_names=milestone_names, today=today)
    except WorkbookRefused as refusal:
        result.refusal = str(refusal)
        return result
    result.sheet_name = read.sheet_name
    result.unknown_columns = read.columns.unknown
    result.proposal_reason = PROPOSAL_REASON.format(source=source_name.strip() or read.sheet_name)
    if dry_run or short_transactions():
        # Checked holding no lock: a preview writes nothing, and where any transaction takes
        # the whole database's write lock (SQLite) every row is checked before one is taken.
        _plan(read, result, replace=replace, lock=False, by=by, progress=progress)
        if dry_run or result.errors or result.proposer_missing:
            return result
        return _apply_in_batches(read, result, replace=replace, by=by, today=today, progress=progress)
    with transaction.atomic():
        planner = _plan(read, result, replace=replace, lock=True, by=by, progress=progress)
        if result.errors or result.proposer_missing:
            return result
        planner.apply(by=by, today=today)
        result.applied = True
    return result


# How often the check reports its progress, in rows.
PROGRESS_EVERY_ROWS = 100


def _plan(read: ReadResult, result: ImportResult, *, replace: bool, lock: bool, by, progress=None) -> _Planner:
    """Plan every row of `read` into `result` (its rows, errors, new cadres and departments)."""
    planner = _Planner(read, replace=replace, lock=lock, proposal_reason=result.proposal_reason)
    total = len(read.rows)
    for done, row in enumerate(read.rows, 1):
        plan = planner.plan_row(row)
        if plan is not None:
            result.rows.append(plan)
        if progress is not None and (done % PROGRESS_EVERY_ROWS == 0 or done == total):
            progress("check", done, total)
    result.errors = sorted(read.errors + planner.errors, key=lambda e: e.row)
    result.new_cadres = list(planner.new_cadres)
    result.new_departments = list(planner.new_departments)
    result.proposer_missing = _proposals_without_proposer(planner, by)
    return planner


def _proposals_without_proposer(planner: _Planner, by) -> bool:
    """The plan files re-plan proposals but nobody signed in imports it (a command without
    --by): nothing is written, the result asks for a proposer."""
    return bool(planner.proposals) and not getattr(by, "is_authenticated", False)


def _apply_in_batches(
    read: ReadResult, result: ImportResult, *, replace: bool, by, today: date, progress=None
) -> ImportResult:
    """Write the checked rows settings.IMPORT_BATCH_ROWS at a time (SHORT_TRANSACTIONS, on for
    SQLite: qiantang/transactions.py), each batch one transaction that plans its rows again
    under their locks, writes them and recomputes their projects, with a pause between batches
    for other writers. A batch's cadres and departments are found by name by the next one.

    Every row was checked first, so a batch finds an error only if someone changed the data
    meanwhile (a namesake account created, a project deleted): the import stops there, that
    batch writes nothing, and `refusal` says which rows were written. A process that dies
    mid-import leaves whole batches written (with their history, proposals, items and colours)
    and the rest not. Either way importing the same file again completes it: the import is an
    upsert, and the rows already written are unchanged to it (a re-plan already proposed is
    left alone as pending, a cadre or department already created is found by name)."""
    size = max(1, settings.IMPORT_BATCH_ROWS)
    rows: list[RowPlan] = []
    new_cadres: list[str] = []
    new_departments: list[str] = []
    for start in range(0, len(read.rows), size):
        batch = ReadResult(read.sheet_name, read.columns, read.rows[start : start + size], [])
        if start:
            let_others_write()
        with transaction.atomic():
            planner = _Planner(batch, replace=replace, lock=True, proposal_reason=result.proposal_reason)
            plans = [plan for plan in map(planner.plan_row, batch.rows) if plan is not None]
            if planner.errors or _proposals_without_proposer(planner, by):
                result.errors = sorted(planner.errors, key=lambda e: e.row)
                result.refusal = _(
                    "导入期间数据有变动，第%(row)s行起未写入（之前的行已写入）。请重新导入同一文件：已写入的行不会重复写入。"
                ) % {"row": batch.rows[0].row}
                return result
            planner.apply(by=by, today=today)
        if progress is not None:
            progress("write", start + len(batch.rows), len(read.rows))
        rows += plans
        new_cadres += list(planner.new_cadres)
        new_departments += list(planner.new_departments)
    result.rows, result.new_cadres, result.new_departments = rows, new_cadres, new_departments
    result.applied = True
    return result


def read_file(path: str | Path) -> bytes:
    """A file's bytes, refusing one over 10 MB before reading it."""
    path = Path(path)
    if path.stat().st_size > MAX_BYTES:
        raise WorkbookRefused(_("文件超过10 MB，无法导入。"))
    return path.read_bytes()
