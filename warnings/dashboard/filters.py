"""The shared filters (projects.filters) as the dashboard uses them: the projects every
filter but the colour selects, and the filter values as query parameters for its links."""
from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import (
    Q,
    QuerySet,
)

from projects.filters import FILTER_PARAMS, apply_filters
from projects.models import Project

ACTIVE = Q(state=Project.State.ACTIVE)



def filter_values(cleaned: dict) -> dict[str, str]:
    """Cleaned filter values as query parameters (ids for department and cadre)."""
    values = {}
    for name in FILTER_PARAMS:
        value = cleaned.get(name)
        if value in (None, ""):
            continue
        values[name] = str(getattr(value, "pk", value))
    return values


def query_string(values: dict[str, str], **changes) -> str:
    """`values` with some parameters replaced (None removes one), in a stable order."""
    merged = {**values, **changes}
    return urlencode([(name, merged[name]) for name in FILTER_PARAMS if merged.get(name)])


def base_projects(cleaned: dict) -> QuerySet:
    """The projects every filter but the colour selects."""
    return apply_filters(Project.objects.all(), {**cleaned, "colour": ""})


