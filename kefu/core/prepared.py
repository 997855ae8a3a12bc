"""Querysets turned into SQL once per process, then run again with other values.

Building the SQL of a queryset (resolving lookups and joins, choosing columns, quoting)
costs more CPU than running it for the small look-ups every API request makes: the token,
the client, the customer, the SLA targets. A :class:`PreparedQuery` keeps the SQL the ORM
wrote the first time (for the database the queryset was routed to then), with the
positions of its arguments, and afterwards only executes it and turns the rows into model
instances the way a queryset does (the same converters, the same ``select_related``
objects). On PostgreSQL the unchanged SQL text also lets psycopg prepare the statement on
its connection (``prepare_threshold`` in ``kefu/settings.py``).

The contract: ``build(*args)`` returns a queryset whose SQL does not depend on the values
of ``args``, only on their positions. Arguments are scalars (``str`` or ``int``) compared
as they are (``exact`` lookups, ``in`` with a fixed number of values); a query that alters
an argument (``icontains``, ``iexact``) or drops it is refused when it is first compiled.
When the shape of the query depends on something else (which contact details a customer
look-up has), pass that as ``shape``: ``build`` receives it as its ``shape`` keyword, and one
SQL text is kept per shape.

:class:`PreparedInsert` does the same for the INSERT of a new instance (a ticket, its
messages, its history, a new customer and its identifiers): the SQL once per model, the
values prepared per call exactly as ``save()`` prepares them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Model, QuerySet, signals
from django.db.models.constants import OnConflict
from django.db.models.query import (  # type: ignore[attr-defined]  # not in the stubs
    ModelIterable,
    get_related_populators,
)
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
from django.db.models.sql.subqueries import InsertQuery

M = TypeVar("M", bound=Model)

# Stand-ins for the arguments while the ORM writes the SQL: values no real argument takes,
# found again among the compiled parameters. Integers stay inside a 32-bit column's range,
# or Django would compile an out-of-range comparison into "matches nothing".
_INT_MARK = 2_000_000_000
_STR_MARK = "\x00kefu-prepared-{}\x00"


class PreparedQueryError(Exception):
    """The queryset cannot be reused with other values (see the module's contract)."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each parameter of ``sql``: ("arg", index) or ("const", value).
    slots: tuple[tuple[str, Any], ...]
    compiler: SQLCompiler
    # Per column position: the converters a queryset would run on it (found once).
    converters: dict[int, tuple[list[Any], Any]]
    model: type[Model]
    init_list: tuple[str, ...]
    fields_start: int
    fields_end: int
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]

    def params(self, args: Sequence[Any]) -> list[Any]:
        return [args[value] if kind == "arg" else value for kind, value in self.slots]


def _mark(index: int, value: object) -> object:
    return _STR_MARK.format(index) if isinstance(value, str) else _INT_MARK + index


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _once(cache: dict[K, V], lock: threading.Lock, key: K, make: Callable[[], V]) -> V:
    """``cache[key]``, made by ``make()`` the first time, by one thread only."""
    if key not in cache:
        with lock:
            if key not in cache:
                cache[key] = make()
    return cache[key]


