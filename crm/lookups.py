"""``name__bigram``: a two-character name search that uses an index on PostgreSQL."""

from django.db.models import Lookup
from django.db.models.lookups import IContains


class HasBigram(Lookup):
    """The name contains the two characters given, in any case (as ``icontains``).

    A trigram index cannot serve a text shorter than a trigram, and a Chinese name is
    often two characters (林军). On PostgreSQL this asks the bigram GIN index of crm
    migration 0017 (``crm_name_bigrams(name)``: a name's upper-cased two-character
    pieces); elsewhere it is an ``icontains``.
    """

    lookup_name = "bigram"

    def as_sql(self, compiler, connection):
        return IContains(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"crm_name_bigrams({lhs_sql}) @> ARRAY[UPPER({rhs_sql})]::text[]", (*lhs_params, *rhs_params)
