"""Password hashing (argon2id) and the password policy."""
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from conference.core.i18n import gettext as _


@cache
def _hasher_for(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """An argon2id hasher and a hash to verify against when the account does not exist."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash("not-a-real-password-for-timing")


def _hasher() -> tuple[PasswordHasher, str]:
    config = current_app.config
    return _hasher_for(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"])


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and fail."""
    hasher, dummy_hash = _hasher()
    try:
        return hasher.verify(password_hash or dummy_hash, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("conference.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, username: str = "") -> str | None:
    """Return why a password is not acceptable, in the user's language, or None when it is fine."""
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        return _("비밀번호는 %(n)s자 이상이어야 합니다.", n=min_length)
    if len(password) > 128:
        return _("비밀번호는 128자 이하여야 합니다.")
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) < 4:
        return _("너무 흔하거나 추측하기 쉬운 비밀번호입니다. 다른 비밀번호를 정하세요.")
    if username and username.lower() in lowered:
        return _("비밀번호에 아이디를 넣을 수 없습니다.")
    return None
