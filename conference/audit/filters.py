"""The audit trail's list for admins: the filters, the matching events, and the rows and record of an export."""
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, union_all

from conference import audit
from conference.core.formatting import KST
from conference.core.i18n import lazy_gettext as _l
from conference.core.ids import record_id
from conference.extensions import db
from conference.models import AccessDenial, AuditEvent, Household
from conference.models.cases import case_number

#: Object types an admin can filter by, with their Korean labels (object_type is the table name).
OBJECT_TYPES = {"household": _l("사례(가구)"), "meeting": _l("회의"), "user_account": _l("계정"),
                "agency": _l("기관"), "action_item": _l("실행과제"), "import_batch": _l("가져오기"),
                "report": _l("실적 보고")}
#: Events about a meeting whose details list the case numbers shown ("cases").
CASE_LIST_ACTIONS = ("packet.view", "packet.download", "minutes.view", "minutes.download")
#: Korean labels shown next to an action in the audit list, for actions whose name alone says little.
ACTION_LABELS = {audit.DENIED_ACTION: _l("접근 거부")}
EXPORT_ACTION = "audit.export"


@dataclass(frozen=True)
class AuditFilters:
    """What the admin asked to see; empty means any."""

    action: str = ""
    actor: str = ""
    start: date | None = None
    end: date | None = None
    object_type: str = ""
    object_id: str = ""
    ip: str = ""

    def args(self) -> dict[str, str]:
        """The filters that are set, as query-string arguments (also recorded with an export)."""
        return {name: value.isoformat() if isinstance(value, date) else value
                for name, value in asdict(self).items() if value}


def korean_midnight(day: date) -> datetime:
    """The start of ``day`` in Korean time, as an aware UTC datetime."""
    return datetime.combine(day, time(0), KST).astimezone(UTC)


def events_query(filters: AuditFilters):
    """Audit events matching ``filters``, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        query = query.where(AuditEvent.actor_name == filters.actor.lower())
    if filters.start:
        query = query.where(AuditEvent.occurred_at >= korean_midnight(filters.start))
    if filters.end:
        query = query.where(AuditEvent.occurred_at < korean_midnight(filters.end + timedelta(days=1)))
    if filters.object_type == "household" and filters.object_id:
        query = query.where(_about_household(filters.object_id))
    else:
        if filters.object_type:
            query = query.where(AuditEvent.object_type == filters.object_type)
        if filters.object_id:
            query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.ip:
        query = query.where(AuditEvent.ip.startswith(filters.ip, autoescape=True))
    return query


def _about_household(household_id: str):
    """Events of the household itself, and views and downloads of packets and minutes that showed its case
    (they are recorded against the meeting, with the case numbers shown in their details)."""
    own = (AuditEvent.object_type == "household") & (AuditEvent.object_id == household_id)
    try:
        number = db.session.execute(select(Household.case_year, Household.case_seq)
                                    .where(Household.id == record_id(household_id))).first()
    except ValueError:  # not an id: only events recorded under exactly that text
        return own
    if number is None:
        return own
    shown = AuditEvent.action.in_(CASE_LIST_ACTIONS) & AuditEvent.details.contains(
        f'"{case_number(*number)}"', autoescape=True)
    # Each half reads its own index (object; action); "own OR shown" would scan the whole log.
    return AuditEvent.id.in_(union_all(select(AuditEvent.id).where(own), select(AuditEvent.id).where(shown)))


@dataclass
class FoldedDenial:
    """What the access_denial row of an access.denied event counted in its minute."""

    count: int
    object_ids: list[str]


def folded_denials(events) -> dict[int, FoldedDenial]:
    """Event id → the refusals folded into it, for the access.denied events among ``events`` (one query)."""
    ids = [event.id for event in events if event.action == audit.DENIED_ACTION]
    if not ids:
        return {}
    rows = db.session.execute(select(AccessDenial.audit_event_id, AccessDenial.count, AccessDenial.object_ids)
                              .where(AccessDenial.audit_event_id.in_(ids)))
    return {event_id: FoldedDenial(count, [i for i in object_ids.split(",") if i]) for event_id, count, object_ids in rows}


def count_events(query) -> int:
    return db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()


EXPORT_COLUMNS = (AuditEvent.chain_seq, AuditEvent.occurred_at, AuditEvent.actor_name, AuditEvent.ip,
                  AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.details)


def export_rows(filters: AuditFilters, limit: int) -> list:
    """The columns of the export for at most ``limit`` matching events, newest first."""
    query = events_query(filters).with_only_columns(*EXPORT_COLUMNS).limit(limit)
    return db.session.execute(query).all()


def household_id_for(number: str) -> int | None:
    """The id of the household with case number "2024-0043", if there is one."""
    year, _, seq = number.partition("-")
    return db.session.execute(select(Household.id).where(
        Household.case_year == int(year), Household.case_seq == int(seq))).scalar_one_or_none()


def record_export(filters: AuditFilters, *, purpose: str, rows: int):
    """Log an export of the audit trail with its filters and stated purpose; the caller commits."""
    audit.record(EXPORT_ACTION, object_type="audit_event",
                 details={"filters": filters.args(), "purpose": purpose, "rows": rows})
