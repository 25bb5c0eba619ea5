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

from django.db import migrations

_SUM_TO_ZERO = """
    SELECT transaction_id, unit, SUM(amount) AS total INTO bad
    FROM new_postings GROUP BY transaction_id, unit HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero in %: %',
            bad.transaction_id, bad.unit, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
"""

_MISSING = """
        SELECT n.id, n.account_id, n.transaction_id INTO bad FROM new_postings n
        WHERE NOT EXISTS (SELECT 1 FROM ledger_ledgeraccount a WHERE a.id = n.account_id)
           OR NOT EXISTS (SELECT 1 FROM ledger_ledgertransaction t WHERE t.id = n.transaction_id)
        LIMIT 1;
"""

_REFUSE = """
        RAISE EXCEPTION 'posting % refers to a missing account (%) or transaction (%)',
            bad.id, bad.account_id, bad.transaction_id
            USING ERRCODE = 'foreign_key_violation';
"""

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

BACKWARD = f"""
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
{_SUM_TO_ZERO}
{_MISSING}
    IF FOUND THEN
{_REFUSE}
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0006_balances_updated_in_place"),
    ]

    operations = [migrations.RunSQL([FORWARD], [BACKWARD])]
