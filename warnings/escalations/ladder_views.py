"""The ladder's page (/ladder/): the suggestions waiting for the office, each with its
prefilled 督办 or the 约谈 form, and the decided ones. Leaders read it; the office decides,
checked on the server for every POST."""
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from projects import permissions
from qiantang.clock import local_today
from qiantang.forms import add_service_errors
from qiantang.htmx import login_required

from ..models import LadderSuggestion
from ..reasons import render_reason
from . import services
from .forms import DismissForm, LadderEscalateForm, TalkForm

TEMPLATE = "warnings/escalations/ladder.html"
ESCALATION_DAYS = 30  # the prefilled 督办 runs a month


def prefilled(suggestion: LadderSuggestion, today) -> dict:
    reasons = "；".join(render_reason(r) for r in (suggestion.project.reasons or [])[:3])
    return {
        "reason": _("连续%(weeks)s周红灯：%(reasons)s") % {"weeks": suggestion.weeks_red, "reasons": reasons},
        "until": today + timedelta(days=ESCALATION_DAYS),
    }


def _row(suggestion, today, *, form=None):
    if suggestion.step == LadderSuggestion.Step.ESCALATE:
        form = form or LadderEscalateForm(initial=prefilled(suggestion, today))
    else:
        form = form or TalkForm(initial={"held_on": today, "follow_up_on": today + timedelta(days=14)})
    return {"suggestion": suggestion, "form": form, "dismiss_form": DismissForm()}


@login_required
@require_GET
def ladder_queue(request):
    if not permissions.can_read_ladder(request.user):
        raise PermissionDenied(_("只有领导和投资管理科可以查看升级建议"))
    today = local_today()
    suggestions = LadderSuggestion.objects.select_related("project", "decided_by", "escalation")
    return render(request, TEMPLATE, {
        "open": [_row(s, today) for s in suggestions.filter(state=LadderSuggestion.State.OPEN)],
        "decided": suggestions.exclude(state=LadderSuggestion.State.OPEN).order_by("-decided_at")[:50],
        "may_decide": permissions.is_office(request.user),
    })


@login_required
@require_POST
def ladder_decide(request, pk, decision):
    if not permissions.is_office(request.user):
        raise PermissionDenied(_("只有投资管理科可以处理升级建议"))
    suggestion = get_object_or_404(LadderSuggestion.objects.select_related("project"), pk=pk)
    today = local_today()
    form_class = {"escalate": LadderEscalateForm, "talk": TalkForm, "dismiss": DismissForm}.get(decision)
    if form_class is None:
        raise Http404
    form = form_class(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if decision == "escalate":
                services.suggestion_escalate(suggestion, reason=data["reason"], until=data["until"], by=request.user, today=today)
            elif decision == "talk":
                services.suggestion_talk(suggestion, held_on=data["held_on"], participants=data["participants"],
                                         agreed=data["agreed"], follow_up_on=data["follow_up_on"], by=request.user)
            else:
                services.suggestion_dismiss(suggestion, reason=data["comment"], by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
    if form.is_valid() and not form.errors:
        if not request.htmx:
            return redirect("ladder_queue")
        suggestion.refresh_from_db()
        return render(request, TEMPLATE + "#decided-row", {"suggestion": suggestion})
    row = _row(suggestion, today, form=form if decision != "dismiss" else None)
    if decision == "dismiss":
        row["dismiss_form"] = form
    if request.htmx:  # htmx swaps only 2xx answers: the row with its messages, as 200
        return render(request, TEMPLATE + "#open-row", {**row, "may_decide": True})
    return render(request, TEMPLATE, {"open": [row], "decided": [], "may_decide": True}, status=400)
