"""A full recompute records the inputs it saw (RecomputeRun.inputs), and the data version
moves with every write the rules read: milestones, re-plans, milestone types, the policy and
the calendar join the tables of migration 0010 (same trigger, same function)."""
from django.db import migrations, models

RULE_INPUTS = ["projects_milestone", "projects_milestonereplan", "projects_milestonetype",
               "warnings_warningpolicy", "warnings_calendarday"]


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in RULE_INPUTS:
            if connection.vendor == "postgresql":  # the function of migration 0010
                cursor.execute(f"DROP TRIGGER IF EXISTS qiantang_data_version ON {table}")
                cursor.execute(
                    f"CREATE TRIGGER qiantang_data_version BEFORE INSERT OR UPDATE OR DELETE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION qiantang_bump_data_version()"
                )
            elif connection.vendor == "sqlite":
                for event in ("INSERT", "UPDATE", "DELETE"):
                    name = f"qiantang_data_version_{table}_{event.lower()}"
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                    cursor.execute(
                        f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
                        "INSERT INTO warnings_dataversion (shard, value) VALUES (0, 1) "
                        "ON CONFLICT(shard) DO UPDATE SET value = value + 1; END"
                    )


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in RULE_INPUTS:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS qiantang_data_version ON {table}")
            elif connection.vendor == "sqlite":
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS qiantang_data_version_{table}_{event}")


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
