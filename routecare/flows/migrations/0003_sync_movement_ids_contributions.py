"""Stock movements get UUID ids (a node makes them offline; the same one sent twice is one),
and daily counts remember what a field node's own row for a point and day added to them.

Nothing refers to a stock movement by its id, so the movements move to a new table with
UUID ids (each row keeps everything else) and the new table takes the old one's name.
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

REASONS = [
    ("counted", "Counted"),
    ("used", "Used in encounters"),
    ("dispatched", "Dispatched to another point"),
    ("received", "Received"),
    ("delivery", "Delivery"),
]


def copy_movements(apps, schema_editor):  # type: ignore[no-untyped-def]
    old = apps.get_model("flows", "StockMovement")
    new = apps.get_model("flows", "StockMovementWithUUID")
    rows = [
        new(
            id=uuid.uuid4(),
            item_id=m.item_id,
            change=m.change,
            level_after=m.level_after,
            reason=m.reason,
            encounter_id=m.encounter_id,
            by_id=m.by_id,
            at=m.at,
        )  # fmt: skip
        for m in old.objects.all().iterator()
    ]
    new.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0002_triggers_stock_transfers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StockMovementWithUUID",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("change", models.IntegerField()),
                ("level_after", models.IntegerField()),
                ("reason", models.CharField(choices=REASONS, max_length=12)),
                ("encounter_id", models.UUIDField(blank=True, null=True)),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                (
                    "by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="flows.stockitem",
                    ),
                ),
            ],
            options={"ordering": ["-at"]},
        ),
        migrations.RunPython(copy_movements, migrations.RunPython.noop),
        migrations.DeleteModel(name="StockMovement"),
        migrations.RenameModel(old_name="StockMovementWithUUID", new_name="StockMovement"),
        migrations.AlterField(
            model_name="stockmovement",
            name="item",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="movements",
                to="flows.stockitem",
            ),
        ),
        migrations.CreateModel(
            name="DailyCountContribution",
            fields=[
                ("id", models.UUIDField(editable=False, primary_key=True, serialize=False)),
                ("added", models.JSONField(default=dict)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "daily_count",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contributions",
                        to="flows.dailycount",
                    ),
                ),
            ],
        ),
    ]
