"""Re-plans proposed and decided (projects.replans): a cadre proposes, the office decides.

The story: cadre1's project is red because signing was due five days ago. Moving the
plan into the future is a proposal; the project stays red until the office approves.
"""
import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from projects import permissions, replans
from projects.history import project_history
from projects.models import Department, Milestone, MilestoneReplan, Project, ReplanProposal
from projects.replans import (
    ProposalAlreadyDecided,
    pending_count,
    pending_proposals,
    proposals_of_project,
    replan_approve,
    replan_propose,
    replan_reject,
)
from qiantang_warnings.models import StatusChange
from qiantang_warnings.recompute import recompute_all
from tests.concurrency import run_in_thread, waiting_for_a_lock

D = timedelta(days=1)


@pytest.fixture
def late(make_project, role_users, today):
    """cadre1's project, red: signing (planned, baseline today-5) is five days overdue."""
    housing = Department.objects.create(name="区住建局")
    role_users["liaison1"].liaison_departments.add(housing)
    project = make_project(
        "QT-LATE", name="逾期项目", responsible_cadre=role_users["cadre1"],
        milestones={
            "approval": {"planned_date": today - 90 * D, "actual_date": today - 80 * D},
            "signing": {"planned_date": today - 5 * D, "baseline_date": today - 5 * D},
            "land_listing": {},
            "land_transfer": {"not_applicable": True},
            "construction_permit": {"planned_date": today + 100 * D, "owner_department": housing},
        },
    )
    recompute_all(today=today)
    project.refresh_from_db()
    assert project.colour == "red"
    return project


def milestone(project, type_code="signing"):
    return Milestone.objects.get(project=project, milestone_type__code=type_code)


def colour(project):
    return Project.objects.values_list("colour", flat=True).get(pk=project.pk)


def propose(project, by, type_code="signing", **fields):
    fields.setdefault("proposed_planned_date", fields.pop("to", None) or date(2027, 1, 24))
    fields.setdefault("reason", "土地指标延后下达")
    return replan_propose(milestone(project, type_code), by=by, today=date(2026, 11, 25), **fields)


def messages_of(error: ValidationError) -> list[str]:
    return error.messages


# --- Proposing -------------------------------------------------------------------------


def test_a_proposal_leaves_the_plan_and_the_red_as_they_are(late, role_users, today):
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D, document_number=" 钱发改〔2026〕12号 ")

    assert proposal.state == ReplanProposal.State.PENDING
    assert (proposal.previous_planned_date, proposal.proposed_planned_date) == (today - 5 * D, today + 60 * D)
    assert proposal.document_number == "钱发改〔2026〕12号"
    assert proposal.proposer == role_users["cadre1"]
    signing = milestone(late)
    assert (signing.planned_date, signing.baseline_date) == (today - 5 * D, today - 5 * D)
    assert not MilestoneReplan.objects.exists()
    recompute_all(today=today)  # even a recompute does not see the proposed date
    assert colour(late) == "red"
    assert list(pending_proposals()) == [proposal]
    assert pending_count() == 1
    assert proposal.history.count() == 1  # simple_history keeps its story


