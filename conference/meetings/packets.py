"""Pre-read packets (사전 공유자료): what one invited agency may know about each case, as plain data.

``load_meeting`` fetches everything in a fixed number of queries; ``build_packet`` is pure and
leaves out every section the agency may not see, so neither the page nor the Word file can show it.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from conference.cases.services import current_consent
from conference.extensions import db
from conference.masking import mask_address, mask_name
from conference.meetings import rules
from conference.models import (ActionItem, ActionStatus, AgencyInput, Assessment, Consent, Household, InputState,
                               NeedDomain)
from conference.models.meetings import AgendaItem, Invitation, Meeting, PacketSection, Pledge

#: Need domains that hold sensitive information (health, mental health): shown only when consent covers it.
SENSITIVE_DOMAINS = {NeedDomain.HEALTH.value}
#: How far back an earlier discussion makes a case a repeat.
REPEAT_WINDOW = timedelta(days=365)


@dataclass
class MemberLine:
    relation: str
    age: int
    sex: str
    flags: list[str]


@dataclass
class NeedLine:
    domain: str
    rating: str
    notes: str


@dataclass
class HistoryLine:
    title: str
    starts_at: datetime


@dataclass
class OpenAction:
    """An action from an earlier meeting that is not done yet (carried over into this meeting)."""

    task: str
    agency: str
    due: date
    status: str
    overdue: bool


@dataclass
class InputLine:
    agency: str
    facts: str
    opinion: str
    domains: list[str]
    risk_concerns: str
    withheld: str
    resources: list[str]
    late: bool
    #: Only in the coordinator's full view.
    coordinator_note: str = ""


@dataclass
class PacketCase:
    position: int
    case_number: str
    masked_name: str
    #: Where the household lives, no closer than the 행정동 (masking.mask_address).
    district: str
    key_question: str
    presenting_agency: str
    minutes_allotted: int
    is_repeat: bool
    consent_override_reason: str
    sections: set[str]
    stage: str = ""
    classification: str = ""
    signals: list[str] = field(default_factory=list)
    household_size: int = 0
    members: list[MemberLine] = field(default_factory=list)
    needs: list[NeedLine] = field(default_factory=list)
    sensitive_withheld: bool = False
    history: list[HistoryLine] = field(default_factory=list)
    open_actions: list[OpenAction] = field(default_factory=list)
    inputs: list[InputLine] = field(default_factory=list)

    def shows(self, section: str) -> bool:
        return section in self.sections


@dataclass
class Packet:
    meeting_id: int
    title: str
    starts_at: datetime
    place: str
    chair: str
    coordinator: str
    agency_id: int
    agency_name: str
    deadline: date | None
    agencies: list[str]
    cases: list[PacketCase]


def load_meeting(meeting_id: int, *extra_options, item_options=()) -> Meeting | None:
    """A meeting with its invitations, agenda and every case detail a packet may show.

    ``extra_options`` load more of the meeting, ``item_options`` more of each agenda item (the minutes do).
    """
    return db.session.execute(
        select(Meeting).where(Meeting.id == meeting_id).options(
            *extra_options,
            joinedload(Meeting.chair), joinedload(Meeting.coordinator),
            # The services reach the meeting from an invitation or item (``item.meeting``): load it back too.
            selectinload(Meeting.invitations).options(joinedload(Invitation.agency), joinedload(Invitation.meeting)),
            selectinload(Meeting.pledges).joinedload(Pledge.user),
            selectinload(Meeting.agenda_items).options(
                *item_options,
                joinedload(AgendaItem.meeting),
                joinedload(AgendaItem.presenting_agency),
                selectinload(AgendaItem.visibility),
                selectinload(AgendaItem.inputs).options(selectinload(AgencyInput.resources),
                                                        joinedload(AgencyInput.agency)),
                joinedload(AgendaItem.household).options(
                    selectinload(Household.members),
                    selectinload(Household.actions).joinedload(ActionItem.agency),
                    selectinload(Household.consents).selectinload(Consent.agencies),
                    selectinload(Household.assessments).selectinload(Assessment.ratings),
                ),
            ),
        )
    ).unique().scalar_one_or_none()


_MEETING_WITH_INVITATIONS = (select(Meeting).where(Meeting.id == bindparam("meeting_id"))
                             .options(selectinload(Meeting.invitations).joinedload(Invitation.agency)))


def load_meeting_invitations(meeting_id: int) -> Meeting | None:
    """A meeting and its invitations: enough to check who may open it before a kept page is served (a statement
    built once, as it runs on every view of the meeting page)."""
    return db.session.execute(_MEETING_WITH_INVITATIONS, {"meeting_id": meeting_id}).scalar_one_or_none()


def load_meeting_outline(meeting_id: int) -> Meeting | None:
    """A meeting with its invitations, pledges and agenda (each case's number and members), for the pages
    that show the agenda but no case details: a fraction of ``load_meeting``'s queries."""
    return db.session.execute(
        select(Meeting).where(Meeting.id == meeting_id).options(
            joinedload(Meeting.chair), joinedload(Meeting.coordinator),
            selectinload(Meeting.invitations).joinedload(Invitation.agency),
            selectinload(Meeting.pledges).joinedload(Pledge.user),
            selectinload(Meeting.agenda_items).options(
                joinedload(AgendaItem.presenting_agency),
                joinedload(AgendaItem.household).selectinload(Household.members)),
        )
    ).unique().scalar_one_or_none()


def earlier_discussions(meeting: Meeting) -> dict[int, list[HistoryLine]]:
    """For each household on the agenda, the earlier meetings that discussed it (one query)."""
    household_ids = [item.household_id for item in meeting.agenda_items]
    if not household_ids:
        return {}
    rows = db.session.execute(
        select(AgendaItem.household_id, Meeting)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.household_id.in_(household_ids), Meeting.id != meeting.id,
               Meeting.starts_at < meeting.starts_at)
        .order_by(Meeting.starts_at.desc())
    ).all()
    history: dict[int, list[HistoryLine]] = {}
    for household_id, earlier in rows:
        history.setdefault(household_id, []).append(HistoryLine(earlier.title, earlier.starts_at))
    return history


