"""The import in batches (settings.SHORT_TRANSACTIONS, on for SQLite, where one transaction
locks the whole database): every row is checked first, holding no lock (an error writes
nothing), then the rows are written a batch at a time, each batch one transaction. The result
is the one-transaction import's, and a process that dies mid-import leaves whole batches
written; importing the same file again completes it, exactly. Here on PostgreSQL with the
setting on; tests/test_sqlite_long_work.py runs it on SQLite."""
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from projects.models import CoordinationItem, Department, Milestone, MilestoneReplan, Project, ReplanProposal
from projects.workbook import importer
from projects.workbook.importer import import_workbook
from qiantang_warnings.models import StatusChange

from .test_importer import office_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        yield


class Undo(Exception):
    pass


def sheet():
    """Ten rows in batches of three: four projects already stored (their moved plans are
    proposed), six new ones; a new cadre and a new department named in several batches, a
    changed 存在问题 cell in some (each becomes a coordination item)."""
    rows = []
    for n in range(10):
        rows.append([
            n + 1, f"QT-{n:04d}", f"批次项目{n}", "区重点", "生物医药", 1.5,
            "区新设单位" if n % 2 else "区经信局", "欧阳新" if n % 3 == 0 else "王建国", "推进中",
            "2027-01-15" if n < 4 else "2026-12-10", None, "2027-02-01", None, None, None,
            f"进展{n}", f"问题{n}" if n % 4 == 0 else None,
        ])
    return office_workbook(rows)


@pytest.fixture
def stored(make_project, role_users, settings):
    settings.IMPORT_BATCH_ROWS = 3
    User.objects.create_user("wangjg", last_name="王", first_name="建国")
    Department.objects.create(name="区经信局")
    for n in range(4):
        make_project(f"QT-{n:04d}", milestones={"approval": dict(planned_date=date(2026, 12, 1),
                                                                 baseline_date=date(2026, 12, 1))})
    return role_users["office"]


def snapshot():
    """Everything an import writes, by natural keys (no ids, no moments)."""
    return {
        "projects": list(Project.objects.order_by("code").values_list(
            "code", "name", "level", "sector", "total_investment", "lead_department__name",
            "responsible_cadre__username", "state", "progress_note", "open_problems", "colour", "reasons",
            "needs_plan", "computed_as_of", "recheck_on",
        )),
        "milestones": list(Milestone.objects.order_by("project__code", "milestone_type__order").values_list(
            "project__code", "milestone_type__code", "planned_date", "baseline_date", "actual_date", "not_applicable",
        )),
        "replans": sorted(MilestoneReplan.objects.values_list(
            "milestone__project__code", "milestone__milestone_type__code", "old_planned_date", "new_planned_date",
            "reason",
        )),
        "proposals": sorted(ReplanProposal.objects.values_list(
            "milestone__project__code", "milestone__milestone_type__code", "previous_planned_date",
            "proposed_planned_date", "reason", "state", "proposer__username",
        )),
        "items": sorted(CoordinationItem.objects.values_list("project__code", "need", "state", "raised_by__username")),
        "users": sorted(User.objects.values_list("username", "last_name", "first_name", "is_active")),
        "departments": sorted(Department.objects.values_list("name", "kind")),
        "status changes": sorted(StatusChange.objects.values_list("project__code", "from_colour", "to_colour", "as_of")),
        "history": (Project.history.count(), Milestone.history.count(), ReplanProposal.history.count()),
    }


def one_transaction_import(data, by, today, settings):
    """What the one-transaction import writes, then undone."""
    settings.SHORT_TRANSACTIONS = False
    try:
        with transaction.atomic():
            result = import_workbook(data, today=today, by=by, dry_run=False, source_name="批次.xlsx")
            assert result.applied, result.errors
            written = snapshot()
            raise Undo
    except Undo:
        pass
    settings.SHORT_TRANSACTIONS = True
    return result, written