@pytest.mark.parametrize(
    "type_code, fields, message",
    [
        ("land_listing", {}, "该节点还没有计划完成日期，请直接填写计划完成日期"),
        ("approval", {}, "该节点已完成，不能调整计划"),
        ("land_transfer", {}, "该节点不适用，不能调整计划"),
        ("signing", {"proposed_planned_date": date(1999, 12, 31)}, "日期须在2000-01-01至2099-12-31之间"),
        ("signing", {"proposed_planned_date": date(2100, 1, 1)}, "日期须在2000-01-01至2099-12-31之间"),
        ("signing", {"proposed_planned_date": date(2026, 11, 20)}, "申请的日期与当前计划完成日期相同"),
        ("signing", {"reason": "   "}, "请填写调整原因"),
        ("signing", {"reason": ""}, "请填写调整原因"),
        ("signing", {"proposed_planned_date": None}, "请填写申请的计划完成日期"),
        ("signing", {"document_number": "号" * 101}, "不超过 100 字符"),
    ],
    ids=[
        "no-plan-yet", "done", "not-applicable", "before-2000", "after-2099", "same-date",
        "blank-reason", "empty-reason", "no-date", "long-document-number",
    ],
)
def test_a_proposal_is_refused_with_a_clear_message(late, role_users, type_code, fields, message):
    before = milestone(late, type_code)
    with pytest.raises(ValidationError) as refused:
        propose(late, role_users["cadre1"], type_code=type_code, **fields)
    assert any(message in text for text in messages_of(refused.value)), refused.value
    assert not ReplanProposal.objects.exists()
    after = milestone(late, type_code)
    assert (after.planned_date, after.updated_at) == (before.planned_date, before.updated_at)
    assert colour(late) == "red"


def test_a_second_pending_proposal_for_the_same_milestone_is_refused(late, role_users):
    propose(late, role_users["cadre1"])
    with pytest.raises(ValidationError) as refused:
        propose(late, role_users["liaison1"], to=date(2027, 3, 1), reason="另一个原因")
    assert messages_of(refused.value) == ["该节点已有待审核的调整计划申请"]
    assert ReplanProposal.objects.count() == 1