class PreparedQuery(Generic[M]):
    """A queryset built by ``build``, compiled once per shape (on the database the queryset
    was routed to the first time)."""

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self._build = build
        self._compiled: dict[Hashable, _Compiled] = {}
        self._lock = threading.Lock()

    def all(self, *args: str | int, shape: Hashable = None) -> list[M]:
        """The instances the queryset ``build(*args)`` would give, in its order."""
        compiled = self._compiled_for(args, shape)
        db: str = compiled.compiler.using or "default"
        with connections[db].cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(args))
            rows = cursor.fetchall()
        out: list[M] = []
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        for row in rows:
            obj = compiled.model.from_db(
                db, list(compiled.init_list), row[compiled.fields_start : compiled.fields_end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            out.append(obj)  # type: ignore[arg-type]
        return out

    def first(self, *args: str | int, shape: Hashable = None) -> M | None:
        """The first instance, or ``None``: put the ``[:1]`` (and its order) in ``build``."""
        found = self.all(*args, shape=shape)
        return found[0] if found else None

    def _compiled_for(self, args: Sequence[object], shape: Hashable) -> _Compiled:
        for i, value in enumerate(args):
            # None would need "IS NULL", a different SQL text: refused, as any other type.
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise PreparedQueryError(
                    f"argument {i}: only str and int can be prepared, not {type(value).__name__}"
                )

        def make() -> _Compiled:
            marks = [_mark(i, value) for i, value in enumerate(args)]
            qs = self._build(*marks) if shape is None else self._build(*marks, shape=shape)
            return _compile(qs, marks)

        return _once(self._compiled, self._lock, shape, make)


def _compile(qs: QuerySet[Any], marks: Sequence[object]) -> _Compiled:
    plain = qs._iterable_class is ModelIterable
    extra: Any = qs  # the queryset's private state, which the stubs do not describe
    if not plain or extra._known_related_objects or extra._prefetch_related_lookups:
        raise PreparedQueryError("only plain model querysets can be prepared")
    compiler = qs.query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    where = {mark: i for i, mark in enumerate(marks)}
    slots: list[tuple[str, Any]] = []
    for value in params:
        if type(value) in (str, int) and value in where:
            slots.append(("arg", where[value]))
        else:
            slots.append(("const", value))
    used = {index for kind, index in slots if kind == "arg"}
    missing = sorted(set(range(len(marks))) - used)
    if missing:
        raise PreparedQueryError(
            f"argument(s) {missing} do not reach the SQL unchanged; this queryset cannot be "
            "prepared"
        )
    columns = [s[0] for s in compiler.select[: compiler.col_count]]
    if compiler.has_composite_fields(columns):
        raise PreparedQueryError("composite keys are not supported")
    klass_info = compiler.klass_info
    assert klass_info is not None
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    return _Compiled(
        sql=sql,
        slots=tuple(slots),
        compiler=compiler,
        converters=compiler.get_converters(columns),
        model=klass_info["model"],
        init_list=tuple(f[0].target.attname for f in compiler.select[start:end]),
        fields_start=start,
        fields_end=end,
        populators=tuple(get_related_populators(klass_info, compiler.select, qs.db)),
        annotations=tuple((compiler.annotation_col_map or {}).items()),
    )


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    compiler: SQLInsertCompiler
    returning_fields: tuple[Any, ...]
    returning_params: tuple[Any, ...]
    returning_converters: dict[int, tuple[list[Any], Any]]


class PreparedInsert(Generic[M]):
    """``model.objects.create(**values)`` and ``bulk_create(objs)`` with the INSERT written
    once per database (and per number of rows).

    The values are prepared for the database as ``save()`` prepares them (each field's
    ``pre_save`` and ``get_db_prep_save``: encryption, JSON, time zones), the returned
    columns (the new ids) are set on the instances, and their state is that of saved ones.
    Whenever Django would do more than one plain INSERT — a model with ``pre_save`` or
    ``post_save`` receivers (for :meth:`insert`), a parent model, an explicit primary key, a
    value that is an SQL expression — ``save()`` or ``bulk_create()`` is simply called
    instead.

    ``ignore_conflicts=True`` is ``bulk_create(objs, ignore_conflicts=True)``: a row that
    would break a unique constraint is skipped, and, as there, the objects get no ids and
    keep their unsaved state; for :meth:`insert_many` only.
    """

    MAX_ROWS = 16  # one SQL text is kept per number of rows, up to this many

    def __init__(self, model: type[M], *, ignore_conflicts: bool = False) -> None:
        self._model = model
        self._ignore_conflicts = ignore_conflicts
        # None: this database cannot take it this way (decided once per key).
        self._compiled: dict[tuple[str, int], _CompiledInsert | None] = {}
        self._lock = threading.Lock()
        meta = model._meta
        self._fields = tuple(
            f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
        )
        self._plain_model = (
            not meta.parents
            and not meta.order_with_respect_to
            and meta.auto_field is not None
            and not any(getattr(f, "get_placeholder", None) for f in self._fields)
        )

    def create(self, **values: Any) -> M:
        return self.insert(self._model(**values))

    def insert(self, obj: M) -> M:
        """Insert ``obj``, a new instance of the model, as ``obj.save()`` would."""
        if self._ignore_conflicts:
            raise TypeError("save() has no ignore_conflicts: use insert_many")
        listened = signals.pre_save.has_listeners(self._model) or signals.post_save.has_listeners(
            self._model
        )
        if listened or not self._write([obj]):
            obj.save(force_insert=True)
        return obj

    def insert_many(self, objs: list[M]) -> list[M]:
        """Insert new instances in one statement, as ``bulk_create(objs)`` would (which
        sends no signals either). Meant for the few rows one request writes (a ticket's
        clocks); more than ``MAX_ROWS`` go to ``bulk_create``."""
        if len(objs) > self.MAX_ROWS or (objs and not self._write(objs)):
            self._model._default_manager.bulk_create(objs, ignore_conflicts=self._ignore_conflicts)
        return objs

    def _write(self, objs: list[M]) -> bool:
        """One INSERT … RETURNING for ``objs``; False (nothing written) when Django's own
        path is needed."""
        if not self._plain_model or any(obj.pk is not None for obj in objs):
            return False
        db = router.db_for_write(self._model, instance=objs[0])
        compiled = self._compiled_for(db, len(objs))
        if compiled is None:
            return False
        connection = connections[db]
        rows_in: list[list[Any]] = []
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
            row_in = []
            for field in self._fields:
                value = field.pre_save(obj, True)
                if hasattr(value, "resolve_expression"):  # an SQL expression: its own SQL
                    return False
                row_in.append(field.get_db_prep_save(value, connection=connection))
            rows_in.append(row_in)
        params = [value for row_in in rows_in for value in row_in]
        with transaction.mark_for_rollback_on_error(db), connection.cursor() as cursor:
            cursor.execute(compiled.sql, [*params, *compiled.returning_params])
            if not compiled.returning_fields:
                return True  # ignore_conflicts: bulk_create neither sets ids nor marks saved
            rows: Any = cursor.fetchall()
        if compiled.returning_converters:
            rows = compiled.compiler.apply_converters(rows, compiled.returning_converters)
        for obj, row in zip(objs, rows, strict=True):
            for value, field in zip(row, compiled.returning_fields, strict=True):
                setattr(obj, field.attname, value)
            obj._state.db = db
            obj._state.adding = False
        return True

    def _compiled_for(self, db: str, n: int) -> _CompiledInsert | None:
        return _once(self._compiled, self._lock, (db, n), lambda: self._compile(db, n))

    def _compile(self, db: str, n: int) -> _CompiledInsert | None:
        """The SQL Django writes for ``n`` new rows, from blank instances: the SQL depends
        on the fields and the number of rows, not on the values (and the caller's objects
        are not touched by the ORM's own ``pre_save`` calls)."""
        features = connections[db].features
        if not features.can_return_rows_from_bulk_insert or (
            self._ignore_conflicts and not features.supports_ignore_conflicts
        ):
            return None
        meta = self._model._meta
        query = InsertQuery(
            self._model, on_conflict=OnConflict.IGNORE if self._ignore_conflicts else None
        )
        query.insert_values(self._fields, [self._model() for _ in range(n)])
        compiler = query.get_compiler(using=db)
        # Row after row (VALUES), also on PostgreSQL, whose compiler would write several rows
        # as UNNEST over one array per column: that spares the planning of a long statement,
        # which a prepared statement is spared anyway, and costs psycopg more to send (each
        # array's type is worked out from its values on every call).
        compiler.assemble_as_sql = partial(SQLInsertCompiler.assemble_as_sql, compiler)
        returning = () if self._ignore_conflicts else tuple(meta.db_returning_fields)
        compiler.returning_fields = returning
        statements = compiler.as_sql()
        if len(statements) != 1:
            return None
        [(sql, params)] = statements
        values = params[: len(params) - len(compiler.returning_params)]
        if len(values) != len(self._fields) * n or any(hasattr(v, "as_sql") for v in values):
            return None
        return _CompiledInsert(
            sql=sql,
            compiler=compiler,
            returning_fields=returning,
            returning_params=tuple(compiler.returning_params),
            returning_converters=compiler.get_converters(
                [f.get_col(meta.db_table) for f in returning]
            ),
        )


class PreparedUpdate(Generic[M]):
    """``obj.save(update_fields=fields)`` for a saved instance, with the UPDATE written once
    per database: each field's value prepared as ``save()`` prepares it (``pre_save``, so
    ``auto_now`` too, and ``get_db_prep_save``), and ``DatabaseError`` when no row was
    updated, as there. A model with ``pre_save`` or ``post_save`` receivers is simply
    saved."""

    def __init__(self, model: type[M], fields: Sequence[str]) -> None:
        self._model = model
        meta = model._meta
        self._fields = tuple(meta.get_field(name) for name in fields)
        self._names = list(fields)
        self._sql: dict[str, str] = {}

    def update(self, obj: M) -> None:
        listened = signals.pre_save.has_listeners(self._model) or signals.post_save.has_listeners(
            self._model
        )
        if listened or obj.pk is None:
            obj.save(update_fields=self._names)
            return
        db = router.db_for_write(self._model, instance=obj)
        connection = connections[db]
        sql = self._sql.get(db)
        if sql is None:
            # Only the model's own (quoted) table and column names go into the text.
            quote = connection.ops.quote_name
            meta = self._model._meta
            assert meta.pk is not None
            columns = ", ".join(f"{quote(str(f.column))} = %s" for f in self._fields)  # type: ignore[union-attr]
            table, key = quote(meta.db_table), quote(str(meta.pk.column))
            sql = f"UPDATE {table} SET {columns} WHERE {key} = %s"  # noqa: S608
            self._sql[db] = sql
        values = [
            f.get_db_prep_save(f.pre_save(obj, False), connection=connection)  # type: ignore[union-attr]
            for f in self._fields
        ]
        with transaction.mark_for_rollback_on_error(db), connection.cursor() as cursor:
            cursor.execute(sql, [*values, obj.pk])
            if cursor.rowcount == 0:
                raise DatabaseError("Save with update_fields did not affect any rows.")
        obj._state.db = db
