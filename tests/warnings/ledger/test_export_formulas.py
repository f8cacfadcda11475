"""Every text the office typed goes out of a ledger's workbooks as text: a snapshot (or a
milestone type, or a department) named like a formula is never a live formula in Excel."""
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from projects.models import Department, MilestoneType
from qiantang_warnings.ledger.export import ledger_workbook, rankings_workbook
from qiantang_warnings.ledger.freeze import freeze_snapshot
from qiantang_warnings.ledger.selectors import ranking_tables
from qiantang_warnings.recompute import recompute_all

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example","x")'


def formula_cells(data: bytes) -> list[str]:
    book = load_workbook(BytesIO(data))
    return [f"{sheet.title}!{cell.coordinate}={cell.value!r}"
            for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if cell.data_type == "f"]


def test_a_snapshot_named_like_a_formula_exports_as_text(make_project, role_users, today):
    department = Department.objects.create(name="+区住建局")
    MilestoneType.objects.filter(code="signing").update(name="@项目签约")
    make_project("QT-0001", name="-澜康微电子", lead_department=department,
                 milestones={"signing": {"planned_date": today - timedelta(days=3)}})
    recompute_all(today=today)
    first = freeze_snapshot(name=EVIL, today=today, by=role_users["office"])
    second = freeze_snapshot(name=EVIL, today=today, by=role_users["office"])

    for data in (ledger_workbook(first), ledger_workbook(second), rankings_workbook(second, ranking_tables(second))):
        assert formula_cells(data) == []
    sheets = load_workbook(BytesIO(ledger_workbook(second))).worksheets
    assert sheets[0]["A1"].value.startswith(EVIL) and sheets[0]["A1"].quotePrefix
    assert sheets[1]["A1"].value == f"{EVIL} 较 {EVIL} 的变化"
