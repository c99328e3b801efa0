"""Engine and sessions.

SQLite: WAL (readers never block the writer), a busy timeout, foreign keys, and BEGIN IMMEDIATE for
every transaction, so two processes queue for the write lock instead of failing half-way with
"database is locked" on a read-to-write upgrade. PostgreSQL: psycopg 3 with pre-ping and a connect
timeout; a bounded engine (the webhook's) also has statement and lock timeouts, and connections that
another thread can cut (see `Cutter`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from .errors import FollowupError
from .fairlock import FairRLock


def _prepare_sqlite_file(url: str) -> None:
    path = make_url(url).database
    if not path or path == ":memory:" or os.path.exists(path):
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FollowupError(f"database directory does not exist: {directory}")
    # Patient data: the file is created readable by its owner only.
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def make_engine(url: str, *, bounded: bool = False) -> Engine:
    # hide_parameters: a database error (disk full, constraint) must not carry patient data into a log.
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN itself
            cursor = dbapi_conn.cursor()
            if make_url(url).database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted content is overwritten with zeros, whatever the build's default: a forgotten
            # patient's name and number must not linger in freed pages (issue 14).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return _postgresql_engine(url, bounded)


# PostgreSQL timeouts. A server that is stopped (SIGSTOP, a frozen VM) rather than down accepts TCP
# connections in the kernel and never answers: without a connect timeout a new connection waits forever.
CONNECT_TIMEOUT_S = 5
# Bounded engines only (the webhook, which Twilio gives 15 s): a statement or lock wait past these is an
# error the webhook spools through. Workers, migrations and reports keep no limit: their statements may
# legitimately be long.
BOUNDED_STATEMENT_TIMEOUT_MS = 4000
BOUNDED_LOCK_TIMEOUT_MS = 3000
BOUNDED_POOL_TIMEOUT_S = 5


def _postgresql_engine(url: str, bounded: bool) -> Engine:
    query = make_url(url).query
    connect_args: dict = {}
    if "connect_timeout" not in query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    if bounded:
        own = query.get("options") or ""
        own = own if isinstance(own, str) else " ".join(own)
        connect_args["options"] = (
            f"-c statement_timeout={BOUNDED_STATEMENT_TIMEOUT_MS} "
            f"-c lock_timeout={BOUNDED_LOCK_TIMEOUT_MS} {own}"
        ).strip()
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        hide_parameters=True,
        pool_timeout=BOUNDED_POOL_TIMEOUT_S if bounded else 30,
        connect_args=connect_args,
    )
    if bounded:
        event.listen(engine, "do_connect", _cuttable_connect)
    return engine


# --- cutting a connection that waits on a hung server -------------------------------------------------
# psycopg waits on its socket with no deadline, and a stopped server's statement_timeout cannot fire.
# So a piece of work with a deadline runs inside `Cutter.watching()`: every connection of a bounded engine
# that it touches is noted, and the thread that gave up on it calls `cut()`, which shuts those sockets
# down. The waiting statement then fails at once ("server closed the connection"), the connection is
# invalidated, and the thread is free again instead of hanging until the server wakes.

_watching = threading.local()


class Cutter:
    def __init__(self):
        self._lock = threading.Lock()
        self._connections: list = []
        self._cut = False

    @contextmanager
    def watching(self) -> Iterator[Cutter]:
        _watching.cutter = self
        try:
            yield self
        finally:
            _watching.cutter = None

    def _note(self, connection) -> None:
        with self._lock:
            if not self._cut:
                self._connections.append(connection)
                return
        _shut(connection)  # cut already: the next statement fails instead of waiting

    def cut(self) -> None:
        # psycopg is imported only where a PostgreSQL connection exists: a tenth of a second that every
        # SQLite command would pay at start-up otherwise. (No cycle.)
        import psycopg

        with self._lock:
            self._cut = True
            connections, self._connections = self._connections, []
        for connection in connections:
            # An idle connection is back in the pool (or between transactions): not ours to cut.
            if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                _shut(connection)


def _shut(connection) -> None:
    try:
        fd = connection.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)  # the socket itself, so the waiting thread wakes
    except Exception:  # already closed, or never connected: nothing to cut
        pass


_cuttable_class = None


def _cuttable_connect(_dialect, _record, cargs, cparams):
    global _cuttable_class
    if _cuttable_class is None:
        import psycopg  # PostgreSQL only: see Cutter.cut

        class CuttableConnection(psycopg.Connection):
            def cursor(self, *args, **kwargs):  # every statement SQLAlchemy and prepared.py run comes here
                cutter = getattr(_watching, "cutter", None)
                if cutter is not None:
                    cutter._note(self)
                return super().cursor(*args, **kwargs)

        _cuttable_class = CuttableConnection
    return _cuttable_class.connect(*cargs, **cparams)


_engines: dict[tuple[str, bool], Engine] = {}


def engine_for(url: str, *, bounded: bool = False) -> Engine:
    """One engine (one pool) per database URL for the life of the process, and one bounded engine for
    the webhook (PostgreSQL statement and lock timeouts, cuttable connections). SQLite has one engine:
    its waits are for the write lock, and the webhook bounds them by walking away (web.DEADLINE_S)."""
    bounded = bounded and not url.startswith("sqlite")
    engine = _engines.get((url, bounded))
    if engine is None:
        engine = _engines[(url, bounded)] = make_engine(url, bounded=bounded)
    return engine


def dispose(url: str | None = None) -> None:
    """Close pooled connections: of one URL, or of all (tests drop their databases afterwards)."""
    for key in [k for k in list(_engines) if url is None or k[0] == url]:
        engine = _engines.pop(key, None)
        if engine is not None:
            engine.dispose()


# SQLite has one writer at a time. Threads of one process queue here, in order (fairlock.py), instead
# of meeting in SQLite's busy handler, whose sleeping back-off gave the webhook a p99 of seconds.
# Other processes still wait in busy_timeout.
_sqlite_writer = FairRLock()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with _sqlite_writer if engine.dialect.name == "sqlite" else nullcontext():
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def one_at_a_time(session: Session, job: str) -> bool:
    """Whether this worker may run `job` now: on PostgreSQL, one worker at a time holds it until its
    transaction ends, and the others skip instead of doing the same work (or the same escalation)
    twice. SQLite needs no lock: BEGIN IMMEDIATE already lets one writer in at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return session.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:job))"), {"job": job}).scalar()


def error_reason(exc: BaseException) -> str:
    """The driver's own first line for a database error ("connection refused", "disk is full"),
    without SQLAlchemy's statement and background link: for one-line messages and logs."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


def checkpoint_truncate(engine: Engine, wait: float = 30.0, attempt: float = 0.2) -> bool:
    """Copy every frame of a SQLite write-ahead log into the database and truncate the log to zero
    bytes, so that rows just deleted (with secure_delete, zeroed in the database file) leave no copy
    in the -wal either. True when done (or nothing to do: PostgreSQL, memory, no WAL).

    Idle connections of other processes (a running `followup serve`) do not stand in the way. A
    connection in the middle of a read does: its snapshot may still include the deleted rows, so the
    log cannot be reset under it. Each attempt waits at most `attempt` seconds (it holds the write lock
    meanwhile, so writers elsewhere are held up no longer than that); attempts repeat for `wait` seconds.
    """
    if engine.dialect.name != "sqlite" or make_url(str(engine.url)).database in (None, "", ":memory:"):
        return True
    deadline = time.monotonic() + wait
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(attempt * 1000)}")
        try:
            while True:
                with _sqlite_writer:
                    busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
        finally:
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    finally:
        raw.close()
