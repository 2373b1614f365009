"""Server-side sessions and their rules, the pending two-factor step, and holding users who must change their
password or (admins, when configured) enrol in two-factor login.

Each login is a row of ``login_session``; the signed cookie carries the account id and a random key whose
SHA-256 names the row. Every request is let in only while that row is open, belongs to the account, came from a
browser with the same User-Agent, and its last request and login are within IDLE_TIMEOUT_MINUTES and
PERMANENT_SESSION_LIFETIME on the server's clock. Logout ends the row; a password change, deactivation and the
like end all the user's rows (``User.end_all_sessions``), so a copied cookie stops working at once.
"""
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select, update

from conference import audit
from conference.auth import services, two_factor
from conference.core.database import SAFE_METHODS, WRITE_LOCK, now_utc
from conference.core.i18n import gettext as _, lazy_gettext as _l
from conference.extensions import db, login_manager
from conference.models import LoginSession, User
from conference.shared import freshness

#: Endpoints a user who must change the password may still reach.
_OPEN_WHILE_PASSWORD_EXPIRED = {"auth.change_password", "auth.logout", "auth.set_language"}
#: Endpoints an admin who must enrol in two-factor login may still reach.
_OPEN_WHILE_TWO_FACTOR_MISSING = {"auth.two_factor", "auth.two_factor_start", "auth.logout", "auth.set_language"}
#: Session key of a login waiting for its second step: the key of its row and where to go next.
_PENDING_KEY = "two_factor_login"
#: Seconds between writes of a login's last-seen time: the idle timeout is exact to the minute, and the pages
#: within the minute write nothing.
SEEN_AT_STEP = 60
#: ``g`` keys: this request's open login row, and a login row that failed a check (with the reason).
_CURRENT = "login_session"
_REFUSED = "login_refused"
#: Refusals worth an entry in the audit trail (``auth.session_refused``): the cookie came from another browser,
#: or names a login that had already ended (a copy kept after logout or after the sessions were revoked).
#: Idle and too old logins end as the rules say and are not recorded.
_SUSPICIOUS = {"user_agent", "ended"}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_agent_hash() -> str:
    """SHA-256 (hex) of this request's User-Agent header: what a login is bound to."""
    return hashlib.sha256(request.headers.get("User-Agent", "").encode("utf-8", "surrogateescape")).hexdigest()


def _open_login(user: User, *, logged_in_at: datetime | None = None,
                awaiting_second_factor: bool = False) -> tuple[str, LoginSession]:
    """Add a login row for this browser; returns the key that names it (the row keeps only its hash) and the row."""
    key = secrets.token_urlsafe(32)
    now = now_utc()
    login = LoginSession(id=_digest(key), user_id=user.id, user_agent_hash=user_agent_hash(),
                         logged_in_at=logged_in_at or now, created_at=now, last_seen_at=now,
                         awaiting_second_factor=awaiting_second_factor)
    db.session.add(login)
    return key, login


def _problem(login: LoginSession) -> str | None:
    """Why this open login may not be used by this request, or None."""
    if not hmac.compare_digest(login.user_agent_hash, user_agent_hash()):
        return "user_agent"
    now = now_utc()
    if now - login.last_seen_at > timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"]):
        return "idle"
    if now - login.logged_in_at > current_app.permanent_session_lifetime:
        return "expired"
    return None


#: Read on every request (built once: SQLAlchemy keys its compiled cache on the statement), with the data version
#: that decides whether a kept page is still current (``freshness.PAGES_VERSION``): one statement for both.
_READ_LOGIN = select(LoginSession, freshness.PAGES_VERSION).where(LoginSession.id == bindparam("login_id"))


@login_manager.user_loader
def load_user(login_id: str):
    """The account of the login named in the cookie, while that login is open and passes every check.

    One primary-key read: the login row with its account and agency joined, and the pages' data version (noted
    for a kept page). A login that fails a check is left in ``g`` for ``enforce_session_rules`` to end and, if
    suspicious, record.
    """
    user_id, _sep, key = (login_id or "").partition(":")
    if not user_id.isdigit() or not key:
        return None
    found = db.session.execute(_READ_LOGIN, {"login_id": _digest(key)}).one_or_none()
    if found is None:
        return None
    login, pages_version = found
    freshness.note_pages_version(pages_version)
    if login.user_id != int(user_id) or login.awaiting_second_factor or not login.user.is_active:
        return None
    problem = "ended" if login.ended_at is not None else _problem(login)
    if problem is not None:
        g.setdefault(_REFUSED, (login, problem))
        return None
    setattr(g, _CURRENT, login)
    login.user.login_key = key
    return login.user


def current_login() -> LoginSession | None:
    """This request's login row (None for a visitor who is not logged in)."""
    return g.get(_CURRENT) if current_user.is_authenticated else None


def start_session(user: User, *, logged_in_at: datetime | None = None):
    """Log the user in on a brand-new session (nothing carried over from before the login); the caller commits."""
    session.clear()
    user.login_key, login = _open_login(user, logged_in_at=logged_in_at)
    setattr(g, _CURRENT, login)
    login_user(user)
    session.permanent = True


def renew_session(user: User):
    """Keep this browser signed in after a change to the account: the old login ends (if the change did not end it
    already) and a new one starts, with a new key, whose absolute lifetime still counts from the login."""
    login = current_login()
    if login is not None:
        login.end("renewed")
    start_session(user, logged_in_at=login.logged_in_at if login is not None else None)


def begin_two_factor_login(user: User, next_url: str | None):
    """Remember that the password was right and the second step is due; this logs nobody in. The caller commits."""
    language = session.get("lang")
    session.clear()
    session[_PENDING_KEY] = {
        "key": _open_login(user, awaiting_second_factor=True)[0],
        "next": next_url if is_safe_next(next_url) else None,
    }
    if language:
        session["lang"] = language


