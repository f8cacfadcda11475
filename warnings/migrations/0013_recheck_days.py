"""Recheck days: a full recompute evaluates only the projects that need it.

Each project stores the first day its result may stop holding with no input changed
(Project.recheck_on, from rules.recheck_on). Triggers empty that day with every write of the
project's own inputs — its own columns (not the results a recompute writes), its milestones,
re-plans, coordination items and escalations — and the inputs every project shares (milestone
types, the policy, calendar days, departments) move SharedInputsVersion instead, which a
run records. So a run finding the shared inputs as the last run left them evaluates the
projects whose day has come or was emptied, and knows every other result still holds.

On PostgreSQL the triggers on the inputs run once per statement, with the rows it wrote
(transition tables), so a bulk insert of milestones costs one lock and one update for all its
projects, not one per row (per-row triggers made a 27,000-milestone insert five times slower).
They first lock the project rows: a recompute holding one may be about to write a day
computed from the inputs before this write, and the day must be emptied after that, not
before. SQLite (`make run`) has no statement triggers: there they run per row. This migration also creates migration 0012's project trigger again, without
the new column. A later migration that adds a column to the project table must create the
project trigger again (`create_triggers`), as for migration 0012; a test checks its columns.
"""
from importlib import import_module

from django.db import migrations, models

_version = import_module("qiantang_warnings.migrations.0010_data_version")
_inputs = import_module("qiantang_warnings.migrations.0012_inputs_version")

SHARED_INPUTS = ["projects_milestonetype", "warnings_warningpolicy", "warnings_calendarday", "projects_department"]
SHARED_INPUTS_VERSION = {"trigger": "qiantang_shared_inputs_version", "function": "qiantang_bump_shared_inputs_version"}
# A project's own inputs: table -> its projects, as a query over the rows a statement wrote
# ({rows}: PostgreSQL's transition table) ...
OWN_INPUTS = {
    "projects_milestone": "SELECT project_id FROM {rows}",
    "projects_coordinationitem": "SELECT project_id FROM {rows}",
    "warnings_escalation": "SELECT project_id FROM {rows}",
    "projects_milestonereplan": "SELECT project_id FROM projects_milestone WHERE id IN (SELECT milestone_id FROM {rows})",
}
# ... and as the project of one row ({row}: OLD or NEW) for SQLite's row triggers.
SQLITE_ROW = {
    "projects_milestone": "{row}.project_id",
    "projects_coordinationitem": "{row}.project_id",
    "warnings_escalation": "{row}.project_id",
    "projects_milestonereplan": "(SELECT project_id FROM projects_milestone WHERE id = {row}.milestone_id)",
}
# PostgreSQL: one trigger per event and table, each once per statement with the rows it wrote.
EVENTS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}
PROJECTS = "projects_project"
RECHECK = "qiantang_recheck"
# What the recompute writes into a project row (recompute.RESULT_FIELDS, as columns).
RESULT_COLUMNS = {"colour", "reasons", "urgency", "needs_plan", "computed_as_of", "baseline_colour",
                  "replan_count", "colour_changed_at", "recheck_on"}


def project_input_columns(apps) -> list[str]:
    project = apps.get_model("projects", "Project")
    return sorted(f.column for f in project._meta.concrete_fields if f.column not in RESULT_COLUMNS)


