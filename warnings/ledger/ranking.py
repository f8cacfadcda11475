"""Rankings (红黑榜): lead departments and streets ranked by one documented score, from a
ledger's frozen rows and the coordination items' recorded history. Pure: no database.

For each department or street (the projects it leads, the items asked of it):

- colour points C: the mean over its active projects of green 1, yellow ½, red 0;
- milestones on time M: of its projects' milestones due by the ledger's date (planned on or
  before it, or already done), the share done on or before their planned date;
- items on time I: of the coordination items asked of it with a deadline on or before the
  ledger's date, the share first answered (答复 or 办结) on or before the deadline;
- days slipped D: the mean over its projects of the days their milestones' plans (or, once
  done, their actual dates) lie after the first planned dates (基准日期), summed per project.

  score = 40·C + 30·M + 30·I − min(20, D / 5)

A share with nothing to count (no milestone due, no item due) counts as 1: nothing was late.
Higher is better; ties go to fewer red projects, then the name.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qiantang.colours import GREEN, RED, YELLOW

WEIGHT_COLOUR, WEIGHT_MILESTONES, WEIGHT_ITEMS = 40, 30, 30
SLIP_DAYS_PER_POINT, SLIP_PENALTY_CAP = 5, 20
COLOUR_POINTS = {GREEN: 1.0, YELLOW: 0.5, RED: 0.0}


@dataclass(frozen=True)
class ItemFact:
    department_id: int
    deadline: date
    answered_on: date | None  # first 答复 or 办结, by the ledger's time


@dataclass
class Standing:
    department_id: int
    name: str
    projects: int = 0
    red: int = 0
    yellow: int = 0
    green: int = 0
    milestones_due: int = 0
    milestones_on_time: int = 0
    items_due: int = 0
    items_on_time: int = 0
    slipped_days: int = 0
    rank: int = 0

    @property
    def colour_points(self) -> float:
        counted = self.red + self.yellow + self.green
        if not counted:
            return 1.0
        return (self.green * COLOUR_POINTS[GREEN] + self.yellow * COLOUR_POINTS[YELLOW]) / counted

    @property
    def milestone_share(self) -> float:
        return self.milestones_on_time / self.milestones_due if self.milestones_due else 1.0

    @property
    def item_share(self) -> float:
        return self.items_on_time / self.items_due if self.items_due else 1.0

    @property
    def mean_slipped_days(self) -> float:
        return self.slipped_days / self.projects if self.projects else 0.0

    @property
    def score(self) -> float:
        penalty = min(SLIP_PENALTY_CAP, self.mean_slipped_days / SLIP_DAYS_PER_POINT)
        value = (WEIGHT_COLOUR * self.colour_points + WEIGHT_MILESTONES * self.milestone_share
                 + WEIGHT_ITEMS * self.item_share - penalty)
        return round(value, 1)


def _day(value) -> date | None:
    return date.fromisoformat(value) if value else None


def standings(rows: list[dict], items: list[ItemFact], *, as_of: date, names: dict[int, str]) -> list[Standing]:
    """Every department or street in `names` that leads a project or was asked an item,
    ranked (1 = best)."""
    table: dict[int, Standing] = {}

    def standing(department_id: int) -> Standing:
        if department_id not in table:
            table[department_id] = Standing(department_id, names[department_id])
        return table[department_id]

    for row in rows:
        department_id = row.get("lead_department_id")
        if department_id not in names:
            continue
        entry = standing(department_id)
        entry.projects += 1
        colour = row.get("colour")
        if row.get("active", True) and colour in COLOUR_POINTS:
            setattr(entry, colour, getattr(entry, colour) + 1)
        for milestone in row.get("milestones", {}).values():
            if milestone.get("not_applicable"):
                continue
            planned, actual, baseline = (_day(milestone.get(k)) for k in ("planned", "actual", "baseline"))
            if planned and (actual or planned <= as_of):
                entry.milestones_due += 1
                entry.milestones_on_time += bool(actual and actual <= planned)
            latest = actual or planned
            if latest and baseline and latest > baseline:
                entry.slipped_days += (latest - baseline).days
    for item in items:
        if item.department_id not in names or item.deadline > as_of:
            continue
        entry = standing(item.department_id)
        entry.items_due += 1
        entry.items_on_time += bool(item.answered_on and item.answered_on <= item.deadline)
    ranked = sorted(table.values(), key=lambda s: (-s.score, s.red, s.name))
    for position, entry in enumerate(ranked, start=1):
        entry.rank = position
    return ranked
