"""The one service that writes the audit trail; callers' transactions carry it with their change.

Every event is chained: it stores the ``row_hash`` of the event chained before it (``prev_hash``) and a
hash over that and its own fields, so an event edited or deleted outside the app breaks the chain
(``flask verify-audit``). The single row of ``audit_chain_head`` holds the end of the chain; appending
locks it, so concurrent writers append one after another. Events past their retention are deleted only
by ``purge_expired`` (``flask purge-audit``), which records where the remaining chain now starts.

The access log is one package: this module, the writer every feature calls (``from conference import audit;
audit.record(...)``), then the admin's side: ``filters`` and ``review`` read the log, ``views`` is the audit
blueprint at /admin/audit with its ``forms`` and ``export``, ``cli`` holds verify-audit and purge-audit.
"""
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import (and_, bindparam, case, delete, event as sa_event, func, literal, not_, or_, select,
                        update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from conference.core.database import SAFE_METHODS, WRITE_LOCK, now_utc
from conference.extensions import db
from conference.models import AccessDenial, AuditChainHead, AuditEvent

logger = logging.getLogger(__name__)

HEAD_ID = 1
#: Actions that grant, change or withdraw access rights: kept longer than the other events.
ACCESS_RIGHT_PREFIX = "user."
PURGE_ACTION = "audit.purge"
#: A signed-in user was refused (403/404) on a route naming a case, meeting, action or upload; see ``record_denial``.
DENIED_ACTION = "access.denied"
#: Distinct object ids an access_denial row keeps of its minute (its count goes on past them).
DENIED_IDS_KEPT = 100
#: Set in a session's info while its transaction holds the lock on the chain's head.
_HOLDS_HEAD = "audit_chain_head_locked"

_events = AuditEvent.__table__
_head = AuditChainHead.__table__
_denials = AccessDenial.__table__
# Built once: every view of personal data runs them, and SQLAlchemy keys its compiled cache on the statement.
_READ_HEAD = select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == HEAD_ID).with_for_update()
_MOVE_HEAD = update(_head).where(_head.c.id == HEAD_ID).values(last_seq=bindparam("seq"), last_hash=bindparam("hash"))
_INSERT_EVENT = _events.insert()
#: PostgreSQL moves the head in the event's own INSERT (a data-modifying WITH): one round trip fewer per record.
_INSERT_EVENT_MOVING_HEAD = _events.insert().add_cte(_MOVE_HEAD.cte("moved_head")).returning(_events.c.id)


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
    """Add an audit event to the current transaction; it is chained when flushed and stored when the caller commits."""
    event = AuditEvent(**_event_values(action, obj, details=details, actor=actor, actor_name=actor_name,
                                       object_type=object_type, object_id=object_id))
    db.session.add(event)
    return event


def record_access(action: str, obj=None, *, details: dict | None = None, object_type: str = "", object_id=""):
    """Record a view of personal data at once, in its own short transaction, after the page is rendered.

    A page that only reads writes nothing else, so its access record neither waits for the request's
    transaction nor expires the page's objects (its read transaction ends without expiring them). In a request
    that changes data (or whose transaction already holds the chain's head) the record joins that transaction.
    """
    values = _event_values(action, obj, details=details, actor=None, actor_name=None,
                           object_type=object_type, object_id=object_id)
    if (has_request_context() and request.method not in SAFE_METHODS) or db.session.info.get(_HOLDS_HEAD):
        db.session.add(AuditEvent(**values))
        return
    session = db.session()
    if db.engine.dialect.name == "postgresql" and not (session.new or session.dirty or session.deleted):
        # No reader holds PostgreSQL back: the record is written on the page's own connection and committed at once,
        # which saves a second connection (and its ping) and a commit of nothing.
        _insert_chained(session.connection(), values)
        _commit_keeping_objects(session)
        return
    _end_reading(session)
    with db.engine.connect().execution_options(**{WRITE_LOCK: True}) as connection, connection.begin():
        _insert_chained(connection, values)


