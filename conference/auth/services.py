"""Signing in and out, the login throttle and password changes. No commits: the request commits."""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from conference import audit
from conference.auth import two_factor
from conference.auth.passwords import hash_password, needs_rehash, verify_password
from conference.core.database import now_utc
from conference.extensions import db
from conference.models import EVERY_ADDRESS, LoginSession, LoginThrottle, User


class LoginLocked(Exception):
    """Too many failed logins for this username from this address (or from everywhere); try again later."""


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:40]


def find_user(username: str) -> User | None:
    return db.session.execute(
        db.select(User).where(func.lower(User.username) == normalise_username(username))
    ).scalar_one_or_none()


@dataclass
class _Throttles:
    """The two counters an attempt for a username meets: the username's from every address, and the username's
    from this client address."""

    name: str
    everywhere: LoginThrottle
    here: LoginThrottle


def _throttle_row(username: str, address: str) -> LoginThrottle:
    """One throttle row, locked until the request ends so parallel attempts take turns.

    (On SQLite the write transaction's BEGIN IMMEDIATE does this; PostgreSQL needs FOR UPDATE.)
    """
    query = (db.select(LoginThrottle).where(LoginThrottle.username == username, LoginThrottle.address == address)
             .with_for_update())
    throttle = db.session.execute(query).scalar_one_or_none()
    if throttle is None:
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(username=username, address=address, failures=0))
        except IntegrityError:
            pass  # a parallel attempt created it first; wait for its lock below
        throttle = db.session.execute(query).scalar_one()
    return throttle


def _throttles_for(username: str) -> _Throttles:
    """The username's counters, always locked in the same order (every address first)."""
    return _Throttles(username, _throttle_row(username, EVERY_ADDRESS), _throttle_row(username, audit.client_ip()))


def _limits(throttles: _Throttles):
    """(row, failures that lock it, minutes it stays locked, minutes after which failures no longer add up, scope)."""
    config = current_app.config
    return ((throttles.here, config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"],
             config["LOGIN_LOCK_MINUTES"], "address"),
            (throttles.everywhere, config["LOGIN_USERNAME_MAX_FAILURES"], config["LOGIN_USERNAME_LOCK_MINUTES"],
             config["LOGIN_USERNAME_WINDOW_MINUTES"], "username"))


def _refuse_while_locked(throttles: _Throttles):
    now = now_utc()
    for row, _max, _lock, _window, scope in _limits(throttles):
        if row.locked_until is not None and row.locked_until > now:
            audit.record("login.locked", actor_name=throttles.name, details={"scope": scope})
            raise LoginLocked()


def _count_failure(throttles: _Throttles, reason: str) -> bool:
    """Count a failed attempt (password, second step or password re-check) here and everywhere; lock after too
    many. Returns whether this failure started a lock."""
    now = now_utc()
    locked = False
    for row, most, lock_minutes, window_minutes, scope in _limits(throttles):
        if row.last_failure_at is not None and now - row.last_failure_at > timedelta(minutes=window_minutes):
            row.failures = 0  # failures long ago do not add up to a lock today
        row.failures = (row.failures or 0) + 1
        row.last_failure_at = now
        if row.failures >= most:
            row.locked_until = now + timedelta(minutes=lock_minutes)
            row.failures = 0
            locked = True
            audit.record("login.lock", actor_name=throttles.name, details={"minutes": lock_minutes, "scope": scope})
    audit.record("login.failed", actor_name=throttles.name, details={"reason": reason})
    return locked


def _finish_login(throttles: _Throttles, user: User, details: dict | None = None):
    """A complete login clears the count at this address; the count over every address stays (see config)."""
    throttles.here.failures = 0
    throttles.here.locked_until = None
    user.last_login_at = now_utc()
    audit.record("login", user, actor=user, details=details)


def authenticate(username: str, password: str) -> User | None:
    """Check credentials, count failures per username and client address, and record the attempt.

    Returns the user on success and None on failure; raises LoginLocked while the username is locked at
    this address or everywhere. Whether the account exists is never told apart in the outcome. For a user
    with two-factor login the login is not complete yet: the failure count stays until
    ``complete_two_factor_login`` succeeds, so the password cannot reset a count of wrong codes.
    """
    name = normalise_username(username)
    throttles = _throttles_for(name)
    _refuse_while_locked(throttles)

    user = find_user(name)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active:
        _count_failure(throttles, "inactive" if ok else "credentials")
        return None

    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if two_factor.is_enabled(user):
        audit.record("login.password", user, actor=user)
    else:
        _finish_login(throttles, user)
    return user


def complete_two_factor_login(user: User, code: str | None) -> str | None:
    """Second login step: a TOTP code or an unused recovery code; wrong codes count like wrong passwords.

    Returns how the user proved it (``"totp"`` or ``"recovery_code"``) or None; raises LoginLocked.
    """
    throttles = _throttles_for(user.username)
    db.session.refresh(user)  # read after the throttle lock, so a parallel attempt's used code is seen
    _refuse_while_locked(throttles)
    method = two_factor.verify_code(user, code)
    if method is None:
        _count_failure(throttles, "second_factor")
        return None
    _finish_login(throttles, user, details={"second_factor": method})
    return method


def confirm_password(user: User, password: str) -> bool:
    """Re-check the password of a signed-in user before a sensitive change.

    Wrong answers count toward the same locks as failed logins, so a stolen session cannot be used to guess the
    password; when they lock the account, every session of the user ends too. Raises LoginLocked then (and
    while a lock lasts). The caller commits either way, so a failure is counted even when nothing else changes.
    """
    throttles = _throttles_for(user.username)
    _refuse_while_locked(throttles)
    if verify_password(user.password_hash, password or ""):
        return True
    if _count_failure(throttles, "password_recheck"):
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
