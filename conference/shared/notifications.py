"""In-app notifications: what needs the user's attention."""
import json

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
