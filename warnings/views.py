"""The leaders' dashboard: one page, its live part refreshed by HTMX polling.

A plain GET renders the page; an HTMX request (a filter change or the poll)
gets the `live` partial alone. DASHBOARD_REFRESH_SECONDS (default 30) sets the
polling interval; the browser test shortens it with the settings fixture.
"""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from projects.filters import ProjectFilterForm
from projects.models import Colour

from .charts import trend_svg
from .dashboard import dashboard as dashboard_data
from .dashboard import query_string
from .selectors import local_today

DEFAULT_REFRESH_SECONDS = 30
FILTER_FORM_ID = "dash-filters"  # the id of the filter form in the template


@login_required
@require_GET
def dashboard(request):
    form = ProjectFilterForm(request.GET or None)
    cleaned = {}
    if form.is_bound:
        # Invalid values (an unknown department, a misspelt colour) are ignored, not
        # refused: cleaned_data then holds the valid filters only.
        form.is_valid()
        cleaned = form.cleaned_data
    data = dashboard_data(cleaned, today=local_today())
    labels = dict(Colour.choices)
    context = {
        "form": form,
        "data": data,
        "query": query_string(data.filters),
        "filter_summary": _filter_summary(form, cleaned),
        "trend_chart": trend_svg(data.trend, labels={k: str(v) for k, v in labels.items()}),
        "updated_at": timezone.localtime(),
        "refresh_seconds": getattr(settings, "DASHBOARD_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS),
    }
    htmx = request.htmx
    template = "warnings/dashboard.html"
    if htmx and not htmx.history_restore_request:
        template += "#live"
    response = render(request, template, context)
    if htmx and htmx.trigger == FILTER_FORM_ID:
        # A filter change (not the poll): the address bar shows the clean filters, so the
        # link reproduces the view and back/forward step through the filters.
        push_url(response, f"{request.path}?{context['query']}" if context["query"] else request.path)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response



def _filter_summary(form: ProjectFilterForm, cleaned: dict) -> list[tuple[str, str]]:
    """(label, shown value) of each active filter, for the screen and the printout."""
    summary = []
    for name, field in form.fields.items():
        value = cleaned.get(name)
        if value in (None, ""):
            continue
        if hasattr(field, "label_from_instance"):
            shown = field.label_from_instance(value)
        else:
            shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else value
        summary.append((str(field.label), str(shown)))
    return summary
