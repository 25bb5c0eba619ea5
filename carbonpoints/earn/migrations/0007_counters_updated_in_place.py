"""Room on each page of the per-citizen counters (carried remainders, cap usage), so that the
upsert of every crediting batch updates them in place (a heap-only tuple, no index write): the
counted values are in no index. The same reasoning as ledger 0006."""

from django.db import migrations

TABLES = ("earn_citizencarry", "earn_capusage")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ("earn", "0006_set_based_references"),
    ]

    operations = [migrations.RunPython(forward, backward)]
