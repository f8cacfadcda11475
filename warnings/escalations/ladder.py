"""The escalation ladder (升级机制), pure: which projects the office should look at again.

A project red without a break since `red_since`:
- for at least `red_weeks` whole weeks, and not escalated (督办) since it turned red:
  suggest a 督办;
- escalated since it turned red, and still red `talk_weeks` whole weeks after that 督办:
  suggest a 约谈 (formal talk).
A suggestion belongs to one red spell: once decided it is not made again until the project
has left red and turned red again. The ladder only suggests; it never changes a colour.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ESCALATE, TALK = "escalate", "talk"


@dataclass(frozen=True)
class RedSpell:
    project_id: int
    red_since: date
    escalated_on: date | None  # the first 督办 made on or after red_since


@dataclass(frozen=True)
class Suggestion:
    project_id: int
    step: str
    red_since: date
    weeks_red: int


def suggestions(spells: list[RedSpell], *, today: date, red_weeks: int, talk_weeks: int) -> list[Suggestion]:
    found = []
    for spell in spells:
        weeks = (today - spell.red_since).days // 7
        if spell.escalated_on is None:
            if weeks >= red_weeks:
                found.append(Suggestion(spell.project_id, ESCALATE, spell.red_since, weeks))
        elif (today - spell.escalated_on).days // 7 >= talk_weeks:
            found.append(Suggestion(spell.project_id, TALK, spell.red_since, weeks))
    return found
