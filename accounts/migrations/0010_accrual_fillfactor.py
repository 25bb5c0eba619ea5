"""Accrual rows are updated in place: pages half filled, so a credit's addition finds room on its row's
page (a HOT update: no new index entries).

A row is inserted by a citizen's first credit after the job's last run, and added to by each credit
until the next run deletes it. Packed full, almost every addition moved the row to another page and
wrote both of its indexes again: 14 % of the bench's updates were HOT; half-filled pages, 100 %,
and the batch's upsert cost 110 instead of 300 ms of PostgreSQL CPU per 40,000 events
(docs/performance/ingest.md, 2026-12-08 session 8). The table holds one narrow row per citizen
credited since the job's last run, so the space is small; pages written before this migration keep
their fill until the job empties them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0009_accrual_actions"),
    ]

    operations = [
        migrations.RunSQL(
            ["ALTER TABLE accounts_accrual SET (fillfactor = 50)"],
            ["ALTER TABLE accounts_accrual RESET (fillfactor)"],
        ),
    ]
