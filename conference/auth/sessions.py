"""Server-side session rules: revocable login ids, idle timeout, absolute lifetime, the pending two-factor
step, and holding users who must change their password or (admins, when configured) enrol in two-factor login."""
import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from conference.auth import two_factor
from conference.extensions import db, login_manager
from conference.i18n import lazy_gettext as _l
from conference.models import User

#: Endpoints a user who must change the password may still reach.
_OPEN_WHILE_PASSWORD_EXPIRED = {"auth.change_password", "auth.logout", "auth.set_language", "static"}
#: Endpoints an admin who must enrol in two-factor login may still reach.
_OPEN_WHILE_TWO_FACTOR_MISSING = {"auth.two_factor", "auth.two_factor_start", "auth.logout", "auth.set_language",
                                  "static"}
#: Session key of a login waiting for its second step: the login id, a deadline and where to go next.
_PENDING_KEY = "two_factor_login"
#: Seconds between refreshes of the last-seen time: the idle timeout is exact to the minute, and a request
#: within the minute leaves the session cookie as it was (no new cookie signed and sent on every page).
SEEN_AT_STEP = 60


@login_manager.user_loader
def load_user(login_id: str):
    """Accept a session only while its token matches the account's current one."""
    user_id, _, token = (login_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def start_session(user: User, *, login_at: int | None = None):
    """Log the user in on a brand-new session (nothing carried over from before the login)."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session["login_at"] = login_at or now
    session["seen_at"] = now


def renew_session(user: User):
    """Keep this browser signed in after a change that ended all the user's sessions (new password, two-factor
    change): a fresh session with the new login id, whose absolute lifetime still counts from the login."""
    start_session(user, login_at=session.get("login_at"))


def begin_two_factor_login(user: User, next_url: str | None):
    """Remember that the password was right and the second step is due; this logs nobody in."""
    language = session.get("lang")
    session.clear()
    session[_PENDING_KEY] = {
        "user": user.get_id(),
        "until": int(time.time()) + current_app.config["TWO_FACTOR_PENDING_MINUTES"] * 60,
        "next": next_url if is_safe_next(next_url) else None,
    }
    if language:
        session["lang"] = language


def has_pending_login() -> bool:
    return _PENDING_KEY in session


def pending_two_factor_login() -> tuple[User, str | None] | None:
    """The user waiting for the second step and where to go after it; None once it expired or is void.

    A password reset, deactivation or two-factor reset in between voids it (the login id changes).
    """
    pending = session.get(_PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("until"), int) \
            or pending["until"] < time.time():
        session.pop(_PENDING_KEY, None)
        return None
    user = load_user(pending.get("user"))
    if user is None or user.totp_enabled_at is None:
        session.pop(_PENDING_KEY, None)
        return None
    return user, pending.get("next")


def end_session():
    """Log out and forget the session, keeping only the language the page was shown in."""
    language = session.get("lang") or (current_user.locale if current_user.is_authenticated else None)
    logout_user()
    session.clear()
    if language:
        session["lang"] = language


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def enforce_session_rules():
    """before_request hook: end idle or too old sessions; hold users who must change their password or enrol."""
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    idle_limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    idle = now - session.get("seen_at", 0) > idle_limit
    if idle or now - session.get("login_at", 0) > lifetime:
        end_session()
        flash(_l("오랫동안 사용하지 않아 로그아웃되었습니다. 다시 로그인하세요.") if idle else
              _l("로그인한 지 오래되어 보안을 위해 로그아웃되었습니다. 다시 로그인하세요."), "warning")
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if now - session.get("seen_at", 0) >= SEEN_AT_STEP:
        session["seen_at"] = now
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
login_manager.session_protection = "strong"
