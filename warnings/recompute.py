"""Recompute (重算): apply the rules to stored milestones and store the results.

Reads in bulk, writes only projects whose result changed, and records one StatusChange per
change of colour. Besides the colour it stores the baseline colour (the same rules against
each milestone's first planned date), the number of re-plans and the lists' order
(`urgency`). Project rows are locked (in id order) for the whole transaction, so two
recomputes never interleave: the second waits, then finds nothing left to change.

A full recompute is a RecomputeRun: it records its day once and writes a project's
`computed_as_of` only with a changed result, so the next-day run rewrites only the projects
whose result the day moved (`results_as_of` gives the day the stored results hold as of). It
also records the inputs it began from (`inputs_stamp`); a full recompute of the same day that
finds them unchanged evaluates nothing (a recompute's own writes are results, not inputs: the
run after a first run has nothing to do). A recompute of named projects (after an edit) stamps
each with its day, so an edited project's result is known to hold as of then.

Each evaluated project also gets its recheck day (`Project.recheck_on`, rules.recheck_on: the
first day time alone may change its result), which database triggers empty with any write of
its own inputs. A full recompute that finds the shared inputs (`shared_inputs_stamp`) as the
last run left them evaluates only the projects due a recheck (`only_due_projects`,
`due_for_recheck`): every other stored result still holds.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from projects.models import CoordinationItem, Milestone, MilestoneReplan, Project
from qiantang.transactions import short_transactions

from . import rules
from .chat.push import push_soon
from .models import Escalation, InputsVersion, RecomputeRun, SharedInputsVersion, StatusChange
from .reasons import urgency_key
from .rules_context import STORED_FIELDS, RulesContext, rules_context

logger = logging.getLogger(__name__)

CHUNK = 2000
REASON_NEED_CHARS = 40


@dataclass(frozen=True)
class RecomputeSummary:
    as_of: date
    examined: int
    updated: int
    status_changes: int


# The rules' code is an input too: a deployment that changes it must not find "nothing
# changed" and skip the day's remaining runs.
RULES_CODE = hashlib.blake2b(
    b"".join((Path(__file__).parent / name).read_bytes() for name in (
        "rules.py", "rules_context.py", "recompute.py", "reasons.py", "workdays.py",
    )),
    digest_size=8,
).hexdigest()


def inputs_stamp() -> str:
    """Everything a full recompute reads, as one stamp: the inputs version (it moves with
    every write to what the rules read, triggers of migration 0012, but not with the results
    a recompute writes, RESULT_FIELDS) and the rules' code. Read before the inputs, so an
    input written meanwhile makes the stamp older, never newer, than what was read."""
    return f"{InputsVersion.current()}:{RULES_CODE}"


def shared_inputs_stamp() -> str:
    """The inputs every project shares (milestone types, policy, calendar, departments:
    SharedInputsVersion, migration 0013) and the rules' code, as one stamp."""
    return f"{SharedInputsVersion.current()}:{RULES_CODE}"


def only_due_projects(today: date, shared: str) -> bool:
    """Whether a full recompute as of `today` need evaluate only the projects due a recheck
    (`due_for_recheck`): the latest finished run began from the same shared inputs and rules,
    of a day not after `today` in the same year (the working-day calendar covers the years
    around the day). Every other project's result is then known to hold: it was evaluated
    with its own inputs as they are (a write empties its day), and its day has not come."""
    last = RecomputeRun.finished_latest_first().values_list("as_of", "shared_inputs").first()
    return last is not None and last[1] == shared and last[0] <= today and last[0].year == today.year


def due_for_recheck(today: date, prefix: str = "") -> Q:
    """Projects (or, with `prefix` "project__", their rows) whose recheck day has come or was
    emptied by a write of their own inputs."""
    return Q(**{f"{prefix}recheck_on__isnull": True}) | Q(**{f"{prefix}recheck_on__lte": today})


def nothing_changed_since_the_last_run(today: date, stamp: str) -> bool:
    """Whether the latest finished full recompute was of `today` and began from these inputs:
    then a new one would write nothing (the day and every input are the same)."""
    return RecomputeRun.finished_latest_first().values_list("as_of", "inputs").first() == (today, stamp)