def test_in_batches_the_import_writes_what_one_transaction_writes(stored, today, settings):
    data = sheet()
    expected_result, expected = one_transaction_import(data, stored, today, settings)
    before = snapshot()
    result = import_workbook(data, today=today, by=stored, dry_run=False, source_name="批次.xlsx")
    assert result.applied and result.ok
    assert snapshot() == expected != before
    assert len(expected["proposals"]) == 4 and len(expected["items"]) == 3
    assert [u for u in expected["users"] if u[1] == "欧"] == [("cadre3", "欧", "阳新", False)]  # one account
    assert [(r.row, r.code, r.action, r.changes, r.proposals) for r in result.rows] == [
        (r.row, r.code, r.action, r.changes, r.proposals) for r in expected_result.rows
    ]
    assert (result.new_cadres, result.new_departments) == (["欧阳新"], ["区新设单位"])


def test_a_process_that_dies_mid_import_leaves_whole_batches_and_the_same_file_again_completes_it(
    stored, today, settings, monkeypatch
):
    data = sheet()
    _result, expected = one_transaction_import(data, stored, today, settings)
    real_apply = importer._Planner.apply
    batches = []

    def dies_in_the_third_batch(planner, **kwargs):
        batches.append(sorted(row.code for row in planner.read.rows))
        ids = real_apply(planner, **kwargs)
        if len(batches) == 3:
            raise SystemExit("killed")  # after the batch's writes, before its commit
        return ids

    monkeypatch.setattr(importer._Planner, "apply", dies_in_the_third_batch)
    with pytest.raises(SystemExit):
        import_workbook(data, today=today, by=stored, dry_run=False, source_name="批次.xlsx")
    codes = set(Project.objects.values_list("code", flat=True))
    assert codes == {f"QT-{n:04d}" for n in range(6)}, "two whole batches, not the third"
    assert Project.objects.filter(code="QT-0005", computed_as_of=today).exists(), "recomputed with its batch"

    monkeypatch.setattr(importer._Planner, "apply", real_apply)
    again = import_workbook(data, today=today, by=stored, dry_run=False, source_name="批次.xlsx")
    assert again.applied and again.ok
    # The rows written before are unchanged now; the moved plans already proposed are left as pending.
    assert {r.code for r in again.rows if r.action == "unchanged"} >= {"QT-0004", "QT-0005"}
    assert {r.code for r in again.skipped} == {"QT-0000", "QT-0001", "QT-0002", "QT-0003"}
    assert snapshot() == expected


def test_an_error_anywhere_writes_nothing_and_takes_no_lock(stored, today, settings, monkeypatch):
    settings.SHORT_TRANSACTIONS = True
    before = snapshot()
    data = office_workbook([[1, "QT-0100", "好项目", *[None] * 14], [2, "QT-0101", "坏项目", "区重点", "生物医药",
                                                                   "很多", *[None] * 11]])
    monkeypatch.setattr(importer, "_apply_in_batches", lambda *a, **k: pytest.fail("no batch for a bad file"))
    result = import_workbook(data, today=today, by=stored, dry_run=False)
    assert result.errors and not result.applied
    assert snapshot() == before


def test_a_namesake_created_mid_import_stops_it_where_the_rows_are_no_longer_checked(
    stored, today, settings, monkeypatch
):
    """Every row was checked before the first batch; a batch that finds an error all the same
    (someone created a namesake account meanwhile) writes nothing, and the import stops there
    saying which rows were written."""
    settings.SHORT_TRANSACTIONS = True
    real_pause = importer.let_others_write

    def a_namesake_appears():
        if not User.objects.filter(username="wangjg2").exists():
            User.objects.create_user("wangjg2", last_name="王", first_name="建国")
        real_pause()

    monkeypatch.setattr(importer, "let_others_write", a_namesake_appears)
    result = import_workbook(sheet(), today=today, by=stored, dry_run=False, source_name="批次.xlsx")
    assert not result.applied
    assert "第6行起未写入" in result.refusal  # the title row, the header, then rows 3, 4, 5 written
    assert [str(error) for error in result.errors] and all("同名" in str(error) for error in result.errors)
    assert set(Project.objects.values_list("code", flat=True)) == {f"QT-{n:04d}" for n in range(4)}
    assert Project.objects.get(code="QT-0001").progress_note == "进展1", "the first batch was written"
    assert Project.objects.get(code="QT-0003").progress_note == "", "the second was not"