def has_pending_login() -> bool:
    return _PENDING_KEY in session


def _pending_login() -> LoginSession | None:
    """The row of the login waiting for its second step in this browser, while it may still be completed."""
    pending = session.get(_PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("key"), str):
        return None
    login = db.session.get(LoginSession, _digest(pending["key"]))
    if (login is None or not login.awaiting_second_factor or login.ended_at is not None
            or not hmac.compare_digest(login.user_agent_hash, user_agent_hash())
            or now_utc() - login.created_at > timedelta(minutes=current_app.config["TWO_FACTOR_PENDING_MINUTES"])):
        return None
    return login


def pending_two_factor_login() -> tuple[User, str | None] | None:
    """The user waiting for the second step and where to go after it; None once it expired or is void.

    A password reset, deactivation or two-factor reset in between voids it (its row ends with the user's logins).
    """
    login = _pending_login()
    if login is None or not login.user.is_active or login.user.totp_enabled_at is None:
        session.pop(_PENDING_KEY, None)
        return None
    return login.user, session[_PENDING_KEY].get("next")


def finish_two_factor_login(user: User):
    """The second step succeeded: end the waiting row and log the user in on a new one. The caller commits."""
    pending = _pending_login()
    if pending is not None:
        pending.end("second_factor")
    start_session(user)


def end_session():
    """Log this browser out and forget the session, keeping only the language the page was shown in.

    The login's row is ended by the caller (``services.sign_out``, ``User.end_all_sessions`` or a refusal).
    """
    language = session.get("lang") or (current_user.locale if current_user.is_authenticated else None)
    logout_user()
    session.clear()
    if language:
        session["lang"] = language


def recheck_password(user: User, field) -> bool:
    """The current-password field of a sensitive change: wrong answers count toward the login lock; when they
    lock it, every session of the user has ended and this browser is signed out here and told why.

    The caller sends a browser that is no longer logged in to the login page. Commits the failure count.
    """
    if not field.data:
        field.errors = [*field.errors, _("현재 비밀번호를 입력하세요.")]
        return False
    try:
        confirmed = services.confirm_password(user, field.data)
    except services.LoginLocked:
        db.session.commit()
        end_session()
        flash(_("비밀번호 확인 실패가 반복되어 계정이 잠시 잠겼고 로그아웃되었습니다."), "danger")
        return False
    db.session.commit()
    if not confirmed:
        field.errors = [*field.errors, _("현재 비밀번호가 올바르지 않습니다.")]
    return confirmed


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _seen(login: LoginSession, now: datetime):
    """Move the login's last-seen time: in a page that only reads, in a short transaction of its own (the
    page's objects stay loaded); in a request that writes, with its changes (when it commits)."""
    if request.method in SAFE_METHODS:
        table = LoginSession.__table__
        with db.engine.connect().execution_options(**{WRITE_LOCK: True}) as connection, connection.begin():
            connection.execute(update(table).where(table.c.id == login.id).values(last_seen_at=now))
    else:
        login.last_seen_at = now


def _refuse(login: LoginSession, reason: str):
    """End a login that failed a check, record it when suspicious, sign the browser out, go to the login page."""
    login_id = login.id
    db.session.rollback()  # leave the request's read snapshot; write in a transaction that locks at BEGIN
    db.session.connection(execution_options={WRITE_LOCK: True})
    login = db.session.get(LoginSession, login_id)
    login.end(reason)
    if reason in _SUSPICIOUS:
        audit.record("auth.session_refused", login.user, actor=login.user, details={"reason": reason})
    language = session.get("lang") or login.user.locale
    db.session.commit()
    end_session()
    session["lang"] = language  # the login page and its message in the user's language
    if reason == "idle":
        flash(_("오랫동안 사용하지 않아 로그아웃되었습니다. 다시 로그인하세요."), "warning")
    elif reason == "expired":
        flash(_("로그인한 지 오래되어 보안을 위해 로그아웃되었습니다. 다시 로그인하세요."), "warning")
    else:
        flash(_("로그인이 필요합니다."), "warning")
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def enforce_session_rules():
    """before_request hook: end refused logins; keep the last-seen time; hold users who must change their
    password or enrol. Static files are public and read no session (nor the database)."""
    if request.endpoint == "static":
        return None
    if not current_user.is_authenticated:
        refused = g.pop(_REFUSED, None)
        return _refuse(*refused) if refused is not None else None
    login = g.get(_CURRENT)
    now = now_utc()
    if login is not None and (now - login.last_seen_at).total_seconds() >= SEEN_AT_STEP:
        _seen(login, now)
    if current_user.must_change_password and request.endpoint not in _OPEN_WHILE_PASSWORD_EXPIRED:
        flash(_l("관리자가 비밀번호를 초기화했습니다. 새 비밀번호를 정하세요."), "warning")
        return redirect(url_for("auth.change_password"))
    if (two_factor.is_required_for(current_user) and not two_factor.is_enabled(current_user)
            and request.endpoint not in _OPEN_WHILE_TWO_FACTOR_MISSING):
        flash(_l("관리자 계정은 2단계 인증을 설정해야 합니다. 설정을 마치면 다른 화면을 쓸 수 있습니다."), "warning")
        return redirect(url_for("auth.two_factor"))
    return None


login_manager.login_view = "auth.login"
login_manager.login_message = _l("로그인이 필요합니다.")
login_manager.login_message_category = "warning"
#: Flask-Login's own session protection is off: for permanent sessions its "strong" mode falls back to "basic",
#: which only marks the session not fresh. The login row's User-Agent check above is what holds.
login_manager.session_protection = None
