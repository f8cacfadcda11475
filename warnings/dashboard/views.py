"""The leaders' dashboard: one page whose live part keeps itself current.

A plain GET renders the page. The filter form asks for the `live` partial (and
the address bar gets the clean filters). The live part's status line polls every
DASHBOARD_REFRESH_SECONDS (default 30; the browser test uses 1) while the tab is
visible, sending the fingerprint of what it shows: while nothing changed, the
answer is the status line alone ("更新于 …"); after a recompute or a staff edit,
it is the whole live part, swapped in place of the old one — or, while another process
is rendering that new part, 204 No Content: the page keeps what it shows and the next
poll brings the part, so a poll never holds a server process waiting for another's work.
"""
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import push_url, reswap, retarget

from projects.filters import FILTER_PARAMS, ProjectFilterForm
from qiantang.clock import local_today
from qiantang.htmx import login_required

from .filters import filter_values, query_string
from .fingerprint import fingerprint
from .page import cached_dashboard

DEFAULT_REFRESH_SECONDS = 30
FILTER_FORM_ID = "dash-filters"  # ids in the template
LIVE_ID = "live"


@login_required
@require_GET
def dashboard(request):
    today = local_today()
    htmx = request.htmx
    polled = htmx and "since" in request.GET
    status = {
        "updated_at": timezone.localtime(),
        "refresh_seconds": getattr(settings, "DASHBOARD_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS),
    }
    if polled:
        # The page polls with the clean filters it was rendered with (its own `query`), so
        # the poll's stamp needs no form, and no query for the form's choices.
        values = {name: request.GET[name].strip() for name in FILTER_PARAMS if request.GET.get(name, "").strip()}
        stamp = fingerprint(values, today=today)
        if request.GET["since"] == stamp:
            # Nothing changed: only the status line, with the time of this check.
            context = {**status, "stamp": stamp, "query": query_string(values)}
            return _vary(render(request, "warnings/dashboard/dashboard.html#live-status", context))

    form = ProjectFilterForm(request.GET or None)
    cleaned = {}
    if form.is_bound:
        # Invalid values (an unknown department, a misspelt colour) are ignored, not
        # refused: cleaned_data then holds the valid filters only.
        form.is_valid()
        cleaned = form.cleaned_data
    values = filter_values(cleaned)
    query = query_string(values)
    context = {**status, "form": form, "query": query, "stamp": fingerprint(values, today=today)}
    context["live_body"] = live_body(request, form, cleaned, context, today=today, wait=not polled)
    if context["live_body"] is None:
        # Being rendered elsewhere right now: the page keeps its part until the next poll.
        return _vary(HttpResponse(status=204))
    template = "warnings/dashboard/dashboard.html"
    if htmx and not htmx.history_restore_request:
        template += "#live"
    else:
        context["filters_html"] = filters_html(request, form, context["stamp"])
    response = render(request, template, context)
    if polled:
        # Something changed: the whole live part replaces the old one, not the status line.
        retarget(response, f"#{LIVE_ID}")
        reswap(response, "outerHTML")
    elif htmx and htmx.trigger == FILTER_FORM_ID:
        # A filter change: the address bar shows the clean filters, so the link
        # reproduces the view and back/forward step through the filters.
        push_url(response, f"{request.path}?{query}" if query else request.path)
    return _vary(response)


# While one process renders a part, the others asking for the same part wait for it this
# long rather than render it again: after a save every open dashboard polls within seconds,
# and one rendering serves them all. Past it (the renderer died or is very slow) they render.
# A poll does not wait at all (`wait=False`): it has a part on screen already.
RENDER_WAIT_SECONDS = 5.0


def _rendered_once(key: str, render_part, *, wait: bool = True) -> SafeString | None:
    """A rendered part of the page, from the cache while its key holds (the stamp: data
    version, day and filters; and the language), else rendered now, once, and kept. None,
    when not `wait`ing, if another process is rendering it right now."""
    key = f"{key}:{get_language()}"
    html = cache.get(key)
    if html is None:
        rendering = f"{key}:rendering"
        if not cache.add(rendering, 1, timeout=int(RENDER_WAIT_SECONDS * 2)):
            if not wait:
                return None
            deadline = time.monotonic() + RENDER_WAIT_SECONDS
            while html is None and time.monotonic() < deadline:
                time.sleep(0.02)
                html = cache.get(key)
        if html is None:
            try:
                html = render_part()
                cache.set(key, html, settings.DASHBOARD_CACHE_SECONDS)
            finally:
                cache.delete(rendering)
    return mark_safe(html)  # noqa: S308  (our own template's output)


def live_body(request, form, cleaned: dict, context: dict, *, today, wait: bool = True) -> SafeString | None:
    """Everything of the live part below its status line: the figures, chart and lists. The
    same for every leader who asks with the same stamp, so a repeat view costs a cache read.
    None when not `wait`ing and another process is rendering it."""

    def render_part():
        data, trend_chart = cached_dashboard(cleaned, today=today, stamp=context["stamp"])
        part = {**context, "data": data, "trend_chart": trend_chart,
                "filter_summary": _filter_summary(form, cleaned)}
        return render_to_string("warnings/dashboard/dashboard.html#live-body", part, request=request)

    return _rendered_once(f"dashboard-live:{context['stamp']}", render_part, wait=wait)


def filters_html(request, form, stamp: str) -> SafeString:
    """The filter form as asked (its choices read from the data: sectors, departments,
    cadres), once per data version and exact query string."""
    asked = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:16]
    return _rendered_once(
        f"dashboard-filters:{stamp}:{asked}",
        lambda: render_to_string("warnings/dashboard/dashboard.html#filters", {"form": form}, request=request),
    )


def _vary(response):
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
