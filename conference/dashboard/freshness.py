"""Dashboard figures computed once per change of the counted data, and reused until the data changes.

Every transaction that adds, changes or deletes a row the dashboard counts raises ``FiguresVersion`` —
through an ORM flush or a bulk ``insert``/``update``/``delete`` on the session alike (the generator and the
importer write in bulk). Figures are kept per process under (who may see what, year, day, version), so a
gunicorn worker recomputes them only after a change, and a practitioner never gets figures computed for
another scope.
"""
from collections.abc import Callable
from itertools import chain

from flask import current_app
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from conference.extensions import db
from conference.models import (ActionItem, AgendaItem, Assessment, Consent, DomainRating, FiguresVersion, Household,
                               Invitation, Meeting, StatusChange)

#: What the figures count, and what decides which cases a practitioner or chair counts.
COUNTED = (Household, StatusChange, Assessment, DomainRating, Consent, ActionItem, Meeting, AgendaItem, Invitation)
#: Figures kept per process; the oldest go first.
CACHE_SIZE = 256


def raise_version(connection) -> None:
    """Move the counter on; the first change ever creates its row."""
    table = FiguresVersion.__table__
    if connection.execute(update(table).where(table.c.id == 1).values(version=table.c.version + 1)).rowcount == 0:
        connection.execute(insert(table).values(id=1, version=1))


def current_version() -> int:
    return db.session.execute(select(FiguresVersion.version).where(FiguresVersion.id == 1)).scalar() or 0


@event.listens_for(Session, "before_flush")
def _flush_changes_counted_rows(session, flush_context, instances):
    if any(isinstance(obj, COUNTED) for obj in chain(session.new, session.dirty, session.deleted)):
        raise_version(session.connection())


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement_on_counted_rows(state):
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, COUNTED):
        raise_version(state.session.connection())


def cached(scope: tuple, compute: Callable):
    """The figures for ``scope`` at the current version: from this process's cache, or computed now."""
    version = current_version()  # read before computing: figures are never older than their version
    store = current_app.extensions.setdefault("dashboard_figures", {})
    key = (*scope, version)
    if key not in store:
        if len(store) >= CACHE_SIZE:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]
