"""One citizen per leaderboard nickname, whatever its case.

Nicknames taken twice before the constraint keep the first citizen's; the later ones get a number
(“Green Bee 2”), so the constraint can be added on a running city's data.
"""

import django.db.models.functions.text
from django.db import migrations, models


def number_the_repeats(apps, schema_editor):
    LeaderboardEntry = apps.get_model("evaluation", "LeaderboardEntry")
    taken: set[str] = set()
    for entry in LeaderboardEntry.objects.order_by("opted_in_at", "pk"):
        nickname, n = entry.nickname, 1
        while nickname.lower() in taken:
            n += 1
            suffix = f" {n}"
            nickname = entry.nickname[: 30 - len(suffix)] + suffix
        taken.add(nickname.lower())
        if nickname != entry.nickname:
            LeaderboardEntry.objects.filter(pk=entry.pk).update(nickname=nickname)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_levels_as_data'),
        ('evaluation', '0002_badges_v1'),
    ]

    operations = [
        migrations.RunPython(number_the_repeats, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='leaderboardentry',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('nickname'),
                                               name='leaderboard_nickname_unique'),
        ),
    ]
