"""Cap usage's citizen checked a statement at a time, not a row at a time at commit.

A batch's upsert of its cap counters adds a row per citizen, action type and local day that is new
(most rows: a citizen's next action is on another day). Django's deferred foreign key checked each
new row's carbon account one by one at commit, while the batch held the ledger's hot accounts
(the issuance, budget and accrual accounts), the last thing a credit locks: 4–8 ms per 1,000 rows
(docs/performance/ingest.md, 2026-12-08 session 8). Now, as for the action records (0006, 0012):

- a statement-level trigger looks the statement's distinct accounts up by primary key, once, when
  the upsert runs (before the ledger's accounts are locked);
- a row's citizen never changes (a row-level trigger refuses it; its condition is evaluated without
  a call, so the upsert's additions cost nothing);
- a carbon account with cap usage cannot be deleted (``earn_refuse_referenced_delete``, which
  refused it for one with action records already; usage is only ever counted for records).
The guarantee is the foreign key's.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION earn_check_usage_accounts() RETURNS trigger AS $$
DECLARE
    ids bigint[];
    missing text;
BEGIN
    SELECT array_agg(DISTINCT account_id) INTO ids FROM new_usage;
    IF coalesce(cardinality(ids), 0)
       <> (SELECT count(*) FROM accounts_carbonaccount WHERE id = ANY(ids)) THEN
        SELECT n.id::text INTO missing FROM unnest(ids) AS n(id)
            WHERE NOT EXISTS (SELECT 1 FROM accounts_carbonaccount a WHERE a.id = n.id) LIMIT 1;
        RAISE EXCEPTION 'cap usage refers to a missing account (%)', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION earn_refuse_usage_move() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cap usage stays with its account (% → %)', OLD.account_id, NEW.account_id
        USING ERRCODE = 'foreign_key_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER earn_usage_accounts_inserted AFTER INSERT ON earn_capusage
    REFERENCING NEW TABLE AS new_usage FOR EACH STATEMENT EXECUTE FUNCTION earn_check_usage_accounts();
CREATE TRIGGER earn_usage_account_kept BEFORE UPDATE OF account_id ON earn_capusage
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id)
    EXECUTE FUNCTION earn_refuse_usage_move();

CREATE OR REPLACE FUNCTION earn_refuse_referenced_delete() RETURNS trigger AS $$
DECLARE
    referred boolean;
BEGIN
    -- one statement per table: each compares the action table's column with that table's key type
    IF TG_TABLE_NAME = 'earn_partner' THEN
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE partner_id = OLD.id);
    ELSIF TG_TABLE_NAME = 'earn_batch' THEN
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE batch_id = OLD.id);
    ELSE
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE account_id = OLD.id)
            OR EXISTS (SELECT 1 FROM earn_capusage WHERE account_id = OLD.id);
    END IF;
    IF referred THEN
        RAISE EXCEPTION '% % is referred to by action records', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$ LANGUAGE plpgsql;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS earn_usage_accounts_inserted ON earn_capusage;
DROP TRIGGER IF EXISTS earn_usage_account_kept ON earn_capusage;
DROP FUNCTION IF EXISTS earn_check_usage_accounts();
DROP FUNCTION IF EXISTS earn_refuse_usage_move();
CREATE OR REPLACE FUNCTION earn_refuse_referenced_delete() RETURNS trigger AS $$
DECLARE
    referred boolean;
BEGIN
    IF TG_TABLE_NAME = 'earn_partner' THEN
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE partner_id = OLD.id);
    ELSIF TG_TABLE_NAME = 'earn_batch' THEN
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE batch_id = OLD.id);
    ELSE
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE account_id = OLD.id);
    END IF;
    IF referred THEN
        RAISE EXCEPTION '% % is referred to by action records', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("earn", "0014_awaiting_funding_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="capusage",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.carbonaccount",
            ),
        ),
        migrations.RunSQL([FORWARD], [BACKWARD]),
    ]
