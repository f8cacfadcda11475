"""The office's queue of re-plan proposals (/replans/) and its decisions.

The office approves or rejects each pending proposal with a comment; leaders read the
queue; everyone else gets 403. A decision posted with HTMX replaces the proposal's row
with its decided state and updates the navigation's count out of band; a plain POST
redirects back with a message.
"""
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiantang.clock import local_today
from qiantang.htmx import login_required, render_partials

from . import permissions, replans
from .forms import ReplanDecisionForm
from .models import ReplanProposal
from .replans import (
    ProposalAlreadyDecided,
    decided_proposals,
    pending_count,
    pending_proposals,
)

QUEUE = "projects/replan_queue.html"
APPROVE, REJECT = "approve", "reject"

# --- The queue -------------------------------------------------------------------------------


def _answer_forbidden(view):
    """PermissionDenied as a 403 that says why, in the user's language: the queue page
    with the message, or the message alone for HTMX (the page's error line shows it)."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as denied:
            message = str(denied) or _("您无权进行此操作")
            if request.htmx:
                return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
            return render(request, QUEUE, {"forbidden": message}, status=403)

    return answer


def _require_reader(user) -> None:
    if not permissions.can_read_replan_queue(user):
        raise PermissionDenied(_("只有投资管理科和领导可以查看调整计划申请"))


def _require_decider(user) -> None:
    if not permissions.can_decide_replan(user):
        raise PermissionDenied(_("只有投资管理科可以审核调整计划申请"))


def _queue_context(request, **extra) -> dict:
    pending = list(pending_proposals())
    return {
        "pending": pending,
        "decided": list(decided_proposals()),
        "can_decide": permissions.can_decide_replan(request.user),
        "replan_count": len(pending),  # the navigation's badge, without a second COUNT
        **extra,
    }


@login_required
@_answer_forbidden
@require_GET
def replan_queue(request):
    _require_reader(request.user)
    return render(request, QUEUE, _queue_context(request))


# --- Decisions -------------------------------------------------------------------------------


def _proposal_or_404(pk: int) -> ReplanProposal:
    return get_object_or_404(
        ReplanProposal.objects.select_related(
            "milestone__project", "milestone__milestone_type", "proposer", "decided_by"
        ),
        pk=pk,
    )


def _row(request, proposal, **context) -> HttpResponse:
    """The proposal's row for HTMX, with the navigation's and the heading's counts out of band."""
    counts = {"replan_count": pending_count(), "oob": True, "nav_current": True}
    return render_partials(
        request, QUEUE,
        ("proposal-row", {"proposal": proposal, "can_decide": True, "form": None, "errors": None, **context}),
        ("base.html#replan-nav", counts),
        ("pending-count", counts),
    )


def _refused(request, pk: int, *, form, errors, status) -> HttpResponse:
    """A decision refused, nothing saved: the row again with the reason (HTMX, 200 so
    that htmx swaps it), or the queue with the reason (plain POST, `status`)."""
    if request.htmx:
        return _row(request, _proposal_or_404(pk), form=form, errors=errors)
    context = _queue_context(request, refused=pk, form=form, errors=errors)
    if not any(proposal.pk == pk for proposal in context["pending"]):
        context["page_errors"] = errors  # no longer in the queue: say it above it
    return render(request, QUEUE, context, status=status)


def _decide(request, pk: int, decision: str) -> HttpResponse:
    _require_decider(request.user)
    proposal = _proposal_or_404(pk)
    form = ReplanDecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, form=form, errors=form.errors["comment"], status=400)
    decide = replans.replan_approve if decision == APPROVE else replans.replan_reject
    try:
        decide(proposal, by=request.user, comment=form.cleaned_data["comment"], today=local_today())
    except ProposalAlreadyDecided as refused:
        return _refused(request, pk, form=None, errors=refused.messages, status=409)
    except ValidationError as refused:
        return _refused(request, pk, form=form, errors=refused.messages, status=400)
    decided = _proposal_or_404(pk)  # as stored now, with the milestone's new plan
    if request.htmx:
        return _row(request, decided, just_decided=True)
    done = _("已批准：%(code)s %(milestone)s") if decision == APPROVE else _("已驳回：%(code)s %(milestone)s")
    messages.success(
        request,
        done % {"code": decided.milestone.project.code, "milestone": decided.milestone.milestone_type.name},
    )
    return redirect(reverse("replan_queue"))


@login_required
@_answer_forbidden
@require_POST
def replan_approve(request, pk):
    return _decide(request, pk, APPROVE)


@login_required
@_answer_forbidden
@require_POST
def replan_reject(request, pk):
    return _decide(request, pk, REJECT)
