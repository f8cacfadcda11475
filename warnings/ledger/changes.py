"""What changed between two ledgers (or a ledger and now): a pure function of their rows.

- turned red: red after, another colour (or not yet there) before;
- recovered: a better colour after than before (red → yellow counts, as the office counts);
- re-planned: a milestone's planned date moved, with the days it now lies after its baseline
  (the first planned date, 基准日期);
- milestones done: an actual date after that was blank before;
- items opened and closed: coordination items not closed after but not before, and the reverse;
- projects added to or gone from the register.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from qiantang import colours


@dataclass(frozen=True)
class ColourChange:
    code: str
    name: str
    before: str
    after: str
    reasons: tuple = ()


@dataclass(frozen=True)
class Replan:
    code: str
    name: str
    milestone: str
    before: date | None
    after: date | None
    slipped_days: int  # after the baseline; 0 when on or before it


@dataclass(frozen=True)
class MilestoneDone:
    code: str
    name: str
    milestone: str
    on: date


@dataclass(frozen=True)
class ItemChange:
    code: str
    name: str
    need: str
    department: str
    deadline: date | None


@dataclass
class Changes:
    turned_red: list[ColourChange] = field(default_factory=list)
    recovered: list[ColourChange] = field(default_factory=list)
    replanned: list[Replan] = field(default_factory=list)
    milestones_done: list[MilestoneDone] = field(default_factory=list)
    items_opened: list[ItemChange] = field(default_factory=list)
    items_closed: list[ItemChange] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in self.__dataclass_fields__)


def _day(value) -> date | None:
    return date.fromisoformat(value) if value else None


def changes_between(before: list[dict], after: list[dict], types: list[list[str]]) -> Changes:
    """Compare rows (the ledger's `data`, or current_rows) by project code; `types` names the
    milestones ([code, name] pairs, the later side's catalogue)."""
    old = {row["code"]: row for row in before}
    new = {row["code"]: row for row in after}
    result = Changes()
    for code in sorted(set(new) - set(old)):
        result.added.append((code, new[code]["name"]))
    for code in sorted(set(old) - set(new)):
        result.removed.append((code, old[code]["name"]))

    old_items = {item["id"]: (row, item) for row in before for item in row.get("items", [])}
    new_items = {item["id"]: (row, item) for row in after for item in row.get("items", [])}
    for ids, source, target in ((set(new_items) - set(old_items), new_items, result.items_opened),
                                (set(old_items) - set(new_items), old_items, result.items_closed)):
        for item_id in sorted(ids, key=lambda i: (source[i][0]["code"], i)):
            row, item = source[item_id]
            target.append(ItemChange(row["code"], row["name"], item["need"], item["department"], _day(item["deadline"])))

    for code in sorted(set(old) & set(new)):
        a, b = old[code], new[code]
        ca, cb = a.get("colour") or "", b.get("colour") or ""
        if cb == colours.RED and ca != colours.RED:
            result.turned_red.append(ColourChange(code, b["name"], ca, cb, tuple(b.get("reasons") or ())))
        elif ca and cb and colours.RANK[cb] < colours.RANK[ca]:
            result.recovered.append(ColourChange(code, b["name"], ca, cb))
        for type_code, label in types:
            milestone = b.get("milestones", {}).get(type_code)
            if milestone is None:
                continue
            earlier = a.get("milestones", {}).get(type_code, {})
            if milestone.get("planned") != earlier.get("planned") and earlier.get("planned"):
                planned, baseline = _day(milestone.get("planned")), _day(milestone.get("baseline"))
                slipped = max((planned - baseline).days, 0) if planned and baseline else 0
                result.replanned.append(Replan(code, b["name"], label, _day(earlier.get("planned")), planned, slipped))
            if milestone.get("actual") and not earlier.get("actual"):
                result.milestones_done.append(MilestoneDone(code, b["name"], label, _day(milestone["actual"])))
    return result
