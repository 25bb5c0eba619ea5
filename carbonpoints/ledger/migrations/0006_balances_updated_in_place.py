"""Room on each page of the accounts table, so a balance update stays on its page.

Every crediting batch rewrites the balance of two accounts per citizen it credits. With full
pages (the default fill factor of 100) each new row version goes to another page and adds an
entry to both of the table's indexes; with room left on the page PostgreSQL updates in place
(a heap-only tuple: no index write), since the balance is in no index.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0005_set_based_references"),
    ]

    operations = [migrations.RunSQL(
        ["ALTER TABLE ledger_ledgeraccount SET (fillfactor = 70)"],
        ["ALTER TABLE ledger_ledgeraccount RESET (fillfactor)"],
    )]
