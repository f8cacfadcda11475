"""/screen/<token>/: no personal login; the link is the key. A revoked or unknown link is
refused (410, 404); a screen already showing reloads itself on its next refresh and then
shows the refusal, so a revoked link stops showing data within one period."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from projects.models import Colour, Department, Project
from qiantang.clock import local_today

from ..dashboard.filters import filter_values
from ..dashboard.fingerprint import fingerprint
from ..dashboard.page import cached_dashboard
from ..models import ScreenLink

TEMPLATE = "warnings/screen/screen.html"
REDS_SHOWN = 8


def views_of(link: ScreenLink) -> list[tuple[str, dict]]:
    """(label, filters) of each view the screen cycles through: the district first."""
    views = [(_("全区"), {})]
    if link.cycle == ScreenLink.Cycle.SECTOR:
        sectors = (Project.objects.filter(state=Project.State.ACTIVE).exclude(sector="")
                   .order_by("sector").values_list("sector", flat=True).distinct())
        views += [(sector, {"sector": sector}) for sector in sectors]
    elif link.cycle == ScreenLink.Cycle.DEPARTMENT:
        led = Department.objects.filter(Q(led_projects__state=Project.State.ACTIVE)).distinct().order_by("kind", "name")
        views += [(department.name, {"department": department}) for department in led]
    return views


def _refused(request, status: int):
    response = render(request, "warnings/screen/refused.html", {"status": status}, status=status)
    if request.htmx:
        response["HX-Refresh"] = "true"  # the screen reloads and shows the refusal
    return _private(response)


def _private(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def screen(request, token: str):
    link = ScreenLink.objects.filter(token=token).first()
    if link is None:
        return _refused(request, 404)
    if not link.is_active:
        return _refused(request, 410)
    now = timezone.now()
    if link.last_seen_at is None or now - link.last_seen_at > timedelta(minutes=1):
        ScreenLink.objects.filter(pk=link.pk).update(last_seen_at=now)
    views = views_of(link)
    try:
        index = int(request.GET.get("view", 0)) % len(views)
    except ValueError:
        index = 0
    label, cleaned = views[index]
    today = local_today()
    data, trend_chart = cached_dashboard(cleaned, today=today, stamp=fingerprint(filter_values(cleaned), today=today))
    reds = next((lst for lst in data.lists if lst.colour == Colour.RED), None)
    context = {
        "link": link, "label": label, "data": data, "position": index + 1, "views": len(views),
        "next_view": (index + 1) % len(views), "updated_at": timezone.localtime(now),
        "reds": reds.projects[:REDS_SHOWN] if reds else (), "red_total": reds.total if reds else 0,
        "trend_chart": trend_chart,
    }
    template = TEMPLATE + ("#board" if request.htmx and not request.htmx.history_restore_request else "")
    return _private(render(request, template, context))
