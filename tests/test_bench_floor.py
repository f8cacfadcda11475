"""The bench's SQL floor (bench/floor.sql) computes exactly what the recompute stores.

The floor is only a fair yardstick if it does the same work: these tests build projects that
reach every clause the statement claims to cover and compare it with the recompute on every
row, at several days (so dues pass, windows open and escalations lapse)."""
from datetime import timedelta

import pytest

from bench import floor
from projects.models import MilestoneType, Project
from qiantang_warnings.models import Escalation, WarningPolicy
from qiantang_warnings.recompute import recompute_all

D = timedelta(days=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(make_project, today):
    """Projects touching each clause: derived dues, not applicable, unscheduled, re-planned,
    per-type overrides, escalations of each colour and lapsed ones, states other than active."""
    MilestoneType.objects.filter(code="land_listing").update(yellow_window_disabled=True)
    MilestoneType.objects.filter(code="land_transfer").update(red_after_days=5, yellow_before_days=3)
    approved = today - 40 * D
    make_project("F-DERIVED", milestones={"approval": {"actual_date": approved}})  # signing due +30
    make_project("F-FUTURE-ACTUAL", milestones={"approval": {"actual_date": today + 3 * D}})
    make_project("F-NA", milestones={
        "approval": {"actual_date": today - 200 * D},
        "signing": {"not_applicable": True},
        "land_listing": {"planned_date": today + 20 * D},
    })
    make_project("F-UNSCHEDULED", milestones={"approval": {"planned_date": None}})
    make_project("F-REPLANNED", milestones={
        "approval": {"actual_date": today - 100 * D},
        "signing": {"baseline_date": today - 9 * D, "planned_date": today + 60 * D},
    })
    make_project("F-OVERRIDES", milestones={
        "approval": {"actual_date": today - 300 * D},
        "signing": {"actual_date": today - 250 * D},
        "land_listing": {"planned_date": today + 2 * D},  # no due-soon window for this type
        "land_transfer": {"planned_date": today - 4 * D},  # late, but red only after 5 days
    })
    many = make_project("F-MANY", milestones={
        "approval": {"planned_date": today - 3 * D},
        "signing": {"planned_date": today + 10 * D},
        "land_listing": {"planned_date": today - 30 * D},
        "land_transfer": {"planned_date": today + 1 * D},
    })
    Escalation.objects.create(project=many, colour="yellow", reason="区领导关注", until=today + 5 * D)
    Escalation.objects.create(project=many, colour="red", reason="督办", until=today + 20 * D)
    quiet = make_project("F-ESCALATED", milestones={"approval": {"planned_date": today + 100 * D}})
    Escalation.objects.create(project=quiet, colour="red", reason="已过期的督办", until=today - D)
    Escalation.objects.create(project=quiet, colour="yellow", reason="关注", until=today + 2 * D)
    for state in ("paused", "completed", "terminated"):
        make_project(f"F-{state}", state=state, milestones={"approval": {"planned_date": today - 9 * D}})
    make_project("F-DONE", milestones={
        code: {"actual_date": today - (100 - order) * D}
        for code, order in MilestoneType.objects.values_list("code", "order")
    })


@pytest.mark.parametrize("days_later", [0, 1, 3, 6, 11, 45, 400])
def test_the_floor_agrees_with_the_stored_results_on_every_row(varied, today, days_later):
    day = today + days_later * D
    recompute_all(today=day)
    seconds, results = floor.time_floor(day)
    assert seconds >= 0 and len(results) == Project.objects.count()
    assert floor.disagreements(day, results) == []
    # The data reaches each colour and reason kind, so agreement is not agreement on nothing.
    if days_later == 0:
        kinds = {r["kind"] for _c, reasons, _n, _b in results.values() for r in reasons}
        assert kinds == {"overdue", "due_soon", "escalated"}
        assert {colour for colour, *_ in results.values()} == {"red", "yellow", "green", ""}
        assert any(needs_plan for _c, _r, needs_plan, _b in results.values())
        assert any(colour != baseline for colour, _r, _n, baseline in results.values())


def test_a_disagreement_is_reported_with_both_sides(varied, today):
    recompute_all(today=today)
    Project.objects.filter(code="F-DERIVED").update(colour="green")
    ((project_id, stored, computed),) = floor.disagreements(today)
    assert Project.objects.get(pk=project_id).code == "F-DERIVED"
    assert (stored[0], computed[0]) == ("green", "red")


def test_the_floor_refuses_a_policy_it_does_not_compute(varied, today):
    WarningPolicy.objects.filter(pk=WarningPolicy.SINGLETON_ID).update(count_working_days=True)
    with pytest.raises(floor.FloorNotApplicable):
        floor.time_floor(today)
    WarningPolicy.objects.filter(pk=WarningPolicy.SINGLETON_ID).update(count_working_days=False, items_raise_colour=True)
    with pytest.raises(floor.FloorNotApplicable):
        floor.time_floor(today)
