"""The monthly review of the access log (개인정보 접속기록 월 1회 이상 점검) and its mark.

Every figure of the review is an aggregate query over one month (``occurred_at`` is indexed); Python only
sees one row per account or per download reason, and for refused access one row per account, route and
minute (the folded ``access_denial`` rows, whose ids tried it unites). Days and hours are Korean time
(UTC+9, no summer time).
"""
import json
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import DateTime, Integer, and_, case, cast, distinct, extract, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from conference import audit
from conference.audit.filters import korean_midnight
from conference.config import Defaults
from conference.extensions import db
from conference.models import AccessDenial, AuditChainHead, AuditEvent, User

REVIEW_ACTION = "audit.review"
#: The object_type of review events; their object_id is the month, "2024-03".
REVIEW_OBJECT = "audit_month"
TOP_ACCOUNTS = 10


def month_range(month: date) -> tuple[datetime, datetime]:
    """The first and the next month's first instant of ``month`` in Korean time, as UTC."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return korean_midnight(month.replace(day=1)), korean_midnight(following)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _korean_hour_and_weekday(dialect: str):
    """SQL for the hour (0–23) and weekday (0 = Sunday … 6 = Saturday) of an event in Korean time."""
    if dialect == "postgresql":
        local = type_coerce(AuditEvent.occurred_at, DateTime) + timedelta(hours=9)
        return cast(extract("hour", local), Integer), cast(extract("dow", local), Integer)
    local = func.datetime(AuditEvent.occurred_at, "+9 hours")
    return cast(func.strftime("%H", local), Integer), cast(func.strftime("%w", local), Integer)


def _detail(dialect: str, key: str):
    """SQL for one top-level value of an event's JSON details, as text."""
    if dialect == "postgresql":  # jsonb refuses the escaped NUL (\u0000) that json.dumps may have written
        return cast(func.replace(AuditEvent.details, "\\u0000", ""), JSONB)[key].astext
    return func.json_extract(AuditEvent.details, f"$.{key}")


def is_view():
    """Views of personal data: household.view, input.view, packet.view, minutes.view …"""
    return AuditEvent.action.endswith(".view")


def is_download():
    return or_(AuditEvent.action.endswith(".download"), AuditEvent.action.endswith(".export"))


@dataclass
class AccountViews:
    actor_id: int | None
    actor_name: str
    views: int
    #: Distinct objects (households, meetings …) viewed.
    objects: int
    flagged: bool = False


@dataclass
class AccountDenials:
    actor_id: int
    actor_name: str
    #: Refusals (403/404) on routes naming a case, meeting, action or upload, folded or not.
    refusals: int
    #: The endpoints refused, most refused first.
    routes: list[str]
    #: Distinct objects (type and id) tried; at most ``audit.DENIED_IDS_KEPT`` are kept per route and minute.
    objects: int
    flagged: bool = False


@dataclass
class MonthReview:
    month: date
    events: int
    views: int
    downloads: int
    #: (action, purpose, count, accounts) per download kind and stated purpose.
    download_reasons: list
    off_hours: int
    #: (actor_name, events, views) per account with events outside working hours.
    off_hours_accounts: list
    #: The top accounts by views and any other flagged account.
    accounts: list[AccountViews]
    median_views: float
    threshold: int
    multiple: float
    working_hours: tuple[int, int]
    reviews: list
    #: Accounts refused access this month: the flagged first, then by refusals.
    denied_accounts: list[AccountDenials] = field(default_factory=list)
    denied: int = 0
    denied_threshold: int = 0


def denied_accounts(start: datetime, end: datetime, threshold: int) -> list[AccountDenials]:
    """Accounts refused access between ``start`` and ``end``, flagged above ``threshold`` refusals; flagged first.

    Reads the folded rows (one per account, route and minute), not the requests.
    """
    rows = db.session.execute(
        select(AccessDenial.user_id, User.username, AccessDenial.route, AccessDenial.object_type,
               AccessDenial.count, AccessDenial.object_ids)
        .join(User, User.id == AccessDenial.user_id)
        .where(AccessDenial.minute >= start, AccessDenial.minute < end))
    accounts: dict[int, AccountDenials] = {}
    routes: dict[int, dict[str, int]] = {}
    objects: dict[int, set[tuple[str, str]]] = {}
    for user_id, username, route, object_type, count, object_ids in rows:
        account = accounts.setdefault(user_id, AccountDenials(user_id, username, 0, [], 0))
        account.refusals += count
        per_route = routes.setdefault(user_id, {})
        per_route[route] = per_route.get(route, 0) + count
        objects.setdefault(user_id, set()).update((object_type, i) for i in object_ids.split(",") if i)
    for user_id, account in accounts.items():
        account.routes = sorted(routes[user_id], key=lambda route: (-routes[user_id][route], route))
        account.objects = len(objects[user_id])
        account.flagged = account.refusals > threshold
    return sorted(accounts.values(), key=lambda a: (not a.flagged, -a.refusals, a.actor_name))


