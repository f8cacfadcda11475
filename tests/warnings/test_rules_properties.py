"""Properties of the rules that hold for every input, checked on generated projects
(hypothesis): time never makes a pending milestone look better, an escalation never lowers a
colour, a milestone marked 不适用 never colours, a missing milestone row is a blank one."""
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qiantang_warnings import rules

RANK = {None: 0, rules.GREEN: 1, rules.YELLOW: 2, rules.RED: 3}
START, END = date(2024, 1, 1), date(2028, 12, 31)
PROPERTIES = settings(max_examples=300, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

days = st.dates(min_value=START, max_value=END)
policies = st.builds(
    rules.Policy,
    yellow_before_days=st.one_of(st.none(), st.integers(0, 60)),
    red_after_days=st.integers(0, 30),
    count_working_days=st.just(False),
)


@st.composite
def milestone_lists(draw, min_size=1, max_size=6):
    count = draw(st.integers(min_size, max_size))
    milestones = []
    for order in range(1, count + 1):
        milestones.append(rules.MilestoneFacts(
            code=f"m{order}", name=f"节点{order}", order=order,
            standard_days=draw(st.one_of(st.none(), st.integers(0, 540))),
            planned_date=draw(st.one_of(st.none(), days)),
            actual_date=draw(st.one_of(st.none(), days)),
            not_applicable=draw(st.booleans()),
            policy=draw(st.one_of(st.none(), policies)),
        ))
    return milestones


@PROPERTIES
@given(milestone_lists(), policies, days, st.integers(1, 400))
def test_a_pending_milestone_never_looks_better_as_days_pass(milestones, policy, today, step):
    later = today + timedelta(days=step)
    before = {r.code: r for r in rules.evaluate_milestones(milestones, policy=policy, today=today)}
    after = {r.code: r for r in rules.evaluate_milestones(milestones, policy=policy, today=later)}
    for code, then in before.items():
        now = after[code]
        if then.status == rules.PENDING and now.status == rules.PENDING:
            assert RANK[now.colour] >= RANK[then.colour], (code, then, now)


@PROPERTIES
@given(milestone_lists(), policies, days, st.lists(
    st.builds(rules.EscalationFacts, colour=st.sampled_from([rules.YELLOW, rules.RED, rules.GREEN]),
              reason=st.text(max_size=20), until=days), max_size=3))
def test_an_escalation_never_lowers_a_colour(milestones, policy, today, escalations):
    plain = rules.evaluate_project(state=rules.ACTIVE, milestones=milestones, policy=policy, today=today)
    escalated = rules.evaluate_project(
        state=rules.ACTIVE, milestones=milestones, policy=policy, today=today, escalations=escalations
    )
    assert RANK[escalated.colour] >= RANK[plain.colour]


@PROPERTIES
@given(milestone_lists(), policies, days)
def test_a_milestone_marked_not_applicable_never_colours(milestones, policy, today):
    for result, facts in zip(
        rules.evaluate_milestones(milestones, policy=policy, today=today), sorted(milestones, key=lambda m: m.order)
    ):
        if facts.not_applicable:
            assert (result.status, result.colour, result.reason) == (rules.NOT_APPLICABLE, None, None)


@PROPERTIES
@given(milestone_lists(min_size=2), policies, days, st.data())
def test_a_missing_milestone_row_counts_as_a_blank_one(milestones, policy, today, data):
    catalogue = [
        rules.blank_milestone(code=m.code, name=m.name, order=m.order, standard_days=m.standard_days, policy=m.policy)
        for m in milestones
    ]
    missing = data.draw(st.sampled_from(milestones))
    with_blank = [m if m is not missing else catalogue[milestones.index(m)] for m in milestones]
    without_row = [m for m in milestones if m is not missing]
    kwargs = dict(state=rules.ACTIVE, policy=policy, today=today, catalogue=catalogue)
    assert rules.evaluate_project(milestones=without_row, **kwargs) == rules.evaluate_project(milestones=with_blank, **kwargs)
