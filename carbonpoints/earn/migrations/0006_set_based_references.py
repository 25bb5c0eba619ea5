"""Action records' references checked a statement at a time, not a row at a time.

Django's foreign keys made PostgreSQL check each record's partner, batch, citizen, methodology
and conversion rule one by one at commit: five lookups and row locks per record, a cost of the
order of the insert itself (the ledger's postings showed the same, ledger 0005). Instead:

- a statement-level trigger checks, with one join per statement, that the references of every
  inserted or updated record exist;
- the rows referred to cannot be deleted while a record refers to them (partners, batches and
  carbon accounts, looked up by the indexes that lead with them); methodology versions and
  conversion rules, which are published, cannot be deleted at all: they are retired.
The two indexes that served only those foreign keys (methodology, conversion rule) are dropped:
each cost an index write per record.
"""

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
    IF FOUND THEN
        RAISE EXCEPTION 'an action record refers to a missing % (%)', bad.what, bad.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER earn_record_references_inserted AFTER INSERT ON earn_actionrecord
    REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION earn_check_record_references();
CREATE TRIGGER earn_record_references_updated AFTER UPDATE ON earn_actionrecord
    REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION earn_check_record_references();

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
        referred := EXISTS (SELECT 1 FROM earn_actionrecord WHERE account_id = OLD.id);
    END IF;
    IF referred THEN
        RAISE EXCEPTION '% % is referred to by action records', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN OLD;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION earn_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are published and kept: retire them instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER earn_partner_kept BEFORE DELETE ON earn_partner
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_referenced_delete();
CREATE TRIGGER earn_batch_kept BEFORE DELETE ON earn_batch
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_referenced_delete();
CREATE TRIGGER earn_carbon_account_kept BEFORE DELETE ON accounts_carbonaccount
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_referenced_delete();
CREATE TRIGGER earn_methodology_kept BEFORE DELETE ON methodologies_methodology
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_delete();
CREATE TRIGGER earn_conversion_rule_kept BEFORE DELETE ON methodologies_conversionrule
    FOR EACH ROW EXECUTE FUNCTION earn_refuse_delete();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS earn_record_references_inserted ON earn_actionrecord;
DROP TRIGGER IF EXISTS earn_record_references_updated ON earn_actionrecord;
DROP TRIGGER IF EXISTS earn_partner_kept ON earn_partner;
DROP TRIGGER IF EXISTS earn_batch_kept ON earn_batch;
DROP TRIGGER IF EXISTS earn_carbon_account_kept ON accounts_carbonaccount;
DROP TRIGGER IF EXISTS earn_methodology_kept ON methodologies_methodology;
DROP TRIGGER IF EXISTS earn_conversion_rule_kept ON methodologies_conversionrule;
DROP FUNCTION IF EXISTS earn_check_record_references();
DROP FUNCTION IF EXISTS earn_refuse_referenced_delete();
DROP FUNCTION IF EXISTS earn_refuse_delete();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_merge_0002_citizen_rank_0002_identitylink'),
        ('earn', '0005_cap_usage'),
        ('methodologies', '0002_catalogue_v1'),
    ]

    operations = [
        migrations.AlterField(
            model_name='actionrecord',
            name='account',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='actions', to='accounts.carbonaccount', verbose_name='citizen account'),
        ),
        migrations.AlterField(
            model_name='actionrecord',
            name='batch',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='records', to='earn.batch'),
        ),
        migrations.AlterField(
            model_name='actionrecord',
            name='conversion_rule',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='methodologies.conversionrule'),
        ),
        migrations.AlterField(
            model_name='actionrecord',
            name='methodology',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='methodologies.methodology'),
        ),
        migrations.AlterField(
            model_name='actionrecord',
            name='partner',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='records', to='earn.partner'),
        ),
        migrations.RunSQL([FORWARD], [BACKWARD]),
    ]
