"""The rules' inputs get a version of their own (InputsVersion), moved by triggers like the
data version of migration 0010, on every table the rules read — and on the project table
only by a change to the project's own columns, not by the results the recompute writes into
them. A recompute's own writes then leave the inputs as they were, and the next full run of
the same day finds nothing to evaluate. A later migration that adds a column to the project
table must create the trigger again (`create_triggers`), or a write to that column alone
would not count; tests/warnings/test_recompute.py checks the trigger's columns against the
model."""
from django.db import migrations, models

# Every table the rules read but the project table and the status changes (the recompute's own).
RULE_INPUTS = ["projects_milestone", "projects_milestonereplan", "projects_milestonetype",
               "warnings_warningpolicy", "warnings_calendarday", "projects_coordinationitem",
               "projects_department", "warnings_escalation"]
PROJECTS = "projects_project"
# What the recompute writes into a project row (recompute.RESULT_FIELDS, as columns).
RESULT_COLUMNS = {"colour", "reasons", "urgency", "needs_plan", "computed_as_of", "baseline_colour",
                  "replan_count", "colour_changed_at"}
SHARDS = 64

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION qiantang_bump_inputs_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO warnings_inputsversion (shard, value) VALUES (pg_backend_pid() % {SHARDS}, 1)
    ON CONFLICT (shard) DO UPDATE SET value = warnings_inputsversion.value + 1;
    RETURN NULL;
END $$;
"""
SQLITE_BUMP = ("INSERT INTO warnings_inputsversion (shard, value) VALUES (0, 1) "
               "ON CONFLICT(shard) DO UPDATE SET value = value + 1;")


def project_input_columns(apps) -> list[str]:
    """The project table's columns as of this migration, but the recompute's results."""
    project = apps.get_model("projects", "Project")
    return sorted(f.column for f in project._meta.concrete_fields if f.column not in RESULT_COLUMNS)


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    columns = ", ".join(f'"{c}"' for c in project_input_columns(apps))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
            events = {table: "INSERT OR UPDATE OR DELETE" for table in RULE_INPUTS}
            events[PROJECTS] = f"INSERT OR DELETE OR UPDATE OF {columns}"
            for table, event in events.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS qiantang_inputs_version ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER qiantang_inputs_version BEFORE {event} ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION qiantang_bump_inputs_version()"
                )
        elif connection.vendor == "sqlite":
            for table in [*RULE_INPUTS, PROJECTS]:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    name = f"qiantang_inputs_version_{table}_{event.lower()}"
                    on = f"UPDATE OF {columns}" if (table, event) == (PROJECTS, "UPDATE") else event
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                    cursor.execute(f"CREATE TRIGGER {name} AFTER {on} ON {table} BEGIN {SQLITE_BUMP} END")


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in [*RULE_INPUTS, PROJECTS]:
                cursor.execute(f"DROP TRIGGER IF EXISTS qiantang_inputs_version ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS qiantang_bump_inputs_version()")
        elif connection.vendor == "sqlite":
            for table in [*RULE_INPUTS, PROJECTS]:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS qiantang_inputs_version_{table}_{event}")


class Migration(migrations.Migration):

    dependencies = [
        ("warnings", "0011_recompute_inputs"),
        ("projects", "0010_project_group_statistics"),
    ]

    operations = [
        migrations.CreateModel(
            name="InputsVersion",
            fields=[
                ("shard", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "规则输入版本",
                "verbose_name_plural": "规则输入版本",
                "abstract": False,
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
