"""Who may do what. Pure rules used by views, templates and list queries alike."""
from enum import Enum

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import bindparam, exists, false, func, or_, select

from conference.extensions import db
from conference.models import ActionItem, AgendaItem, Consent, Household, Invitation, Meeting, Pledge, Role
from conference.models.cases import consent_agency


class Refusal(Enum):
    """What a rule answers instead of an agency (or a document) when it gives none."""

    #: The user may read (or write) nothing here; the web answers 404.
    REFUSED = "refused"
    #: A partner may read once they have signed the meeting's confidentiality pledge.
    PLEDGE_NEEDED = "pledge needed"


#: ``reader_agency_for`` and ``input_agency_for`` answer this when the user may read or write for no agency (never
#: None or False: for a reader None is the city's full version).
REFUSED = Refusal.REFUSED
#: The answer for a packet asked for before ``has_pledged`` (where ``needs_pledge``).
PLEDGE_NEEDED = Refusal.PLEDGE_NEEDED


def _role(user):
    return user.role if user is not None and user.is_authenticated else None


def visibility_scope(user) -> tuple:
    """What the list filters below depend on: two users with the same scope see exactly the same rows."""
    role = _role(user)
    if role == Role.PRACTITIONER:
        return (role, user.agency_id)
    if role == Role.CHAIR:
        return (role, user.id)
    return (role,)


def can_manage_accounts(user) -> bool:
    """Admins create, edit and deactivate agencies and accounts and read the audit trail."""
    return _role(user) == Role.ADMIN


def can_read_audit(user) -> bool:
    return _role(user) == Role.ADMIN


def is_case_staff(user) -> bool:
    """Coordinators work on every case of the city."""
    return _role(user) == Role.COORDINATOR


def reads_case_data(user) -> bool:
    """Everyone but the admin may reach case work at all (what each then sees is filtered below). The admin manages
    accounts, agencies, settings, backups and the access log and reads no household, packet, minutes or action:
    a person who does both keeps two accounts."""
    return _role(user) in (Role.COORDINATOR, Role.CHAIR, Role.PRACTITIONER)


def case_work_only(blueprint):
    """Every view of ``blueprint`` shows case data: an anonymous visitor goes to the login page and a signed-in
    admin is answered 403, before any view reads anything."""
    @blueprint.before_request
    @login_required
    def _case_work():
        require(reads_case_data(current_user))


def require(allowed: bool):
    """Stop the request with 403 unless ``allowed``."""
    if not allowed:
        abort(403)


# --- Cases (households) ---

def can_register_cases(user) -> bool:
    """Coordinators register, import and edit households."""
    return is_case_staff(user)


def can_view_case(user, household) -> bool:
    """Staff see every case; others only what ``visible_households`` lets through."""
    if is_case_staff(user):
        return True
    if _role(user) is None:
        return False
    query = visible_households(user, select(Household.id).where(Household.id == household.id))
    return db.session.execute(query).first() is not None


def can_edit_case(user, household) -> bool:
    return is_case_staff(user)


def can_see_identity(user, household) -> bool:
    """Who sees a household's full name, phone and address rather than the masked form."""
    return is_case_staff(user)


def visible_households(user, query):
    """Filter a select of Household to the cases ``user`` may see (never only a template check).

    A practitioner sees a case only while it is on the agenda of a meeting their agency is invited to,
    and the household's current consent covers the agency or the item records an override reason.
    A chair sees the cases of the meetings they chair.
    """
    role = _role(user)
    if role == Role.COORDINATOR:
        return query
    if role == Role.CHAIR:
        chaired = (select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
                   .where(AgendaItem.household_id == Household.id, Meeting.chair_id == user.id))
        return query.where(chaired.exists())
    if role == Role.PRACTITIONER:
        invited = (select(AgendaItem.id)
                   .join(Invitation, Invitation.meeting_id == AgendaItem.meeting_id)
                   .where(AgendaItem.household_id == Household.id, Invitation.agency_id == user.agency_id,
                          or_(AgendaItem.consent_override_reason != "",
                              consent_covers(Household.id, user.agency_id, Household))))
        return query.where(invited.exists())
    return query.where(false())


def consent_covers(household_id, agency_id: int, correlate):
    """SQL: the household's latest consent is not withdrawn and names the agency (``cases.services.current_consent``
    and ``conference.shared.disclosure`` apply the same rule to loaded objects).

    One EXISTS finds the latest consent once: two (names the agency, not withdrawn) looked it up twice for every
    row a list reads."""
    latest_consent = (select(func.max(Consent.id)).where(Consent.household_id == household_id)
                      .correlate(correlate).scalar_subquery())
    return (select(Consent.id).join(consent_agency, consent_agency.c.consent_id == Consent.id)
            .where(Consent.id == latest_consent, Consent.withdrawn_on.is_(None), consent_agency.c.agency_id == agency_id)
            .correlate(correlate).exists())


# --- Meetings ---

def can_manage_meetings(user) -> bool:
    """Coordinators schedule meetings, build agendas and invite agencies."""
    return is_case_staff(user)


