"""Who may do what. Pure rules used by views, templates and list queries alike."""
from flask import abort

from conference.models import Role


def _role(user):
    return user.role if user is not None and user.is_authenticated else None


def can_manage_accounts(user) -> bool:
    """Admins create, edit and deactivate agencies and accounts and read the audit trail."""
    return _role(user) == Role.ADMIN


def can_read_audit(user) -> bool:
    return _role(user) == Role.ADMIN


def is_case_staff(user) -> bool:
    """Coordinators and admins work on every case of the city."""
    return _role(user) in (Role.ADMIN, Role.COORDINATOR)


def can_approve_minutes(user) -> bool:
    return _role(user) == Role.CHAIR


def require(allowed: bool):
    """Stop the request with 403 unless ``allowed``."""
    if not allowed:
        abort(403)
