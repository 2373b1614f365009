"""All mapped classes, imported here so Alembic and the app see one metadata."""
from conference.models.accounts import (EVERY_ADDRESS, Agency, LoginSession, LoginThrottle, RecoveryCode, Role,
                                       Sector, User)
from conference.models.audit import AccessDenial, AuditChainHead, AuditEvent
from conference.models.data_versions import DataVersion
from conference.models.cases import (Assessment, CaseNumberCounter, Consent, DomainRating, Household,
                                     ImportBatch, Member, MonitoringEntry, NeedDomain, Stage, StatusChange, Track)
from conference.models.inputs import AgencyInput, InputRevision, InputState, Notification, OfferedResource
from conference.models.actions import REVIEW_OUTCOMES, ActionEvent, ActionItem, ActionReview, ActionStatus
from conference.models.minutes import (Attendee, CaseRecord, Minutes, MinutesRevision, MinutesStatus, ReviewResponse,
                                       RootCause)
from conference.models.meetings import (AgendaItem, Invitation, Meeting, MeetingKind, MeetingStatus, PacketSection,
                                        PacketSnapshot, Pledge, SectionVisibility)
from conference.models.disclosure import Disclosure

__all__ = ["REVIEW_OUTCOMES", "ActionEvent", "ActionItem", "ActionReview", "ActionStatus", "Attendee", "CaseRecord", "Minutes",
           "MinutesRevision", "MinutesStatus", "ReviewResponse", "RootCause", "AgencyInput", "InputRevision", "InputState", "Notification", "OfferedResource", "AgendaItem", "Invitation", "Meeting", "MeetingKind", "MeetingStatus", "PacketSection", "PacketSnapshot", "Pledge", "Disclosure",
           "SectionVisibility", "AccessDenial", "Agency", "Assessment", "AuditChainHead", "DataVersion", "AuditEvent", "RecoveryCode", "CaseNumberCounter", "Consent", "DomainRating", "Household",
           "ImportBatch", "MonitoringEntry", "EVERY_ADDRESS", "LoginSession", "LoginThrottle", "Member", "NeedDomain", "Role", "Sector", "Stage", "StatusChange",
           "Track", "User"]