def record_denial(route: str, object_type: str, object_id, *, details: dict) -> bool:
    """Count a refusal (403/404) of the signed-in user on ``route`` at once, in its own short transaction.

    Refusals are folded per account, route and minute into one ``access_denial`` row (its count and the ids
    tried); the first of the minute also appends an ``access.denied`` event to the chain, so trying id after id
    cannot flood the trail. Returns whether this refusal wrote the event. Call it after the request's transaction
    was rolled back (the error pages do): nothing of the request is kept, nothing loaded is expired.
    """
    values = _event_values(DENIED_ACTION, None, details=details, actor=None, actor_name=None,
                           object_type=object_type, object_id=object_id)
    if values["actor_id"] is None:
        raise ValueError("record_denial needs a signed-in user")
    values["object_id"] = values["object_id"][:40]
    minute = values["occurred_at"].replace(second=0, microsecond=0)
    key = (_denials.c.user_id == values["actor_id"], _denials.c.route == route, _denials.c.minute == minute)
    _end_reading(db.session())
    with db.engine.connect().execution_options(**{WRITE_LOCK: True}) as connection, connection.begin():
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        # A concurrent first refusal of the same minute makes this insert wait for it, then do nothing.
        fold_id = connection.execute(insert(_denials).values(
            user_id=values["actor_id"], route=route, minute=minute, object_type=object_type, count=1,
            object_ids=values["object_id"], last_at=values["occurred_at"]).on_conflict_do_nothing()
            .returning(_denials.c.id)).scalar()
        first = fold_id is not None
        if first:
            event_id = _insert_chained(connection, values)
            connection.execute(update(_denials).where(_denials.c.id == fold_id).values(audit_event_id=event_id))
        else:
            connection.execute(update(_denials).where(*key).values(
                count=_denials.c.count + 1, last_at=values["occurred_at"],
                object_ids=_with_id(_denials.c.object_ids, values["object_id"])))
    return first


def _with_id(ids, object_id: str):
    """SQL for the comma-separated ``ids`` with ``object_id`` added unless it is there or DENIED_IDS_KEPT are."""
    if not object_id:
        return ids
    commas = func.length(ids) - func.length(func.replace(ids, ",", ""))
    return case((ids == "", object_id),
                ((literal(",") + ids + literal(",")).contains(f",{object_id},", autoescape=True), ids),
                (commas >= DENIED_IDS_KEPT - 1, ids),
                else_=ids + literal(",") + object_id)


def _end_reading(session) -> None:
    """End the page's read transaction before its access record is written, keeping its objects loaded.

    On SQLite a reader still open in this process holds the WAL checkpoint back: every later commit then runs
    a partial checkpoint of its own, and under gunicorn a case-file view paid 2–3 ms for its access record
    instead of 0.4 ms (docs/PERFORMANCE.md). A request that has changes pending keeps its transaction.
    """
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        _commit_keeping_objects(session)  # nothing to write: this only lets go of the snapshot


def _commit_keeping_objects(session) -> None:
    """Commit without expiring what the page has loaded (it is rendered from those objects afterwards)."""
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


# --- the hash chain ---------------------------------------------------------------------------------

def event_hash(prev_hash: str, event) -> str:
    """SHA-256 (hex) over the previous event's hash and this event's fields, written one canonical way.

    ``event`` is a mapping of column values (a dict or a row's ``_mapping``).
    """
    fields = [prev_hash, event["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds"),
              event["actor_id"], event["actor_name"], event["ip"], event["action"], event["object_type"],
              event["object_id"], event["details"], event["chain_seq"]]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_head(connection) -> tuple[int, str]:
    """Lock the head of the chain until the transaction ends and return (last_seq, last_hash).

    The row is created on first use; if it is missing while chained events exist, the chain continues
    from the last of them. On SQLite the transaction already holds the write lock (BEGIN IMMEDIATE).
    """
    head = connection.execute(_READ_HEAD).first()
    if head is None:
        last = connection.execute(select(_events.c.chain_seq, _events.c.row_hash)
                                  .where(_events.c.chain_seq.is_not(None))
                                  .order_by(_events.c.chain_seq.desc()).limit(1)).first()
        if last is not None:
            logger.warning("audit_chain_head was missing; the chain continues from event %s", last[0])
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(_head).values(id=HEAD_ID, last_seq=last[0] if last else 0,
                                                last_hash=last[1] if last else "").on_conflict_do_nothing())
        head = connection.execute(_READ_HEAD).first()
    return head.last_seq, head.last_hash


def _chain(connection, events: list[dict]) -> dict:
    """Give ``events`` (column values, in order) their chain_seq, prev_hash and row_hash, with the head locked;
    returns the head's new values (the caller moves it)."""
    seq, last_hash = _lock_head(connection)
    for values in events:
        seq += 1
        values["chain_seq"], values["prev_hash"] = seq, last_hash
        values["row_hash"] = last_hash = event_hash(last_hash, values)
    return {"seq": seq, "hash": last_hash}


def _append_to_chain(connection, events: list[dict]) -> None:
    """Chain ``events`` (their rows are inserted by the caller) and move the head past them."""
    connection.execute(_MOVE_HEAD, _chain(connection, events))


def _insert_chained(connection, values: dict) -> int:
    """Chain one event, insert it and move the head; returns the event's id."""
    head = _chain(connection, [values])
    if connection.dialect.name == "postgresql":
        return connection.execute(_INSERT_EVENT_MOVING_HEAD, {**values, **head}).scalar_one()
    connection.execute(_MOVE_HEAD, head)
    return connection.execute(_INSERT_EVENT, values).inserted_primary_key[0]