def recompute_all(*, today: date, now: datetime | None = None, evaluate_all: bool = False) -> RecomputeSummary:
    """Every project, in one transaction (but see below), recorded as one finished RecomputeRun. When no input
    was written since the last run of the same day, there is nothing to evaluate: the run is
    recorded (the beat's run every 15 minutes on a quiet board costs a few queries).
    `evaluate_all` evaluates every project anyway (the command's --full: after restoring a
    backup or mending stored results by hand, which are not inputs). Otherwise, when the
    shared inputs are as the last run left them, only the projects due a recheck are
    evaluated (`only_due_projects`): the next-day run touches the projects the new day can
    change, a run after a few edits the edited projects.

    Where one transaction locks the whole database (SHORT_TRANSACTIONS, on for SQLite:
    qiantang/transactions.py), the run is the spread run's, its chunks done here one after
    another, each its own transaction, so that other users can save between them. On
    PostgreSQL a district's run is one transaction of a few seconds whose row locks hold up
    only edits of the same projects: it stays all or nothing."""
    if short_transactions():
        from .spread import recompute_in_short_transactions  # spread builds on this module

        return recompute_in_short_transactions(today=today, now=now, evaluate_all=evaluate_all)
    with transaction.atomic():
        stamp, shared = inputs_stamp(), shared_inputs_stamp()
        if not evaluate_all and nothing_changed_since_the_last_run(today, stamp):
            now = now or timezone.now()
            examined = Project.objects.count()
            RecomputeRun.objects.create(
                as_of=today, started_at=now, finished_at=now, chunks=0, examined=examined, inputs=stamp,
                shared_inputs=shared, due_only=True,
            )
            logger.info(
                "recompute as of %s: no input written since the last run of the day, %d projects unchanged",
                today, examined,
                extra={"event": "recompute", "as_of": today.isoformat(), "examined": examined,
                       "updated": 0, "status_changes": 0, "scope": "all", "skipped": True},
            )
            return RecomputeSummary(today, examined, 0, 0)
        due_only = not evaluate_all and only_due_projects(today, shared)
        return _recompute(today=today, now=now, project_ids=None, in_run=True, due_only=due_only,
                          stamp=stamp, shared=shared)


def recompute_projects(
    project_ids: Iterable[int], *, today: date, now: datetime | None = None, in_run: bool = False,
    due_only: bool = False,
) -> RecomputeSummary:
    """The named projects. `in_run`: a chunk of a RecomputeRun, which records the day once,
    so an unchanged project is not written; otherwise each examined project is stamped with
    `today` (an edit's recompute: its result is known to hold as of today). `due_only`: of
    those, only the ones due a recheck (a chunk of a run that evaluates only those)."""
    return _recompute(today=today, now=now, project_ids=sorted(set(project_ids)), in_run=in_run,
                      due_only=due_only)


def _chunks(ids: list[int], size: int | None = None):
    size = size or CHUNK  # read at call time, so tests can shrink it
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _of_projects(queryset, field: str, project_ids: list[int] | None, *, in_run: bool, due: Q | None = None):
    """Rows of the named projects (ids sorted). A chunk of a full run is a dense run of ids
    and is read as the range from its first to its last: no list of 2,000 placeholders for
    the driver to split and the planner to probe one by one. The range may hold a few more
    projects (created since the run began); every reader keeps only the projects it was
    given. Any other set of projects (an edit's recompute) is read by its ids; None: every
    project. `due` narrows to the projects due a recheck (`due_for_recheck`)."""
    if due is not None:
        queryset = queryset.filter(due)
    if project_ids is None:
        return queryset
    if in_run and project_ids:
        return queryset.filter(**{f"{field}__gte": project_ids[0], f"{field}__lte": project_ids[-1]})
    return queryset.filter(**{f"{field}__in": project_ids})


@dataclass
class _ProjectMilestones:
    """One project's milestone facts twice: against the current plans and the baselines."""

    current: list[rules.MilestoneFacts]
    baseline: list[rules.MilestoneFacts]
    replanned: bool = False  # some plan differs from its baseline: the two results may differ


