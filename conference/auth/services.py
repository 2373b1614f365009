"""Signing in and out, the login throttle and password changes. No commits: the request commits."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from conference import audit
from conference.auth import two_factor
from conference.auth.passwords import hash_password, needs_rehash, verify_password
from conference.database import now_utc
from conference.extensions import db
from conference.models import LoginSession, LoginThrottle, User


class LoginLocked(Exception):
    """Too many failed logins for this username; try again later."""


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:40]


def find_user(username: str) -> User | None:
    return db.session.execute(
        db.select(User).where(func.lower(User.username) == normalise_username(username))
    ).scalar_one_or_none()


def _throttle_for(username: str) -> LoginThrottle:
    """The username's throttle row, locked until the request ends so parallel attempts take turns.

    (On SQLite the write transaction's BEGIN IMMEDIATE does this; PostgreSQL needs FOR UPDATE.)
    """
    query = db.select(LoginThrottle).where(LoginThrottle.username == username).with_for_update()
    throttle = db.session.execute(query).scalar_one_or_none()
    if throttle is None:
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(username=username, failures=0))
        except IntegrityError:
            pass  # a parallel attempt created it first; wait for its lock below
        throttle = db.session.execute(query).scalar_one()
    return throttle


def _refuse_while_locked(throttle: LoginThrottle, name: str):
    if throttle.locked_until is not None and throttle.locked_until > now_utc():
        audit.record("login.locked", actor_name=name)
        raise LoginLocked()


def _count_failure(throttle: LoginThrottle, name: str, reason: str):
    """Count a failed attempt (password or second step) and lock the username after too many."""
    now = now_utc()
    window = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    if throttle.last_failure_at is not None and now - throttle.last_failure_at > window:
        throttle.failures = 0  # failures long ago do not add up to a lock today
    throttle.failures = (throttle.failures or 0) + 1
    throttle.last_failure_at = now
    if throttle.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        throttle.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        throttle.failures = 0
        audit.record("login.lock", actor_name=name,
                     details={"minutes": current_app.config["LOGIN_LOCK_MINUTES"]})
    audit.record("login.failed", actor_name=name, details={"reason": reason})


def _finish_login(throttle: LoginThrottle, user: User, details: dict | None = None):
    throttle.failures = 0
    throttle.locked_until = None
    user.last_login_at = now_utc()
    audit.record("login", user, actor=user, details=details)


def authenticate(username: str, password: str) -> User | None:
    """Check credentials, count failures per username, and record the attempt.

    Returns the user on success and None on failure; raises LoginLocked while the username is
    locked. Whether the account exists is never told apart in the outcome. For a user with
    two-factor login the login is not complete yet: the failure count stays until
    ``complete_two_factor_login`` succeeds, so the password cannot reset a count of wrong codes.
    """
    name = normalise_username(username)
    throttle = _throttle_for(name)
    _refuse_while_locked(throttle, name)

    user = find_user(name)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active:
        _count_failure(throttle, name, "inactive" if ok else "credentials")
        return None

    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if two_factor.is_enabled(user):
        audit.record("login.password", user, actor=user)
    else:
        _finish_login(throttle, user)
    return user


def complete_two_factor_login(user: User, code: str | None) -> str | None:
    """Second login step: a TOTP code or an unused recovery code; wrong codes count like wrong passwords.

    Returns how the user proved it (``"totp"`` or ``"recovery_code"``) or None; raises LoginLocked.
    """
    throttle = _throttle_for(user.username)
    db.session.refresh(user)  # read after the throttle lock, so a parallel attempt's used code is seen
    _refuse_while_locked(throttle, user.username)
    method = two_factor.verify_code(user, code)
    if method is None:
        _count_failure(throttle, user.username, "second_factor")
        return None
    _finish_login(throttle, user, details={"second_factor": method})
    return method


def confirm_password(user: User, password: str) -> bool:
    """Re-check the password of a signed-in user before a sensitive change.

    Wrong answers count toward the same lock as failed logins, so a stolen session cannot be used to guess the
    password; when they lock the account, every session of the user ends too. Raises LoginLocked then (and
    while the lock lasts). The caller commits either way, so a failure is counted even when nothing else changes.
    """
    throttle = _throttle_for(user.username)
    _refuse_while_locked(throttle, user.username)
    if verify_password(user.password_hash, password or ""):
        return True
    _count_failure(throttle, user.username, "password_recheck")
    if throttle.locked_until is not None:
        user.end_all_sessions()
        raise LoginLocked()
    return False


def sign_out(user: User, login: LoginSession | None):
    """End this browser's login on the server and record the logout; the user's other logins go on."""
    if login is not None:
        login.end("logout")
    audit.record("logout", user, actor=user)


def change_password(user: User, new_password: str, *, by: User, reason: str = "change"):
    """Set a new password and end every login of the user; ``by`` is the user or an admin."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now_utc()
    user.must_change_password = by.id != user.id
    user.end_all_sessions()
    audit.record("password." + reason, user, actor=by)
