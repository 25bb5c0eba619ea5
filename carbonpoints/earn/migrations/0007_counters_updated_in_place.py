"""Room on each page of the per-citizen counters (carried remainders, cap usage), so that the
upsert of every crediting batch updates them in place (a heap-only tuple, no index write): the
counted values are in no index. The same reasoning as ledger 0006."""

from django.db import migrations

TABLES = ("earn_citizencarry", "earn_capusage")


class Migration(migrations.Migration):

    dependencies = [
        ("earn", "0006_set_based_references"),
    ]

    operations = [migrations.RunSQL(
        [f"ALTER TABLE {table} SET (fillfactor = 70)" for table in TABLES],
        [f"ALTER TABLE {table} RESET (fillfactor)" for table in TABLES],
    )]
