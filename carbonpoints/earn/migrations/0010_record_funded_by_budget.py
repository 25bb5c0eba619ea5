"""Each credit names the sponsor's budget its points were drawn on.

The reference is checked with the others, a statement at a time (the trigger of 0006, now with
budgets), and a budget is never deleted: its deposits and draws are in the ledger.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

REFERENCES = importlib.import_module("carbonpoints.earn.migrations.0006_set_based_references")
CHECK_0006 = REFERENCES.FORWARD.split("CREATE TRIGGER")[0]
"""The function of 0006 that checks a statement's references."""

RAISE = "    IF FOUND THEN\n        RAISE EXCEPTION"
BUDGET_CHECK = """    IF NOT FOUND THEN
        SELECT 'budget' AS what, n.budget_id AS id INTO bad
            FROM (SELECT DISTINCT budget_id FROM new_records WHERE budget_id IS NOT NULL) n
            WHERE NOT EXISTS (SELECT 1 FROM budgets_budget b WHERE b.id = n.budget_id) LIMIT 1;
    END IF;
"""
assert RAISE in CHECK_0006

FORWARD = CHECK_0006.replace(RAISE, BUDGET_CHECK + RAISE) + """
CREATE TRIGGER earn_budget_kept BEFORE DELETE ON budgets_budget
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_delete();
"""

BACKWARD = "DROP TRIGGER IF EXISTS earn_budget_kept ON budgets_budget;"


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
        migrations.RunSQL([FORWARD], [BACKWARD, CHECK_0006]),
    ]
