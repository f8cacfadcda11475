"""协调事项 pages: the panel on the project page (raise, and each item's steps) and the
department page (/coordination/) where liaisons answer what is put to their departments.
Every POST checks permissions in the service; HTMX answers swap the panel or the item."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiantang.clock import local_today
from qiantang.forms import add_service_errors
from qiantang.htmx import login_required, render_partials

from ..models import CoordinationEvent, CoordinationItem
from ..views import DETAIL, detail_context, project_or_404
from . import services
from .forms import ItemAssignForm, ItemRaiseForm, ItemStepForm
from .selectors import (
    assignable_departments,
    coordination_panel,
    department_ranking,
    item_row,
    items_for_user,
)

PAGE = "projects/coordination/items.html"
STEPS = {
    "answer": CoordinationEvent.Kind.ANSWERED,
    "handle": CoordinationEvent.Kind.HANDLED,
    "close": CoordinationEvent.Kind.CLOSED,
    "reopen": CoordinationEvent.Kind.REOPENED,
}


def _back_to(project) -> str:
    return reverse("project_detail", kwargs={"code": project.code}) + "#coordination"


@login_required
@require_POST
def item_raise(request, code):
    project = project_or_404(code)
    today = local_today()
    form = ItemRaiseForm(request.POST, project=project)
    if form.is_valid():
        try:
            services.item_raise(project=project, by=request.user, today=today, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("协调事项已提出"))
                return redirect(_back_to(project))
            return render(request, f"{PAGE}#panel", {"project": project, **coordination_panel(project, user=request.user, today=today)})
    panel = coordination_panel(project, user=request.user, today=today, form=form)
    if request.htmx:
        return render(request, f"{PAGE}#panel", {"project": project, **panel})
    return render(request, DETAIL, detail_context(request, project, **panel), status=400)


@login_required
@require_POST
def item_step(request, pk, step):
    kind = STEPS.get(step)
    if kind is None:
        raise Http404
    item = get_object_or_404(CoordinationItem.objects.select_related("project"), pk=pk)
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return _act_on_item(
        request, item, ItemStepForm(request.POST), done=_("已保存"),
        act=lambda cleaned, today: services.item_step(
            item=item, kind=kind, by=request.user, comment=cleaned["comment"], today=today
        ),
        back=back if back and safe else _back_to(item.project),
    )


@login_required
@require_POST
def item_assign(request, pk):
    item = get_object_or_404(CoordinationItem.objects.select_related("project"), pk=pk)
    return _act_on_item(
        request, item, ItemAssignForm(request.POST), done=_("已分派"),
        act=lambda cleaned, today: services.item_assign(item=item, by=request.user, today=today, **cleaned),
        back=_back_to(item.project),
    )


def _act_on_item(request, item, form, *, act, done: str, back: str):
    """One step on an item from a posted form: the form's or the service's refusals are
    shown on the item (HTMX) or as messages before going `back`; the item as it is now."""
    today = local_today()
    errors = []
    if form.is_valid():
        try:
            act(form.cleaned_data, today)
        except ValidationError as error:
            errors = error.messages
    else:
        errors = [message for field in form.errors.values() for message in field]
    if not request.htmx:
        for message in errors:
            messages.error(request, message)
        if not errors:
            messages.success(request, done)
        return redirect(back)
    return _item_answer(request, item, errors, today)


def _item_answer(request, item, errors, today):
    """The item as it is now, for the HTMX swap (with any refusal shown on it); on the items
    page also its heading's counts and the departments' table, out of band (a handled item
    no longer waits)."""
    row = item_row(item.pk, user=request.user, today=today)
    on_project_page = request.POST.get("next", "").startswith("/projects/")
    parts = [("item", {
        "row": row, "step_errors": errors, "on_project_page": on_project_page,
        "departments": assignable_departments([row]),
    })]
    if not on_project_page:
        parts.append(("waiting-summary", {**_waiting(request.user, today), "oob": True}))
        ranking = department_ranking(today=today)
        if ranking:
            parts.append(("department-ranking", {"ranking": ranking, "oob": True}))
    return render_partials(request, PAGE, *parts)


def _waiting(user, today) -> dict:
    """The items page's rows: what waits for a department, what is done, how many are late."""
    rows = items_for_user(user=user, today=today)
    waiting = [row for row in rows if row.item.is_waiting_for_department]
    return {
        "waiting": waiting, "done": [row for row in rows if not row.item.is_waiting_for_department][:50],
        "overdue": sum(1 for row in waiting if row.overdue_days),
    }


@login_required
@require_GET
def my_items(request):
    """协调事项: what waits for my departments, what I raised, what my projects carry."""
    today = local_today()
    rows = _waiting(request.user, today)
    return render(request, PAGE, {
        **rows, "ranking": department_ranking(today=today), "departments": assignable_departments(rows["waiting"]),
    })
