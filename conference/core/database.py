"""Database plumbing: SQLite connection settings, write transactions, saves that lost a race, UTC timestamps."""
import sqlite3
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, UTC

from flask import current_app, has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Execution option for a connection that writes even during a GET request (e.g. an access record):
#: its SQLite transaction then takes the write lock at BEGIN too.
WRITE_LOCK = "conference_write_lock"


def now_utc() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always read back as aware UTC, on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


@contextmanager
def conflict_if_overtaken(conflict: Exception, *, creating: bool):
    """Raise ``conflict`` when the flush inside finds that another request saved the same record first.

    Versioned records (``version_id_col``) are updated only while their version is still the one this request
    read (StaleDataError otherwise); a record being created (``creating``) is refused by its unique key when
    another request created it meanwhile (IntegrityError). Both happen on PostgreSQL, where two requests run
    at once; on SQLite a writing request holds the write lock from its first statement. The caller rolls back.
    """
    try:
        yield
    except StaleDataError:
        raise conflict from None
    except IntegrityError:
        if not creating:
            raise
        raise conflict from None


def writes_on_get(view):
    """Mark a GET view that changes data (following a notification marks it read): its SQLite transaction
    takes the write lock at BEGIN like a POST's. Put it right under the route decorator."""
    view.writes_on_get = True
    return view


def _wants_write_lock() -> bool:
    """Writes take SQLite's lock at BEGIN so they wait instead of failing; safe requests read only,
    unless their view is marked ``writes_on_get``."""
    if has_request_context():
        if request.method not in SAFE_METHODS:
            return True
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        return getattr(view, "writes_on_get", False)
    return True


class WriteInReadTransaction(RuntimeError):
    """A statement that writes ran in a SQLite transaction begun without the write lock."""


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: How much of an SQLite file is read through a shared memory map.
SQLITE_MMAP_BYTES = 2_147_418_112
#: How long a statement waits for a lock another process holds before SQLite answers "database is locked" (ms).
SQLITE_BUSY_MS = 5000
#: Pauses between tries for SQLite's write lock: from 50 µs, doubling up to 5 ms (``_take_write_lock``).
_FIRST_PAUSE, _LONGEST_PAUSE = 0.00005, 0.005

#: Connections whose current SQLite transaction began without the write lock (kept per Connection, not per
#: pooled DBAPI connection: the tests' in-memory database shares one between sessions).
_READ_ONLY: "weakref.WeakSet[Connection]" = weakref.WeakSet()


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Read the file through a memory map that every connection and worker shares (the OS page cache) instead of
    # each connection's 2 MB page cache: at 500,000 households the lists' consent checks read pages far apart, and
    # each read was a system call (a practitioner's action list: 10.6 → 8.3 ms). 2 GB is SQLite's usual ceiling.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


#: Set on a PostgreSQL connection (its ``info``) once its transaction has run a statement that writes.
_WROTE = "conference_wrote"


@event.listens_for(Engine, "begin")
def _forget_writes(conn):
    conn.info.pop(_WROTE, None)


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "postgresql" and not statement.lstrip()[:7].upper().startswith("SELECT"):
        conn.info[_WROTE] = True


def commit_if_read_only(session) -> None:
    """At the end of a request: commit a PostgreSQL transaction that wrote nothing instead of rolling it back.

    For a transaction that ran only SELECTs the two are the same to the database, but psycopg forgets every
    statement it has prepared on a connection when that connection rolls back: each request then planned all
    its statements anew (PostgreSQL plans a statement once prepared; psycopg prepares one after its 5th run).
    Anything pending, flushed or not, is still rolled back by the session's close.
    """
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and not connection.info.get(_WROTE):
        session.commit()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    writes = bool(conn.get_execution_options().get(WRITE_LOCK) or _wants_write_lock())
    if writes:
        _READ_ONLY.discard(conn)
        _take_write_lock(conn.connection.dbapi_connection)
    else:
        _READ_ONLY.add(conn)
        conn.exec_driver_sql("BEGIN")


def _take_write_lock(dbapi_connection) -> None:
    """BEGIN IMMEDIATE, tried again after short pauses while another process holds SQLite's write lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … ms between tries. Two gunicorn workers writing access records
    met at the lock in one write of eight, and each such meeting cost about 1.4 ms for a lock held a fraction of
    that (docs/PERFORMANCE.md). Here the pauses start at 50 µs; the wait still ends after ``SQLITE_BUSY_MS``.
    """
    deadline, pause = time.monotonic() + SQLITE_BUSY_MS / 1000, _FIRST_PAUSE
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_no_write_in_read_transaction(conn, cursor, statement, parameters, context, executemany):
    """Under test, fail a request's write inside a transaction begun without the write lock. SQLite (WAL) cannot
    upgrade such a transaction once another request has written: it answers "database is locked" at
    once, whatever the busy timeout. Production leaves the statement to run."""
    if conn not in _READ_ONLY or not conn.in_transaction():
        return
    if statement.lstrip()[:7].upper().startswith(_WRITES) and has_request_context() and current_app.testing:
        raise WriteInReadTransaction(f"write in a read-only transaction: {statement[:60]}")
