"""``redemption_no_unit()``: raised by a sale's statement that found no unit of stock.

A redemption whose statement carries its own ``COMMIT`` (``_redemption_write``) must not commit
the points it reserved when the stock is gone: the statement then fails, so the ``COMMIT`` after
it does not run and the transaction rolls back. A VOLATILE function, so the planner never
evaluates it ahead of the row it guards.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION redemption_no_unit() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION 'redemption_no_unit' USING ERRCODE = 'P0001';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("redemption", "0005_regions")]

    operations = [
        migrations.RunSQL(CREATE, "DROP FUNCTION IF EXISTS redemption_no_unit();"),
    ]