def _due(due_on: date | None, prefix: str) -> Q | None:
    return None if due_on is None else due_for_recheck(due_on, prefix)


def _load_milestones(project_ids: list[int] | None, context: RulesContext, wanted, *, in_run: bool = False,
                     due_on: date | None = None):
    """Milestone facts per project id in `wanted`, read in chunks of project ids; with
    `due_on`, of the projects due a recheck that day only."""
    by_project: dict[int, _ProjectMilestones] = defaultdict(lambda: _ProjectMilestones([], []))
    fields = ("project_id", *STORED_FIELDS, "baseline_date")
    due = _due(due_on, "project__")
    querysets = (
        [_of_projects(Milestone.objects.all(), "project_id", None, in_run=in_run, due=due)]
        if project_ids is None
        else [_of_projects(Milestone.objects.all(), "project_id", chunk, in_run=in_run, due=due)
              for chunk in _chunks(project_ids)]
    )
    facts_of = context.facts  # plain tuples, not named ones: this loop sees every milestone
    for queryset in querysets:
        rows = queryset.values_list(*fields).iterator(chunk_size=CHUNK * 5)
        for project_id, type_id, planned, actual, not_applicable, baseline in rows:
            if project_id not in wanted:
                continue
            facts = facts_of(type_id, planned, actual, not_applicable)
            loaded = by_project[project_id]
            loaded.current.append(facts)
            # The baseline colour reads the first planned date (基准日期), kept forever;
            # a plan set before baselines were kept is its own baseline.
            first_plan = baseline or planned
            if first_plan == planned:
                loaded.baseline.append(facts)
            else:
                loaded.baseline.append(facts._replace(planned_date=first_plan))
                loaded.replanned = True
    return by_project


def _load_replan_counts(project_ids: list[int] | None, *, in_run: bool = False,
                        due_on: date | None = None) -> dict[int, int]:
    """Re-plans (a planned date changed after it was first set) per project id."""
    queryset = _of_projects(MilestoneReplan.objects.filter(old_planned_date__isnull=False), "milestone__project_id",
                            project_ids, in_run=in_run, due=_due(due_on, "milestone__project__"))
    return dict(
        queryset.values("milestone__project_id").annotate(n=Count("id"))
        .values_list("milestone__project_id", "n")
    )


def _load_items(project_ids: list[int] | None, *, in_run: bool = False,
               due_on: date | None = None) -> dict[int, list[rules.ItemFacts]]:
    """Coordination items still waiting for their department, overdue or not: the rules
    count those past their deadline, and the recheck day reads the others' deadlines."""
    by_project: dict[int, list[rules.ItemFacts]] = defaultdict(list)
    waiting = CoordinationItem.objects.filter(state__in=CoordinationItem.OPEN_STATES, deadline__isnull=False)
    queryset = _of_projects(waiting, "project_id",
                            project_ids, in_run=in_run, due=_due(due_on, "project__"))
    for project_id, need, department, deadline in queryset.values_list(
        "project_id", "need", "department__name", "deadline"
    ).order_by("deadline", "id"):
        # The reason quotes the need in part: it is read in lists and mails.
        short = need if len(need) <= REASON_NEED_CHARS else need[:REASON_NEED_CHARS] + "…"
        by_project[project_id].append(rules.ItemFacts(need=short, department=department, deadline=deadline))
    return by_project


def _load_escalations(project_ids: list[int] | None, today: date, *, in_run: bool = False,
                      due_on: date | None = None):
    by_project: dict[int, list[rules.EscalationFacts]] = defaultdict(list)
    queryset = _of_projects(Escalation.objects.filter(until__gte=today), "project_id", project_ids,
                            in_run=in_run, due=_due(due_on, "project__"))
    for project_id, colour, reason, until in queryset.values_list(
        "project_id", "colour", "reason", "until"
    ):
        by_project[project_id].append(rules.EscalationFacts(colour, reason, until))
    return by_project


def _stored(colour: str | None) -> str:
    return colour or ""