_DEFAULTS = {"actor_name": "", "ip": "", "object_type": "", "object_id": "", "details": "{}"}


@sa_event.listens_for(Session, "before_flush")
def _chain_new_events(session, flush_context, instances):
    """Every AuditEvent added to a session, by ``record`` or otherwise, is chained as it is flushed."""
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.chain_seq is None]
    if not new:
        return
    rows = []
    for obj in new:
        obj.occurred_at = obj.occurred_at or now_utc()
        for name, default in _DEFAULTS.items():
            if getattr(obj, name) is None:
                setattr(obj, name, default)
        obj.object_id = str(obj.object_id)
        rows.append({column.key: getattr(obj, column.key) for column in _events.columns if column.key != "id"})
    _append_to_chain(session.connection(), rows)
    session.info[_HOLDS_HEAD] = True
    for obj, values in zip(new, rows, strict=True):
        obj.chain_seq, obj.prev_hash, obj.row_hash = values["chain_seq"], values["prev_hash"], values["row_hash"]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_head_lock(session, transaction):
    if transaction.parent is None:
        session.info.pop(_HOLDS_HEAD, None)


# --- checking the chain -----------------------------------------------------------------------------

@dataclass
class ChainCheck:
    """The result of ``verify_chain``: how many events were checked and the first break, if any."""

    chained: int = 0
    #: Events stored before the chain existed (chain_seq is null): counted, not checked.
    unchained: int = 0
    first_seq: int | None = None
    head_seq: int = 0
    head_hash: str = ""
    #: The first chain_seq that is wrong or missing, and why: "changed", "link", "missing" or "head".
    broken_at: int | None = None
    problem: str = ""
    #: For "missing": the last missing chain_seq.
    missing_to: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.problem


def _purge_anchors() -> dict[int, set[tuple[str, int]]]:
    """chain_seq → {(prev_hash, first deleted seq)} of the events right after a gap a purge made."""
    anchors = {}
    details = db.session.execute(select(AuditEvent.details).where(AuditEvent.action == PURGE_ACTION,
                                                                  AuditEvent.chain_seq.is_not(None)))
    for text in details.scalars():
        try:
            for seq, prev_hash, gap_from in json.loads(text).get("anchors", []):
                anchors.setdefault(int(seq), set()).add((str(prev_hash), int(gap_from)))
        except (ValueError, TypeError, AttributeError):
            continue  # a purge event whose details were altered fails its own hash below
    return anchors


def verify_chain(batch_size: int = 2000) -> ChainCheck:
    """Recompute the chain in chain_seq order and report the first edited, missing or misplaced event.

    A gap is accepted only where a purge recorded exactly that gap: the event after it (seq and prev_hash)
    and the first seq it deleted.
    """
    check = ChainCheck()
    check.unchained = db.session.execute(
        select(func.count()).select_from(_events).where(_events.c.chain_seq.is_(None))).scalar_one()
    anchors = _purge_anchors()
    head = db.session.execute(select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == HEAD_ID)).first()
    rows = db.session.execute(select(_events).where(_events.c.chain_seq.is_not(None))
                              .order_by(_events.c.chain_seq).execution_options(yield_per=batch_size))
    previous = None
    for row in rows:
        event = row._mapping
        seq = event["chain_seq"]
        if previous is None:
            check.first_seq = seq
        if event_hash(event["prev_hash"], event) != event["row_hash"]:
            return _broken(check, seq, "changed")
        expected = 1 if previous is None else previous["chain_seq"] + 1
        if seq != expected:
            explained = {gap_from for prev_hash, gap_from in anchors.get(seq, ()) if prev_hash == event["prev_hash"]}
            if expected not in explained:
                # A purge explains only the end of this gap: the event just before that part was deleted.
                starts = [gap_from for gap_from in explained if expected < gap_from <= seq]
                if starts:
                    return _broken(check, min(starts) - 1, "missing")
                return _broken(check, expected, "missing", missing_to=seq - 1)
        elif event["prev_hash"] != (previous["row_hash"] if previous is not None else ""):
            return _broken(check, seq, "link")
        check.chained += 1
        previous = event
    rows.close()
    if head is not None:
        check.head_seq, check.head_hash = head.last_seq, head.last_hash
    last_seq = previous["chain_seq"] if previous is not None else 0
    if head is None:
        if previous is not None:
            return _broken(check, last_seq, "head")
    elif head.last_seq > last_seq:
        return _broken(check, last_seq + 1, "missing", missing_to=head.last_seq)
    elif head.last_seq < last_seq or (previous is not None and head.last_hash != previous["row_hash"]):
        return _broken(check, last_seq, "head")
    return check


