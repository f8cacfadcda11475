"""The rules' inputs get a version of their own (InputsVersion), moved by triggers like the
data version of migration 0010, on every table the rules read — and on the project table
only by a change to the project's own columns, not by the results the recompute writes into
them. A recompute's own writes then leave the inputs as they were, and the next full run of
the same day finds nothing to evaluate. A later migration that adds a column to the project
table must create the trigger again (`create_triggers`), or a write to that column alone
would not count; tests/warnings/test_recompute.py checks the trigger's columns against the
model."""
from importlib import import_module

from django.db import migrations, models

# Every table the rules read but the project table and the status changes (the recompute's own).
RULE_INPUTS = ["projects_milestone", "projects_milestonereplan", "projects_milestonetype",
               "warnings_warningpolicy", "warnings_calendarday", "projects_coordinationitem",
               "projects_department", "warnings_escalation"]
PROJECTS = "projects_project"
# What the recompute writes into a project row (recompute.RESULT_FIELDS, as columns).
RESULT_COLUMNS = {"colour", "reasons", "urgency", "needs_plan", "computed_as_of", "baseline_colour",
                  "replan_count", "colour_changed_at"}
# The trigger machinery of migration 0010 (its module name starts with a digit).
_version = import_module("qiantang_warnings.migrations.0010_data_version")
INPUTS_VERSION = {"trigger": "qiantang_inputs_version", "function": "qiantang_bump_inputs_version"}


def project_input_columns(apps) -> list[str]:
    """The project table's columns as of this migration, but the recompute's results."""
    project = apps.get_model("projects", "Project")
    return sorted(f.column for f in project._meta.concrete_fields if f.column not in RESULT_COLUMNS)


def create_triggers(apps, schema_editor):
    _version.install_triggers(
        schema_editor, **INPUTS_VERSION, counter="warnings_inputsversion", tables=[*RULE_INPUTS, PROJECTS],
        update_of={PROJECTS: project_input_columns(apps)},
    )


def drop_triggers(apps, schema_editor):
    _version.remove_triggers(schema_editor, **INPUTS_VERSION, tables=[*RULE_INPUTS, PROJECTS])


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
