"""The one service that writes the audit trail; callers' transactions carry it with their change."""
import json

from flask import has_request_context, request
from flask_login import current_user

from conference.extensions import db
from conference.models import AuditEvent


def client_ip() -> str:
    """The address of the current request (the proxy must set REMOTE_ADDR; see README)."""
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:45]


def record(action: str, obj=None, *, details: dict | None = None, actor=None,
           actor_name: str | None = None, object_type: str = "", object_id="") -> AuditEvent:
    """Add an audit event to the current transaction; it is stored when the caller commits."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id or obj.id
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_name=(actor.username if actor is not None else actor_name or "")[:40],
        ip=client_ip(),
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        details=json.dumps(details or {}, ensure_ascii=False, default=str, sort_keys=True),
    )
    db.session.add(event)
    return event