def _postgresql(cursor, columns: list[str]) -> None:
    # Lock the projects in id order (two writers never wait for each other crosswise), then
    # empty the days still set.
    cursor.execute(f"""
CREATE OR REPLACE FUNCTION {RECHECK}_projects(projects bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(projects) = 0 THEN RETURN; END IF;
    PERFORM 1 FROM {PROJECTS} WHERE id = ANY(projects) ORDER BY id FOR UPDATE;
    UPDATE {PROJECTS} SET recheck_on = NULL WHERE id = ANY(projects) AND recheck_on IS NOT NULL;
END $$;
""")
    for table, projects_of in OWN_INPUTS.items():
        old, new = projects_of.format(rows="old_rows"), projects_of.format(rows="new_rows")
        cursor.execute(f"""
CREATE OR REPLACE FUNCTION {RECHECK}_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM {RECHECK}_projects(ARRAY(SELECT DISTINCT p FROM ({new}) AS written(p) WHERE p IS NOT NULL));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM {RECHECK}_projects(ARRAY(SELECT DISTINCT p FROM ({old}) AS written(p) WHERE p IS NOT NULL));
    ELSE
        PERFORM {RECHECK}_projects(ARRAY(SELECT p FROM ({old} UNION {new}) AS written(p) WHERE p IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;
""")
        cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK} ON {table}")
        for event, referencing in EVENTS.items():
            cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK}_{event} ON {table}")
            cursor.execute(f"CREATE TRIGGER {RECHECK}_{event} AFTER {event.upper()} ON {table} {referencing} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION {RECHECK}_{table}()")
    cursor.execute(f"""
CREATE OR REPLACE FUNCTION {RECHECK}_{PROJECTS}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.recheck_on := NULL;
    RETURN NEW;
END $$;
""")
    cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK} ON {PROJECTS}")
    cursor.execute(f"CREATE TRIGGER {RECHECK} BEFORE UPDATE OF {_version._columns(columns)} ON {PROJECTS} "
                   f"FOR EACH ROW EXECUTE FUNCTION {RECHECK}_{PROJECTS}()")


def _sqlite(cursor, columns: list[str]) -> None:
    def clear(project: str) -> str:
        return f"UPDATE {PROJECTS} SET recheck_on = NULL WHERE id = {project} AND recheck_on IS NOT NULL;"

    for table, project_of in SQLITE_ROW.items():
        old, new = project_of.format(row="OLD"), project_of.format(row="NEW")
        bodies = {"insert": clear(new), "update": clear(old) + " " + clear(new), "delete": clear(old)}
        for event, body in bodies.items():
            name = f"{RECHECK}_{table}_{event}"
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} BEGIN {body} END")
    name = f"{RECHECK}_{PROJECTS}_update"
    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute(f"CREATE TRIGGER {name} AFTER UPDATE OF {_version._columns(columns)} ON {PROJECTS} "
                   f"BEGIN {clear('NEW.id')} END")


def watch_project_inputs(apps, schema_editor):
    """Migration 0012's inputs trigger on the project table again, without the new result
    column (0012 reads the columns of the model as the migration plan has it, which may hold
    recheck_on already)."""
    _version.install_triggers(
        schema_editor, **_inputs.INPUTS_VERSION, counter="warnings_inputsversion", tables=[PROJECTS],
        update_of={PROJECTS: project_input_columns(apps)},
    )


def create_triggers(apps, schema_editor):
    watch_project_inputs(apps, schema_editor)
    _version.install_triggers(schema_editor, **SHARED_INPUTS_VERSION, counter="warnings_sharedinputsversion",
                              tables=SHARED_INPUTS)
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _postgresql(cursor, project_input_columns(apps))
        elif connection.vendor == "sqlite":
            _sqlite(cursor, project_input_columns(apps))


def drop_triggers(apps, schema_editor):
    watch_project_inputs(apps, schema_editor)
    _version.remove_triggers(schema_editor, **SHARED_INPUTS_VERSION, tables=SHARED_INPUTS)
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in [*OWN_INPUTS, PROJECTS]:
            if connection.vendor == "postgresql":
                for name in [RECHECK, *(f"{RECHECK}_{event}" for event in EVENTS)]:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {RECHECK}_{table}()")
            elif connection.vendor == "sqlite":
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK}_{table}_{event}")
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {RECHECK}_projects(bigint[])")


class Migration(migrations.Migration):

    dependencies = [
        ("warnings", "0012_inputs_version"),
        ("projects", "0011_project_recheck_on"),
    ]

    operations = [
        migrations.CreateModel(
            name="SharedInputsVersion",
            fields=[
                ("shard", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "共用规则输入版本",
                "verbose_name_plural": "共用规则输入版本",
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="recomputerun",
            name="shared_inputs",
            field=models.CharField(blank=True, default="", max_length=80, verbose_name="共用输入版本"),
        ),
        migrations.AddField(
            model_name="recomputerun",
            name="due_only",
            field=models.BooleanField(default=False, verbose_name="仅复核到期项目"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
