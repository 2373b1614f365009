"""The one service that writes the audit trail; callers' transactions carry it with their change."""
import json

from flask import has_request_context, request
from flask_login import current_user

from conference.database import SAFE_METHODS, now_utc
from conference.extensions import db
from conference.models import AuditEvent


def client_ip() -> str:
    """The address of the current request (the proxy must set REMOTE_ADDR; see README)."""
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:45]


def _event_values(action: str, obj, *, details, actor, actor_name, object_type, object_id) -> dict:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id or obj.id
    return {
        "occurred_at": now_utc(),
        "actor_id": actor.id if actor is not None else None,
        "actor_name": (actor.username if actor is not None else actor_name or "")[:40],
        "ip": client_ip(),
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "details": json.dumps(details or {}, ensure_ascii=False, default=str, sort_keys=True),
    }


def record(action: str, obj=None, *, details: dict | None = None, actor=None,
           actor_name: str | None = None, object_type: str = "", object_id="") -> AuditEvent:
    """Add an audit event to the current transaction; it is stored when the caller commits."""
    event = AuditEvent(**_event_values(action, obj, details=details, actor=actor, actor_name=actor_name,
                                       object_type=object_type, object_id=object_id))
    db.session.add(event)
    return event


def record_access(action: str, obj=None, *, details: dict | None = None, object_type: str = "", object_id=""):
    """Record a view of personal data at once, in its own short transaction, after the page is rendered.

    A page that only reads writes nothing else, so its access record neither waits for the request's
    transaction nor expires the page's objects by committing it. In a request that changes data the
    record joins that request's transaction instead, so both land together.
    """
    values = _event_values(action, obj, details=details, actor=None, actor_name=None,
                           object_type=object_type, object_id=object_id)
    if has_request_context() and request.method not in SAFE_METHODS:
        db.session.add(AuditEvent(**values))
        return
    with db.engine.begin() as connection:
        connection.execute(AuditEvent.__table__.insert().values(**values))
