"""Agencies, user accounts and the login throttle."""
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.database import UTCDateTime, now_utc
from conference.extensions import db
from conference.i18n import lazy_gettext as _l


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CHAIR = "chair"
    PRACTITIONER = "practitioner"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("관리자"),
    Role.COORDINATOR: _l("사례관리 담당자"),
    Role.CHAIR: _l("회의 주재·결재권자"),
    Role.PRACTITIONER: _l("기관 실무자"),
}


class Sector(StrEnum):
    """What kind of organisation an agency is; later features derive need-to-know defaults from it."""

    WELFARE_DIVISION = "welfare_division"
    CASE_MANAGEMENT_CENTRE = "case_management_centre"
    COMMUNITY_CENTRE = "community_centre"
    MENTAL_HEALTH = "mental_health"
    DREAM_START = "dream_start"
    PRIVATE = "private"
    POLICE = "police"
    SCHOOL = "school"
    HEALTH_CENTRE = "health_centre"
    DISABILITY = "disability"
    OTHER = "other"

    @property
    def label(self):
        return SECTOR_LABELS[self]


SECTOR_LABELS = {
    Sector.WELFARE_DIVISION: _l("시청 복지부서"),
    Sector.CASE_MANAGEMENT_CENTRE: _l("통합사례관리 센터"),
    Sector.COMMUNITY_CENTRE: _l("행정복지센터"),
    Sector.MENTAL_HEALTH: _l("정신건강복지센터"),
    Sector.DREAM_START: _l("드림스타트"),
    Sector.PRIVATE: _l("민간단체"),
    Sector.POLICE: _l("경찰"),
    Sector.SCHOOL: _l("학교"),
    Sector.HEALTH_CENTRE: _l("보건소"),
    Sector.DISABILITY: _l("장애인복지관"),
    Sector.OTHER: _l("기타"),
}


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: True for public bodies (city hall, community centres, police …), False for private partners.
    is_public: Mapped[bool] = mapped_column(default=True)
    sector: Mapped[str] = mapped_column(String(40), default=Sector.OTHER.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    users: Mapped[list["User"]] = relationship(back_populates="agency", lazy="raise")

    @property
    def sector_label(self):
        return Sector(self.sector).label

    def __repr__(self):
        return f"<Agency {self.id} {self.name}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; login compares lower-case.
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    #: 직위, shown on attendance lists and minutes.
    position: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Set by an admin's reset: the user must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Part of the login id in the session cookie; rotating it ends every session of the user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    #: UI language preference ("ko" or "en").
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Base32 TOTP secret (RFC 6238); set while enrolling, used once ``totp_enabled_at`` is set.
    totp_secret: Mapped[str] = mapped_column(String(64), default="")
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last TOTP time step accepted, so one code cannot be used twice.
    totp_last_step: Mapped[int] = mapped_column(default=0)

    agency: Mapped[Agency] = relationship(back_populates="users", lazy="joined", innerjoin=True)

    @property
    def is_active(self):
        return self.is_active_account

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self):
        """End every session of this user (logout, password change, deactivation)."""
        self.session_token = new_session_token()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def role_label(self):
        return Role(self.role).label

    def __repr__(self):
        return f"<User {self.id} {self.username}>"


class LoginThrottle(db.Model):
    """Failed logins per username (existing or not), kept in the database so every worker sees them."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A one-time code that replaces the authenticator app once; only its hash is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
