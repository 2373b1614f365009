"""All mapped classes, imported here so Alembic and the app see one metadata."""
from conference.models.accounts import (EVERY_ADDRESS, Agency, LoginSession, LoginThrottle, RecoveryCode, Role,
                                       Sector, User)
from conference.models.actions import REVIEW_OUTCOMES, ActionEvent, ActionItem, ActionReview, ActionStatus
from conference.models.audit import AccessDenial, AuditChainHead, AuditEvent
from conference.models.cases import (Assessment, CaseNumberCounter, Consent, DomainRating, Household,
                                     ImportBatch, Member, MonitoringEntry, NeedDomain, Stage, StatusChange, Track)
from conference.models.data_versions import DataVersion
from conference.models.disclosure import Disclosure
from conference.models.inputs import AgencyInput, InputRevision, InputState, OfferedResource
from conference.models.meetings import (AgendaItem, Invitation, Meeting, MeetingKind, MeetingStatus, PacketSection,
                                        PacketSnapshot, Pledge, SectionVisibility)
from conference.models.minutes import (Attendee, CaseRecord, Minutes, MinutesRevision, MinutesStatus, ReviewResponse,
                                       RootCause)
from conference.models.notifications import Notification

__all__ = [
    "EVERY_ADDRESS",
    "REVIEW_OUTCOMES",
    "AccessDenial",
    "ActionEvent",
    "ActionItem",
    "ActionReview",
    "ActionStatus",
    "Agency",
    "AgencyInput",
    "AgendaItem",
    "Assessment",
    "Attendee",
    "AuditChainHead",
    "AuditEvent",
    "CaseNumberCounter",
    "CaseRecord",
    "Consent",
    "DataVersion",
    "Disclosure",
    "DomainRating",
    "Household",
    "ImportBatch",
    "InputRevision",
    "InputState",
    "Invitation",
    "LoginSession",
    "LoginThrottle",
    "Meeting",
    "MeetingKind",
    "MeetingStatus",
    "Member",
    "Minutes",
    "MinutesRevision",
    "MinutesStatus",
    "MonitoringEntry",
    "NeedDomain",
    "Notification",
    "OfferedResource",
    "PacketSection",
    "PacketSnapshot",
    "Pledge",
    "RecoveryCode",
    "ReviewResponse",
    "Role",
    "RootCause",
    "Sector",
    "SectionVisibility",
    "Stage",
    "StatusChange",
    "Track",
    "User",
]
