"""The three-colour warning rules (README, "The warning rules"), table by table.

Each table follows a section of the spec; each row's id says the clause it checks.
The rules are pure: no database, and "today" (T) is always passed in.
Texts are checked as users read them: the stored reason dicts rendered in zh-hans.
"""
from datetime import date, timedelta

import pytest
from django.utils import translation

from qiantang_warnings import rules
from qiantang_warnings.reasons import render_reason
from qiantang_warnings.rules import (
    DONE,
    GREEN,
    NOT_APPLICABLE,
    PENDING,
    RED,
    UNSCHEDULED,
    YELLOW,
    EscalationFacts,
    MilestoneFacts,
    Policy,
    Reason,
    evaluate_milestones,
    evaluate_project,
)
from qiantang_warnings.workdays import build_calendar

T = date(2026, 11, 25)
D = date.fromisoformat

DEFAULTS = Policy()  # yellow 15 days before, red from the day after the due date
WORKING = Policy(count_working_days=True)

# The default catalogue: code -> (order, name, standard days).
CATALOGUE = {
    "approval": (1, "过会", None),
    "signing": (2, "项目签约", 30),
    "land_listing": (3, "土地挂牌", 90),
    "land_transfer": (4, "土地出让", 30),
    "planning_permit": (5, "工程规划许可", 60),
    "construction_permit": (6, "施工许可", 30),
    "groundbreaking": (7, "开工", 30),
    "completion": (8, "竣工验收", 540),
    "production": (9, "投产", 90),
}

# 2026 as chinese-calendar knows it: National Day 10-01..10-07,
# Mid-Autumn 09-25, working Sunday 09-20 and working Saturday 10-10.
CAL_2026, _uncovered = build_calendar(office_days={}, years=range(2026, 2027))


def day(offset: int) -> date:
    """T shifted by `offset` calendar days (negative: before T)."""
    return T + timedelta(days=offset)


def ms(code: str, **fields) -> MilestoneFacts:
    order, name, standard_days = CATALOGUE[code]
    fields.setdefault("standard_days", standard_days)
    return MilestoneFacts(code=code, name=name, order=order, **fields)


def text(reason: Reason | dict | None) -> str | None:
    if reason is None:
        return None
    as_dict = reason.as_dict() if isinstance(reason, Reason) else reason
    with translation.override("zh-hans"):
        return render_reason(as_dict)


def texts(result) -> list[str]:
    """The project's reasons as stored (dicts) and shown (zh-hans)."""
    return [text(reason) for reason in result.reason_dicts]


def by_code(results, code):
    return next(result for result in results if result.code == code)


def project(*milestones, policy=DEFAULTS, state="active", escalations=(), today=T, calendar=None):
    return evaluate_project(
        state=state,
        milestones=milestones,
        policy=policy,
        today=today,
        escalations=escalations,
        calendar=calendar,
    )


# --- Colour of a milestone as of T ---------------------------------------------------
# (status, colour, days_late, reason text): days_late is actual − due for a done
# milestone and days past due for a pending one (negative: days left).

