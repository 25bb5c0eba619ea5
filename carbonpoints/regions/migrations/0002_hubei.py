"""Hubei and the cities the demo runs, and the deployment's default region (with the regions it
lies in) when it is another: existing rows migrate to the default region."""

from django.db import migrations

from carbonpoints.regions.seed import regions_seed


def seed(apps, schema_editor):
    regions_seed(apps.get_model("regions", "Region"))


class Migration(migrations.Migration):
    dependencies = [("regions", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
