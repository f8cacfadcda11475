"""Every project gets a blank milestone of every catalogue type it has no row for.

Before, a type the office left blank (a workbook cell, say) had no row at all. The warning
rules now count such a type as a blank milestone either way; the rows give each project's
page a milestone of every type to fill in. Nothing to undo: blank rows change no colour.
"""
from django.db import migrations


def create_blank_milestones(apps, schema_editor):
    from projects.models import create_missing_milestones

    create_missing_milestones(
        apps.get_model("projects", "Project"),
        apps.get_model("projects", "MilestoneType"),
        apps.get_model("projects", "Milestone"),
    )


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_replan_proposals")]

    operations = [migrations.RunPython(create_blank_milestones, migrations.RunPython.noop)]