@pytest.mark.parametrize(
    "fields, policy, expected",
    [
        pytest.param(
            dict(not_applicable=True, planned_date=day(-100)), DEFAULTS,
            (NOT_APPLICABLE, None, None, None), id="not applicable: ignored even when long overdue",
        ),
        pytest.param(
            dict(planned_date=day(-10), actual_date=day(-12)), DEFAULTS,
            (DONE, GREEN, -2, None), id="done early: green, early days recorded as negative",
        ),
        pytest.param(
            dict(planned_date=day(-30), actual_date=day(-5)), DEFAULTS,
            (DONE, GREEN, 25, None), id="done late: green, lateness actual - due recorded",
        ),
        pytest.param(
            dict(planned_date=day(-400), actual_date=day(0)), DEFAULTS,
            (DONE, GREEN, 400, None), id="done very late: still green, never colours",
        ),
        pytest.param(
            dict(actual_date=day(-3)), DEFAULTS,
            (DONE, GREEN, None, None), id="done with no due date: green, lateness unknown",
        ),
        pytest.param(
            dict(), DEFAULTS,
            (UNSCHEDULED, None, None, None), id="pending unscheduled: no colour",
        ),
        pytest.param(
            dict(planned_date=day(16)), DEFAULTS,
            (PENDING, GREEN, -16, None), id="due in 16 days: green (just outside the window)",
        ),
        pytest.param(
            dict(planned_date=day(15)), DEFAULTS,
            (PENDING, YELLOW, -15, "项目签约将于15天后到期"), id="due in 15 days: yellow (window edge)",
        ),
        pytest.param(
            dict(planned_date=day(1)), DEFAULTS,
            (PENDING, YELLOW, -1, "项目签约将于1天后到期"), id="due tomorrow: yellow",
        ),
        pytest.param(
            dict(planned_date=day(0)), DEFAULTS,
            (PENDING, YELLOW, 0, "项目签约今天到期"), id="due today: yellow, 今天到期",
        ),
        pytest.param(
            dict(planned_date=day(-1)), DEFAULTS,
            (PENDING, RED, 1, "项目签约逾期1天"), id="overdue 1 day with red_after_days 0: red",
        ),
        pytest.param(
            dict(planned_date=day(-400)), DEFAULTS,
            (PENDING, RED, 400, "项目签约逾期400天"), id="overdue 400 days: red",
        ),
        pytest.param(
            dict(planned_date=day(0)), Policy(red_after_days=3),
            (PENDING, YELLOW, 0, "项目签约今天到期"), id="red_after_days 3, due today: yellow",
        ),
        pytest.param(
            dict(planned_date=day(-1)), Policy(red_after_days=3),
            (PENDING, YELLOW, 1, "项目签约逾期1天"), id="red_after_days 3, overdue 1: yellow",
        ),
        pytest.param(
            dict(planned_date=day(-3)), Policy(red_after_days=3),
            (PENDING, YELLOW, 3, "项目签约逾期3天"), id="red_after_days 3, overdue 3: yellow (edge)",
        ),
        pytest.param(
            dict(planned_date=day(-4)), Policy(red_after_days=3),
            (PENDING, RED, 4, "项目签约逾期4天"), id="red_after_days 3, overdue 4: red",
        ),
        pytest.param(
            dict(planned_date=day(1)), Policy(yellow_before_days=None),
            (PENDING, GREEN, -1, None), id="window disabled, due tomorrow: green",
        ),
        pytest.param(
            dict(planned_date=day(0)), Policy(yellow_before_days=None),
            (PENDING, GREEN, 0, None), id="window disabled, due today: green",
        ),
        pytest.param(
            dict(planned_date=day(-1)), Policy(yellow_before_days=None),
            (PENDING, RED, 1, "项目签约逾期1天"), id="window disabled, overdue 1: still red",
        ),
        pytest.param(
            dict(planned_date=day(-2)), Policy(yellow_before_days=None, red_after_days=3),
            (PENDING, YELLOW, 2, "项目签约逾期2天"),
            id="window disabled, overdue within red_after_days: still yellow",
        ),
        pytest.param(
            dict(planned_date=day(1)), Policy(yellow_before_days=0),
            (PENDING, GREEN, -1, None), id="window 0, due tomorrow: green",
        ),
        pytest.param(
            dict(planned_date=day(0)), Policy(yellow_before_days=0),
            (PENDING, YELLOW, 0, "项目签约今天到期"), id="window 0, due today: yellow",
        ),
        pytest.param(
            dict(planned_date=day(30)), Policy(yellow_before_days=30),
            (PENDING, YELLOW, -30, "项目签约将于30天后到期"), id="window 30, due in 30: yellow",
        ),
        pytest.param(
            dict(planned_date=day(31)), Policy(yellow_before_days=30),
            (PENDING, GREEN, -31, None), id="window 30, due in 31: green",
        ),
    ],
)
def test_colour_of_a_milestone(fields, policy, expected):
    (result,) = evaluate_milestones([ms("signing", **fields)], policy=policy, today=T)
    assert (result.status, result.colour, result.days_late, text(result.reason)) == expected
    if result.reason is not None:
        assert result.reason.colour == result.colour


# --- Due date of a milestone ---------------------------------------------------------
# (status, due date, due_derived "按标准时限", colour, days_late) of the `target` milestone.

