"""The default milestone catalogue of the warning rules (节点类型)."""
from django.db import migrations

DEFAULT_CATALOGUE = [
    (1, "approval", "过会", None),
    (2, "signing", "项目签约", 30),
    (3, "land_listing", "土地挂牌", 90),
    (4, "land_transfer", "土地出让", 30),
    (5, "planning_permit", "工程规划许可", 60),
    (6, "construction_permit", "施工许可", 30),
    (7, "groundbreaking", "开工", 30),
    (8, "completion", "竣工验收", 540),
    (9, "production", "投产", 90),
]


def create_catalogue(apps, schema_editor):
    MilestoneType = apps.get_model("projects", "MilestoneType")
    for order, code, name, standard_days in DEFAULT_CATALOGUE:
        MilestoneType.objects.get_or_create(
            code=code, defaults={"order": order, "name": name, "standard_days": standard_days}
        )


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]
    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
