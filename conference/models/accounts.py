"""Agencies, user accounts, their logins (server-side sessions) and the login throttle."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conference.core.database import UTCDateTime, now_utc
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models.columns import parent_key, timestamp_column
from conference.models.labels import LabelledEnum


class Role(LabelledEnum):
    ADMIN = "admin", _l("관리자")
    COORDINATOR = "coordinator", _l("사례관리 담당자")
    CHAIR = "chair", _l("회의 주재·결재권자")
    PRACTITIONER = "practitioner", _l("기관 실무자")


class Sector(LabelledEnum):
    """What kind of organisation an agency is; later features derive need-to-know defaults from it."""

    WELFARE_DIVISION = "welfare_division", _l("시청 복지부서")
    CASE_MANAGEMENT_CENTRE = "case_management_centre", _l("통합사례관리 센터")
    COMMUNITY_CENTRE = "community_centre", _l("행정복지센터")
    MENTAL_HEALTH = "mental_health", _l("정신건강복지센터")
    DREAM_START = "dream_start", _l("드림스타트")
    PRIVATE = "private", _l("민간단체")
    POLICE = "police", _l("경찰")
    SCHOOL = "school", _l("학교")
    HEALTH_CENTRE = "health_centre", _l("보건소")
    DISABILITY = "disability", _l("장애인복지관")
    OTHER = "other", _l("기타")


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: True for public bodies (city hall, community centres, police …), False for private partners.
    is_public: Mapped[bool] = mapped_column(default=True)
    sector: Mapped[str] = mapped_column(String(40), default=Sector.OTHER.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = timestamp_column()

    users: Mapped[list["User"]] = relationship(back_populates="agency", lazy="raise")

    @property
    def sector_label(self):
        return Sector(self.sector).label

    def __repr__(self):
        return f"<Agency {self.id} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; login compares lower-case.
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    #: 직위, shown on attendance lists and minutes.
    position: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    #: 업무 연락처: the office phone printed as the contact on packets (a staff number, not a household's).
    phone: Mapped[str] = mapped_column(String(20), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Set by an admin's reset: the user must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime] = timestamp_column()
    #: UI language preference ("ko" or "en").
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    created_at: Mapped[datetime] = timestamp_column()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Base32 TOTP secret (RFC 6238); set while enrolling, used once ``totp_enabled_at`` is set.
    totp_secret: Mapped[str] = mapped_column(String(64), default="")
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last TOTP time step accepted, so one code cannot be used twice.
    totp_last_step: Mapped[int] = mapped_column(default=0)

    agency: Mapped[Agency] = relationship(back_populates="users", lazy="joined", innerjoin=True)

    #: The key of the login this object was loaded for (set at login and by the user loader); never stored.
    login_key = None

    @property
    def is_active(self):
        return self.is_active_account

    def get_id(self):
        """The login id in the session cookie: the account and the key of this browser's login."""
        return f"{self.id}:{self.login_key}"

    def end_all_sessions(self, reason: str = "revoked"):
        """End every login of this user on every device, and a login waiting for its second step (password change
        or reset, deactivation, role or agency change, two-factor change, a lock from wrong password checks)."""
        db.session.execute(update(LoginSession)
                           .where(LoginSession.user_id == self.id, LoginSession.ended_at.is_(None))
                           .values(ended_at=now_utc(), end_reason=reason))

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def role_label(self):
        return Role(self.role).label

    def __repr__(self):
        return f"<User {self.id} {self.username}>"


class LoginSession(db.Model):
    """One login in one browser, kept on the server; the session cookie holds only a random key naming it.

    A request is let in only while its row is open, belongs to the account in the cookie, comes with the same
    User-Agent, and is within the idle and absolute limits counted on the server's clock (conference/auth/sessions.py).
    """

    __tablename__ = "login_session"

    #: SHA-256 (hex) of the random key in the browser's cookie. The key itself is not stored, so a copy of the
    #: database (a backup, say) opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = parent_key("user_account")
    #: SHA-256 (hex) of the User-Agent header the login came with; the cookie sent by another browser is refused.
    user_agent_hash: Mapped[str] = mapped_column(String(64))
    #: When the password (and second factor) were checked: the absolute lifetime counts from here, and a session
    #: renewed after a password or two-factor change keeps it.
    logged_in_at: Mapped[datetime] = timestamp_column()
    created_at: Mapped[datetime] = timestamp_column()
    #: The last request, refreshed at most once a minute; the idle timeout counts from here.
    last_seen_at: Mapped[datetime] = timestamp_column()
    #: The password was right and the second step is still due: the row opens nothing yet.
    awaiting_second_factor: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it ended: logout, idle, expired, user_agent (the cookie came from another browser), revoked (all the
    #: user's logins ended), renewed (replaced by a new key after a change), second_factor (the pending step done).
    end_reason: Mapped[str] = mapped_column(String(20), default="")

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def end(self, reason: str):
        """End this login (once: a later reason does not overwrite the first)."""
        if self.ended_at is None:
            self.ended_at = now_utc()
            self.end_reason = reason


#: ``LoginThrottle.address`` of the row counting a username's failures from every address together.
EVERY_ADDRESS = "*"


class LoginThrottle(db.Model):
    """Failed logins per username (existing or not) and client address, and per username from every address,
    kept in the database so every worker sees them."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    #: The client address the failures came from, or EVERY_ADDRESS for the username's row over all addresses.
    address: Mapped[str] = mapped_column(String(45), default=EVERY_ADDRESS)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A one-time code that replaces the authenticator app once; only its hash is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = parent_key("user_account")
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = timestamp_column()
