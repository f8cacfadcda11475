"""A full recompute records the inputs it saw (RecomputeRun.inputs), and the data version
moves with every write the rules read: milestones, re-plans, milestone types, the policy and
the calendar join the tables of migration 0010 (same trigger, same function)."""
from importlib import import_module

from django.db import migrations, models

RULE_INPUTS = ["projects_milestone", "projects_milestonereplan", "projects_milestonetype",
               "warnings_warningpolicy", "warnings_calendarday"]


# The triggers of migration 0010, created by its own functions (its module name starts with a digit).
_version = import_module("qiantang_warnings.migrations.0010_data_version")


def create_triggers(apps, schema_editor):
    _version.create_triggers(apps, schema_editor, tables=RULE_INPUTS)


def drop_triggers(apps, schema_editor):
    _version.drop_triggers(apps, schema_editor, tables=RULE_INPUTS, function=False)  # 0010's still needs it


class Migration(migrations.Migration):

    dependencies = [
        ("warnings", "0010_data_version"),
        ("projects", "0009_project_urgency"),
    ]

    operations = [
        migrations.AddField(
            model_name="recomputerun",
            name="inputs",
            field=models.CharField(blank=True, default="", max_length=80, verbose_name="输入版本"),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
