"""Action records: drop the single-column indexes that a composite index already leads with
(partner, batch, account) and the LIKE twin of the action index; each was written on every insert
and every pipeline update and served no query."""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
DROP INDEX IF EXISTS earn_actionrecord_account_id_b39366e0;
DROP INDEX IF EXISTS earn_actionrecord_batch_id_816431e5;
DROP INDEX IF EXISTS earn_actionrecord_partner_id_5f3ca97a;
DROP INDEX IF EXISTS earn_actionrecord_action_7ba18a4c;
DROP INDEX IF EXISTS earn_actionrecord_action_7ba18a4c_like;
CREATE INDEX action_action_idx ON earn_actionrecord (action);
"""
BACKWARD = """
DROP INDEX IF EXISTS action_action_idx;
CREATE INDEX earn_actionrecord_action_7ba18a4c ON earn_actionrecord (action);
CREATE INDEX earn_actionrecord_partner_id_5f3ca97a ON earn_actionrecord (partner_id);
CREATE INDEX earn_actionrecord_batch_id_816431e5 ON earn_actionrecord (batch_id);
CREATE INDEX earn_actionrecord_account_id_b39366e0 ON earn_actionrecord (account_id);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_merge_0002_citizen_rank_0002_identitylink'),
        ('earn', '0001_initial'),
        ('methodologies', '0002_catalogue_v1'),
    ]

    # Only indexes change: the state is altered as Django would, the database with plain DROP and
    # CREATE INDEX (Django's own AlterField would drop and re-validate the foreign keys too).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='actionrecord',
                    name='account',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='actions', to='accounts.carbonaccount', verbose_name='citizen account'),
                ),
                migrations.AlterField(
                    model_name='actionrecord',
                    name='action',
                    field=models.SlugField(db_index=False, max_length=40, verbose_name='action type'),
                ),
                migrations.AlterField(
                    model_name='actionrecord',
                    name='batch',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='records', to='earn.batch'),
                ),
                migrations.AlterField(
                    model_name='actionrecord',
                    name='partner',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='records', to='earn.partner'),
                ),
                migrations.AddIndex(
                    model_name='actionrecord',
                    index=models.Index(fields=['action'], name='action_action_idx'),
                ),
            ],
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
        ),
    ]
