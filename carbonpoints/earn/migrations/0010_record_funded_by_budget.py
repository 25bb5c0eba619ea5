"""Each credit names the sponsor's budget its points were drawn on.

The reference is checked with the others, a statement at a time (the trigger of 0006, now with
budgets), and a budget is never deleted: its deposits and draws are in the ledger.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION earn_check_record_references() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    -- each distinct value once: a batch's thousand records name one partner, one batch, a few
    -- methodologies and one conversion rule
    SELECT 'partner' AS what, n.partner_id AS id INTO bad FROM (SELECT DISTINCT partner_id FROM new_records) n
        WHERE NOT EXISTS (SELECT 1 FROM earn_partner p WHERE p.id = n.partner_id) LIMIT 1;
    IF NOT FOUND THEN
        SELECT 'batch' AS what, n.batch_id::text AS id INTO bad FROM (SELECT DISTINCT batch_id FROM new_records) n
            WHERE NOT EXISTS (SELECT 1 FROM earn_batch b WHERE b.id = n.batch_id) LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        SELECT 'account' AS what, n.account_id AS id INTO bad
            FROM (SELECT DISTINCT account_id FROM new_records WHERE account_id IS NOT NULL) n
            WHERE NOT EXISTS (SELECT 1 FROM accounts_carbonaccount a WHERE a.id = n.account_id) LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        SELECT 'methodology' AS what, n.methodology_id AS id INTO bad
            FROM (SELECT DISTINCT methodology_id FROM new_records WHERE methodology_id IS NOT NULL) n
            WHERE NOT EXISTS (SELECT 1 FROM methodologies_methodology m WHERE m.id = n.methodology_id) LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        SELECT 'conversion rule' AS what, n.conversion_rule_id AS id INTO bad
            FROM (SELECT DISTINCT conversion_rule_id FROM new_records WHERE conversion_rule_id IS NOT NULL) n
            WHERE NOT EXISTS (SELECT 1 FROM methodologies_conversionrule c WHERE c.id = n.conversion_rule_id)
            LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        SELECT 'budget' AS what, n.budget_id AS id INTO bad
            FROM (SELECT DISTINCT budget_id FROM new_records WHERE budget_id IS NOT NULL) n
            WHERE NOT EXISTS (SELECT 1 FROM budgets_budget b WHERE b.id = n.budget_id) LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'an action record refers to a missing % (%)', bad.what, bad.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER earn_budget_kept BEFORE DELETE ON budgets_budget
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_delete();
"""

BACKWARD = "DROP TRIGGER IF EXISTS earn_budget_kept ON budgets_budget;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)
        references = importlib.import_module("carbonpoints.earn.migrations.0006_set_based_references")
        schema_editor.execute(references.FORWARD.split("CREATE TRIGGER")[0], params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("budgets", "0001_initial"),
        ("earn", "0009_carry_may_go_negative_and_reversed_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="actionrecord",
            name="budget",
            field=models.ForeignKey(
                blank=True, db_constraint=False, db_index=False, null=True,
                help_text="The sponsor's budget the points were drawn on; empty while they wait for funding.",
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="budgets.budget",
                verbose_name="funded by"),
        ),
        migrations.RunPython(forward, backward),
    ]