@pytest.mark.parametrize(
    "milestones, target, expected",
    [
        pytest.param(
            [ms("approval", actual_date=day(-100)), ms("signing", planned_date=day(40))], "signing",
            (PENDING, day(40), False, GREEN, -40), id="planned date wins over standard days",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-20)), ms("signing")], "signing",
            (PENDING, day(10), True, YELLOW, -10),
            id="按标准时限: previous actual + 30 standard days, due in 10: yellow",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-40)), ms("signing")], "signing",
            (PENDING, day(-10), True, RED, 10), id="按标准时限 passed 10 days ago: red",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-50)), ms("signing", not_applicable=True),
             ms("land_listing")], "land_listing",
            (PENDING, day(40), True, GREEN, -40),
            id="not-applicable previous is skipped: approval actual + 90",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-50)),
             ms("signing", not_applicable=True, actual_date=day(-10)),
             ms("land_listing")], "land_listing",
            (PENDING, day(40), True, GREEN, -40),
            id="not-applicable previous's actual date is ignored",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-50)), ms("signing", planned_date=day(100)),
             ms("land_listing")], "land_listing",
            (UNSCHEDULED, None, False, None, None),
            id="previous applicable not done: unscheduled",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-300)), ms("signing", planned_date=day(-200)),
             ms("land_listing")], "land_listing",
            (UNSCHEDULED, None, False, None, None),
            id="previous overdue but not done: still unscheduled, not derived from its plan",
        ),
        pytest.param(
            [ms("approval")], "approval",
            (UNSCHEDULED, None, False, None, None),
            id="approval has no standard days and no plan: unscheduled",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-10)), ms("signing", standard_days=None)], "signing",
            (UNSCHEDULED, None, False, None, None),
            id="type without standard days after a done one: unscheduled",
        ),
        pytest.param(
            [ms("approval", not_applicable=True), ms("signing")], "signing",
            (UNSCHEDULED, None, False, None, None),
            id="no previous applicable milestone: unscheduled despite standard days",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-60)), ms("signing", actual_date=day(-20))], "signing",
            (DONE, day(-30), True, GREEN, 10),
            id="done against a derived due date: 10 days late, green",
        ),
        pytest.param(
            [ms("land_listing"), ms("signing", actual_date=day(-20)),
             ms("approval", actual_date=day(-60))], "land_listing",
            (PENDING, day(70), True, GREEN, -70),
            id="given out of order: sorted by catalogue order, derived from signing",
        ),
    ],
)
def test_due_date(milestones, target, expected):
    result = by_code(evaluate_milestones(milestones, policy=DEFAULTS, today=T), target)
    assert (result.status, result.due_date, result.due_derived, result.colour,
            result.days_late) == expected


# --- Colour of a project -------------------------------------------------------------

@pytest.mark.parametrize(
    "milestones, colour, reason_texts",
    [
        pytest.param([], GREEN, [], id="no milestones: green"),
        pytest.param(
            [ms("approval", actual_date=day(-60)), ms("signing", planned_date=day(-50),
                                                      actual_date=day(-1))],
            GREEN, [], id="all done, one late: green, lateness gives no reason",
        ),
        pytest.param(
            [ms("approval", planned_date=day(40)), ms("signing", planned_date=day(100))],
            GREEN, [], id="all far away: green",
        ),
        pytest.param(
            [ms("approval", planned_date=day(40)), ms("signing", planned_date=day(5))],
            YELLOW, ["项目签约将于5天后到期"], id="green and yellow: yellow",
        ),
        pytest.param(
            [ms("approval", planned_date=day(-2)), ms("signing", planned_date=day(5))],
            RED, ["过会逾期2天", "项目签约将于5天后到期"], id="red and yellow: red",
        ),
        pytest.param(
            [ms("approval"), ms("signing")], GREEN, [],
            id="only unscheduled: green (and needs_plan)",
        ),
        pytest.param(
            [ms("approval", not_applicable=True, planned_date=day(-30)),
             ms("signing", planned_date=day(60))],
            GREEN, [], id="not applicable overdue one does not colour",
        ),
    ],
)
def test_colour_of_a_project_is_the_worst_milestone(milestones, colour, reason_texts):
    result = project(*milestones)
    assert result.colour == colour
    assert texts(result) == reason_texts


@pytest.mark.parametrize("state", ["paused", "completed", "terminated"])
def test_inactive_projects_have_no_colour_no_reasons_no_needs_plan(state):
    result = project(
        ms("approval"),  # unscheduled first: would need a plan
        ms("signing", planned_date=day(-30)),  # overdue: would be red
        state=state,
        escalations=[EscalationFacts(RED, "区领导督办", day(10))],
    )
    assert (result.colour, result.reasons, result.needs_plan) == (None, (), False)


def test_the_same_project_when_active_is_red_and_needs_a_plan():
    # The counterpart of the inactive table: proves its input would colour.
    result = project(
        ms("approval"),
        ms("signing", planned_date=day(-30)),
        escalations=[EscalationFacts(RED, "区领导督办", day(10))],
    )
    assert (result.colour, result.needs_plan) == (RED, True)
    assert texts(result) == ["督办：区领导督办", "项目签约逾期30天"]


# --- needs_plan: the first pending applicable milestone is unscheduled ------------------

