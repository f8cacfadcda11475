"""The ladder's writes: today's suggestions (idempotent), and the office's decisions on
them — a 督办 accepted through the one escalation service, a 约谈 recorded, or a dismissal
with its reason. Each decision is checked on the server and made once (a row lock)."""
from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projects import permissions
from projects.models import Colour, Project

from ..models import Escalation, LadderSuggestion, Talk, WarningPolicy
from ..services import escalation_create
from . import ladder

State = LadderSuggestion.State


def red_spells() -> list[ladder.RedSpell]:
    """Every active red project's red spell and its first 督办 since the spell began."""
    spells = []
    rows = Project.objects.filter(state=Project.State.ACTIVE, colour=Colour.RED, colour_changed_at__isnull=False)
    for project_id, changed_at in rows.values_list("id", "colour_changed_at"):
        spells.append((project_id, timezone.localdate(changed_at)))
    if not spells:
        return []
    escalated: dict[int, list[date]] = {}
    for project_id, created_at in (
        Escalation.objects.filter(project_id__in=[pid for pid, _since in spells]).values_list("project_id", "created_at")
    ):
        escalated.setdefault(project_id, []).append(timezone.localdate(created_at))
    return [
        ladder.RedSpell(pid, since, min((day for day in escalated.get(pid, []) if day >= since), default=None))
        for pid, since in spells
    ]


def ladder_suggest(*, today: date) -> int:
    """Write today's suggestions that are new (beat runs this daily; again is harmless)."""
    policy = WarningPolicy.load()
    found = ladder.suggestions(red_spells(), today=today, red_weeks=policy.ladder_red_weeks,
                               talk_weeks=policy.ladder_talk_weeks)
    existing = set(
        LadderSuggestion.objects.filter(project_id__in={s.project_id for s in found})
        .values_list("project_id", "step", "red_since")
    )
    new = [s for s in found if (s.project_id, s.step, s.red_since) not in existing]
    # The constraint settles a race with another run: its rows win, ours are ignored.
    LadderSuggestion.objects.bulk_create(
        [LadderSuggestion(project_id=s.project_id, step=s.step, red_since=s.red_since, weeks_red=s.weeks_red,
                          suggested_on=today) for s in new],
        ignore_conflicts=True,
    )
    return len(new)


def _decide(suggestion: LadderSuggestion, by, step: str) -> LadderSuggestion:
    if not permissions.is_office(by):
        raise PermissionDenied(_("只有投资管理科可以处理升级建议"))
    current = LadderSuggestion.objects.select_for_update().select_related("project").get(pk=suggestion.pk)
    if current.state != State.OPEN:
        raise ValidationError(_("该建议已处理，请刷新页面。"))
    if step and current.step != step:
        raise ValidationError(_("该建议不是这一类，请刷新页面。"))
    return current


def suggestion_escalate(suggestion: LadderSuggestion, *, reason: str, until: date | None, by, today: date) -> Escalation:
    """Accept a 督办 suggestion: the office's 督办, with the (edited) prefilled reason."""
    with transaction.atomic():
        current = _decide(suggestion, by, ladder.ESCALATE)
        escalation = escalation_create(current.project, colour=Colour.RED, reason=reason, until=until, by=by, today=today)
        current.state, current.escalation = State.ACCEPTED, escalation
        current.decided_by, current.decided_at, current.comment = by, timezone.now(), reason
        current.save()
    return escalation


def suggestion_talk(suggestion: LadderSuggestion, *, held_on: date, participants: str, agreed: str,
                    follow_up_on: date, by) -> Talk:
    """Accept a 约谈 suggestion by recording the talk."""
    talk = Talk(project_id=suggestion.project_id, held_on=held_on, participants=(participants or "").strip(),
                agreed=(agreed or "").strip(), follow_up_on=follow_up_on,
                recorded_by=by if getattr(by, "is_authenticated", False) else None)
    with transaction.atomic():
        current = _decide(suggestion, by, ladder.TALK)
        talk.full_clean(exclude=["project", "recorded_by"])
        talk.save()
        current.state, current.decided_by, current.decided_at = State.ACCEPTED, by, timezone.now()
        current.comment = _("已约谈：%(agreed)s") % {"agreed": talk.agreed}
        current.save()
    return talk


def suggestion_dismiss(suggestion: LadderSuggestion, *, reason: str, by) -> LadderSuggestion:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"comment": _("请说明不采纳的理由")})
    with transaction.atomic():
        current = _decide(suggestion, by, "")
        current.state, current.decided_by, current.decided_at, current.comment = State.DISMISSED, by, timezone.now(), reason
        current.save()
    return current
