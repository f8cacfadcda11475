"""`rules.recheck_on`: the first day a project's colour, reasons or needs_plan may change with
no input changed. The recompute leaves a project alone until that day, so the day must never
come late (checked on generated projects, against the rules themselves, day by day), and it
should not come needlessly early either (the table: the day it names is the day it changes)."""
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qiantang_warnings import rules
from qiantang_warnings.rules import EscalationFacts, ItemFacts, MilestoneFacts, Policy
from qiantang_warnings.workdays import build_calendar

from .test_rules_properties import days, milestone_lists

T = date(2026, 11, 25)
CALENDAR, _ = build_calendar(office_days={}, years=range(2024, 2029))
CHECKED_DAYS = 120  # every day this far after `today` is compared, and the day before the answer


def ms(order: int, **fields) -> MilestoneFacts:
    return MilestoneFacts(code=f"m{order}", name=f"节点{order}", order=order, **fields)


def stored(result: rules.ProjectResult) -> tuple:
    """What the recompute stores of a result (and compares to decide whether to write)."""
    return result.colour, result.reason_dicts, result.needs_plan


def evaluate(kwargs: dict, today: date) -> rules.ProjectResult:
    return rules.evaluate_project(**{**kwargs, "today": today})


def answer(kwargs: dict) -> date | None:
    return rules.recheck_on(evaluate(kwargs, kwargs["today"]), **kwargs)


def project(*milestones, policy=Policy(), today=T, **more) -> dict:
    return dict(state=rules.ACTIVE, milestones=list(milestones), policy=policy, today=today, **more)


@pytest.mark.parametrize("kwargs, expected", [
    pytest.param(project(ms(1, planned_date=T + timedelta(days=40))), T + timedelta(days=25),
                 id="pending, due in 40 days: the 15-day window opens on day 25"),
    pytest.param(project(ms(1, planned_date=T + timedelta(days=40)), policy=Policy(yellow_before_days=None)),
                 T + timedelta(days=41), id="no window: red the day after the due date"),
    pytest.param(project(ms(1, planned_date=T + timedelta(days=5))), T + timedelta(days=1),
                 id="due soon: the days left change tomorrow"),
    pytest.param(project(ms(1, planned_date=T - timedelta(days=5))), T + timedelta(days=1),
                 id="overdue: the days overdue change tomorrow"),
    pytest.param(project(ms(1, actual_date=T - timedelta(days=3)), ms(2, standard_days=60)),
                 T + timedelta(days=42), id="due by standard days after the previous one done"),
    pytest.param(project(ms(1, planned_date=T - timedelta(days=9), actual_date=T + timedelta(days=10)),
                         ms(2, planned_date=T + timedelta(days=300))),
                 T + timedelta(days=1), id="overdue until its later actual date: tomorrow all the same"),
    pytest.param(project(ms(1, planned_date=T + timedelta(days=90), actual_date=T + timedelta(days=10)),
                         ms(2)),
                 T + timedelta(days=10), id="done on a later day: then the next one needs a plan"),
    pytest.param(project(ms(1, actual_date=T - timedelta(days=1)), ms(2, not_applicable=True)), None,
                 id="all done or not applicable: time changes nothing"),
    pytest.param(project(ms(1)), None, id="unscheduled with nothing before it: time changes nothing"),
    pytest.param(project(ms(1, actual_date=T - timedelta(days=1)),
                         escalations=[EscalationFacts(rules.RED, "督办", T + timedelta(days=6))]),
                 T + timedelta(days=7), id="escalated: the day after the escalation's last day"),
    pytest.param(project(ms(1, actual_date=T - timedelta(days=1)),
                         escalations=[EscalationFacts(rules.GREEN, "", T + timedelta(days=6))]),
                 None, id="a green escalation raises nothing"),
    pytest.param(project(ms(1, actual_date=T - timedelta(days=1)),
                         items=[ItemFacts("腾地", "规划局", T + timedelta(days=8))]),
                 T + timedelta(days=9), id="a waiting item counts from the day after its deadline"),
    pytest.param(dict(project(ms(1, planned_date=T - timedelta(days=5))), state="paused"), None,
                 id="not active: no colour, whatever the day"),
    pytest.param(project(ms(1, planned_date=date(2026, 10, 16)), policy=Policy(count_working_days=True),
                         today=date(2026, 9, 1), calendar=CALENDAR),
                 date(2026, 9, 20), id="working days: 15 working days before 10-16 (National Day off), a Sunday worked"),
])
def test_the_day_a_project_may_change(kwargs, expected):
    assert answer(kwargs) == expected


@pytest.mark.parametrize("kwargs", [
    project(ms(1, planned_date=T + timedelta(days=40))),
    project(ms(1, planned_date=T + timedelta(days=40)), policy=Policy(yellow_before_days=None)),
    project(ms(1, planned_date=T + timedelta(days=90), actual_date=T + timedelta(days=10)), ms(2)),
    project(ms(1, actual_date=T - timedelta(days=1)),
            escalations=[EscalationFacts(rules.RED, "督办", T + timedelta(days=6))]),
    project(ms(1, actual_date=T - timedelta(days=1)), items=[ItemFacts("腾地", "规划局", T + timedelta(days=8))]),
    project(ms(1, planned_date=date(2026, 10, 16)), policy=Policy(count_working_days=True),
            today=date(2026, 9, 1), calendar=CALENDAR),
], ids=["window", "no window", "done later", "escalation", "item", "working days"])
def test_the_day_named_is_the_day_it_changes(kwargs):
    day = answer(kwargs)
    today = kwargs["today"]
    assert stored(evaluate(kwargs, day - timedelta(days=1))) == stored(evaluate(kwargs, today))
    assert stored(evaluate(kwargs, day)) != stored(evaluate(kwargs, today))


policies = st.builds(
    Policy,
    yellow_before_days=st.one_of(st.none(), st.integers(0, 60)),
    red_after_days=st.integers(0, 30),
    count_working_days=st.booleans(),
)
escalations = st.lists(st.builds(
    EscalationFacts, colour=st.sampled_from([rules.YELLOW, rules.RED, rules.GREEN]),
    reason=st.sampled_from(["", "督办"]), until=days,
), max_size=2)
items = st.lists(st.builds(ItemFacts, need=st.just("腾地"), department=st.just("规划局"), deadline=days), max_size=2)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(milestone_lists(), policies, days, escalations, items, st.booleans())
def test_nothing_stored_changes_before_the_day_named(milestones, policy, today, escalated, waiting, with_catalogue):
    # Generated milestones may count working days by their type's policy too: the calendar is given.
    catalogue = [rules.blank_milestone(code=f"m{order}", name=f"节点{order}", order=order, standard_days=30)
                 for order in range(1, 8)] if with_catalogue else []
    kwargs = dict(state=rules.ACTIVE, milestones=milestones, policy=policy, today=today,
                  escalations=[e for e in escalated if e.until >= today],  # as the recompute loads them
                  calendar=CALENDAR, catalogue=catalogue, items=waiting)
    then = stored(evaluate(kwargs, today))
    day = answer(kwargs)
    assert day is None or day > today
    last = (day - timedelta(days=1)) if day else today + timedelta(days=CHECKED_DAYS * 4)
    checked = [today + timedelta(days=n) for n in range(1, CHECKED_DAYS)] + [last]
    for later in checked:
        if later <= last and later <= date(2028, 12, 31):
            assert stored(evaluate(kwargs, later)) == then, (later, day)