def _recompute(
    *, today: date, now: datetime | None, project_ids: list[int] | None, in_run: bool, due_only: bool = False,
    stamp: str = "", shared: str = "",
):
    started = time.monotonic()
    due_on = today if due_only else None
    with transaction.atomic():
        locked = _of_projects(Project.objects.select_for_update().order_by("id"), "id", project_ids,
                              in_run=in_run, due=_due(due_on, ""))
        wanted = None if project_ids is None else set(project_ids)
        current = {
            row[0]: row
            for row in locked.values_list(
                "id", "state", "colour", "reasons", "needs_plan", "computed_as_of",
                "baseline_colour", "replan_count", "recheck_on",
            ).iterator(chunk_size=CHUNK * 5)
            if wanted is None or row[0] in wanted
        }
        if not current and project_ids is not None:
            return RecomputeSummary(today, 0, 0, 0)
        # The moment of the changes is when we hold the locks, not when we began to
        # wait for them: a recompute that waited records its changes after the one
        # it waited for, so a project's StatusChange history stays in order.
        now = now or timezone.now()

        context = rules_context(today)
        scope = None if project_ids is None else list(current)
        milestones = _load_milestones(scope, context, current, in_run=in_run, due_on=due_on)
        escalations = _load_escalations(scope, today, in_run=in_run, due_on=due_on)
        items = _load_items(scope, in_run=in_run, due_on=due_on) if context.items_raise_colour else {}
        replans = _load_replan_counts(scope, in_run=in_run, due_on=due_on)

        changed: list[dict] = []  # the results to write, one row per project: RESULT_FIELDS and id
        status_changes: list[StatusChange] = []
        for project_id, row in current.items():
            _id, state, colour, reasons, needs_plan, as_of, baseline_colour, replan_count, recheck_on = row
            loaded = milestones.get(project_id) or _ProjectMilestones([], [])
            inputs = dict(state=state, today=today, escalations=escalations.get(project_id, ()),
                          items=items.get(project_id, ()))
            result = context.evaluate_project(milestones=loaded.current, **inputs)
            new_recheck_on = context.recheck_on(result, milestones=loaded.current, **inputs)
            # The same rules against the first plans: a red that a re-plan turned green
            # stays in view as the baseline colour (调整后绿). Unless a plan moved, the
            # inputs are the same, and so is the result.
            baseline = result
            if loaded.replanned:
                baseline = context.evaluate_project(milestones=loaded.baseline, **inputs)
                new_recheck_on = min(new_recheck_on, context.recheck_on(baseline, milestones=loaded.baseline, **inputs))
            new_colour = _stored(result.colour)
            new_reasons = result.reason_dicts
            new_baseline_colour = _stored(baseline.colour)
            new_replan_count = replans.get(project_id, 0)
            unchanged = (
                new_colour, new_reasons, result.needs_plan, new_baseline_colour, new_replan_count, new_recheck_on,
            ) == (colour, reasons, needs_plan, baseline_colour, replan_count, recheck_on)
            # Within a run the day is the run's; a project never computed is written once.
            if unchanged and as_of is not None and (in_run or as_of == today):
                continue
            # A plain row, not a Project: a next-day run writes tens of thousands.
            written = {
                "id": project_id,
                "colour": new_colour,
                "reasons": new_reasons,
                "urgency": urgency_key(new_reasons),
                "needs_plan": result.needs_plan,
                "computed_as_of": today,
                "baseline_colour": new_baseline_colour,
                "replan_count": new_replan_count,
                "recheck_on": new_recheck_on,
            }
            if new_colour != colour:
                written["colour_changed_at"] = now
                status_changes.append(
                    StatusChange(
                        project_id=project_id,
                        from_colour=colour,
                        to_colour=new_colour,
                        at=now,
                        as_of=today,
                        reasons=new_reasons,
                    )
                )
            changed.append(written)

        _write_results(changed)
        StatusChange.objects.bulk_create(status_changes, batch_size=CHUNK)
        if project_ids is None:  # the whole board: its day is recorded once, here
            RecomputeRun.objects.create(
                as_of=today, started_at=now, finished_at=now, chunks=1, examined=len(current),
                updated=len(changed), status_changes=len(status_changes), inputs=stamp,
                shared_inputs=shared, due_only=due_only,
            )
        if any(c.to_colour == rules.RED and c.from_colour not in ("", rules.RED) for c in status_changes):
            push_soon()  # the groups hear of a new red once this commits
    summary = RecomputeSummary(today, len(current), len(changed), len(status_changes))
    # One line per recompute, also as fields (extra) for a structured log handler.
    seconds = round(time.monotonic() - started, 3)
    logger.info(
        "recompute as of %s: %d examined, %d updated, %d status changes in %.3f s",
        today, summary.examined, summary.updated, summary.status_changes, seconds,
        extra={
            "event": "recompute", "as_of": today.isoformat(), "examined": summary.examined,
            "updated": summary.updated, "status_changes": summary.status_changes,
            "scope": "all" if project_ids is None else "projects", "due_only": due_only, "seconds": seconds,
        },
    )
    return summary


