"""Ledger pages: the list (and the office's snapshot), one ledger with the dashboard's
filters, its workbook, the changes between two ledgers or since one, and the rankings."""
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from projects import permissions
from projects.filters import ProjectFilterForm
from qiantang import colours
from qiantang.clock import local_today
from qiantang.htmx import login_required

from ..dashboard.filters import filter_values, query_string
from ..models import Ledger
from .export import (
    changes_filename,
    changes_workbook,
    ledger_filename,
    ledger_workbook,
    ranking_formula,
    rankings_workbook,
)
from .forms import SnapshotForm
from .freeze import freeze_snapshot
from .selectors import changes_since, default_ledger, filtered_rows, previous_ledger, ranking_tables

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = "warnings/ledger/ledger.html"
PAGE_SIZE = 100  # rows of a ledger per page (a province's ledger has tens of thousands)


def _list_context(request, form=None):
    return {
        "ledgers": Ledger.objects.order_by("-frozen_at", "-id"),
        "form": form or SnapshotForm(),
        "may_freeze": permissions.is_office(request.user),
    }


@login_required
@require_GET
def ledger_list(request):
    return render(request, "warnings/ledger/list.html", _list_context(request))


@login_required
@require_POST
def ledger_snapshot(request):
    if not permissions.is_office(request.user):
        raise PermissionDenied
    form = SnapshotForm(request.POST)
    if not form.is_valid():
        template = "warnings/ledger/list.html" + ("#snapshot-form" if request.htmx else "")
        # htmx swaps only 2xx answers: the form with its messages comes back as 200 to htmx.
        return render(request, template, _list_context(request, form), status=200 if request.htmx else 400)
    ledger = freeze_snapshot(name=form.cleaned_data["name"], today=local_today(), by=request.user)
    target = reverse("ledger_detail", kwargs={"pk": ledger.pk})
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@login_required
@require_GET
def ledger_detail(request, pk):
    ledger = get_object_or_404(Ledger, pk=pk)
    form = ProjectFilterForm(request.GET or None)
    cleaned = {}
    if form.is_bound:
        form.is_valid()  # invalid values are ignored, as on the dashboard
        cleaned = form.cleaned_data
    rows = filtered_rows(ledger, cleaned)
    counts = {colour: 0 for colour in colours.WORST_FIRST}
    for colour, count in rows.order_by().values_list("colour").annotate(n=Count("id")):
        if colour in counts:
            counts[colour] = count
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = query_string(filter_values(cleaned))
    context = {
        "ledger": ledger, "form": form, "page": page, "rows": page.object_list, "counts": counts, "query": query,
        "earlier": previous_ledger(ledger),
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, TEMPLATE + "#rows", context)
        shown = "&".join(part for part in (query, f"page={page.number}" if page.number > 1 else "") if part)
        push_url(response, f"{request.path}?{shown}" if shown else request.path)
        return response
    return render(request, TEMPLATE, context)


@login_required
@require_GET
def ledger_download(request, pk):
    ledger = get_object_or_404(Ledger, pk=pk)
    response = HttpResponse(ledger_workbook(ledger), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, ledger_filename(ledger))
    return response


@login_required
@require_GET
def ledger_changes(request, pk):
    """Changes since ledger `pk`: until another ledger (?until=id) or until now."""
    since = get_object_or_404(Ledger, pk=pk)
    until = _ledger_named(request, "until")
    changes = changes_since(since, until, today=local_today())
    return render(request, "warnings/ledger/changes.html", {
        "since": since, "until": until, "changes": changes,
        "ledgers": Ledger.objects.exclude(pk=since.pk).filter(frozen_at__gt=since.frozen_at).order_by("-frozen_at"),
    })


@login_required
@require_GET
def ledger_changes_download(request, pk):
    """What the changes page shows for the same pair (?until=id or until now), as a workbook."""
    since = get_object_or_404(Ledger, pk=pk)
    until = _ledger_named(request, "until")
    today = local_today()
    changes = changes_since(since, until, today=today)
    response = HttpResponse(changes_workbook(since, until, changes, today=today, at=timezone.now()), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, changes_filename(since, until, today=today))
    return response


def _ledger_named(request, param: str) -> Ledger | None:
    """The ledger whose id the query parameter gives, None without one; 404 for a bad one."""
    if not request.GET.get(param):
        return None
    try:
        return Ledger.objects.get(pk=int(request.GET[param]))
    except (ValueError, Ledger.DoesNotExist):
        raise Http404 from None


def _ranking_ledger(request) -> Ledger | None:
    return _ledger_named(request, "ledger") or default_ledger()


@login_required
@require_GET
def rankings(request):
    """红黑榜: departments and streets ranked for a ledger's period (the latest month's by default)."""
    ledger = _ranking_ledger(request)
    return render(request, "warnings/ledger/rankings.html", {
        "ledger": ledger, "tables": ranking_tables(ledger) if ledger else [],
        "ledgers": Ledger.objects.order_by("-frozen_at", "-id"), "formula": ranking_formula(),
    })


@login_required
@require_GET
def rankings_download(request):
    ledger = _ranking_ledger(request)
    if ledger is None:
        raise Http404
    response = HttpResponse(rankings_workbook(ledger, ranking_tables(ledger)), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"红黑榜-{ledger.name}.xlsx".replace("/", "-"))
    return response
