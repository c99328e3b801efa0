"""The `message` table as every room of the outbox names it, and the two SQL helpers they share."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Result
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from ..models import Message, table_of

_T = table_of(Message)
M = _T.c


def _not_indexed(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The column, in a form SQLite will not answer from an index: its documented unary `+`
    (sqlite.org/optoverview.html, "Disqualifying WHERE Clause Terms"). PostgreSQL's planner weighs
    the index by its statistics and does not need telling."""
    if dialect != "sqlite":
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE changed (a CursorResult's; Session.execute types it as a Result)."""
    return int(result.rowcount)  # type: ignore[attr-defined]