def month_review(month: date, *, threshold: int, multiple: float, working_hours=(8, 20),
                 denied_threshold: int = Defaults.AUDIT_REVIEW_DENIED_THRESHOLD) -> MonthReview:
    """The figures of the monthly access-log review (개인정보 접속기록 월 1회 이상 점검) for ``month``."""
    dialect = _dialect()
    start, end = month_range(month)
    in_month = (AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end)
    hour, weekday = _korean_hour_and_weekday(dialect)
    opens, closes = working_hours
    off_hours = and_(AuditEvent.actor_id.is_not(None), or_(hour < opens, hour >= closes, weekday.in_((0, 6))))
    totals = db.session.execute(select(
        func.count(), func.count(case((is_view(), 1))), func.count(case((is_download(), 1))),
        func.count(case((off_hours, 1))),
    ).where(*in_month)).one()

    purpose = func.coalesce(_detail(dialect, "purpose"), _detail(dialect, "reason"), "")
    download_reasons = db.session.execute(
        select(AuditEvent.action, purpose.label("purpose"), func.count().label("count"),
               func.count(distinct(AuditEvent.actor_name)).label("accounts"))
        .where(*in_month, is_download())
        .group_by(AuditEvent.action, purpose).order_by(func.count().desc(), AuditEvent.action).limit(200)).all()

    off_hours_accounts = db.session.execute(
        select(AuditEvent.actor_name, func.count().label("events"), func.count(case((is_view(), 1))).label("views"))
        .where(*in_month, off_hours)
        .group_by(AuditEvent.actor_name).order_by(func.count().desc(), AuditEvent.actor_name).limit(100)).all()

    per_account = db.session.execute(
        select(AuditEvent.actor_id, AuditEvent.actor_name, func.count().label("views"),
               func.count(distinct(AuditEvent.object_type + ":" + AuditEvent.object_id)).label("objects"))
        .where(*in_month, is_view(), AuditEvent.actor_id.is_not(None))
        .group_by(AuditEvent.actor_id, AuditEvent.actor_name)
        .order_by(func.count().desc(), AuditEvent.actor_name)).all()
    median = statistics.median([row.views for row in per_account]) if per_account else 0
    accounts = []
    for rank, row in enumerate(per_account):
        flagged = row.views > threshold or (median > 0 and row.views > multiple * median)
        if rank < TOP_ACCOUNTS or flagged:
            accounts.append(AccountViews(row.actor_id, row.actor_name, row.views, row.objects, flagged))

    denied = denied_accounts(start, end, denied_threshold)
    return MonthReview(month=month, events=totals[0], views=totals[1], downloads=totals[2],
                       download_reasons=download_reasons, off_hours=totals[3],
                       off_hours_accounts=off_hours_accounts, accounts=accounts, median_views=median,
                       threshold=threshold, multiple=multiple, working_hours=(opens, closes),
                       reviews=reviews_of(month), denied_accounts=denied,
                       denied=sum(a.refusals for a in denied), denied_threshold=denied_threshold)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


@dataclass
class ReviewMark:
    actor_name: str
    occurred_at: datetime
    note: str


def reviews_of(month: date) -> list[ReviewMark]:
    """Who marked ``month`` as reviewed, when and with what note, oldest first."""
    events = db.session.execute(
        select(AuditEvent.actor_name, AuditEvent.occurred_at, AuditEvent.details).where(
            AuditEvent.action == REVIEW_ACTION, AuditEvent.object_type == REVIEW_OBJECT,
            AuditEvent.object_id == month_key(month)).order_by(AuditEvent.id))
    return [ReviewMark(name, at, json.loads(details).get("note", "")) for name, at, details in events]


def mark_month_reviewed(review: MonthReview, *, note: str):
    """Record that an admin reviewed the month, with the figures seen and the chain's end at that moment."""
    head = db.session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).first()
    audit.record(REVIEW_ACTION, object_type=REVIEW_OBJECT, object_id=month_key(review.month), details={
        "note": note, "events": review.events, "views": review.views, "downloads": review.downloads,
        "off_hours": review.off_hours, "flagged": [a.actor_name for a in review.accounts if a.flagged],
        "denied": review.denied, "denied_flagged": [a.actor_name for a in review.denied_accounts if a.flagged],
        "chain_head": [head.last_seq, head.last_hash] if head else None})
