"""Each record counts its corrections in a column: the idempotency keys of its reversal, its new
credit and its funding are numbered by it (they were numbered by counting the ``corrected`` rules
of its explanation, which remain as the citizen's account of what happened).

The column is added with a default (no rewrite, no check to validate: the table is not locked for
a scan) and the records corrected before are counted from their explanation, so their keys stay
the same.
"""

from django.db import migrations, models

BACKFILL = """
UPDATE earn_actionrecord SET corrections = (
    SELECT count(*) FROM jsonb_array_elements(explanation -> 'rules') AS r WHERE r ->> 'code' = 'corrected'
)
WHERE explanation @> '{"rules": [{"code": "corrected"}]}'
"""


class Migration(migrations.Migration):

    dependencies = [
        ("earn", "0010_record_funded_by_budget"),
    ]

    operations = [
        migrations.AddField(
            model_name="actionrecord",
            name="corrections",
            field=models.IntegerField(
                db_default=0, default=0,
                help_text="How often its quantity was corrected (each correction reverses it and credits it anew); "
                          "numbers the idempotency keys of its reversal, new credit and funding.",
                verbose_name="corrections"),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