# The project fields a recompute writes, and nothing else: writing them does not move the
# inputs version (migration 0012 lists their columns; a test holds the two together).
RESULT_FIELDS = ("colour", "reasons", "urgency", "needs_plan", "computed_as_of", "baseline_colour",
                 "replan_count", "recheck_on", "colour_changed_at")


def _write_results(changed: list[dict]) -> None:
    """Write each row's RESULT_FIELDS (colour_changed_at only where the colour changed)."""
    with_colour_change = [row for row in changed if "colour_changed_at" in row]
    without = [row for row in changed if "colour_changed_at" not in row]
    fields = [name for name in RESULT_FIELDS if name != "colour_changed_at"]
    if connection.vendor == "postgresql":
        _pg_update(with_colour_change, list(RESULT_FIELDS))
        _pg_update(without, fields)
        return
    _update_row_by_row(with_colour_change, list(RESULT_FIELDS))
    _update_row_by_row(without, fields)


def _update_row_by_row(projects: list[dict], fields: list[str]) -> None:
    """Any other database (SQLite): one `UPDATE … WHERE id = %s`, run for every row by the
    driver (executemany). bulk_update's CASE WHEN, a term per field and row, spent most of a
    first run in Django's expression machinery (42 of 48 s for 5,000 projects under cProfile),
    all of it while holding SQLite's one write lock."""
    if not projects:
        return
    columns = [Project._meta.get_field(name) for name in fields]
    assignments = ", ".join(f'"{f.column}" = %s' for f in columns)
    statement = f'UPDATE "{Project._meta.db_table}" SET {assignments} WHERE "id" = %s'
    rows = [[f.get_db_prep_save(project[f.name], connection) for f in columns] + [project["id"]]
            for project in projects]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def _pg_update(projects: list[dict], fields: list[str]) -> None:
    """One UPDATE … FROM jsonb_to_recordset(%s) per chunk: the chunk's rows travel as one
    JSON document (made by the json module's C encoder), so neither the statement nor the
    driver's work grows with the chunk (a VALUES list of 2,000 rows has 16,000 placeholders
    to split and adapt one by one)."""
    if not projects:
        return
    table = Project._meta.db_table
    columns = [Project._meta.get_field(name) for name in fields]
    types = {
        "colour": "varchar",
        "reasons": "jsonb",
        "urgency": "integer",
        "needs_plan": "boolean",
        "computed_as_of": "date",
        "baseline_colour": "varchar",
        "replan_count": "integer",
        "recheck_on": "date",
        "colour_changed_at": "timestamptz",
    }
    assignments = ", ".join(f'"{f.column}" = v."{f.column}"' for f in columns)
    record = ", ".join(["id bigint"] + [f'"{f.column}" {types[f.name]}' for f in columns])
    statement = (
        f'UPDATE "{table}" AS p SET {assignments} '
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE p.id = v.id"
    )

    def plain(value):
        return value.isoformat() if isinstance(value, (date, datetime)) else value

    with connection.cursor() as cursor:
        for start in range(0, len(projects), CHUNK):
            rows = [
                {"id": project["id"], **{f.column: plain(project[f.name]) for f in columns}}
                for project in projects[start : start + CHUNK]
            ]
            cursor.execute(statement, [json.dumps(rows, ensure_ascii=False)])
