"""The rankings' departments and items frozen with each ledger (Ledger.ranking_facts).

Before, a ledger's ranking read the departments' names and kinds and the items' current
department and deadline live, so renaming a department changed a past month's ranking. Now
the freeze stores them. Ledgers frozen before this migration get them here, as they stand
now, with answers up to each ledger's freeze time (what their ranking showed until now);
from here on they no longer change.
"""
from django.db import migrations, models
from django.db.models import Min
from django.utils import timezone

ANSWERED = ["answered", "handled"]


def fill_in(apps, schema_editor):
    Ledger = apps.get_model("warnings", "Ledger")
    Department = apps.get_model("projects", "Department")
    CoordinationItem = apps.get_model("projects", "CoordinationItem")
    CoordinationEvent = apps.get_model("projects", "CoordinationEvent")
    departments = [list(d) for d in Department.objects.order_by("id").values_list("id", "name", "kind")]
    for ledger in Ledger.objects.filter(ranking_facts={}).iterator():
        answers = dict(
            CoordinationEvent.objects.filter(kind__in=ANSWERED, at__lte=ledger.frozen_at)
            .values_list("item_id").annotate(first=Min("at")).values_list("item_id", "first")
        )
        items = CoordinationItem.objects.filter(
            department__isnull=False, deadline__lte=ledger.as_of, raised_at__lte=ledger.frozen_at,
        ).order_by("id").values_list("id", "department_id", "deadline")
        ledger.ranking_facts = {
            "departments": departments,
            "items": [
                [department_id, deadline.isoformat(),
                 timezone.localdate(answers[pk]).isoformat() if pk in answers else None]
                for pk, department_id, deadline in items
            ],
        }
        ledger.save(update_fields=["ranking_facts"])


class Migration(migrations.Migration):

    dependencies = [
        ('warnings', '0013_recheck_days'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledger',
            name='ranking_facts',
            field=models.JSONField(blank=True, default=dict, verbose_name='红黑榜依据'),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop),
    ]