def can_view_meeting(user, meeting) -> bool:
    role = _role(user)
    if role == Role.COORDINATOR:
        return True
    if role == Role.CHAIR:
        return meeting.chair_id == user.id
    if role == Role.PRACTITIONER:
        return any(i.agency_id == user.agency_id for i in meeting.invitations)
    return False


def visible_meetings(user, query):
    """Filter a select of Meeting to those ``user`` may open."""
    role = _role(user)
    if role == Role.COORDINATOR:
        return query
    if role == Role.CHAIR:
        return query.where(Meeting.chair_id == user.id)
    if role == Role.PRACTITIONER:
        invited = select(Invitation.id).where(Invitation.meeting_id == Meeting.id,
                                              Invitation.agency_id == user.agency_id)
        return query.where(invited.exists())
    return query.where(false())


def reader_agency_for(user, meeting, requested_agency_id: int | None) -> int | None | Refusal:
    """Whose copy of a meeting's packet or minutes ``user`` reads: practitioners only their own agency's; staff
    and the chair any invited agency's, or None for the full version. Returns ``REFUSED`` when nothing may be read.
    What a copy holds is decided by ``conference.shared.disclosure``."""
    if not can_view_meeting(user, meeting):
        return REFUSED
    invited = {i.agency_id for i in meeting.invitations}
    if _role(user) == Role.PRACTITIONER:
        return user.agency_id if user.agency_id in invited else REFUSED
    if requested_agency_id in (None, 0):
        return None
    return requested_agency_id if requested_agency_id in invited else REFUSED


def needs_pledge(user) -> bool:
    """Practitioners pledge confidentiality for a meeting before they first see its packet."""
    return _role(user) == Role.PRACTITIONER


#: Whether a user has pledged for a meeting, asked on its own (built once: it runs before every kept packet).
_PLEDGED = select(exists().where(Pledge.meeting_id == bindparam("meeting_id"), Pledge.user_id == bindparam("user_id")))


def has_pledged(meeting, user) -> bool:
    """``user`` has signed the confidentiality pledge for ``meeting``: from ``meeting.pledges`` when they are loaded,
    else one statement (a kept packet's check loads no pledges)."""
    if "pledges" in meeting.__dict__:
        return any(p.user_id == user.id for p in meeting.pledges)
    return db.session.execute(_PLEDGED, {"meeting_id": meeting.id, "user_id": user.id}).scalar()


# --- Agency input ---

def input_agency_for(user, meeting, requested_agency_id: int | None) -> int | Refusal:
    """For which agency ``user`` may write input at this meeting: a practitioner only for their own invited
    agency; coordinators for any invited agency (e.g. what an agency says at the meeting).
    Returns ``REFUSED`` when they may not."""
    invited = {i.agency_id for i in meeting.invitations}
    role = _role(user)
    if role == Role.PRACTITIONER:
        return user.agency_id if user.agency_id in invited else REFUSED
    if role == Role.COORDINATOR:
        return requested_agency_id if requested_agency_id in invited else REFUSED
    return REFUSED


# --- Meeting day and minutes ---

def can_read_minutes(user, meeting) -> bool:
    """Staff always; the chair and invited agencies once the draft is sent for review or approved."""
    if is_case_staff(user):
        return True
    minutes = meeting.minutes
    return can_view_meeting(user, meeting) and minutes is not None and minutes.status in ("review", "final")


def can_approve_minutes(user, meeting) -> bool:
    """결재: only the chair named for the meeting. A meeting without one has nobody to approve its minutes, as no
    chair may open a meeting they do not chair."""
    return _role(user) == Role.CHAIR and meeting.chair_id is not None and meeting.chair_id == user.id


def can_export_full_names(user) -> bool:
    """Only coordinators may export minutes with full names (with a reason, logged)."""
    return is_case_staff(user)


# --- Actions after the meeting ---

def visible_actions(user, query):
    """Filter a select of ActionItem: staff see all; practitioners their agency's while the household's consent
    covers the agency or the action records a consent override (a consent withdrawn since hides them); a chair
    those of meetings they chaired."""
    role = _role(user)
    if role == Role.COORDINATOR:
        return query
    decided = ActionItem.status != "planned"  # actions take effect when the minutes are approved
    if role == Role.PRACTITIONER:
        # The override is the action's own column, not an EXISTS over the action again: PostgreSQL ran that as a
        # hashed subplan over every action of every agency.
        return query.where(ActionItem.agency_id == user.agency_id, decided,
                           or_(consent_covers(ActionItem.household_id, user.agency_id, ActionItem),
                               ActionItem.consent_override_reason != ""))
    if role == Role.CHAIR:
        return query.where(ActionItem.meeting_id.in_(select(Meeting.id).where(Meeting.chair_id == user.id)), decided)
    return query.where(false())


def can_report_on_action(user, action) -> bool:
    """Progress and completion proposals come from the responsible agency (or case staff)."""
    role = _role(user)
    if role == Role.COORDINATOR:
        return True
    return role == Role.PRACTITIONER and action.agency_id == user.agency_id


def can_see_action_override(user, action) -> bool:
    """The reason an action went outside the household's consent: for the responsible agency, case staff and
    the chair of the meeting that decided it (needs ``action.meeting`` loaded)."""
    if can_report_on_action(user, action):
        return True
    return _role(user) == Role.CHAIR and action.meeting.chair_id == user.id
