"""urgency_key: the dashboard lists' order, one integer stored with each project."""
import pytest

from projects.models import Project
from qiantang_warnings.reasons import urgency_key
from qiantang_warnings.recompute import recompute_all


def overdue(days):
    return {"colour": "red", "kind": "overdue", "days": days}


def due_soon(days):
    return {"colour": "yellow", "kind": "due_soon", "days": days}


ESCALATED = {"colour": "red", "kind": "escalated", "days": 0, "note": "督办"}
ITEM = {"colour": "red", "kind": "item_overdue", "days": 40}


def test_most_overdue_first_then_soonest_due_then_the_rest():
    ordered = [
        [ESCALATED, overdue(3), overdue(90)],  # an escalation heading the list does not hide 90 days
        [overdue(30)],
        [overdue(1), due_soon(0)],
        [due_soon(0)],
        [ESCALATED, due_soon(14)],
        [ITEM],  # an overdue coordination item, an escalation: no milestone to count
        [ESCALATED],
        [],
    ]
    keys = [urgency_key(reasons) for reasons in ordered]
    assert keys == sorted(keys)
    assert keys[-3:] == [urgency_key([])] * 3


@pytest.mark.django_db
def test_the_recompute_stores_the_key_with_the_reasons(make_project, today):
    from datetime import timedelta

    D = timedelta(days=1)
    make_project("QT-LATE", milestones={"approval": {"planned_date": today - 12 * D}})
    make_project("QT-SOON", milestones={"approval": {"planned_date": today + 4 * D}})
    make_project("QT-FAR", milestones={"approval": {"planned_date": today + 200 * D}})
    recompute_all(today=today)
    stored = dict(Project.objects.values_list("code", "urgency"))
    assert stored == {"QT-LATE": -12, "QT-SOON": 1_000_004, "QT-FAR": 2_000_000}
    recompute_all(today=today + D)  # the next day moves the days, and the key with them
    assert dict(Project.objects.values_list("code", "urgency"))["QT-LATE"] == -13
