"""The collectors start from what exists when the inbox is installed: a citizen is not told at once
of every action ever credited."""

from django.db import migrations
from django.db.models import Max


def start_at_the_present(apps, schema_editor):
    Watermark = apps.get_model("notifications", "Watermark")
    sources = {"actions": apps.get_model("earn", "ActionRecord"), "consent_changes": apps.get_model("earn", "ConsentChange")}
    for name, model in sources.items():
        newest = model.objects.aggregate(m=Max("id"))["m"] or 0
        Watermark.objects.update_or_create(name=name, defaults={"last_id": newest})


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("earn", "0004_identity_link_moved"),
    ]
    operations = [migrations.RunPython(start_at_the_present, migrations.RunPython.noop)]
