"""Statements run on the driver's own cursor: the few that every reply and every message runs.

A Prepared statement is written in Core and compiled by SQLAlchemy once per dialect; each call
skips SQLAlchemy's per-execution work (cache key, events, result objects: docs/PERFORMANCE.md has
the figures). Its values still go through the columns' own bind processors and its results
through their result processors, so it stores and reads exactly what the ORM would. Rows come
back as named tuples (row.status), never to be read by position. It runs inside the SQLAlchemy
connection's transaction, and a driver error comes out as SQLAlchemy's (OperationalError,
IntegrityError), which is what callers catch.

Not for statements whose shape varies with their values (an IN list): those stay on Core.
The compiler attributes read here are SQLAlchemy internals: tests/test_prepared.py has a canary
for each, and pyproject.toml pins SQLAlchemy to the minor version tested.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import literal_column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.sql.visitors import replacement_traverse

_REQUIRED = object()
Processor = Callable[[Any], Any]
# A statement, or a function of the dialect's name that builds it (a dialect's own INSERT ... ON CONFLICT).
Statement = Executable | Callable[[str], Executable]


class _Form(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the bind parameters, in the driver's order
    defaults: dict[str, Any]  # the values of those not required
    take: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # a call's values, in that order
    processed: tuple[tuple[int, Processor], ...]  # (bind, bind processor) for the binds that have one
    # For each of those, the process's memo of its type (_memo_of): binds of one type share one, in
    # every statement (a reply's statements name the same instant many times over).
    memos: tuple[dict[Any, Any], ...]
    positional: bool
    # (column, result processor, the process's memo of its type) for the columns that have one
    results: tuple[tuple[int, Processor, dict[Any, Any]], ...]
    row: Any  # the named-tuple class of a fetched row (None: the statement fetches nothing)


def _taker(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    if not names:
        return lambda _params: ()
    if len(names) == 1:
        (name,) = names
        return lambda params: (params[name],)
    return itemgetter(*names)


def _constants_inline(statement: Executable, dialect: Dialect) -> Executable:
    """The statement's own constants ('pending', 'out', LIMIT 1) written into its SQL, not bound.

    SQLite plans around a bound value that a partial index's condition names (status = ?) by
    reading the value, and then prepares the statement again at every execution. Written inline,
    the condition is plain to both databases' planners."""

    def inline(element: Any, **_kw: Any) -> ClauseElement | None:
        if (
            isinstance(element, BindParameter)
            and not element.required
            and element.callable is None
            and type(element.value) in (str, int)
        ):
            render = element.type.literal_processor(dialect)
            if render is not None:
                return literal_column(render(element.value), element.type)
        return None

    inlined: Executable = replacement_traverse(statement, {}, inline)  # type: ignore[call-overload]
    return inlined


# What a bind processor made of a value, per process and per column type (and dialect): the same
# instants, dates and statuses are bound again and again, in one executemany and from one statement to
# the next. Keyed by the value's own class too, so that 1, True and 1.0 (equal, one hash) never share
# an entry, and an instant by its zone and fold (01:30 twice on a night the clocks go back is two
# instants that Python calls equal). Only classes whose equal values a processor treats alike are
# memoised: not float (0.0 == -0.0) nor Decimal (1.0 == 1.00), nor a subclass; the rest are processed
# each time, as are unhashable values.
MEMO_LIMIT = 4096  # entries per type: a full memo starts again empty
_MEMOISED = frozenset({str, int, bool, bytes, date})
_memos: dict[tuple[Any, ...], dict[Any, Any]] = {}
# What a read value may be to be handed to several callers: immutable.
_SHAREABLE = frozenset({str, int, bool, bytes, float, date, datetime, type(None)})


def _memo_of(kind: tuple[Any, ...]) -> dict[Any, Any]:
    return _memos.setdefault(kind, {})


def _row_class(names: Sequence[str]) -> Any:
    try:
        return namedtuple("Row", names)
    except ValueError:
        raise TypeError(f"result columns need distinct names (label them): {list(names)}") from None