@pytest.mark.parametrize(
    "milestones, needs_plan",
    [
        pytest.param([ms("approval")], True, id="first pending is unscheduled"),
        pytest.param(
            [ms("approval", planned_date=day(100)), ms("signing")], False,
            id="a later pending one unscheduled: no",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-10)), ms("signing", standard_days=None),
             ms("land_listing", planned_date=day(50))],
            True, id="first pending after done ones, no plan and no standard days",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-10)), ms("signing")], False,
            id="a derived due date (按标准时限) counts as scheduled",
        ),
        pytest.param(
            [ms("approval", not_applicable=True), ms("signing", planned_date=day(10))], False,
            id="not-applicable unplanned one is not pending",
        ),
        pytest.param(
            [ms("approval", not_applicable=True), ms("signing")], True,
            id="first applicable one has no previous to derive from",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-10)), ms("signing", actual_date=day(-1))], False,
            id="all done: nothing to plan",
        ),
        pytest.param([], False, id="no milestones"),
    ],
)
def test_needs_plan(milestones, needs_plan):
    assert project(*milestones).needs_plan is needs_plan


# --- Escalation (督办) ----------------------------------------------------------------

GREEN_MILESTONE = ms("signing", planned_date=day(30))
YELLOW_MILESTONE = ms("signing", planned_date=day(5))
RED_MILESTONE = ms("signing", planned_date=day(-2))
NOTE = "市领导交办，月底前签约"


@pytest.mark.parametrize(
    "milestone, escalations, colour, reason_texts",
    [
        pytest.param(
            GREEN_MILESTONE, [(YELLOW, 10)], YELLOW, [f"督办：{NOTE}"], id="raises green to yellow",
        ),
        pytest.param(
            GREEN_MILESTONE, [(RED, 10)], RED, [f"督办：{NOTE}"], id="raises green to red",
        ),
        pytest.param(
            YELLOW_MILESTONE, [(RED, 10)], RED, [f"督办：{NOTE}", "项目签约将于5天后到期"],
            id="raises yellow to red",
        ),
        pytest.param(
            YELLOW_MILESTONE, [(YELLOW, 10)], YELLOW, [f"督办：{NOTE}", "项目签约将于5天后到期"],
            id="same colour: unchanged, escalation heads its colour",
        ),
        pytest.param(
            RED_MILESTONE, [(YELLOW, 10)], RED, ["项目签约逾期2天", f"督办：{NOTE}"],
            id="never lowers: red stays red with a yellow escalation",
        ),
        pytest.param(
            GREEN_MILESTONE, [(YELLOW, 0)], YELLOW, [f"督办：{NOTE}"], id="active on its until day",
        ),
        pytest.param(
            GREEN_MILESTONE, [(RED, -1)], GREEN, [], id="lapsed the day after until",
        ),
        pytest.param(
            YELLOW_MILESTONE, [(RED, -1)], YELLOW, ["项目签约将于5天后到期"],
            id="lapsed: back to the computed colour",
        ),
        pytest.param(
            GREEN_MILESTONE, [(YELLOW, 10), (RED, 3)], RED, [f"督办：{NOTE}", f"督办：{NOTE}"],
            id="two escalations: the worse one counts",
        ),
    ],
)
def test_escalation(milestone, escalations, colour, reason_texts):
    facts = [EscalationFacts(esc_colour, NOTE, day(until)) for esc_colour, until in escalations]
    result = project(milestone, escalations=facts)
    assert result.colour == colour
    assert texts(result) == reason_texts
    assert [reason.colour for reason in result.reasons] == sorted(
        (reason.colour for reason in result.reasons), key=lambda c: c != RED
    )


# --- Reasons: red before yellow, most overdue first, then milestone order ---------------

LENIENT = Policy(red_after_days=30)  # a per-type override: yellow up to 30 days overdue