def test_the_database_also_refuses_a_second_pending_proposal(late, role_users):
    first = propose(late, role_users["cadre1"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplanProposal.objects.create(
            milestone=first.milestone, proposed_planned_date=date(2027, 3, 1), reason="x",
            proposer=role_users["cadre1"],
        )


def test_the_database_refuses_a_decision_without_who_and_when(late, role_users):
    proposal = propose(late, role_users["cadre1"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplanProposal.objects.filter(pk=proposal.pk).update(state="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplanProposal.objects.filter(pk=proposal.pk).update(decided_by=role_users["office"])


def test_after_a_decision_the_milestone_may_be_proposed_again(late, role_users, today):
    first = propose(late, role_users["cadre1"])
    replan_reject(first, by=role_users["office"], comment="依据不足", today=today)
    second = propose(late, role_users["cadre1"], reason="已取得批复", document_number="钱政〔2026〕3号")
    assert second.is_pending
    assert ReplanProposal.objects.count() == 2


# --- Approving -------------------------------------------------------------------------


def test_approval_moves_the_plan_keeps_the_baseline_and_turns_the_project_green(late, role_users, today):
    proposal = propose(
        late, role_users["cadre1"], to=today + 60 * D, reason="土地指标延后下达",
        document_number="钱发改〔2026〕12号",
    )
    assert colour(late) == "red"

    decided = replan_approve(proposal, by=role_users["office"], comment="同意", today=today)

    signing = milestone(late)
    assert (signing.planned_date, signing.baseline_date) == (today + 60 * D, today - 5 * D)
    replan = MilestoneReplan.objects.get()
    assert (replan.milestone, replan.old_planned_date, replan.new_planned_date, replan.author) == (
        signing, today - 5 * D, today + 60 * D, role_users["office"],
    )
    assert replan.reason == "土地指标延后下达（文号：钱发改〔2026〕12号；申请人：cadre1）"
    assert decided.state == ReplanProposal.State.APPROVED
    assert (decided.decided_by, decided.decision_comment) == (role_users["office"], "同意")
    assert timezone.now() - timedelta(seconds=5) < decided.decided_at <= timezone.now()
    assert decided.previous_planned_date == today - 5 * D
    # Recomputed in the same transaction: the red is gone only now, and the change is recorded.
    assert colour(late) == "green"
    assert StatusChange.objects.filter(project=late, from_colour="red", to_colour="green").count() == 1
    assert pending_count() == 0


def test_the_approved_replan_is_in_the_project_history_like_a_direct_one(late, role_users, today):
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D, document_number="钱发改〔2026〕12号")
    replan_approve(proposal, by=role_users["office"], today=today)
    entry = next(e for e in project_history(late) if e.subject == "项目签约")
    assert entry.user == role_users["office"]
    assert entry.note == "土地指标延后下达（文号：钱发改〔2026〕12号；申请人：cadre1）"
    assert [(c.label, c.old, c.new) for c in entry.changes] == [
        ("计划完成日期", (today - 5 * D).isoformat(), (today + 60 * D).isoformat())
    ]


def test_approval_without_a_document_number_names_the_proposer(late, role_users, today):
    role_users["cadre1"].last_name, role_users["cadre1"].first_name = "王", "小明"
    role_users["cadre1"].save()
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D, reason="规划调整")
    replan_approve(proposal, by=role_users["office"], today=today)
    assert MilestoneReplan.objects.get().reason == "规划调整（申请人：王小明）"


def test_approval_is_refused_when_the_milestone_was_done_meanwhile(late, role_users, today):
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D)
    Milestone.objects.filter(pk=proposal.milestone_id).update(actual_date=today)
    with pytest.raises(ValidationError) as refused:
        replan_approve(proposal, by=role_users["office"], today=today)
    assert messages_of(refused.value) == ["该节点已完成，不能调整计划"]
    proposal.refresh_from_db()
    assert proposal.is_pending
    assert milestone(late).planned_date == today - 5 * D
    assert not MilestoneReplan.objects.exists()


def test_approval_is_refused_when_the_plan_already_is_the_proposed_date(late, role_users, today):
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D)
    Milestone.objects.filter(pk=proposal.milestone_id).update(planned_date=today + 60 * D)
    with pytest.raises(ValidationError) as refused:
        replan_approve(proposal, by=role_users["office"], today=today)
    assert "请驳回该申请" in messages_of(refused.value)[0]
    proposal.refresh_from_db()
    assert proposal.is_pending


# --- Rejecting -------------------------------------------------------------------------


def test_rejection_needs_a_comment_and_leaves_everything(late, role_users, today):
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D)
    for comment in ("", "  "):
        with pytest.raises(ValidationError) as refused:
            replan_reject(proposal, by=role_users["office"], comment=comment, today=today)
        assert messages_of(refused.value) == ["驳回申请须填写审核意见"]
    proposal.refresh_from_db()
    assert proposal.is_pending

    decided = replan_reject(proposal, by=role_users["office"], comment=" 请补充批复文件 ", today=today)

    assert decided.state == ReplanProposal.State.REJECTED
    assert (decided.decided_by, decided.decision_comment) == (role_users["office"], "请补充批复文件")
    assert decided.decided_at is not None
    assert milestone(late).planned_date == today - 5 * D
    assert not MilestoneReplan.objects.exists()
    assert colour(late) == "red"
    assert not StatusChange.objects.filter(project=late, to_colour="green").exists()