def is_repeat(meeting: Meeting, history: list[HistoryLine]) -> bool:
    """A case discussed at another meeting in the 12 months before this one."""
    return any(line.starts_at >= meeting.starts_at - REPEAT_WINDOW for line in history)


def build_packet(meeting: Meeting, agency_id: int | None, history: dict[int, list[HistoryLine]],
                 today: date, *, coordinator_notes: bool = False) -> Packet:
    """The packet for one invited agency; ``agency_id`` None is the full view of every section.

    Agencies' "coordinator only" notes are included only in the full view and only with ``coordinator_notes``
    (coordinators and admins; not the chair, who may be an outside expert).
    """
    invitation = next((i for i in meeting.invitations if i.agency_id == agency_id), None)
    cases = []
    for item in meeting.agenda_items:
        if agency_id is None:
            sections = {s.value for s in PacketSection}
        else:
            row = next((v for v in item.visibility if v.agency_id == agency_id), None)
            sections = row.section_set if row else set()
            if not item.consent_override_reason and rules.uncovered_agencies(
                    {agency_id}, current_consent(item.household)):
                # Consent withdrawn or narrowed since the case was put on the agenda: only its agenda line is left.
                sections = set()
        cases.append(_packet_case(item, sections, history.get(item.household_id, []), meeting, agency_id, today,
                                  coordinator_notes=coordinator_notes and agency_id is None))
    return Packet(
        meeting_id=meeting.id, title=meeting.title, starts_at=meeting.starts_at, place=meeting.place,
        chair=meeting.chair.display_name if meeting.chair else "", coordinator=meeting.coordinator.display_name,
        agency_id=agency_id or 0, agency_name=invitation.agency.name if invitation else "",
        deadline=invitation.deadline if invitation else None,
        agencies=[i.agency.name for i in sorted(meeting.invitations, key=lambda i: i.agency.name)], cases=cases)


def _packet_case(item: AgendaItem, sections: set[str], history: list[HistoryLine], meeting: Meeting,
                 agency_id: int | None, today: date, *, coordinator_notes: bool) -> PacketCase:
    household = item.household
    head = household.members[0]
    case = PacketCase(
        position=item.position, case_number=household.case_number, masked_name=mask_name(head.name),
        district=mask_address(household.address, household.district), key_question=item.key_question,
        presenting_agency=item.presenting_agency.name if item.presenting_agency else "",
        minutes_allotted=item.minutes_allotted,
        is_repeat=is_repeat(meeting, history),
        consent_override_reason=item.consent_override_reason, sections=sections)
    if PacketSection.SUMMARY in sections:
        case.stage = household.stage.label
        case.signals = household.signals
        case.household_size = household.household_size
    if PacketSection.HOUSEHOLD in sections:
        case.members = [MemberLine(m.relation, m.age(today), m.sex, [str(f) for f in m.flags(today)])
                        for m in household.members]
    if PacketSection.NEEDS in sections:
        case.classification = household.classification
        consent = current_consent(household)
        sensitive_ok = agency_id is None or (consent is not None and consent.covers_sensitive)
        latest = household.assessments[0] if household.assessments else None
        ratings = latest.rating_map() if latest else {}
        for domain in NeedDomain:
            rating = ratings.get(domain.value)
            if rating is None:
                continue
            if domain.value in SENSITIVE_DOMAINS and not sensitive_ok:
                case.sensitive_withheld = True
                continue
            case.needs.append(NeedLine(str(domain.label), rating.rating, rating.notes))
    if PacketSection.HISTORY in sections:
        case.history = history
        case.open_actions = [
            OpenAction(a.task, a.agency.name, a.due_on, str(a.action_status.label), a.due_on < today)
            for a in household.actions if a.meeting_id != meeting.id
            and a.status in (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value)]
    if PacketSection.INPUTS in sections:
        case.inputs = [_input_line(i, full=coordinator_notes)
                       for i in sorted(item.inputs, key=lambda i: i.agency.name)
                       if i.state == InputState.SUBMITTED.value and i.agency_id != agency_id]
    return case


def _input_line(agency_input: AgencyInput, *, full: bool) -> InputLine:
    return InputLine(
        agency=agency_input.agency.name, facts=agency_input.facts, opinion=agency_input.opinion,
        domains=[str(NeedDomain(d).label) for d in agency_input.domain_list],
        risk_concerns=agency_input.risk_concerns, withheld=agency_input.withheld,
        resources=[f"{'공공' if r.is_public else '민간'} · {r.kind}" + (f": {r.note}" if r.note else "")
                   for r in agency_input.resources],
        late=agency_input.is_late, coordinator_note=agency_input.coordinator_note if full else "")
