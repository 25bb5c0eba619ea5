from django.db import migrations

BADGES = [
    ("streak_7", "连续低碳7天", "7-day streak", "streak", 7),
    ("variety_4", "低碳多面手", "All-rounder", "variety", 4),
    ("milestone_10kg", "减碳10千克", "10 kg saved", "milestone", 10_000),
    ("milestone_100kg", "减碳100千克", "100 kg saved", "milestone", 100_000),
    ("milestone_1t", "减碳1吨", "1 tonne saved", "milestone", 1_000_000),
]


def seed(apps, schema_editor):
    Badge = apps.get_model("evaluation", "Badge")
    for code, zh, en, rule, threshold in BADGES:
        Badge.objects.get_or_create(code=code, defaults={"name_zh_hans": zh, "name_en": en, "rule": rule,
                                                         "threshold": threshold})


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
