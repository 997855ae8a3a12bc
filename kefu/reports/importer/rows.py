"""Plain-row inserts for the history import: a million rows without a million model
instances.

``bulk_create`` builds a model instance per row and compiles every value through the
field machinery; for an import of millions of rows that is most of the time spent. Here a
row is a tuple of database-ready values for named columns, every other column gets its
field's default, and the rows go to the database as PostgreSQL ``COPY`` (psycopg 3) or,
on other databases, one ``executemany`` of a single-row INSERT.

Only for fields whose value needs no per-instance work: no encrypted fields, no
``auto_now``; callers pass foreign keys as ids (``ticket_id``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

from django.db import connection, models

Convert = Callable[[Any], Any]


def _column_converter(field: models.Field[Any, Any]) -> Convert | None:
    """How a Python value of ``field`` becomes what the database driver takes."""
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    if isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
        zone = connection.timezone
        # SQLite's adapt_datetimefield_value inlined for aware values (the importer's are
        # all aware): naive in the connection's zone, as text. Millions of values.
        return lambda value: str(value.astimezone(zone).replace(tzinfo=None))
    if isinstance(field, models.DateTimeField) and connection.vendor != "postgresql":
        return connection.ops.adapt_datetimefield_value
    return None


def _json_converter(field: models.JSONField[Any, Any]) -> Convert:
    """Encodes each JSON value once per object: callers pass the same dict for the same
    content (e.g. every "created" event of a channel), and it is never changed meanwhile."""
    done: dict[int, tuple[Any, Any]] = {}

    def convert(value: Any) -> Any:
        hit = done.get(id(value))
        if hit is None or hit[0] is not value:
            hit = done[id(value)] = (value, field.get_db_prep_save(value, connection))
        return hit[1]

    return convert


def reserve_ids(model: type[models.Model], n: int) -> list[int] | None:
    """On PostgreSQL, ``n`` primary keys for rows about to be inserted, drawn from the
    table's sequence (so ``COPY`` can write them and no query has to read them back);
    None elsewhere."""
    if connection.vendor != "postgresql" or n == 0:
        return None
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, n],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` (tuples of Python values for ``columns``, attnames such as
    ``ticket_id``) into ``model``'s table; the primary key comes from the database unless
    it is one of the columns (:func:`reserve_ids`), every column not named gets its
    field's default."""
    pk = model._meta.pk
    assert pk is not None
    fields = {
        f.attname: f
        for f in model._meta.concrete_fields
        if not f.primary_key or f.attname in columns
    }
    unknown = set(columns) - set(fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
    rest = [f for name, f in fields.items() if name not in columns]
    for f in rest:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            raise ValueError(f"{model.__name__}.{f.name} needs a value (auto_now)")
    names = [*columns, *(f.attname for f in rest)]
    converters = [_column_converter(fields[name]) for name in names]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(fields[n].column) for n in names)
    width = len(columns)

    def prepared() -> Iterator[tuple[Any, ...]]:
        jobs = [(i, c) for i, c in enumerate(converters[:width]) if c is not None]
        for row in rows:
            if len(row) != width:
                raise ValueError(f"{model.__name__}: row has {len(row)} values, not {width}")
            if jobs:
                values = list(row)
                for i, convert in jobs:
                    if values[i] is not None:
                        values[i] = convert(values[i])
                yield (*values, *defaults)
            else:
                yield (*row, *defaults)

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in prepared():
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            # Table and column names come from the model, quoted; values are parameters.
            sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
            # Any iterable will do (Django's SQLite cursor peeks at it with itertools.tee).
            cursor.executemany(sql, cast(Any, prepared()))


# Django's SQLite backend assumes the historical limit of 999 parameters per statement.
_LOOKUP_CHUNK = 900


def ids_by_key(
    model: type[models.Model], client_id: int, column: str, keys: Sequence[str]
) -> dict[str, int]:
    """Primary keys of ``client_id``'s rows by a non-empty key column (e.g. the source
    system's ``external_id``), for the keys that exist. Plain SQL: the ORM's ``__in``
    costs more per value than the lookup itself, and the rows of a key column with a
    partial unique index (``NOT (key = '')``) are found through it. PostgreSQL takes every key in
    one array parameter (one statement, planned once); elsewhere in parts of 900 keys."""
    table = connection.ops.quote_name(model._meta.db_table)
    key_field, pk_field = model._meta.get_field(column), model._meta.pk
    assert isinstance(key_field, models.Field) and pk_field is not None
    key = connection.ops.quote_name(key_field.column)
    pk = connection.ops.quote_name(pk_field.column)
    # The condition written exactly as the partial index's own (Django's ~Q(key="")):
    # SQLite uses a partial index only for a query that repeats its WHERE term; with
    # ``key <> ''`` it took an index on client_id alone and read every row of the client.
    select = f"SELECT {key}, {pk} FROM {table} WHERE client_id = %s AND NOT ({key} = '')"  # noqa: S608
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if keys:
                cursor.execute(f"{select} AND {key} = ANY(%s)", [client_id, list(keys)])
                found.update(cursor.fetchall())
            return found
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            part = keys[start : start + _LOOKUP_CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"{select} AND {key} IN ({marks})", [client_id, *part])
            found.update(cursor.fetchall())
    return found
