"""One "used" movement per encounter and item. A correction used to leave two (what it gave
back of the encounter it corrects, and what it took): they are merged into one, their sum,
with the level after the later one, before the constraint is added."""

from django.db import migrations, models
from django.db.models import Count


def merge_uses(apps, schema_editor):  # type: ignore[no-untyped-def]
    movement = apps.get_model("flows", "StockMovement")
    used = movement.objects.filter(reason="used", encounter_id__isnull=False)
    twice = (
        used.order_by()
        .values("encounter_id", "item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for pair in twice:
        rows = list(
            used.filter(encounter_id=pair["encounter_id"], item_id=pair["item_id"]).order_by("at")
        )
        last = rows[-1]
        last.change = sum(row.change for row in rows)
        last.save(update_fields=["change"])
        movement.objects.filter(pk__in=[row.pk for row in rows[:-1]]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('flows', '0003_sync_movement_ids_contributions'),
    ]

    operations = [
        migrations.RunPython(merge_uses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='stockmovement',
            constraint=models.UniqueConstraint(condition=models.Q(('reason', 'used')), fields=('encounter_id', 'item'), name='one_use_per_encounter_and_item'),
        ),
    ]
