import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

import carbonpoints.regions.codes


def regions_of_claims_before(apps, schema_editor):
    """A claim filed before regions happened in its record's region (once taken in), else in its
    partner's one region; any other stays in the default region, where it was."""
    Claim = apps.get_model("claims", "Claim")
    ActionRecord = apps.get_model("earn", "ActionRecord")
    Claim.objects.filter(record__isnull=False).update(
        region_id=Subquery(ActionRecord.objects.filter(pk=OuterRef("record_id")).values("region_id"))
    )
    Through = apps.get_model("earn", "Partner").regions.through
    for claim in Claim.objects.filter(record__isnull=True).only("pk", "partner_id"):
        regions = list(
            Through.objects.filter(partner_id=claim.partner_id).values_list("region_id", flat=True)
        )
        if len(regions) == 1:
            Claim.objects.filter(pk=claim.pk).update(region_id=regions[0])


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_initial"),
        ("regions", "0002_hubei"),
        ("earn", "0013_regions"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="region",
            field=models.ForeignKey(
                default=carbonpoints.regions.codes.default,
                help_text="Where the action happened: one of the partner's approved regions.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="regions.region",
                verbose_name="region",
            ),
        ),
        migrations.RunPython(regions_of_claims_before, migrations.RunPython.noop),
    ]
