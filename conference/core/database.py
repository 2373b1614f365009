"""Database plumbing: SQLite connection settings, write transactions, saves that lost a race, UTC timestamps."""
from contextlib import contextmanager
from datetime import datetime, UTC

from flask import has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
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


def _wants_write_lock() -> bool:
    """Writes take SQLite's lock at BEGIN so they wait instead of failing; safe requests read only."""
    if has_request_context():
        return request.method not in SAFE_METHODS
    return True


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    writes = conn.get_execution_options().get(WRITE_LOCK) or _wants_write_lock()
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