@pytest.mark.parametrize(
    "milestones, policy, reason_texts",
    [
        pytest.param(
            [ms("land_listing", planned_date=day(-20), policy=LENIENT),
             ms("signing", planned_date=day(-1))],
            DEFAULTS, ["项目签约逾期1天", "土地挂牌逾期20天"],
            id="red before yellow even when the yellow one is more overdue",
        ),
        pytest.param(
            [ms("signing", planned_date=day(-2)), ms("land_listing", planned_date=day(-10)),
             ms("land_transfer", planned_date=day(-5))],
            DEFAULTS, ["土地挂牌逾期10天", "土地出让逾期5天", "项目签约逾期2天"],
            id="most days overdue first",
        ),
        pytest.param(
            [ms("signing", planned_date=day(3)), ms("land_listing", planned_date=day(-2))],
            Policy(red_after_days=3), ["土地挂牌逾期2天", "项目签约将于3天后到期"],
            id="overdue yellow before due-soon yellow",
        ),
        pytest.param(
            [ms("signing", planned_date=day(10)), ms("land_listing", planned_date=day(0)),
             ms("land_transfer", planned_date=day(3))],
            DEFAULTS, ["土地挂牌今天到期", "土地出让将于3天后到期", "项目签约将于10天后到期"],
            id="due-soon count as negative overdue: soonest first",
        ),
        pytest.param(
            [ms("construction_permit", planned_date=day(-5)), ms("signing", planned_date=day(-5)),
             ms("land_transfer", planned_date=day(-5))],
            DEFAULTS, ["项目签约逾期5天", "土地出让逾期5天", "施工许可逾期5天"],
            id="equal days: milestone order",
        ),
        pytest.param(
            [ms("approval", actual_date=day(-90)), ms("signing", planned_date=day(-80),
                                                      actual_date=day(-10)),
             ms("land_listing", planned_date=day(90)), ms("land_transfer", planned_date=day(-1))],
            DEFAULTS, ["土地出让逾期1天"],
            id="done, green and unscheduled milestones give no reason",
        ),
    ],
)
def test_reason_order(milestones, policy, reason_texts):
    assert texts(project(*milestones, policy=policy)) == reason_texts


def test_headline_is_the_first_reason_of_a_mixed_project():
    result = project(
        ms("signing", planned_date=day(12)),
        ms("land_listing", planned_date=day(-2)),
        ms("land_transfer", planned_date=day(-9)),
        ms("planning_permit", planned_date=day(-2), policy=LENIENT),
        ms("construction_permit", planned_date=day(0)),
        ms("groundbreaking", planned_date=day(-9)),
        policy=DEFAULTS,
    )
    assert result.colour == RED
    assert texts(result) == [
        "土地出让逾期9天",
        "开工逾期9天",
        "土地挂牌逾期2天",
        "工程规划许可逾期2天",
        "施工许可今天到期",
        "项目签约将于12天后到期",
    ]
    assert text(result.reasons[0]) == "土地出让逾期9天"  # the headline
    assert [reason.colour for reason in result.reasons] == [RED, RED, RED, YELLOW, YELLOW, YELLOW]


# --- Per-type policy (MilestoneFacts.policy) beats the project policy ------------------

@pytest.mark.parametrize(
    "type_policy, project_policy, planned, expected",
    [
        pytest.param(
            Policy(yellow_before_days=30), DEFAULTS, day(20),
            (YELLOW, "项目签约将于20天后到期"), id="type window 30 beats project 15",
        ),
        pytest.param(
            Policy(yellow_before_days=None), DEFAULTS, day(3), (GREEN, None),
            id="type window disabled beats project 15",
        ),
        pytest.param(
            Policy(yellow_before_days=15), Policy(yellow_before_days=None), day(3),
            (YELLOW, "项目签约将于3天后到期"), id="type window 15 beats project disabled",
        ),
        pytest.param(
            Policy(red_after_days=5), DEFAULTS, day(-3),
            (YELLOW, "项目签约逾期3天"), id="type red_after_days 5 beats project 0",
        ),
        pytest.param(
            Policy(red_after_days=0), Policy(red_after_days=5), day(-1),
            (RED, "项目签约逾期1天"), id="type red_after_days 0 beats project 5",
        ),
        pytest.param(
            None, Policy(red_after_days=5), day(-1),
            (YELLOW, "项目签约逾期1天"), id="no override: the project policy",
        ),
    ],
)
def test_type_policy_overrides_project_policy(type_policy, project_policy, planned, expected):
    result = project(ms("signing", planned_date=planned, policy=type_policy), policy=project_policy)
    assert (result.colour, texts(result)[0] if result.reasons else None) == expected


def test_type_policy_applies_to_its_own_milestone_only():
    result = project(
        ms("signing", planned_date=day(-3), policy=Policy(red_after_days=5)),
        ms("land_listing", planned_date=day(-3)),
    )
    colours = {m.code: m.colour for m in result.milestones}
    assert colours == {"signing": YELLOW, "land_listing": RED}


# --- Working days (count_working_days) over 2026 -----------------------------------------
# (colour, days_late, text) of one pending milestone due `due`, seen on `today`.

