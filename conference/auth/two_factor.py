"""Two-factor login: TOTP codes (RFC 6238) and one-time recovery codes. Services: no request, no commit."""
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from markupsafe import Markup

from conference import audit
from conference.core.database import now_utc
from conference.extensions import db
from conference.models import RecoveryCode, Role, User

#: RFC 6238 as every authenticator app does it: 30-second steps, 6 digits, SHA-1.
STEP_SECONDS = 30
DIGITS = 6
#: Steps accepted either side of the server's, for clocks a little off.
WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: Letters and digits that cannot be misread for one another (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
#: 12 characters of 31 ≈ 59 bits, shown as three groups of four.
RECOVERY_CODE_LENGTH = 12


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def is_required_for(user: User) -> bool:
    """Whether the configuration makes this user enrol before doing anything else."""
    return current_app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] and user.role == Role.ADMIN


def start_enrolment(user: User) -> str:
    """Give a user without two-factor login a new secret to add to an app; login is unchanged until confirmed."""
    if not is_enabled(user):
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return _totp(user.totp_secret).provisioning_uri(
        name=user.username, issuer_name=current_app.config["TWO_FACTOR_ISSUER"])


def qr_svg(data: str, title: str) -> Markup:
    """``data`` as a QR code in inline SVG (no script, no image request)."""
    svg = segno.make(data, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=title)
    return Markup(svg)  # nosec B704  # segno writes only path data and escapes the title itself


def grouped(text: str, size: int = 4) -> str:
    """``text`` in groups of ``size`` characters, easier to type: ``ABCD EFGH …``."""
    return " ".join(text[i:i + size] for i in range(0, len(text), size))


def _clean(code: str | None) -> str:
    """A typed code without spaces and hyphens, lower-case; anything absurdly long is cut (and will not match)."""
    return "".join(ch for ch in (code or "")[:64] if ch not in " -\t").lower()


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def _matching_step(user: User, code: str, at: float) -> int | None:
    """The time step whose code ``code`` is, within the window and later than the last one used."""
    if not user.totp_secret or len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = _totp(user.totp_secret)
    current = totp.timecode(at)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if step > user.totp_last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_totp(user: User, code: str, at: float | None = None) -> bool:
    """Accept a TOTP code once: its step is remembered, so the same code (or an older one) fails next time."""
    step = _matching_step(user, code, time.time() if at is None else at)
    if step is None:
        return False
    user.totp_last_step = step
    return True


# Recovery codes are hashed with HMAC-SHA256 keyed by SECRET_KEY rather than argon2. They are random
# (≈59 bits), so a slow hash adds little: without the key a stolen table cannot be tested at all, and
# online guesses meet the login lockout. A keyed hash is also found by lookup, where salted argon2 hashes
# would have to be tried one by one (10 × ≈130 ms per attempt). The price: a new SECRET_KEY makes the old
# recovery codes unusable (TOTP still works; an admin can reset two-factor login for a user).
def _recovery_hash(user_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, f"recovery-code:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def _replace_recovery_codes(user: User) -> list[str]:
    """Delete the user's recovery codes and make new ones; the plain codes are returned to be shown once."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, _clean(code)))
                       for code in codes)
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    """Mark an unused recovery code of the user as used; False when there is none such."""
    if len(code) != RECOVERY_CODE_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in code):
        return False
    result = db.session.execute(
        db.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(user.id, code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now_utc())
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def unused_recovery_codes(user: User) -> int:
    return db.session.execute(
        db.select(db.func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def verify_code(user: User, code: str | None) -> str | None:
    """Check a second factor: ``"totp"`` or ``"recovery_code"`` when it is valid (each works once), else None."""
    if not is_enabled(user):
        return None
    code = _clean(code)
    if _accept_totp(user, code):
        return "totp"
    if _use_recovery_code(user, code):
        return "recovery_code"
    return None


def enable(user: User, code: str | None) -> list[str] | None:
    """Switch two-factor login on once ``code`` shows the app has the secret; returns the new recovery codes.

    The user's other sessions end: they were started with the password alone.
    """
    if is_enabled(user) or not user.totp_secret or not _accept_totp(user, _clean(code)):
        return None
    user.totp_enabled_at = now_utc()
    codes = _replace_recovery_codes(user)
    user.end_all_sessions()
    audit.record("two_factor.enable", user, actor=user)
    return codes


def disable(user: User, *, by: User, reason: str = "disable"):
    """Switch two-factor login off (the user, or an admin's ``reset``): forget the secret and recovery codes.

    Every session of the user ends.
    """
    user.totp_secret = ""  # nosec B105  # "" means no secret, not a password
    user.totp_enabled_at = None
    user.totp_last_step = 0
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_all_sessions()
    audit.record("two_factor." + reason, user, actor=by)


def regenerate_recovery_codes(user: User) -> list[str]:
    """New recovery codes for the user; the old ones stop working."""
    codes = _replace_recovery_codes(user)
    audit.record("two_factor.recovery_codes", user, actor=user, details={"count": len(codes)})
    return codes
