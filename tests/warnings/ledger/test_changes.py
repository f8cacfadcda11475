"""changes_between on constructed rows: each kind of change, and nothing when nothing moved."""
from datetime import date

from qiantang_warnings.ledger.changes import (
    ColourChange,
    ItemChange,
    MilestoneDone,
    Replan,
    changes_between,
)

TYPES = [["approval", "过会"], ["signing", "项目签约"], ["groundbreaking", "开工"]]


def row(code, colour="green", milestones=None, items=(), name=None, reasons=()):
    return {
        "code": code, "name": name or f"项目{code}", "colour": colour, "reasons": list(reasons),
        "milestones": milestones or {}, "items": list(items),
    }


def m(planned=None, actual=None, baseline=None):
    return {"planned": planned, "actual": actual, "baseline": baseline, "not_applicable": False, "colour": ""}


def test_the_same_rows_have_no_changes():
    rows = [row("QT-1", "red", {"signing": m("2026-10-01", baseline="2026-09-01")}, [{"id": 1, "need": "x", "department": "d", "deadline": None, "state": "open"}])]
    assert changes_between(rows, rows, TYPES).is_empty


def test_each_kind_of_change_is_found():
    overdue = {"kind": "overdue", "days": 3, "name": "项目签约"}
    before = [
        row("QT-1", "yellow"),
        row("QT-2", "red"),
        row("QT-3", "red"),
        row("QT-4", "green", {"signing": m("2026-11-01", baseline="2026-10-01"), "approval": m("2026-09-01")}),
        row("QT-5", "green", items=[{"id": 7, "need": "地块征迁", "department": "区住建局", "deadline": "2026-11-20", "state": "open"}]),
        row("QT-9", "green"),
    ]
    after = [
        row("QT-1", "red", reasons=[overdue]),
        row("QT-2", "yellow"),
        row("QT-3", "green"),
        row("QT-4", "green", {"signing": m("2026-12-15", baseline="2026-10-01"), "approval": m("2026-09-01", "2026-09-03")}),
        row("QT-5", "green", items=[{"id": 8, "need": "电力增容", "department": "供电公司", "deadline": None, "state": "open"}]),
        row("QT-10", "yellow"),
    ]
    changes = changes_between(before, after, TYPES)
    assert changes.turned_red == [ColourChange("QT-1", "项目QT-1", "yellow", "red", (overdue,))]
    assert changes.recovered == [ColourChange("QT-2", "项目QT-2", "red", "yellow"), ColourChange("QT-3", "项目QT-3", "red", "green")]
    assert changes.replanned == [Replan("QT-4", "项目QT-4", "项目签约", date(2026, 11, 1), date(2026, 12, 15), 75)]
    assert changes.milestones_done == [MilestoneDone("QT-4", "项目QT-4", "过会", date(2026, 9, 3))]
    assert changes.items_opened == [ItemChange("QT-5", "项目QT-5", "电力增容", "供电公司", None)]
    assert changes.items_closed == [ItemChange("QT-5", "项目QT-5", "地块征迁", "区住建局", date(2026, 11, 20))]
    assert changes.added == [("QT-10", "项目QT-10")] and changes.removed == [("QT-9", "项目QT-9")]


def test_a_new_project_that_is_red_is_added_not_turned_red_and_a_first_plan_is_no_replan():
    before = [row("QT-1", "", {"signing": m()})]  # inactive or not yet computed, no plan yet
    after = [row("QT-1", "red", {"signing": m("2026-11-01", baseline="2026-11-01")}), row("QT-2", "red")]
    changes = changes_between(before, after, TYPES)
    assert [c.code for c in changes.turned_red] == ["QT-1"]  # from no colour: it is red now
    assert changes.replanned == []  # a first planned date is planning, not re-planning
    assert changes.added == [("QT-2", "项目QT-2")]


def test_a_plan_moved_earlier_is_a_replan_with_no_slip():
    before = [row("QT-1", milestones={"signing": m("2026-12-01", baseline="2026-11-01")})]
    after = [row("QT-1", milestones={"signing": m("2026-10-20", baseline="2026-11-01")})]
    (replan,) = changes_between(before, after, TYPES).replanned
    assert replan.slipped_days == 0