@pytest.mark.parametrize(
    "today, due, policy, expected",
    [
        pytest.param(
            "2026-09-30", "2026-10-09", WORKING, (YELLOW, -2, "项目签约将于2天后到期"),
            id="due after National Day: 2 working days, not 9",
        ),
        pytest.param(
            "2026-09-30", "2026-10-09", DEFAULTS, (YELLOW, -9, "项目签约将于9天后到期"),
            id="same with count_working_days off: calendar ignored, 9 days",
        ),
        pytest.param(
            "2026-09-30", "2026-10-12", Policy(yellow_before_days=5, count_working_days=True),
            (YELLOW, -4, "项目签约将于4天后到期"),
            id="window of 5 working days reaches over the holiday (working Saturday 10-10 counts)",
        ),
        pytest.param(
            "2026-09-30", "2026-10-12", Policy(yellow_before_days=5), (GREEN, -12, None),
            id="same window in calendar days: 12 days away, green",
        ),
        pytest.param(
            "2026-10-08", "2026-09-30", WORKING, (RED, 1, "项目签约逾期1天"),
            id="overdue across National Day: 1 working day",
        ),
        pytest.param(
            "2026-10-08", "2026-09-30", Policy(red_after_days=3, count_working_days=True),
            (YELLOW, 1, "项目签约逾期1天"), id="same with red_after_days 3: yellow",
        ),
        pytest.param(
            "2026-10-08", "2026-09-30", Policy(red_after_days=3), (RED, 8, "项目签约逾期8天"),
            id="same in calendar days: 8 days overdue, red",
        ),
        pytest.param(
            "2026-10-11", "2026-10-09", WORKING, (RED, 1, "项目签约逾期1天"),
            id="working Saturday 10-10 counts as overdue",
        ),
        pytest.param(
            "2026-09-21", "2026-09-18", WORKING, (RED, 2, "项目签约逾期2天"),
            id="working Sunday 09-20 counts: 2 working days, not 3",
        ),
        pytest.param(
            "2026-09-28", "2026-09-24", WORKING, (RED, 1, "项目签约逾期1天"),
            id="Mid-Autumn Friday 09-25 and the weekend skipped: 1, not 4",
        ),
        # Only non-working days have passed since the due date: no working day
        # has been lost yet, so the milestone counts as due today (yellow, 今天到期,
        # days_late 0) until the next working day, when it is overdue by 1. This
        # matches "red from the day after" with "day" read as "working day".
        pytest.param(
            "2026-10-17", "2026-10-16", WORKING, (YELLOW, 0, "项目签约今天到期"),
            id="due Friday, Saturday: only a day off passed, due today",
        ),
        pytest.param(
            "2026-10-18", "2026-10-16", WORKING, (YELLOW, 0, "项目签约今天到期"),
            id="due Friday, Sunday: still due today",
        ),
        pytest.param(
            "2026-10-19", "2026-10-16", WORKING, (RED, 1, "项目签约逾期1天"),
            id="due Friday, Monday: overdue 1, red",
        ),
        pytest.param(
            "2026-10-07", "2026-09-30", WORKING, (YELLOW, 0, "项目签约今天到期"),
            id="due before National Day, last holiday: still due today",
        ),
        pytest.param(
            "2026-10-18", "2026-10-16", Policy(yellow_before_days=None, count_working_days=True),
            (GREEN, 0, None), id="same with the window disabled: green, like due today",
        ),
        # A due date on a day off: the last working day before it is "today"
        # (no working day is left to finish in).
        pytest.param(
            "2026-09-30", "2026-10-03", WORKING, (YELLOW, 0, "项目签约今天到期"),
            id="due on a holiday, seen from the last working day before it: due today",
        ),
        pytest.param(
            "2026-09-29", "2026-10-03", WORKING, (YELLOW, -1, "项目签约将于1天后到期"),
            id="due on a holiday, seen two working days before: 1 day",
        ),
        pytest.param(
            "2026-10-08", "2026-10-03", WORKING, (RED, 1, "项目签约逾期1天"),
            id="due on a holiday, first working day after: overdue 1",
        ),
    ],
)
def test_working_day_distances(today, due, policy, expected):
    (result,) = evaluate_milestones(
        [ms("signing", planned_date=D(due))], policy=policy, today=D(today), calendar=CAL_2026
    )
    assert (result.colour, result.days_late, text(result.reason)) == expected


def test_count_working_days_without_a_calendar_counts_calendar_days():
    (result,) = evaluate_milestones(
        [ms("signing", planned_date=D("2026-09-30"))], policy=WORKING, today=D("2026-10-08")
    )
    assert (result.colour, result.days_late) == (RED, 8)


