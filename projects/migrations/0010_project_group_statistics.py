"""Extended statistics (PostgreSQL) on the columns the dashboard groups the projects by.

Without them the planner multiplies the distinct values of state, sector, lead department
and responsible cadre (thousands of groups at 100,000 projects) where a few dozen
combinations occur, and sorts every row to group them; with them it hashes the groups, about
a third of the time (warnings/dashboard/figures.count_projects). SQLite has no such thing
and needs none at `make run`'s size. ANALYZE fills the new statistics at once; autovacuum
keeps them current.
"""
from django.db import migrations

NAME = "projects_project_dashboard_groups"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {NAME} (ndistinct) "
            "ON state, sector, lead_department_id, responsible_cadre_id FROM projects_project"
        )
        cursor.execute("ANALYZE projects_project")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP STATISTICS IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0009_project_urgency"),
    ]

    operations = [
        migrations.RunPython(create_statistics, drop_statistics),
    ]
