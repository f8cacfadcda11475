"""Re-plans proposed and decided (调整计划申请): services that write, selectors that read.

A cadre or liaison proposes a new planned date; the milestone keeps its plan and its
colour until the office approves, and an approval re-plans it through milestone_edit,
so the change is in the history (a MilestoneReplan) like any re-plan, baseline kept.
Rows are locked milestone first, then proposal, then (in the recompute) project, in
every path, so two office members deciding at once wait for each other and the
second finds the proposal decided.
"""
from __future__ import annotations

from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantang.dates import validate_date_in_range
from qiantang.people import display_name

from .models import Milestone, Project, ReplanProposal
from .services import milestone_edit

PENDING = ReplanProposal.State.PENDING
RECENTLY_DECIDED = 20


class ProposalAlreadyDecided(ValidationError):
    """The proposal was decided before this decision (by someone else, or twice)."""

    def __init__(self, proposal: ReplanProposal):
        super().__init__(
            _("该申请已由%(who)s审核（%(state)s），本次操作未保存。")
            % {
                "who": display_name(proposal.decided_by) if proposal.decided_by else "—",
                "state": proposal.get_state_display(),
            },
            code="already_decided",
        )
        self.proposal = proposal


def _user(by):
    return by if getattr(by, "is_authenticated", False) else None


def _lock_milestone(milestone_id: int) -> Milestone:
    return (
        Milestone.objects.select_for_update(of=("self",))
        .select_related("milestone_type", "project")
        .get(pk=milestone_id)
    )


def _refuse_unless_replannable(milestone: Milestone) -> None:
    """Only a pending milestone with a plan is re-planned; the rest are direct edits."""
    if milestone.actual_date is not None:
        message = _("该节点已完成，不能调整计划")
    elif milestone.not_applicable:
        message = _("该节点不适用，不能调整计划")
    elif milestone.planned_date is None:
        message = _("该节点还没有计划完成日期，请直接填写计划完成日期")
    else:
        return
    raise ValidationError({NON_FIELD_ERRORS: [message]}, code="not_replannable")


def replan_reason_text(proposal: ReplanProposal) -> str:
    """The reason kept with the re-plan: the proposal's reason, its 文号 and proposer.

    Stored text, the same for every reader of the history (like the reason a cadre
    types), so it is not translated at the moment of approval.
    """
    details = []
    if proposal.document_number:
        details.append(f"文号：{proposal.document_number}")
    details.append(f"申请人：{display_name(proposal.proposer)}")
    return f"{proposal.reason}（{'；'.join(details)}）"


# --- Services ---------------------------------------------------------------------------


def replan_propose(
    milestone: Milestone,
    *,
    proposed_planned_date: date | None,
    reason: str,
    document_number: str = "",
    by,
    today: date,
) -> ReplanProposal:
    """申请调整计划: a new planned date for a milestone that has one, for the office to decide.

    Raises ValidationError (nothing saved) when the milestone has no plan yet, is done or
    not applicable, when the date is missing, out of range or the current plan, without
    a reason, or while another proposal for the milestone is pending. The milestone's
    plan and colour stay as they are. `today` is the caller's date, for the policy of
    the day (the rules never read the clock).
    """
    reason = (reason or "").strip()
    document_number = (document_number or "").strip()
    with transaction.atomic():
        current = _lock_milestone(milestone.pk)
        _refuse_unless_replannable(current)
        errors = {}
        if proposed_planned_date is None:
            errors["proposed_planned_date"] = [_("请填写申请的计划完成日期")]
        else:
            try:
                validate_date_in_range(proposed_planned_date)
            except ValidationError as error:
                errors["proposed_planned_date"] = error.messages
            else:
                if proposed_planned_date == current.planned_date:
                    errors["proposed_planned_date"] = [_("申请的日期与当前计划完成日期相同")]
        if not reason:
            errors["reason"] = [_("请填写调整原因")]
        if errors:
            raise ValidationError(errors)
        proposal = ReplanProposal(
            milestone=current,
            previous_planned_date=current.planned_date,
            proposed_planned_date=proposed_planned_date,
            reason=reason,
            document_number=document_number,
            proposer=by,
        )
        # Also checks the one-pending-per-milestone constraint (milestone row locked).
        proposal.full_clean()
        proposal._history_user = _user(by)
        try:
            with transaction.atomic():
                proposal.save()
        except IntegrityError:
            raise ValidationError(_("该节点已有待审核的调整计划申请")) from None
    return proposal


