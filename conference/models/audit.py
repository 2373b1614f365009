"""The append-only audit trail."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from conference.core.database import UTCDateTime
from conference.extensions import db
from conference.models.columns import timestamp_column


class AuditEvent(db.Model):
    """One recorded event: who did what to which object, when and from where. Never updated or deleted."""

    __tablename__ = "audit_event"
    #: The access-log filter "whose data" and the case file's history look events up by object.
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = timestamp_column(index=True)
    #: Null for anonymous events such as a failed login.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The username as typed or held at the time, kept even if the account is renamed.
    actor_name: Mapped[str] = mapped_column(String(40), default="", index=True)
    ip: Mapped[str] = mapped_column(String(45), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    #: JSON text with what changed (before/after) or other context.
    details: Mapped[str] = mapped_column(Text, default="{}")
    #: Position in the hash chain (1, 2, 3 … in the order events were chained; unique).
    chain_seq: Mapped[int | None] = mapped_column(unique=True)
    #: SHA-256 (hex) of the previous event's ``row_hash``, "" for the first event.
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    #: SHA-256 (hex) over ``prev_hash`` and this event's fields: editing any stored event breaks the chain.
    row_hash: Mapped[str] = mapped_column(String(64), default="")


class AuditChainHead(db.Model):
    """The single row holding the end of the hash chain; writers lock it to append in order."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")


class AccessDenial(db.Model):
    """The refusals (403/404) of one account on one route within one minute, folded into one row.

    The first refusal of the minute also writes the chained ``access.denied`` event; later ones only raise
    ``count`` here, so an account trying id after id adds at most one audit event per route and minute.
    """

    __tablename__ = "access_denial"
    __table_args__ = (UniqueConstraint("user_id", "route", "minute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: The endpoint refused, e.g. "cases.detail".
    route: Mapped[str] = mapped_column(String(80))
    #: The UTC minute (seconds cut off) the refusals fall in; the monthly review reads a month of them.
    minute: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The kind of object the route names: household, meeting, action_item or import_batch.
    object_type: Mapped[str] = mapped_column(String(40), default="")
    #: Refusals folded into this row.
    count: Mapped[int] = mapped_column(default=1)
    #: The distinct object ids tried in the minute, comma-separated, in the order first tried (the first 100).
    object_ids: Mapped[str] = mapped_column(Text, default="")
    last_at: Mapped[datetime] = timestamp_column()
    #: The chained access.denied event the first refusal of the minute wrote (null once purged).
    audit_event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_event.id", ondelete="SET NULL"), index=True)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    """Bulk UPDATE or DELETE statements on the audit trail are refused too."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEvent:
        raise AppendOnlyError("audit events cannot be changed or deleted")


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyError("audit events cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyError("audit events cannot be deleted")
