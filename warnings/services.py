"""What `projects` may ask of the warnings engine that writes: recompute projects,
escalate one (督办), and tell the chat groups soon (after an item was handed over). With `qiantang_warnings.selectors` (reads) and the pure modules
(rules, reasons, workdays), the only modules of this app that `projects` imports
(the import-linter contract in pyproject.toml keeps it so)."""
from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from projects.models import Project

from .chat.push import push_soon as chat_push_soon
from .models import Escalation
from .recompute import RecomputeSummary, recompute_all, recompute_projects

__all__ = [
    "RecomputeSummary", "recompute_all", "recompute_projects", "escalation_create",
    "escalations_bulk_create", "chat_push_soon",
]


def escalation_create(
    project: Project, *, colour: str, reason: str, until: date | None, by=None, today: date
) -> Escalation:
    """督办: raise the project's colour until a date, then recompute it.

    Raises ValidationError (nothing saved) without a reason, with an end date before
    today or after 2099-12-31, or with a colour other than yellow or red.
    """
    escalation = Escalation(
        project=project,
        colour=colour,
        reason=(reason or "").strip(),
        until=until,
        author=by if getattr(by, "is_authenticated", False) else None,
    )
    errors = {}
    try:
        escalation.full_clean(exclude=["project", "author"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if until is not None and until < today and "until" not in errors:
        errors["until"] = [_("督办截止日期不能早于今天")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        escalation.save()
        recompute_projects([project.id], today=today)
    return escalation


def escalations_bulk_create(rows: list[dict]) -> list[Escalation]:
    """Escalations in bulk (the demo data): dicts of project_id, colour, reason, until, author.
    The caller recomputes."""
    return Escalation.objects.bulk_create([Escalation(**row) for row in rows])