def _broken(check: ChainCheck, seq: int, problem: str, missing_to: int | None = None) -> ChainCheck:
    check.broken_at, check.problem, check.missing_to = seq, problem, missing_to
    return check


# --- retention --------------------------------------------------------------------------------------

@dataclass
class Purge:
    """What ``purge_expired`` deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    rights_cutoff: datetime
    count: int = 0
    #: [chain_seq, prev_hash, first deleted seq] of each remaining event that will follow a gap.
    anchors: list = field(default_factory=list)
    event: AuditEvent | None = None


def _expired(events, cutoff: datetime, rights_cutoff: datetime):
    """Events past retention: older than ``cutoff``, access-right changes older than ``rights_cutoff``.

    Purge records are kept: they explain where the chain starts and what was deleted when.
    """
    return and_(events.occurred_at < cutoff, events.action != PURGE_ACTION,
                or_(not_(events.action.startswith(ACCESS_RIGHT_PREFIX)), events.occurred_at < rights_cutoff))


def purge_expired(*, retention_days: int, rights_retention_days: int, now: datetime | None = None,
                  dry_run: bool = False) -> Purge:
    """Delete the events past their retention and record the purge (chained); the caller commits.

    The only way audit events are deleted. Holds the chain's head from start to commit, so the anchors
    it records (the remaining events whose predecessors are deleted) cannot be overtaken by new events.
    """
    now = now or now_utc()
    purge = Purge(cutoff=now - timedelta(days=retention_days),
                  rights_cutoff=now - timedelta(days=max(rights_retention_days, retention_days)))
    connection = db.session.connection()
    head_seq, head_hash = _lock_head(connection)
    db.session.info[_HOLDS_HEAD] = True
    expired = _expired(AuditEvent, purge.cutoff, purge.rights_cutoff)
    purge.count = db.session.execute(select(func.count()).select_from(AuditEvent).where(expired)).scalar_one()
    if dry_run or not purge.count:
        return purge
    purge.anchors = _anchors_after(purge, head_seq, head_hash)
    # The counts of folded refusals go with their access.denied events.
    denials = connection.execute(delete(_denials).where(_denials.c.minute < purge.cutoff)).rowcount
    # The deliberate exception to the append-only rule: a Core DELETE on the connection, which the ORM
    # guard in conference.models.audit does not see. Nothing else in the app deletes audit events.
    connection.execute(delete(_events).where(_expired(_events.c, purge.cutoff, purge.rights_cutoff)))
    purge.event = record(PURGE_ACTION, actor_name="cli", object_type="audit_event", details={
        "deleted": purge.count, "cutoff": purge.cutoff.isoformat(), "retention_days": retention_days,
        "rights_cutoff": purge.rights_cutoff.isoformat(), "rights_retention_days": rights_retention_days,
        "anchors": purge.anchors, "denial_rows_deleted": denials})
    db.session.flush()
    return purge


def _anchors_after(purge: Purge, head_seq: int, head_hash: str) -> list[list]:
    """The remaining events whose nearest earlier event is about to be deleted, with where each gap starts.

    One pass in chain order (window functions) over the events up to the first one after the last expired.
    """
    expired = _expired(AuditEvent, purge.cutoff, purge.rights_cutoff)
    last_expired = db.session.execute(select(func.max(AuditEvent.chain_seq)).where(expired)).scalar_one()
    if last_expired is None:
        return []
    bound = db.session.execute(select(func.min(AuditEvent.chain_seq))
                               .where(AuditEvent.chain_seq > last_expired)).scalar_one()
    gone = case((expired, 1), else_=0)
    in_order = select(
        AuditEvent.chain_seq, AuditEvent.prev_hash, gone.label("gone"),
        func.lag(gone).over(order_by=AuditEvent.chain_seq).label("after_gone"),
        func.max(case((expired, None), else_=AuditEvent.chain_seq))
        .over(order_by=AuditEvent.chain_seq, rows=(None, -1)).label("kept_before"),
    ).where(AuditEvent.chain_seq.is_not(None), AuditEvent.chain_seq <= (bound or last_expired)).subquery()
    anchors = [[seq, prev_hash, (kept_before or 0) + 1] for seq, prev_hash, kept_before in db.session.execute(
        select(in_order.c.chain_seq, in_order.c.prev_hash, in_order.c.kept_before)
        .where(in_order.c.gone == 0, in_order.c.after_gone == 1).order_by(in_order.c.chain_seq))]
    if bound is None:  # the newest event expires: the purge record itself follows the gap
        kept_before = db.session.execute(select(func.max(AuditEvent.chain_seq))
                                         .where(AuditEvent.chain_seq.is_not(None), not_(expired))).scalar_one()
        anchors.append([head_seq + 1, head_hash, (kept_before or 0) + 1])
    return anchors
