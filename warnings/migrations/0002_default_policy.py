"""The single WarningPolicy row with the defaults of the rules (15 / 0 / off)."""
from django.db import migrations


def create_policy(apps, schema_editor):
    WarningPolicy = apps.get_model("warnings", "WarningPolicy")
    WarningPolicy.objects.get_or_create(
        pk=1, defaults={"yellow_before_days": 15, "red_after_days": 0, "count_working_days": False}
    )


class Migration(migrations.Migration):
    dependencies = [("warnings", "0001_initial")]
    operations = [migrations.RunPython(create_policy, migrations.RunPython.noop)]
