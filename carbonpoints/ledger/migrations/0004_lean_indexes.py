"""Ledger: drop the LIKE twins of the kind and reference indexes (no query uses LIKE on them) and
the posting account index that posting_account_recent_idx (account, -id) already covers."""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
DROP INDEX IF EXISTS ledger_ledgertransaction_kind_9e1ed568;
DROP INDEX IF EXISTS ledger_ledgertransaction_kind_9e1ed568_like;
DROP INDEX IF EXISTS ledger_ledgertransaction_reference_98b5ef62;
DROP INDEX IF EXISTS ledger_ledgertransaction_reference_98b5ef62_like;
DROP INDEX IF EXISTS ledger_posting_account_id_964f801d;
CREATE INDEX ledger_tx_kind_idx ON ledger_ledgertransaction (kind);
CREATE INDEX ledger_tx_reference_idx ON ledger_ledgertransaction (reference);
"""
BACKWARD = """
DROP INDEX IF EXISTS ledger_tx_reference_idx;
DROP INDEX IF EXISTS ledger_tx_kind_idx;
CREATE INDEX ledger_posting_account_id_964f801d ON ledger_posting (account_id);
CREATE INDEX ledger_ledgertransaction_reference_98b5ef62 ON ledger_ledgertransaction (reference);
CREATE INDEX ledger_ledgertransaction_kind_9e1ed568 ON ledger_ledgertransaction (kind);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0003_account_lookup_by_unique_index'),
    ]

    # Only indexes change: the state is altered as Django would, the database with plain DROP and
    # CREATE INDEX (Django's own AlterField would drop and re-validate the foreign keys too).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='ledgertransaction',
                    name='kind',
                    field=models.SlugField(db_index=False, max_length=40, verbose_name='kind'),
                ),
                migrations.AlterField(
                    model_name='ledgertransaction',
                    name='reference',
                    field=models.CharField(blank=True, help_text='What the transaction is about, e.g. action:123 or redemption:45.', max_length=200, verbose_name='reference'),
                ),
                migrations.AlterField(
                    model_name='posting',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='postings', to='ledger.ledgeraccount'),
                ),
                migrations.AddIndex(
                    model_name='ledgertransaction',
                    index=models.Index(fields=['kind'], name='ledger_tx_kind_idx'),
                ),
                migrations.AddIndex(
                    model_name='ledgertransaction',
                    index=models.Index(fields=['reference'], name='ledger_tx_reference_idx'),
                ),
            ],
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
        ),
    ]
