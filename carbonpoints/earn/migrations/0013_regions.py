"""Where an action happened, and the regions a partner is approved for: existing records and
partners migrate to the default region."""

import carbonpoints.regions.codes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def partners_approved_for_default_region(apps, schema_editor):
    Partner = apps.get_model("earn", "Partner")
    Through = Partner.regions.through
    Through.objects.bulk_create([Through(partner_id=pk, region_id=settings.DEFAULT_REGION)
                                 for pk in Partner.objects.values_list("pk", flat=True)])


class Migration(migrations.Migration):

    dependencies = [
        ('earn', '0012_references_checked_by_key'),
        ('regions', '0002_hubei'),
    ]

    operations = [
        migrations.AddField(
            model_name='actionrecord',
            name='region',
            field=models.ForeignKey(db_constraint=False, db_index=False, default=carbonpoints.regions.codes.default, help_text='Where the action happened (GB/T 2260).', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region', verbose_name='region'),
        ),
        migrations.AddField(
            model_name='partner',
            name='regions',
            field=models.ManyToManyField(blank=True, help_text="Where its events may happen; none: the deployment's default region.", related_name='partners', to='regions.region', verbose_name='approved regions'),
        ),
        migrations.RunPython(partners_approved_for_default_region, migrations.RunPython.noop),
    ]
