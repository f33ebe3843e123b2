"""CreditedTime and UncreditedSegment lose their own index on enrolment_id: the (enrolment,
day) indexes start with it and serve the same lookups, and every crediting pass writes and
deletes these rows. The foreign keys stay as they are (only the index is dropped, so no
constraint is rebuilt or revalidated on a large table)."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "learning_creditedtime": "learning_creditedtime_enrolment_id_07660937",
    "learning_uncreditedsegment": "learning_uncreditedsegment_enrolment_id_9c64eba5",
}


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0003_media_budget_and_recredit_runs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("enrolment_id")',
                )
                for table, index in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="creditedtime",
                    name="enrolment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="credited",
                        to="learning.enrolment",
                    ),
                ),
                migrations.AlterField(
                    model_name="uncreditedsegment",
                    name="enrolment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="uncredited_segments",
                        to="learning.enrolment",
                    ),
                ),
            ],
        ),
    ]
