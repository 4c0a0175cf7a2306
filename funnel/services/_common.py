"""Helpers the sections share: the conflict error every stale write raises, the
set-based ``INSERT … SELECT`` of the sweeps, and the bullet list of the digests."""

from django.db import connection
from django.db.models import Value
from django.utils.translation import gettext as _


class StaleWrite(Exception):
    """The customer changed since the caller looked (another person won the race): the
    write was not applied; reload and decide again. The API answers 409 Conflict."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _insert_from_select(model, queryset, columns: dict[str, object]) -> int:
    """``INSERT INTO model (columns) SELECT … ON CONFLICT DO NOTHING`` in one statement;
    returns the number of rows inserted. ``columns`` maps the target's field names to
    expressions over ``queryset``'s model. The unique constraints are the idempotency
    keys: rows that exist already are skipped by the database, not by Python."""
    columns = dict(columns)
    for model_field in model._meta.concrete_fields:  # the others get their defaults, as in save()
        if not model_field.primary_key and model_field.name not in columns:
            columns[model_field.name] = Value(model_field.get_default(), output_field=model_field)
    aliases = {f"insert_column_{index}": expression for index, expression in enumerate(columns.values())}
    select = queryset.order_by().annotate(**aliases).values(*aliases)
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    with connection.cursor() as cursor:
        # SQLite needs the SELECT's WHERE clause before ON CONFLICT (always present here).
        table = quote(model._meta.db_table)
        cursor.execute(f"INSERT INTO {table} ({names}) {sql} ON CONFLICT DO NOTHING", params)  # noqa: S608
        return max(cursor.rowcount, 0)


def _digest_body(lines: list[str], limit: int = 20) -> str:
    body = "\n".join(f"- {line}" for line in lines[:limit])
    if len(lines) > limit:
        body += "\n" + _("… and %(count)d more.") % {"count": len(lines) - limit}
    return body
