"""Agencies and accounts, managed by admins. Every change is audited; nothing here commits."""
from sqlalchemy import func

from conference import audit
from conference.auth import two_factor
from conference.auth.passwords import hash_password
from conference.auth.services import change_password, normalise_username
from conference.core.changes import apply_changes
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import Agency, User
from conference.shared.rules import RuleError

AGENCY_FIELDS = ("name", "is_public", "sector", "is_active")
USER_FIELDS = ("display_name", "position", "email", "phone", "agency_id", "role", "is_active_account")


class AccountError(RuleError):
    """A change to agencies or accounts that the rules forbid; ``field`` names the form field the message belongs to."""


def agency_name_taken(name: str, except_id: int | None = None) -> bool:
    """Whether another agency has this name, case aside. Compared here: SQLite's lower() folds only ASCII,
    so "ＡＢＣ복지관" twice passed a lower() query and then failed on the unique name (500)."""
    wanted = name.strip().casefold()
    return any(other.strip().casefold() == wanted for agency_id, other in db.session.execute(
        db.select(Agency.id, Agency.name)) if agency_id != except_id)


def create_agency(*, by: User, name: str, is_public: bool, sector: str, is_active: bool = True) -> Agency:
    name = name.strip()
    if agency_name_taken(name):
        raise AccountError("name", _l("같은 이름의 기관이 이미 있습니다."))
    agency = Agency(name=name, is_public=is_public, sector=sector, is_active=is_active)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.create", agency, actor=by,
                 details={"name": name, "is_public": is_public, "sector": sector})
    return agency


def update_agency(agency: Agency, *, by: User, **values) -> dict:
    values["name"] = values["name"].strip()
    if agency_name_taken(values["name"], except_id=agency.id):
        raise AccountError("name", _l("같은 이름의 기관이 이미 있습니다."))
    changed = apply_changes(agency, {k: values[k] for k in AGENCY_FIELDS})
    if changed:
        audit.record("agency.update", agency, actor=by, details=changed)
    return changed


def username_taken(username: str) -> bool:
    return db.session.execute(
        db.select(User.id).where(func.lower(User.username) == normalise_username(username))
    ).first() is not None


def create_user(*, by: User | None, username: str, display_name: str, agency_id: int, role: str,
                password: str, position: str = "", email: str = "", phone: str = "",
                must_change_password: bool = True) -> User:
    """Create an account; ``by`` is None only for the command line."""
    username = normalise_username(username)
    if username_taken(username):
        raise AccountError("username", _l("이미 쓰이는 아이디입니다."))
    user = User(username=username, display_name=display_name.strip(), position=position.strip(),
                email=email.strip(), phone=phone.strip(), agency_id=agency_id, role=role,
                password_hash=hash_password(password), must_change_password=must_change_password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, actor=by, actor_name="cli" if by is None else None,
                 details={"username": username, "agency_id": agency_id, "role": role})
    return user


def update_user(user: User, *, by: User, **values) -> dict:
    """Change an account; role, agency and activation changes are access-right changes and audited as such."""
    if user.id == by.id and (values["role"] != user.role or not values["is_active_account"]):
        raise AccountError("role", _l("자기 계정의 역할을 바꾸거나 비활성화할 수 없습니다."))
    values["display_name"] = values["display_name"].strip()
    changed = apply_changes(user, {k: values[k] for k in USER_FIELDS})
    if not changed:
        return changed
    if "is_active_account" in changed or "role" in changed or "agency_id" in changed:
        user.end_all_sessions()
    action = "user.update"
    if "is_active_account" in changed:
        action = "user.activate" if user.is_active_account else "user.deactivate"
    elif "role" in changed or "agency_id" in changed:
        action = "user.grant"
    audit.record(action, user, actor=by, details=changed)
    return changed


def reset_password(user: User, *, by: User, temporary_password: str):
    """An admin sets a temporary password; the user must replace it at the next login."""
    change_password(user, temporary_password, by=by, reason="reset")


def reset_two_factor(user: User, *, by: User):
    """An admin switches a user's two-factor login off (a lost phone); the user may enrol again."""
    two_factor.disable(user, by=by, reason="reset")
