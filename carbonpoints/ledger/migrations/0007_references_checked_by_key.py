"""Postings' references checked by primary key, at a cost that follows the statement, not the ledger.

The statement-level check of migration 0005 asked, for each new posting, ``NOT EXISTS (account)
OR NOT EXISTS (transaction)``. An ``OR`` of two subqueries cannot become an anti-join, so
PostgreSQL hashed both subqueries whole: a sequential scan of every ledger account (and every
transaction) for each posting statement. With 60,000 accounts that was 54 ms of a crediting batch's
COPY of 1,800 postings, inside the time the batch holds the issuance and budget accounts, and it
grew with every citizen (docs/performance/ingest.md, 2026-12-07).

Now the statement's distinct account ids and transaction ids are each looked up in their primary
key (``id = ANY(...)``, an index scan) and counted; only when a count falls short is the offending
posting looked for, to name it in the error. The guarantee is the same.
"""

import importlib

from django.db import migrations

REFERENCES = importlib.import_module("carbonpoints.ledger.migrations.0005_set_based_references")
CHECK_0005 = REFERENCES.FORWARD.split("CREATE TRIGGER")[0]
"""The function of 0005: the sum to zero, then the references with ``NOT EXISTS … OR NOT EXISTS``."""

_SUM_TO_ZERO, _REFERENCES = CHECK_0005.split("BEGIN", 1)[1].split("    SELECT n.id", 1)
_MISSING = "    SELECT n.id" + _REFERENCES.split("    IF FOUND THEN", 1)[0]
"""0005's look for a posting with a missing reference, kept to name it in the error."""
_REFUSE = _REFERENCES.split("    IF FOUND THEN", 1)[1].split("    END IF;", 1)[0]
assert "RAISE EXCEPTION 'posting %" in _REFUSE and "check_violation" in _SUM_TO_ZERO

FORWARD = f"""
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    bad record;
    accounts bigint[];
    transactions bigint[];
BEGIN
{_SUM_TO_ZERO}
    SELECT array_agg(DISTINCT account_id), array_agg(DISTINCT transaction_id) INTO accounts, transactions
    FROM new_postings;
    IF (SELECT count(*) FROM ledger_ledgeraccount WHERE id = ANY(accounts)) <> cardinality(accounts)
       OR (SELECT count(*) FROM ledger_ledgertransaction WHERE id = ANY(transactions)) <> cardinality(transactions)
    THEN
{_MISSING}
{_REFUSE}
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

BACKWARD = CHECK_0005


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0006_balances_updated_in_place"),
    ]

    operations = [migrations.RunSQL([FORWARD], [BACKWARD])]
