"""Budget alerts' levels in BudgetLevel's words: ok → funded, warn → running_low, throttle →
throttled (exhausted stays)."""

from django.db import migrations, models

RENAMED = {"ok": "funded", "warn": "running_low", "throttle": "throttled"}


def _rename(apps, mapping):
    Alert = apps.get_model("budgets", "Alert")
    for old, new in mapping.items():
        Alert.objects.filter(level=old).update(level=new)


def forwards(apps, schema_editor):
    _rename(apps, RENAMED)


def backwards(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='alert',
            name='level',
            field=models.CharField(choices=[('funded', 'funded'), ('running_low', 'running low'), ('throttled', 'throttled'), ('exhausted', 'exhausted')], max_length=11, verbose_name='level'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
