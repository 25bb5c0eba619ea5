"""``field__any=[...]``: membership in a list passed as one array parameter.

``field__in=[...]`` puts one placeholder per value into the SQL; with the thousands of ids a
pipeline chunk asks about, formatting and parsing those placeholders cost more than the query
(psycopg splits the statement on every ``%s``). On PostgreSQL ``= ANY(%s)`` sends the list as
one array; elsewhere the lookup falls back to ``IN``.
"""

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class Any(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(v, connection) for v in self.rhs if v is not None]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


Field.register_lookup(Any)
ForeignObject.register_lookup(Any)  # related fields keep lookups of their own
