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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]  # not in the stubs
    ModelIterable,
    get_related_populators,
)
from django.db.models.sql.compiler import SQLCompiler

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


class PreparedQuery(Generic[M]):
    """A queryset built by ``build``, compiled once per (shape, database)."""

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
        for row in compiled.compiler.results_iter([rows]):
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
        compiled = self._compiled.get(shape)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(shape)
                if compiled is None:
                    marks = [_mark(i, value) for i, value in enumerate(args)]
                    qs = self._build(*marks) if shape is None else self._build(*marks, shape=shape)
                    compiled = self._compiled[shape] = _compile(qs, marks)
        return compiled


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
    klass_info = compiler.klass_info
    assert klass_info is not None
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    return _Compiled(
        sql=sql,
        slots=tuple(slots),
        compiler=compiler,
        model=klass_info["model"],
        init_list=tuple(f[0].target.attname for f in compiler.select[start:end]),
        fields_start=start,
        fields_end=end,
        populators=tuple(get_related_populators(klass_info, compiler.select, qs.db)),
        annotations=tuple((compiler.annotation_col_map or {}).items()),
    )
