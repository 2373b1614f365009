"""Counters that tell a worker what it computed earlier is stale: dashboard figures and rendered pages.

``FIGURES`` moves in every transaction that adds, changes or deletes a row the dashboard counts; ``PAGES`` in
every transaction that writes anything but the access log (which every view of personal data writes, in its
own connection). ORM flushes and insert/update/delete statements on the session alike raise them when the
transaction commits — the generator and the importer write in bulk. Textual SQL and writes through a bare
connection must call ``raise_versions`` themselves.

Dashboard figures are kept per process under (who may see what, year, day, version), so a gunicorn worker
recomputes them only after a change, and a practitioner never gets figures computed for another scope.
"""
from collections.abc import Callable
from itertools import chain

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from conference.extensions import db
from conference.models import (ActionItem, AgendaItem, Assessment, AuditChainHead, AuditEvent, Consent, DataVersion,
                               DomainRating, Household, Invitation, LoginSession, LoginThrottle, Meeting, StatusChange)

FIGURES, PAGES = 1, 2
#: What the figures count, and what decides which cases a practitioner or chair counts.
COUNTED = (Household, StatusChange, Assessment, DomainRating, Consent, ActionItem, Meeting, AgendaItem, Invitation)
#: Rows no page shows: writing them leaves rendered pages valid (a kept page is keyed by the login anyway). The login
#: throttle among them: a mistyped password, or someone trying many, must not make every worker render every page again.
NOT_SHOWN = (AuditEvent, AuditChainHead, DataVersion, LoginSession, LoginThrottle)
#: Figures kept per process; the oldest go first.
CACHE_SIZE = 256

_table = DataVersion.__table__


def raise_versions(connection, counters=(FIGURES, PAGES)) -> None:
    """Move the counters on; a counter without its row (an emptied table) gets it."""
    counters = sorted(set(counters))
    moved = connection.execute(update(_table).where(_table.c.id.in_(counters))
                               .values(version=_table.c.version + 1)).rowcount
    if moved < len(counters):
        present = set(connection.execute(select(_table.c.id).where(_table.c.id.in_(counters))).scalars())
        for counter in set(counters) - present:
            connection.execute(insert(_table).values(id=counter, version=1))


_READ_VERSION = select(DataVersion.version).where(DataVersion.id == bindparam("counter"))  # built once: read per view


def current_version(counter: int) -> int:
    return db.session.execute(_READ_VERSION, {"counter": counter}).scalar() or 0


#: The ``PAGES`` version as a column of another read. The login read (``conference.auth.sessions``), the first
#: statement of every signed-in request, carries it: a kept page then needs no statement of its own for it.
PAGES_VERSION = select(_table.c.version).where(_table.c.id == PAGES).scalar_subquery().label("pages_version")
#: Where a request keeps the ``PAGES`` version its first read found (in its WSGI environ: per request, always).
_PAGES_AT_START = "conference.pages_version"


def note_pages_version(version: int | None) -> None:
    """Remember the ``PAGES`` version a read at the start of this request found (``PAGES_VERSION``)."""
    request.environ[_PAGES_AT_START] = version or 0


def pages_version() -> int:
    """The ``PAGES`` version as it was when this request started reading, or read now when nothing noted it.

    Either way it is read before the data a page shows, which is what a kept page's key needs: a version older
    than the data only makes the next view render the page again, never serve an older one.
    """
    noted = request.environ.get(_PAGES_AT_START) if has_request_context() else None
    return current_version(PAGES) if noted is None else noted


#: Session info key: the counters this transaction's writes will raise when it commits.
_PENDING = "freshness_counters"


def _note(session, classes) -> None:
    pending = session.info.setdefault(_PENDING, set())
    for cls in classes:
        if cls is None or not issubclass(cls, NOT_SHOWN):
            pending.add(PAGES)
        if cls is not None and issubclass(cls, COUNTED):
            pending.add(FIGURES)


@event.listens_for(Session, "before_flush")
def _flush_changes_rows(session, flush_context, instances):
    _note(session, {type(obj) for obj in chain(session.new, session.dirty, session.deleted)})


@event.listens_for(Session, "do_orm_execute")
def _statement_changes_rows(state):
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        _note(state.session, {mapper.class_ if mapper is not None else None})


@event.listens_for(Session, "before_commit")
def _raise_at_commit(session):
    """The counters move as the transaction's last statement: every other lock (the audit chain's head) is taken
    before, in every transaction, so two writers on PostgreSQL never wait for each other in opposite orders."""
    if session.in_nested_transaction():
        return
    session.flush()
    counters = session.info.pop(_PENDING, None)
    if counters:
        raise_versions(session.connection(), counters)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session):
    session.info.pop(_PENDING, None)


def cached_figures(scope: tuple, compute: Callable):
    """The figures for ``scope`` at the current version: from this process's cache, or computed now."""
    version = current_version(FIGURES)  # read before computing: figures are never older than their version
    store = current_app.extensions.setdefault("dashboard_figures", {})
    key = (*scope, version)
    if key not in store:
        if len(store) >= CACHE_SIZE:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]
