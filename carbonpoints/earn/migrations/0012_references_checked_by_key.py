"""Action records' references checked by primary key, at a cost that follows the statement.

The statement-level check of 0006 (with budgets since 0010) asked, per kind of reference, which of
the statement's distinct values has no row (``NOT EXISTS``). PostgreSQL answered with a hash anti
join: a sequential scan of every carbon account, and of every batch, for each batch of records
(5 ms with 20,000 citizens, growing with every citizen and every batch; docs/performance/ingest.md,
2026-12-07). Now each kind's distinct values are looked up in the referred table's primary key
(``id = ANY(...)``, an index scan) and counted; only when a count falls short is the missing
value looked for, to name it in the error. The guarantee is the same.
"""

import importlib

from django.db import migrations

BUDGETS = importlib.import_module("carbonpoints.earn.migrations.0010_record_funded_by_budget")
CHECK_0010 = BUDGETS.FORWARD.split("CREATE TRIGGER")[0]
"""The function of 0010 (0006 with budgets) that checks a statement's references."""

REFERENCES = [  # (what the error names, column, referred table, key type)
    ("partner", "partner_id", "earn_partner", "bigint"),
    ("batch", "batch_id", "earn_batch", "uuid"),
    ("account", "account_id", "accounts_carbonaccount", "bigint"),
    ("methodology", "methodology_id", "methodologies_methodology", "bigint"),
    ("conversion rule", "conversion_rule_id", "methodologies_conversionrule", "bigint"),
    ("budget", "budget_id", "budgets_budget", "bigint"),
]


def _check(what: str, column: str, table: str, key_type: str) -> str:
    return f"""
    SELECT array_agg(DISTINCT {column}) INTO ids_{key_type} FROM new_records WHERE {column} IS NOT NULL;
    IF coalesce(cardinality(ids_{key_type}), 0)
       <> (SELECT count(*) FROM {table} WHERE id = ANY(ids_{key_type})) THEN
        SELECT n.id::text INTO missing FROM unnest(ids_{key_type}) AS n(id)
            WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = n.id) LIMIT 1;
        RAISE EXCEPTION 'an action record refers to a missing % (%)', '{what}', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;"""


FORWARD = f"""
CREATE OR REPLACE FUNCTION earn_check_record_references() RETURNS trigger AS $$
DECLARE
    ids_bigint bigint[];
    ids_uuid uuid[];
    missing text;
BEGIN
    -- each distinct value once, looked up by the referred table's primary key
    {"".join(_check(*reference) for reference in REFERENCES)}
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("earn", "0011_record_corrections"),
    ]

    operations = [migrations.RunSQL([FORWARD], [CHECK_0010])]
