"""Set-based writing of many rows, for imports and generated data."""

import csv
import io
import sqlite3

from django.db import connections, models


class TableWriter:
    """Writes plain rows into a model's table, set-based: what ``bulk_create`` does,
    without building a model instance per row (several times less Python per row).

    Rows are dicts by attname (``owner_id``); columns a row leaves out take the field's
    default. Nothing runs ``save()``, so normalized columns must be in the rows.
    PostgreSQL gets ``COPY … FROM STDIN`` (ids drawn from the table's sequence first),
    a fraction of the server work of INSERT; other databases get multi-row INSERTs.
    """

    def __init__(self, model: type[models.Model], *, batch_size: int = 5000, using: str = "default"):
        self.connection = connection = connections[using]
        self.copy = connection.vendor == "postgresql"
        quote = connection.ops.quote_name
        self.table, self.pk_column = model._meta.db_table, model._meta.pk.column
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        self.attnames = [field.attname for field in fields]
        self.defaults = {field.attname: field.get_default() for field in fields}
        # Only quoted identifiers from the model's metadata go into the SQL; values are parameters.
        self.columns = [quote(field.column) for field in fields]
        # In COPY's CSV format an empty unquoted value is NULL, except in these columns.
        self.not_null_text = [
            quote(field.column)
            for field in fields
            if isinstance(field, models.CharField | models.TextField) and not field.null
        ]
        self.head = f"INSERT INTO {quote(self.table)} ({', '.join(self.columns)}) VALUES "  # noqa: S608
        self.placeholder = f"({', '.join(['%s'] * len(fields))})"
        self.returning = f" RETURNING {quote(self.pk_column)}"
        largest = connection.ops.bulk_batch_size(fields, [None] * batch_size)
        if connection.vendor == "sqlite":  # Django assumes 999 parameters; SQLite ≥ 3.32 takes 32,766
            connection.ensure_connection()
            limit = getattr(connection.connection, "getlimit", None)
            if limit is not None:
                largest = limit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(fields)
        self.per_statement = max(1, min(batch_size, largest))
        # SQLite stores datetimes (naive UTC) and times as text: adapt them as Django would.
        self.adapters = (
            []
            if connection.vendor != "sqlite"
            else [
                (
                    i,
                    connection.ops.adapt_datetimefield_value
                    if isinstance(field, models.DateTimeField)
                    else connection.ops.adapt_timefield_value,
                )
                for i, field in enumerate(fields)
                if isinstance(field, models.DateTimeField | models.TimeField)
            ]
        )

    def _values(self, row: dict) -> list:
        defaults = self.defaults
        return [row[name] if name in row else defaults[name] for name in self.attnames]

    def insert(self, rows: list[dict], *, returning: bool = False) -> list[int]:
        """Insert ``rows``; with ``returning`` the new primary keys, in the rows' order."""
        if not rows:
            return []
        if self.copy:
            return self._copy(rows, returning)
        ids: list[int] = []
        # The driver's cursor: with DEBUG on, Django's would also log (and on SQLite quote)
        # every one of these huge statements.
        with self.connection.cursor() as wrapper:
            cursor = wrapper.cursor
            for start in range(0, len(rows), self.per_statement):
                chunk = rows[start : start + self.per_statement]
                params: list = []
                for row in chunk:
                    values = self._values(row)
                    for i, adapt in self.adapters:
                        values[i] = adapt(values[i])
                    params += values
                sql = self.head + ", ".join([self.placeholder] * len(chunk))
                if returning:
                    cursor.execute(sql + self.returning, params)
                    ids += [row[0] for row in cursor.fetchall()]
                else:
                    cursor.execute(sql, params)
        return ids

    def _copy(self, rows: list[dict], returning: bool) -> list[int]:
        quote = self.connection.ops.quote_name
        columns = self.columns
        with self.connection.cursor() as cursor:
            ids: list[int] = []
            if returning:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [quote(self.table), self.pk_column, len(rows)],
                )
                ids = [row[0] for row in cursor.fetchall()]
                columns = [quote(self.pk_column), *columns]
            # CSV, quoted in C by the csv module: None is written empty, which COPY reads as
            # NULL, except in NOT NULL text columns, where it is the empty string.
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            if returning:
                writer.writerows([pk, *self._values(row)] for pk, row in zip(ids, rows, strict=True))
            else:
                writer.writerows(self._values(row) for row in rows)
            buffer.seek(0)
            options = "FORMAT csv"
            if self.not_null_text:
                options += f", FORCE_NOT_NULL ({', '.join(self.not_null_text)})"
            sql = f"COPY {quote(self.table)} ({', '.join(columns)}) FROM STDIN WITH ({options})"
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())
        return ids