def _lock_pending(proposal: ReplanProposal) -> tuple[Milestone, ReplanProposal]:
    milestone = _lock_milestone(proposal.milestone_id)
    current = (
        ReplanProposal.objects.select_for_update(of=("self",))
        .select_related("proposer", "decided_by")
        .get(pk=proposal.pk)
    )
    if not current.is_pending:
        raise ProposalAlreadyDecided(current)
    return milestone, current


def _record_decision(proposal: ReplanProposal, *, state: str, by, comment: str) -> None:
    proposal.state = state
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.decision_comment = comment
    proposal.full_clean()
    proposal._history_user = _user(by)
    proposal.save()


def replan_approve(proposal: ReplanProposal, *, by, comment: str = "", today: date) -> ReplanProposal:
    """批准: re-plan the milestone to the proposed date, then recompute its project.

    The re-plan goes through milestone_edit (one MilestoneReplan, the history entry with
    the proposal's reason and 文号, baseline kept, the project recomputed in this
    transaction). Raises ProposalAlreadyDecided, or ValidationError when the milestone
    can no longer be re-planned (done, not applicable, or already at that date); nothing
    is saved then.
    """
    comment = (comment or "").strip()
    with transaction.atomic():
        milestone, current = _lock_pending(proposal)
        _refuse_unless_replannable(milestone)
        if milestone.planned_date == current.proposed_planned_date:
            raise ValidationError(
                {NON_FIELD_ERRORS: [_("该节点的计划完成日期已是申请的日期，请驳回该申请")]}
            )
        previous_planned_date = milestone.planned_date
        milestone_edit(
            milestone,
            planned_date=current.proposed_planned_date,
            actual_date=milestone.actual_date,
            not_applicable=milestone.not_applicable,
            replan_reason=replan_reason_text(current),
            by=by,
            today=today,
        )
        current.previous_planned_date = previous_planned_date
        _record_decision(current, state=ReplanProposal.State.APPROVED, by=by, comment=comment)
    return current


def replan_reject(proposal: ReplanProposal, *, by, comment: str, today: date) -> ReplanProposal:
    """驳回: the milestone keeps its plan; the comment tells the proposer why.

    Raises ProposalAlreadyDecided, or ValidationError without a comment (nothing saved).
    `today` is accepted like the other decisions' (nothing is recomputed: nothing moved).
    """
    comment = (comment or "").strip()
    with transaction.atomic():
        _milestone, current = _lock_pending(proposal)
        if not comment:
            raise ValidationError({"decision_comment": [_("驳回申请须填写审核意见")]})
        _record_decision(current, state=ReplanProposal.State.REJECTED, by=by, comment=comment)
    return current


# --- Selectors --------------------------------------------------------------------------


def pending_proposals() -> QuerySet[ReplanProposal]:
    """The office's queue: pending proposals, oldest first, with what a row shows."""
    return (
        ReplanProposal.objects.filter(state=PENDING)
        .select_related("milestone__project", "milestone__milestone_type", "proposer")
        .order_by("created_at", "id")
    )


def pending_count() -> int:
    """The navigation's badge: one COUNT."""
    return ReplanProposal.objects.filter(state=PENDING).count()


def decided_proposals(*, limit: int = RECENTLY_DECIDED) -> QuerySet[ReplanProposal]:
    """The most recently decided proposals, newest decision first."""
    return (
        ReplanProposal.objects.exclude(state=PENDING)
        .select_related(
            "milestone__project", "milestone__milestone_type", "proposer", "decided_by"
        )
        .order_by("-decided_at", "-id")[:limit]
    )


def proposals_of_project(project: Project) -> QuerySet[ReplanProposal]:
    """A project's proposals, newest first (the project page: pending ones and decisions)."""
    return (
        ReplanProposal.objects.filter(milestone__project=project)
        .select_related("milestone__milestone_type", "proposer", "decided_by")
        .order_by("-created_at", "-id")
    )
