"""All mapped classes, imported here so Alembic and the app see one metadata."""
from conference.models.accounts import Agency, LoginThrottle, Role, Sector, User
from conference.models.audit import AuditEvent

__all__ = ["Agency", "AuditEvent", "LoginThrottle", "Role", "Sector", "User"]
