"""projects.services.milestone_change_record: baseline, re-plan history, refusals."""
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from projects.models import Milestone, MilestoneReplan
from projects.services import milestone_change_record

D = timedelta(days=1)


@pytest.fixture
def signing(make_project):
    project = make_project()
    return Milestone.objects.get(project=project, milestone_type_id=_type_id("signing"))


def _type_id(code):
    from projects.models import MilestoneType

    return MilestoneType.objects.get(code=code).id


def edit(milestone, **changes):
    """Apply an edit to a fresh copy, as a form would."""
    fresh = Milestone.objects.get(pk=milestone.pk)
    for name, value in changes.items():
        setattr(fresh, name, value)
    return fresh


def stored(milestone):
    return Milestone.objects.values("planned_date", "baseline_date", "actual_date").get(
        pk=milestone.pk
    )


def test_the_first_planned_date_becomes_the_baseline(signing, today, role_users):
    fresh = edit(signing, planned_date=date(2027, 3, 1))
    milestone_change_record(fresh, by=role_users["cadre1"], today=today)

    assert stored(signing) == {
        "planned_date": date(2027, 3, 1), "baseline_date": date(2027, 3, 1), "actual_date": None,
    }
    assert not MilestoneReplan.objects.exists()  # a first plan is not a re-plan


def test_a_replan_keeps_the_baseline_and_records_who_and_why(signing, today, role_users):
    for planned, why in [
        (date(2027, 3, 1), ""),
        (date(2027, 5, 1), "  土地指标延后下达  "),
        (date(2027, 6, 15), "规划调整"),
    ]:
        fresh = edit(signing, planned_date=planned)
        milestone_change_record(
            fresh, replan_reason=why,
            by=role_users["cadre1"], today=today,
        )

    assert stored(signing)["planned_date"] == date(2027, 6, 15)
    assert stored(signing)["baseline_date"] == date(2027, 3, 1)
    history = list(
        MilestoneReplan.objects.filter(milestone=signing)
        .order_by("id")
        .values_list("old_planned_date", "new_planned_date", "reason", "author__username")
    )
    assert history == [
        (date(2027, 3, 1), date(2027, 5, 1), "土地指标延后下达", "cadre1"),
        (date(2027, 5, 1), date(2027, 6, 15), "规划调整", "cadre1"),
    ]


def test_clearing_a_planned_date_is_a_replan_too(signing, today, role_users):
    fresh = edit(signing, planned_date=date(2027, 3, 1))
    milestone_change_record(fresh, today=today)
    fresh = edit(signing, planned_date=None)
    milestone_change_record(
        fresh, replan_reason="暂无法排期",
        by=role_users["office"], today=today,
    )
    assert stored(signing) == {
        "planned_date": None, "baseline_date": date(2027, 3, 1), "actual_date": None,
    }
    replan = MilestoneReplan.objects.get()
    assert (replan.old_planned_date, replan.new_planned_date) == (date(2027, 3, 1), None)


def test_an_unchanged_plan_needs_no_reason(signing, today):
    fresh = edit(signing, planned_date=date(2027, 3, 1))
    milestone_change_record(fresh, today=today)
    fresh = edit(signing, actual_date=today)
    milestone_change_record(fresh, today=today)
    assert stored(signing)["actual_date"] == today
    assert not MilestoneReplan.objects.exists()


def test_an_author_who_is_not_signed_in_is_not_recorded(signing, today):
    fresh = edit(signing, planned_date=date(2027, 3, 1))
    milestone_change_record(fresh, today=today)
    fresh = edit(signing, planned_date=date(2027, 4, 1))
    milestone_change_record(
        fresh, replan_reason="系统导入", by=AnonymousUser(),
        today=today,
    )
    assert MilestoneReplan.objects.get().author is None


def test_completion_today_is_accepted(signing, today):
    fresh = edit(signing, actual_date=today)
    milestone_change_record(fresh, today=today)
    assert stored(signing)["actual_date"] == today


