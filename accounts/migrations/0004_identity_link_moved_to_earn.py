from django.db import migrations


class Migration(migrations.Migration):
    """The partner links moved to the earn app (``earn.0004`` copied every row first)."""

    dependencies = [
        ('accounts', '0003_merge_0002_citizen_rank_0002_identitylink'),
        ('earn', '0004_identity_link_moved'),
    ]

    operations = [
        migrations.DeleteModel(
            name='IdentityLink',
        ),
    ]
