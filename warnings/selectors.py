"""The engine's public reads for the register (projects) and the pages: the rules' context
(re-exported from rules_context.py), a project's changes of colour and its 督办 panel."""
from __future__ import annotations

from datetime import date

from projects.permissions import can_escalate

from .escalations.forms import EscalationForm
from .models import StatusChange
from .rules_context import STORED_FIELDS, RulesContext, rules_context

__all__ = ["STORED_FIELDS", "RulesContext", "escalation_panel", "rules_context", "status_changes_of"]


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