# --- Refusals: ValidationError, nothing saved --------------------------------


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"actual_date": date(2026, 11, 26)}, "actual_date", "实际完成日期不能晚于今天"),
        ({"planned_date": date(1999, 12, 31)}, "planned_date", "日期须在2000-01-01至2099-12-31之间"),
        ({"planned_date": date(2100, 1, 1)}, "planned_date", "日期须在2000-01-01至2099-12-31之间"),
        ({"actual_date": date(1999, 12, 31)}, "actual_date", "日期须在2000-01-01至2099-12-31之间"),
    ],
)
def test_refused_dates_raise_and_save_nothing(signing, today, changes, field, message):
    before = stored(signing)
    fresh = edit(signing, **changes)
    with pytest.raises(ValidationError) as refused:
        milestone_change_record(fresh, today=today)
    assert refused.value.message_dict[field] == [message]
    assert stored(signing) == before
    assert not MilestoneReplan.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_changing_a_plan_without_a_reason_is_refused(signing, today, reason):
    fresh = edit(signing, planned_date=date(2027, 3, 1))
    milestone_change_record(fresh, today=today)
    before = stored(signing)

    fresh = edit(signing, planned_date=date(2027, 9, 1))
    with pytest.raises(ValidationError) as refused:
        milestone_change_record(
            fresh, replan_reason=reason, today=today
        )
    assert refused.value.message_dict["replan_reason"] == ["调整已有的计划完成日期须填写调整原因"]
    assert stored(signing) == before
    assert not MilestoneReplan.objects.exists()


def test_every_refusal_is_reported_at_once(signing, today):
    fresh = edit(signing, planned_date=date(2027, 3, 1))
    milestone_change_record(fresh, today=today)
    fresh = edit(signing, planned_date=date(2027, 9, 1), actual_date=today + D)
    with pytest.raises(ValidationError) as refused:
        milestone_change_record(fresh, today=today)
    assert set(refused.value.message_dict) == {"actual_date", "replan_reason"}


def test_a_stale_copy_cannot_replan_without_a_reason(signing, today):
    # Two copies loaded before either saved: the second re-plans the stored
    # date, so it needs a reason even though its own copy had no plan.
    first = edit(signing, planned_date=date(2027, 3, 1))
    stale = edit(signing, planned_date=date(2027, 6, 1))
    milestone_change_record(first, today=today)

    with pytest.raises(ValidationError) as refused:
        milestone_change_record(stale, today=today)

    assert "replan_reason" in refused.value.message_dict
    assert stored(signing)["planned_date"] == date(2027, 3, 1)


def test_a_person_marking_not_applicable_must_say_why(signing, today, role_users):
    from projects.services import milestone_edit

    cadre = role_users["cadre1"]
    with pytest.raises(ValidationError) as refused:
        milestone_edit(signing, planned_date=None, actual_date=None, not_applicable=True, by=cadre, today=today)
    assert refused.value.message_dict == {"not_applicable_reason": ["标记不适用须填写原因"]}
    assert not Milestone.objects.get(pk=signing.pk).not_applicable

    milestone_edit(signing, planned_date=None, actual_date=None, not_applicable=True,
                   not_applicable_reason="并购项目，无需签约", by=cadre, today=today)
    assert Milestone.objects.get(pk=signing.pk).not_applicable
    assert Milestone.history.filter(id=signing.id).first().history_change_reason == "并购项目，无需签约"


DONE_AND_NOT_APPLICABLE = "已完成的节点不能标为不适用，请先清除实际完成日期"


def test_done_and_not_applicable_together_is_refused_by_the_service(signing, today, role_users):
    from projects.services import milestone_edit

    before = Milestone.objects.values().get(pk=signing.pk)
    with pytest.raises(ValidationError) as refused:
        milestone_edit(signing, planned_date=None, actual_date=today, not_applicable=True,
                       not_applicable_reason="并购项目，无需签约", by=role_users["office"], today=today)
    assert refused.value.message_dict == {"actual_date": [DONE_AND_NOT_APPLICABLE]}
    assert Milestone.objects.values().get(pk=signing.pk) == before
    assert not Milestone.history.filter(id=signing.id).exists()

    # Nor marked not applicable once done, by the record alone.
    milestone_edit(signing, planned_date=None, actual_date=today, not_applicable=False, today=today)
    with pytest.raises(ValidationError) as refused:
        milestone_change_record(edit(signing, not_applicable=True), today=today)
    assert refused.value.message_dict == {"actual_date": [DONE_AND_NOT_APPLICABLE]}
    assert not Milestone.objects.get(pk=signing.pk).not_applicable