# Derived due dates: the previous actual date plus standard days counted the same way.
@pytest.mark.parametrize(
    "signing, project_policy, today, expected",
    [
        pytest.param(
            dict(standard_days=3), WORKING, "2026-09-30",
            (D("2026-10-09"), True, YELLOW, -2), id="3 working days after 09-29: 10-09",
        ),
        pytest.param(
            dict(standard_days=3), DEFAULTS, "2026-09-30",
            (D("2026-10-02"), True, YELLOW, -2), id="3 calendar days after 09-29: 10-02",
        ),
        pytest.param(
            dict(standard_days=3, policy=WORKING), DEFAULTS, "2026-09-30",
            (D("2026-10-09"), True, YELLOW, -2), id="type counts working days, project does not",
        ),
        pytest.param(
            dict(standard_days=3, policy=DEFAULTS), WORKING, "2026-09-30",
            (D("2026-10-02"), True, YELLOW, -2), id="type counts calendar days, project does not",
        ),
        pytest.param(
            dict(standard_days=4), WORKING, "2026-10-08",
            (D("2026-10-10"), True, YELLOW, -2), id="4 working days: the working Saturday 10-10",
        ),
        pytest.param(
            dict(standard_days=3, actual_date=D("2026-10-12")), WORKING, "2026-10-12",
            (D("2026-10-09"), True, GREEN, 2), id="done 10-12, due 10-09: 2 working days late",
        ),
        pytest.param(
            dict(standard_days=3, actual_date=D("2026-10-12")), DEFAULTS, "2026-10-12",
            (D("2026-10-02"), True, GREEN, 10), id="same in calendar days: 10 days late",
        ),
    ],
)
def test_derived_due_date_in_working_days(signing, project_policy, today, expected):
    results = evaluate_milestones(
        [ms("approval", actual_date=D("2026-09-29")), ms("signing", **signing)],
        policy=project_policy,
        today=D(today),
        calendar=CAL_2026,
    )
    result = by_code(results, "signing")
    assert (result.due_date, result.due_derived, result.colour, result.days_late) == expected


# --- Reason texts (zh-hans) ------------------------------------------------------------

@pytest.mark.parametrize(
    "reason, expected",
    [
        pytest.param(
            {"kind": "due_soon", "days": 5, "name": "过会", "colour": YELLOW},
            "过会将于5天后到期", id="due soon: {节点}将于{n}天后到期",
        ),
        pytest.param(
            {"kind": "due_soon", "days": 0, "name": "过会", "colour": YELLOW},
            "过会今天到期", id="due today: {节点}今天到期",
        ),
        pytest.param(
            {"kind": "overdue", "days": 12, "name": "土地挂牌", "colour": RED},
            "土地挂牌逾期12天", id="overdue red: {节点}逾期{d}天",
        ),
        pytest.param(
            {"kind": "overdue", "days": 1, "name": "土地挂牌", "colour": YELLOW},
            "土地挂牌逾期1天", id="overdue yellow: same text",
        ),
        pytest.param(
            {"kind": "escalated", "days": 0, "name": "", "note": NOTE, "colour": RED},
            f"督办：{NOTE}", id="escalation: 督办：{reason}",
        ),
    ],
)
def test_render_reason_zh_hans(reason, expected):
    with translation.override("zh-hans"):
        assert render_reason(reason) == expected


def test_stored_reason_dicts_render_the_same_as_reasons():
    result = project(ms("signing", planned_date=day(-4)), ms("land_listing", planned_date=day(6)))
    assert result.reason_dicts == [
        {"colour": RED, "kind": "overdue", "days": 4, "milestone": "signing", "name": "项目签约",
         "note": ""},
        {"colour": YELLOW, "kind": "due_soon", "days": 6, "milestone": "land_listing",
         "name": "土地挂牌", "note": ""},
    ]
    assert texts(result) == ["项目签约逾期4天", "土地挂牌将于6天后到期"]


def test_a_milestone_done_after_the_as_of_day_was_still_pending_then():
    # Recomputing as of a past day (recompute_warnings --as-of, or the demo's
    # history) must see the project as it stood that day.
    signing = MilestoneFacts(
        "signing", "项目签约", 2, planned_date=date(2026, 3, 1), actual_date=date(2026, 3, 20)
    )
    listing = MilestoneFacts("land_listing", "土地挂牌", 3, standard_days=90)
    before = evaluate_project(
        state="active", milestones=[signing, listing], policy=Policy(), today=date(2026, 3, 10)
    )
    after = evaluate_project(
        state="active", milestones=[signing, listing], policy=Policy(), today=date(2026, 3, 20)
    )
    assert before.colour == "red"
    assert [m.status for m in before.milestones] == ["pending", "unscheduled"]
    assert after.colour == "green"
    assert [m.status for m in after.milestones] == ["done", "pending"]
    assert after.milestones[1].due_date == date(2026, 6, 18)