# --- Deciding twice --------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second",
    [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject")],
)
def test_a_decided_proposal_cannot_be_decided_again(late, role_users, today, first, second):
    decide = {
        "approve": lambda p, by: replan_approve(p, by=by, comment="同意", today=today),
        "reject": lambda p, by: replan_reject(p, by=by, comment="不同意", today=today),
    }
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D)
    decide[first](proposal, role_users["office"])
    stored = ReplanProposal.objects.values().get(pk=proposal.pk)
    plan = milestone(late).planned_date

    stale = ReplanProposal.objects.get(pk=proposal.pk)  # a second office member's stale copy
    with pytest.raises(ProposalAlreadyDecided) as refused:
        decide[second](stale, role_users["office"])

    state = "已批准" if first == "approve" else "已驳回"
    assert refused.value.messages == [f"该申请已由office审核（{state}），本次操作未保存。"]
    assert ReplanProposal.objects.values().get(pk=proposal.pk) == stored
    assert milestone(late).planned_date == plan
    assert MilestoneReplan.objects.count() == (1 if first == "approve" else 0)


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("second_decision", ["approve", "reject"])
def test_two_office_members_deciding_at_once_cannot_both_decide(
    late, role_users, today, monkeypatch, second_decision
):
    """The first approval holds its locks (paused inside milestone_edit's recompute); the
    second decision waits for them, then finds the proposal decided and saves nothing."""
    assert connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)"
    office2 = type(role_users["office"]).objects.create_user("office2", is_staff=True)
    office2.groups.set(role_users["office"].groups.all())
    proposal = propose(late, role_users["cadre1"], to=today + 60 * D)
    holding, release = threading.Event(), threading.Event()
    real_edit = replans.milestone_edit

    def paused_edit(*args, **kwargs):
        result = real_edit(*args, **kwargs)
        if threading.current_thread().name == "first":
            holding.set()
            assert release.wait(30), "the test never released the first approval"
        return result

    monkeypatch.setattr(replans, "milestone_edit", paused_edit)
    results = {}
    threads = [run_in_thread(
        "first", lambda: replan_approve(proposal, by=role_users["office"], comment="同意", today=today), results,
    )]
    assert holding.wait(10), results
    second = {
        "approve": lambda: replan_approve(proposal, by=office2, comment="也同意", today=today),
        "reject": lambda: replan_reject(proposal, by=office2, comment="不同意", today=today),
    }[second_decision]
    threads.append(run_in_thread("second", second, results))
    blocked = waiting_for_a_lock()
    release.set()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)

    assert blocked, "the second decision never waited for the first one's row locks"
    assert isinstance(results["first"], ReplanProposal), results["first"]
    assert isinstance(results["second"], ProposalAlreadyDecided), results["second"]
    proposal.refresh_from_db()
    assert (proposal.state, proposal.decided_by, proposal.decision_comment) == ("approved", role_users["office"], "同意")
    assert MilestoneReplan.objects.count() == 1
    assert colour(late) == "green"


# --- Selectors and permissions ---------------------------------------------------------


def test_the_queue_is_oldest_first_and_the_project_lists_its_own(late, make_project, role_users, today, time_machine):
    other = make_project("QT-OTHER", responsible_cadre=role_users["cadre2"], milestones={
        "signing": {"planned_date": today + 10 * D},
    })
    older = propose(late, role_users["cadre1"])
    time_machine.shift(timedelta(minutes=5))
    newer = propose(other, role_users["cadre2"], to=today + 40 * D)
    time_machine.shift(timedelta(minutes=5))
    land = propose(late, role_users["liaison1"], type_code="construction_permit", to=today + 120 * D)
    replan_reject(land, by=role_users["office"], comment="不同意", today=today)

    assert list(pending_proposals()) == [older, newer]
    assert pending_count() == 2
    assert list(proposals_of_project(late)) == [land, older]
    assert list(replans.decided_proposals()) == [land]


def test_who_may_propose_and_who_may_decide(late, make_project, role_users):
    signing, permit = milestone(late), milestone(late, "construction_permit")
    may_propose = {
        name: (permissions.can_propose_replan(user, signing), permissions.can_propose_replan(user, permit))
        for name, user in role_users.items()
    }
    assert may_propose == {
        "leader": (False, False),
        "office": (True, True),
        "cadre1": (True, True),  # their project
        "cadre2": (False, False),  # not theirs
        "liaison1": (False, True),  # only the milestone their department owns
    }
    assert {name: permissions.can_decide_replan(user) for name, user in role_users.items()} == {
        "leader": False, "office": True, "cadre1": False, "cadre2": False, "liaison1": False,
    }
    assert {name: permissions.can_read_replan_queue(user) for name, user in role_users.items()} == {
        "leader": True, "office": True, "cadre1": False, "cadre2": False, "liaison1": False,
    }
