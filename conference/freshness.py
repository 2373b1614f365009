"""Counters that tell a worker what it computed earlier is stale: dashboard figures and rendered pages.

``FIGURES`` moves in every transaction that adds, changes or deletes a row the dashboard counts; ``PAGES`` in
every transaction that writes anything but the access log (which every view of personal data writes, in its
own connection). ORM flushes and insert/update/delete statements on the session alike raise them — the
generator and the importer write in bulk. Textual SQL and writes through a bare connection must call
``raise_versions`` themselves.

Dashboard figures are kept per process under (who may see what, year, day, version), so a gunicorn worker
recomputes them only after a change, and a practitioner never gets figures computed for another scope.
"""
from collections.abc import Callable
from itertools import chain

from flask import current_app
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from conference.extensions import db
from conference.models import (ActionItem, AgendaItem, Assessment, AuditChainHead, AuditEvent, Consent, DataVersion,
                               DomainRating, Household, Invitation, Meeting, StatusChange)

FIGURES, PAGES = 1, 2
#: What the figures count, and what decides which cases a practitioner or chair counts.
COUNTED = (Household, StatusChange, Assessment, DomainRating, Consent, ActionItem, Meeting, AgendaItem, Invitation)
#: Rows no page shows: writing them leaves rendered pages valid.
NOT_SHOWN = (AuditEvent, AuditChainHead, DataVersion)
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


def current_version(counter: int) -> int:
    return db.session.execute(select(DataVersion.version).where(DataVersion.id == counter)).scalar() or 0


def _counters_for(classes) -> list[int]:
    counters = set()
    for cls in classes:
        if cls is None or not issubclass(cls, NOT_SHOWN):
            counters.add(PAGES)
        if cls is not None and issubclass(cls, COUNTED):
            counters.add(FIGURES)
    return sorted(counters)


@event.listens_for(Session, "before_flush")
def _flush_changes_rows(session, flush_context, instances):
    counters = _counters_for({type(obj) for obj in chain(session.new, session.dirty, session.deleted)})
    if counters:
        raise_versions(session.connection(), counters)


@event.listens_for(Session, "do_orm_execute")
def _statement_changes_rows(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    counters = _counters_for({mapper.class_ if mapper is not None else None})
    if counters:
        raise_versions(state.session.connection(), counters)


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
