"""Statements run on the driver's own cursor: for the few that every reply and every message runs.

SQLAlchemy's execution path (cache key, parameter and result processing, events, result objects)
cost several times what SQLite took to run these statements: a simple indexed SELECT took 21 µs
through Core and 2 µs on the sqlite3 cursor. A Prepared statement is still SQLAlchemy's: written
in Core, compiled by SQLAlchemy once per dialect, its values passed through the columns' own bind
processors and its results through their result processors, so it stores and reads exactly what
the ORM would. It runs inside the SQLAlchemy connection's transaction, and a driver error comes out
as SQLAlchemy's (OperationalError, IntegrityError), which is what callers catch.

Not for statements whose shape varies with their values (an IN list): those stay on Core.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import literal_column
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

_REQUIRED = object()


class _Form(NamedTuple):
    sql: str
    binds: tuple[tuple[str, Any, Any], ...]  # (name, default or _REQUIRED, bind processor or None)
    positional: bool
    results: tuple[tuple[int, Any], ...]  # (column, result processor) for the columns that have one


def _constants_inline(statement: Executable, dialect: Dialect) -> Executable:
    """The statement's own constants ('pending', 'out', LIMIT 1) written into its SQL, not bound.

    SQLite plans around a bound value that a partial index's condition names (status = ?) by
    reading the value, and then prepares the statement again at every execution: 35 us on each
    reading's INSERT. Written inline, the condition is plain to both databases' planners."""

    def inline(element):
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

    return replacement_traverse(statement, {}, inline)


class Prepared:
    def __init__(self, statement: Executable, *, keys: tuple[str, ...] | None = None):
        """`keys`: for an INSERT or UPDATE without .values(), the columns each call supplies."""
        self.statement, self.keys = statement, keys
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _Form:
        statement = _constants_inline(self.statement, dialect)
        compiled = statement.compile(dialect=dialect, column_keys=list(self.keys) if self.keys else None)
        if "__[POSTCOMPILE" in compiled.string:
            raise TypeError(f"an IN list or expanding parameter cannot be prepared: {self.statement}")
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
        columns = getattr(self.statement, "exported_columns", ())
        processors = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        results = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        return _Form(compiled.string, ordered, dialect.positional, results)

    def _values(self, form: _Form, params: dict) -> tuple | dict:
        values = []
        for name, default, process in form.binds:
            value = params.get(name, default)
            if value is _REQUIRED:
                raise TypeError(f"no value for {name!r} in {form.sql!r}")
            values.append(process(value) if process is not None and value is not None else value)
        return tuple(values) if form.positional else {b[0]: v for b, v in zip(form.binds, values)}

    def _execute(self, connection: Connection, rows: list[dict], fetch: bool) -> list[tuple] | int:
        """The rows fetched, or without `fetch` the number of rows changed."""
        if not connection.in_transaction():
            connection.begin()  # what Core's autobegin would do: the "begin" event runs BEGIN IMMEDIATE
        dialect = connection.dialect
        form = self._form(dialect)
        values = [self._values(form, row) for row in rows]
        cursor = connection.connection.cursor()
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
        if not fetch or not form.results:
            return fetched
        processed = []
        for row in fetched:
            row = list(row)
            for i, process in form.results:  # SQLAlchemy's processors take None themselves
                row[i] = process(row[i])
            processed.append(tuple(row))
        return processed

    def rows(self, connection: Connection, **params) -> list[tuple]:
        return self._execute(connection, [params], fetch=True)

    def first(self, connection: Connection, **params) -> tuple | None:
        rows = self.rows(connection, **params)
        return rows[0] if rows else None

    def scalar(self, connection: Connection, **params) -> Any:
        row = self.first(connection, **params)
        return row[0] if row else None

    def run(self, connection: Connection, **params) -> int:
        """Returns the number of rows changed."""
        return self._execute(connection, [params], fetch=False)

    def run_many(self, connection: Connection, rows: list[dict]) -> None:
        if rows:  # an empty executemany would still run the statement once
            self._execute(connection, rows, fetch=False)
