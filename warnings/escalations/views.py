"""督办 (escalation) from the project page: a leader or the office raises a project's colour
with a reason until a date. The panel is a partial of the project page
(projects/detail.html#escalations); this view answers its form."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from projects import permissions
from projects.views import DETAIL, detail_context, project_oob_parts, project_or_404
from qiantang.clock import local_today
from qiantang.forms import add_service_errors
from qiantang.htmx import login_required, render_partials

from ..selectors import escalation_panel
from ..services import escalation_create as create_escalation
from .forms import EscalationForm


@login_required
@require_POST
def escalation_create(request, code):
    project = project_or_404(code)
    if not permissions.can_escalate(request.user):
        raise PermissionDenied(_("只有领导和投资管理科可以督办"))
    today = local_today()
    form = EscalationForm(request.POST, today=today)
    if form.is_valid():
        try:
            create_escalation(
                project, colour=form.cleaned_data["colour"], reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"], by=request.user, today=today,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("已督办"))
                return redirect(reverse("project_detail", kwargs={"code": project.code}) + "#escalations")
            project.refresh_from_db()
            return render_partials(
                request, DETAIL,
                ("escalations", {
                    "project": project, "today": today,
                    **escalation_panel(project, user=request.user, today=today),
                }),
                *project_oob_parts(project, history=False),
            )
    panel = escalation_panel(project, user=request.user, today=today, form=form)
    if request.htmx:
        return render(request, f"{DETAIL}#escalations", {"project": project, "today": today, **panel})
    return render(request, DETAIL, detail_context(request, project, escalation_form=form), status=400)
