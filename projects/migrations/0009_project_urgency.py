"""Project.urgency: the dashboard's list order, stored with the reasons, filled in for the
projects already computed (a frozen copy of qiantang_warnings.reasons.urgency_key)."""

from django.conf import settings
from django.db import migrations, models


def _urgency(reasons):
    overdue = [r.get("days", 0) for r in reasons or [] if r.get("kind") == "overdue"]
    if overdue:
        return -max(overdue)
    left = [r.get("days", 0) for r in reasons or [] if r.get("kind") == "due_soon"]
    if left:
        return 1_000_000 + min(left)
    return 2_000_000


def fill_urgency(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    changed = []
    for project in Project.objects.exclude(reasons=[]).only("id", "reasons").iterator(chunk_size=2000):
        project.urgency = _urgency(project.reasons)
        changed.append(project)
        if len(changed) >= 2000:
            Project.objects.bulk_update(changed, ["urgency"])
            changed = []
    Project.objects.bulk_update(changed, ["urgency"])


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0008_coordination_from_workbook'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='project',
            name='urgency',
            field=models.IntegerField(default=2000000, editable=False, verbose_name='紧急程度排序'),
        ),
        migrations.AddIndex(
            model_name='project',
            index=models.Index(fields=['colour', 'urgency', 'code'], name='project_colour_urgency'),
        ),
        migrations.RunPython(fill_urgency, migrations.RunPython.noop),
    ]
