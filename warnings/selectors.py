"""The engine's public reads for the register (projects) and the pages: the rules' context
(re-exported from rules_context.py), the day the stored results hold as of, a project's
changes of colour and its 督办 panel."""
from __future__ import annotations

from datetime import date

from django.db.models import Max, Subquery

from projects.permissions import can_escalate

from .escalations.forms import EscalationForm
from .models import RecomputeRun, StatusChange
from .rules_context import STORED_FIELDS, RulesContext, rules_context

__all__ = [
    "STORED_FIELDS", "RulesContext", "as_of_aggregates", "escalation_panel", "latest_run_as_of",
    "results_as_of", "rules_context", "status_changes_of",
]


# ---------------------------------------------------------------- the day results hold as of
#
# A full recompute records its day once (a finished RecomputeRun) and writes a project only
# when its result changed, so a project's `computed_as_of` is the day its stored result was
# last written, and the result still holds as of the latest run. The day the stored results
# hold as of is the later of the two.


def latest_run_as_of() -> date | None:
    """The day of the latest finished full recompute, if any."""
    return RecomputeRun.finished_latest_first().values_list("as_of", flat=True).first()


def as_of_aggregates() -> dict:
    """Aggregates to pass to a projects queryset's `aggregate()` beside its own (no extra
    query); `results_as_of` reads the day from the answer."""
    return {
        "as_of": Max("computed_as_of"),
        "run_as_of": Max(Subquery(RecomputeRun.finished_latest_first().values("as_of")[:1])),
    }


def results_as_of(aggregated: dict) -> date | None:
    """The day the stored results of the aggregated projects hold as of (None when none was
    ever computed); removes the two `as_of_aggregates` keys from `aggregated`."""
    written, run = aggregated.pop("as_of"), aggregated.pop("run_as_of")
    if written is None:
        return None
    return max(written, run) if run is not None else written


# ---------------------------------------------------------------- for the project page


def status_changes_of(project, *, limit: int = 50):
    """The project's changes of colour (状态变化), newest first, as the recompute recorded them."""
    return StatusChange.objects.filter(project=project).order_by("-at", "-id")[:limit]


def escalation_panel(project, *, user, today: date, form=None) -> dict:
    """What the project page's 督办 panel shows: the project's escalations, its 约谈 records
    and, for those who may escalate (leaders, the office), the form."""
    return {
        "escalations": project.escalations.select_related("author"),
        "talks": project.talks.select_related("recorded_by"),
        "can_escalate": can_escalate(user),
        "escalation_form": form if form is not None else EscalationForm(today=today),
    }
