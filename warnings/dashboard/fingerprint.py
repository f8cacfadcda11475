"""Has anything the dashboard shows changed? A short digest the open page polls with."""
from __future__ import annotations

import hashlib
from datetime import date

from django.db import connection
from django.db.models import (
    Count,
    Max,
    Sum,
)
from django.db.models.expressions import RawSQL

from projects.models import CoordinationItem, Project

from .filters import base_projects


def fingerprint(cleaned: dict, *, today: date) -> str:
    """A short digest of everything the live part shows for these filters.

    The open dashboard polls with the digest it holds; while nothing changed the
    server answers with the "updated at" line alone, and renders the whole live
    part only when the digest differs. Every recompute that changes a project and
    every edit of a project rewrites its row, so the digest covers the selected
    rows: on PostgreSQL their count and row versions (xmin, new on every UPDATE,
    read without touching the reasons), elsewhere (SQLite under `make run`) their
    values. Renaming a department or a cadre changes no project row: that shows at
    the next change or reload. The coordination items of the selected projects count too
    (their number and latest change), for the items-per-department panel.
    """
    base = base_projects(cleaned)
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{today.isoformat()}|{cleaned.get('colour') or ''}|".encode())
    if connection.vendor == "postgresql":
        version = RawSQL(f'"{Project._meta.db_table}"."xmin"::text::bigint', [])
        state = base.annotate(version=version).aggregate(
            n=Count("id"), total=Sum("version"), latest=Max("version")
        )
        digest.update(repr(sorted(state.items())).encode())
    else:
        rows = base.order_by("id").values_list(
            "id", "state", "colour", "needs_plan", "computed_as_of", "colour_changed_at",
            "code", "name", "sector", "level", "total_investment", "lead_department_id",
            "responsible_cadre_id", "reasons", "baseline_colour", "replan_count",
        )
        for row in rows:
            digest.update(repr(row).encode())
    items = CoordinationItem.objects.filter(project__in=base).aggregate(n=Count("id"), latest=Max("updated_at"))
    digest.update(repr(sorted(items.items())).encode())
    return digest.hexdigest()


