"""The points a citizen is owed, read on their account page by an index of the credits waiting for a
budget alone."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('earn', '0013_regions'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='actionrecord',
            index=models.Index(condition=models.Q(('points_available_at__isnull', True), ('points_settled', False)), fields=['account'], name='action_awaiting_funding_idx'),
        ),
    ]