class Prepared:
    def __init__(self, statement: Statement, *, keys: tuple[str, ...] | None = None):
        """`keys`: for an INSERT or UPDATE without .values(), the columns each call supplies."""
        self.statement, self.keys = statement, keys
        self._forms: dict[str, _Form] = {}

    def statement_for(self, dialect: str) -> Executable:
        return self.statement if isinstance(self.statement, Executable) else self.statement(dialect)

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _Form:
        original = self.statement_for(dialect.name)
        statement = _constants_inline(original, dialect)
        compiled: Any = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=list(self.keys) if self.keys else None
        )
        if "__[POSTCOMPILE" in compiled.string:
            raise TypeError(f"an IN list or expanding parameter cannot be prepared: {original}")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise TypeError("a column default would be skipped: name every column in `keys`")
        if getattr(compiled, "escaped_bind_names", None):
            raise TypeError(
                f"parameter names the driver cannot take as they are: {compiled.escaped_bind_names}"
            )
        names = compiled.positiontup if dialect.positional else list(compiled.params)  # a name may repeat
        described = {}
        for name in dict.fromkeys(names):
            bind = compiled.binds[name]
            default = _REQUIRED if bind.required else bind.effective_value
            described[name] = (name, default, bind.type.dialect_impl(dialect).bind_processor(dialect))
        ordered = tuple(described[n] for n in names)
        columns = list(getattr(original, "exported_columns", ()))
        impls = [c.type.dialect_impl(dialect) for c in columns]
        results = tuple(
            (i, p, _memo_of(("result", dialect.name, dialect.driver, type(t), repr(t))))
            for i, (t, p) in enumerate((t, t.result_processor(dialect, None)) for t in impls)
            if p is not None
        )
        # An unnamed expression (min(...)) is read as row[0] by scalar(); the rest go by name.
        row = _row_class([c.key or f"column{i}" for i, c in enumerate(columns)]) if columns else None
        bind_names = tuple(name for name, _, _ in ordered)
        processed = tuple((i, process) for i, (_, _, process) in enumerate(ordered) if process is not None)
        types = (compiled.binds[bind_names[i]].type.dialect_impl(dialect) for i, _ in processed)
        kinds = [(dialect.name, dialect.driver, type(t), repr(t)) for t in types]
        return _Form(
            sql=compiled.string,
            names=bind_names,
            defaults={name: default for name, default, _ in ordered if default is not _REQUIRED},
            take=_taker(bind_names),
            processed=processed,
            memos=tuple(_memo_of(kind) for kind in kinds),
            positional=dialect.positional,
            results=results,
            row=row,
        )

    @staticmethod
    def _values(
        form: _Form, rows: Sequence[Mapping[str, Any]], common: Mapping[str, Any]
    ) -> list[tuple[Any, ...] | dict[str, Any]]:
        base = {**form.defaults, **common} if common else form.defaults
        if base and form.processed:
            # Values every row shares (defaults, `common`) go through their bind processor once.
            base = dict(base)
            for i, process in form.processed:
                name = form.names[i]
                if base.get(name) is not None:
                    base[name] = process(base[name])
        # Rows of one executemany repeat the same instants and dates many times over, one row often
        # names one instant in several columns, and one reply's statements all name its instant: each
        # distinct value of a type goes through its bind processor once (_memos).
        shape: Any = None
        mine: list[tuple[int, Processor, dict[Any, Any]]] = []
        out: list[tuple[Any, ...] | dict[str, Any]] = []
        for params in rows:
            try:
                values: Any = form.take({**base, **params} if base else params)
            except KeyError as exc:
                raise TypeError(f"no value for {exc.args[0]!r} in {form.sql!r}") from None
            if form.processed:
                if params.keys() != shape:  # the binds this row supplies itself (rows share a shape)
                    shape = params.keys()
                    mine = [
                        (i, process, memo)
                        for (i, process), memo in zip(form.processed, form.memos)
                        if form.names[i] in shape
                    ]
                values = list(values)
                for i, process, memo in mine:
                    value = values[i]
                    if value is None:
                        continue
                    kind = value.__class__
                    if kind is datetime:
                        key: Any = (kind, value, value.tzinfo, value.fold)
                    elif kind in _MEMOISED:
                        key = (kind, value)
                    else:
                        values[i] = process(value)
                        continue
                    try:
                        values[i] = memo[key]
                    except KeyError:
                        if len(memo) >= MEMO_LIMIT:
                            memo.clear()
                        values[i] = memo[key] = process(value)
            out.append(tuple(values) if form.positional else dict(zip(form.names, values)))
        return out

    def _execute(
        self,
        connection: Connection,
        rows: Sequence[Mapping[str, Any]],
        fetch: bool,
        common: Mapping[str, Any] | None = None,
    ) -> Any:
        """The rows fetched, or without `fetch` the number of rows changed."""
        if not connection.in_transaction():
            connection.begin()  # what Core's autobegin would do: the "begin" event runs BEGIN IMMEDIATE
        dialect = connection.dialect
        form = self._form(dialect)
        values = self._values(form, rows, common or {})
        cursor: Any = connection.connection.cursor()
        try:
            if len(values) == 1:
                cursor.execute(form.sql, values[0])
            else:
                cursor.executemany(form.sql, values)
            fetched = cursor.fetchall() if fetch else cursor.rowcount
        except dialect.loaded_dbapi.Error as exc:
            invalidated = dialect.is_disconnect(exc, connection.connection, cursor)
            if invalidated:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                form.sql,
                None,
                exc,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=invalidated,
                dialect=dialect,
            ) from exc
        finally:
            cursor.close()
        if not fetch:
            return fetched
        make = form.row._make
        if not form.results:
            return [make(row) for row in fetched]
        processed = []
        for row in fetched:
            row = list(row)
            for i, process, memo in form.results:  # what the driver returns, read as binds are (_memos)
                value = row[i]
                kind = value.__class__
                if kind not in _MEMOISED:  # None too: a processor may read NULL as something else
                    row[i] = process(value)
                    continue
                key = (kind, value)
                try:
                    row[i] = memo[key]
                except KeyError:
                    row[i] = read = process(value)
                    if read.__class__ in _SHAREABLE:  # not a JSON column's dict: each caller its own
                        if len(memo) >= MEMO_LIMIT:
                            memo.clear()
                        memo[key] = read
            processed.append(make(row))
        return processed

    def rows(self, connection: Connection, **params: Any) -> list[Any]:
        """Named tuples, one per row: row.id, row.status."""
        return self._execute(connection, [params], fetch=True)  # type: ignore[no-any-return]

    def first(self, connection: Connection, **params: Any) -> Any | None:
        rows = self.rows(connection, **params)
        return rows[0] if rows else None

    def scalar(self, connection: Connection, **params: Any) -> Any:
        row = self.first(connection, **params)
        return row[0] if row else None

    def run(self, connection: Connection, **params: Any) -> int:
        """Returns the number of rows changed."""
        return self._execute(connection, [params], fetch=False)  # type: ignore[no-any-return]

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]], **common: Any) -> None:
        """One executemany; `common`: values shared by every row (a row's own value wins)."""
        if rows:  # an empty executemany would still run the statement once
            self._execute(connection, rows, fetch=False, common=common)