# --- The whole catalogue counts (a type without a stored milestone is a blank one) ------

FULL_CATALOGUE = tuple(ms(code) for code in CATALOGUE)

CATALOGUE_CASES = [
    pytest.param([ms("approval", actual_date=D("2024-02-03"))], id="signing-never-entered-is-due-by-standard-days"),
    pytest.param([ms("signing", planned_date=day(40))], id="approval-never-entered-is-unscheduled-needs-plan"),
    pytest.param([], id="nothing-entered-at-all"),
    pytest.param(
        [ms("approval", actual_date=day(-60)), ms("signing", actual_date=day(-20)),
         ms("land_listing", not_applicable=True)],
        id="land-transfer-never-entered-follows-the-last-applicable-done-milestone",
    ),
    pytest.param(
        [ms(code, actual_date=day(-400)) for code in CATALOGUE if code != "production"],
        id="production-never-entered-after-everything-else-was-done",
    ),
]


@pytest.mark.parametrize("stored", CATALOGUE_CASES)
def test_a_missing_milestone_gives_the_same_result_as_a_blank_one(stored):
    codes = {facts.code for facts in stored}
    with_blank_rows = [*stored, *(blank for blank in FULL_CATALOGUE if blank.code not in codes)]
    missing = evaluate_project(
        state="active", milestones=stored, policy=DEFAULTS, today=T, catalogue=FULL_CATALOGUE
    )
    blank = evaluate_project(state="active", milestones=with_blank_rows, policy=DEFAULTS, today=T)
    assert missing == blank
    assert [m.code for m in missing.milestones] == list(CATALOGUE)


def test_signing_left_blank_after_approval_is_red_not_green():
    # The office's workbook left both 项目签约 cells blank; 过会 was done on 2024-02-03.
    result = evaluate_project(
        state="active", milestones=[ms("approval", actual_date=D("2024-02-03"))],
        policy=DEFAULTS, today=T, catalogue=FULL_CATALOGUE,
    )
    overdue = (T - D("2024-03-04")).days  # due 30 days after 过会 (2024 is a leap year)
    assert result.colour == RED
    assert texts(result)[0] == f"项目签约逾期{overdue}天"
    # Without the catalogue the rules see only what was stored: green with no reason.
    blind = evaluate_project(
        state="active", milestones=[ms("approval", actual_date=D("2024-02-03"))],
        policy=DEFAULTS, today=T,
    )
    assert (blind.colour, blind.reasons) == (GREEN, ())


def test_a_stored_milestone_wins_over_the_catalogue_s_blank_one():
    stored = [ms("approval", actual_date=day(-10)), ms("signing", not_applicable=True)]
    result = evaluate_milestones(stored, policy=DEFAULTS, today=T, catalogue=FULL_CATALOGUE)
    by_code = {m.code: m for m in result}
    assert len(result) == len(CATALOGUE)
    assert by_code["signing"].status == NOT_APPLICABLE
    # 土地挂牌 follows 过会 (签约 does not apply): due 90 days after it, 80 days left.
    assert (by_code["land_listing"].status, by_code["land_listing"].due_date) == (PENDING, day(80))


# --- Coordination items, when the policy lets overdue ones count -------------------------

def test_an_overdue_item_raises_the_colour_as_an_overdue_milestone_would():
    today = date(2026, 11, 25)
    item = rules.ItemFacts(need="地块征迁", department="区住建局", deadline=today - timedelta(days=3))
    result = rules.evaluate_project(state=rules.ACTIVE, milestones=[], policy=rules.Policy(), today=today, items=[item])
    assert result.colour == rules.RED
    (reason,) = result.reasons
    assert (reason.kind, reason.days, reason.milestone_name, reason.note) == (rules.ITEM_OVERDUE, 3, "区住建局", "地块征迁")


def test_an_item_not_yet_overdue_does_not_colour_the_project():
    today = date(2026, 11, 25)
    item = rules.ItemFacts(need="电力增容", department="供电", deadline=today + timedelta(days=2))
    result = rules.evaluate_project(state=rules.ACTIVE, milestones=[], policy=rules.Policy(), today=today, items=[item])
    assert (result.colour, result.reasons) == (rules.GREEN, ())


def test_an_item_within_the_grace_days_is_yellow():
    today = date(2026, 11, 25)
    item = rules.ItemFacts(need="电力增容", department="供电", deadline=today - timedelta(days=2))
    result = rules.evaluate_project(
        state=rules.ACTIVE, milestones=[], policy=rules.Policy(red_after_days=5), today=today, items=[item]
    )
    assert result.colour == rules.YELLOW
