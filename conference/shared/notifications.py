"""In-app notifications: what needs the user's attention."""
import json
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from conference.core.database import now_utc
from conference.extensions import db
from conference.models import Notification, Role, User
from conference.models.notifications import NOTIFICATION_MESSAGES


def unread_count(user) -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def latest(user, limit: int = 100) -> list[Notification]:
    return db.session.execute(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id.desc()).limit(limit)).scalars().all()


def mark_all_read(user) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=now_utc()))


def mark_read(user, notification_id: int) -> Notification | None:
    """The user's own notification, marked read (None when it is not theirs or does not exist)."""
    notification = db.session.execute(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id)).scalar_one_or_none()
    if notification is not None and notification.read_at is None:
        notification.read_at = now_utc()
    return notification


def internal_link(link: str) -> str | None:
    """``link`` when it is a path inside the app ("/meetings/3/minutes"), else None: never another site."""
    link = (link or "").strip()
    parts = urlsplit(link)
    if not link.startswith("/") or link.startswith("//") or "\\" in link or parts.scheme or parts.netloc:
        return None
    return link


def notify_agency(agency_id: int, *, kind: str, params: dict, link: str = "") -> list[int]:
    """Notify every active practitioner of an agency; returns the ids of the users told."""
    users = db.session.execute(select(User.id).where(
        User.agency_id == agency_id, User.role == Role.PRACTITIONER.value, User.is_active_account.is_(True))
    ).scalars().all()
    for user_id in users:
        notify_user(user_id, kind=kind, params=params, link=link)
    return list(users)


def notify_user(user_id: int, *, kind: str, params: dict, link: str = "") -> None:
    """``kind`` names its message in NOTIFICATION_MESSAGES; ``params`` fill it in (text values)."""
    db.session.add(Notification(user_id=user_id, kind=kind, message=message_text(kind, params),
                                params=json.dumps(params, ensure_ascii=False), link=link))


def message_text(kind: str, params: dict) -> str:
    """The notification as sent, in Korean (also the text of the e-mail that goes with it)."""
    return NOTIFICATION_MESSAGES[kind] % params
