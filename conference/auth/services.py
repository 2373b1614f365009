"""Signing in and out, the login throttle and password changes. No commits: the request commits."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from conference import audit
from conference.auth.passwords import hash_password, needs_rehash, verify_password
from conference.database import now_utc
from conference.extensions import db
from conference.models import LoginThrottle, User


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


def authenticate(username: str, password: str) -> User | None:
    """Check credentials, count failures per username, and record the attempt.

    Returns the user on success and None on failure; raises LoginLocked while the username is
    locked. Whether the account exists is never told apart in the outcome.
    """
    name = normalise_username(username)
    throttle = _throttle_for(name)
    now = now_utc()
    if throttle.locked_until is not None and throttle.locked_until > now:
        audit.record("login.locked", actor_name=name)
        raise LoginLocked()

    user = find_user(name)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or not user.is_active:
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
        audit.record("login.failed", actor_name=name,
                     details={"reason": "inactive" if ok else "credentials"})
        return None

    throttle.failures = 0
    throttle.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit.record("login", user, actor=user)
    return user


def sign_out(user: User):
    """End every session of the user server-side and record the logout."""
    user.rotate_session_token()
    audit.record("logout", user, actor=user)


def change_password(user: User, new_password: str, *, by: User, reason: str = "change"):
    """Set a new password and end the user's other sessions; ``by`` is the user or an admin."""
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now_utc()
    user.must_change_password = by.id != user.id
    user.rotate_session_token()
    audit.record("password." + reason, user, actor=by)
