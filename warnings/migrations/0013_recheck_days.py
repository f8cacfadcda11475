"""Recheck days: a full recompute evaluates only the projects that need it.

Each project stores the first day its result may stop holding with no input changed
(Project.recheck_on, from rules.recheck_on). Triggers empty that day with every write of the
project's own inputs — its own columns (not the results a recompute writes), its milestones,
re-plans, coordination items and escalations — and the inputs every project shares (milestone
types, the policy, calendar days, departments) move SharedInputsVersion instead, which a
run records. So a run finding the shared inputs as the last run left them evaluates the
projects whose day has come or was emptied, and knows every other result still holds.

On PostgreSQL the trigger first locks the project row: a recompute holding it may be about
to write a day computed from the inputs before this write, and the day must be emptied after
that, not before. This migration also creates migration 0012's project trigger again, without
the new column. A later migration that adds a column to the project table must create the
project trigger again (`create_triggers`), as for migration 0012; a test checks its columns.
"""
from importlib import import_module

from django.db import migrations, models

_version = import_module("qiantang_warnings.migrations.0010_data_version")
_inputs = import_module("qiantang_warnings.migrations.0012_inputs_version")

SHARED_INPUTS = ["projects_milestonetype", "warnings_warningpolicy", "warnings_calendarday", "projects_department"]
SHARED_INPUTS_VERSION = {"trigger": "qiantang_shared_inputs_version", "function": "qiantang_bump_shared_inputs_version"}
# A project's own inputs: table -> how a row names its project.
OWN_INPUTS = {
    "projects_milestone": "{row}.project_id",
    "projects_coordinationitem": "{row}.project_id",
    "warnings_escalation": "{row}.project_id",
    "projects_milestonereplan": "(SELECT project_id FROM projects_milestone WHERE id = {row}.milestone_id)",
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
    cursor.execute(f"""
CREATE OR REPLACE FUNCTION {RECHECK}_project(project bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF project IS NULL THEN RETURN; END IF;
    PERFORM 1 FROM {PROJECTS} WHERE id = project FOR UPDATE;
    UPDATE {PROJECTS} SET recheck_on = NULL WHERE id = project AND recheck_on IS NOT NULL;
END $$;
""")
    for table, project_of in OWN_INPUTS.items():
        old, new = project_of.format(row="OLD"), project_of.format(row="NEW")
        cursor.execute(f"""
CREATE OR REPLACE FUNCTION {RECHECK}_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM {RECHECK}_project({old}); END IF;
    IF TG_OP = 'INSERT' THEN PERFORM {RECHECK}_project({new});
    ELSIF TG_OP = 'UPDATE' THEN
        IF {new} IS DISTINCT FROM {old} THEN PERFORM {RECHECK}_project({new}); END IF;
    END IF;
    RETURN NULL;
END $$;
""")
        cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK} ON {table}")
        cursor.execute(f"CREATE TRIGGER {RECHECK} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {RECHECK}_{table}()")
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

    for table, project_of in OWN_INPUTS.items():
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
                cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {RECHECK}_{table}()")
            elif connection.vendor == "sqlite":
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {RECHECK}_{table}_{event}")
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {RECHECK}_project(bigint)")


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
