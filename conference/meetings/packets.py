"""Pre-read packets (사전 공유자료): what one invited agency may know about each case, as plain data.

``load_meeting`` fetches everything in a fixed number of queries. ``build_full_packet`` holds every section with
each text's disclosure level and each agency's grant (``conference.shared.disclosure``); ``for_reader`` cuts one reader's
copy from it, leaving out what the reader may not read and counting it, so neither the page nor the Word file can
show it. When the meeting starts the full packet is frozen (``freeze_packet``) and read from then on.
``packet_for_reader`` is what the packet page, its download, the case page and ``export-packet`` ask: whose copy this
reader may read, whether they must pledge first, and that copy.
"""
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from conference.cases.services import current_consent
from conference.core.database import now_utc
from conference.core.loading import fill
from conference.core.formatting import KST
from conference.core.masking import mask_address, mask_name
from conference.extensions import db
from conference.models import (ActionItem, AgencyInput, Assessment, Consent, Household, InputState, Minutes,
                               NeedDomain)
from conference.models.actions import ACTIVE_STATUSES
from conference.models.disclosure import Disclosure
from conference.models.meetings import (AgendaItem, Invitation, Meeting, MeetingStatus, PacketSection, PacketSnapshot,
                                        Pledge, meeting_title)
from conference.shared import disclosure
from conference.shared.disclosure import Grant
from conference.shared.permissions import PLEDGE_NEEDED, REFUSED, Refusal, has_pledged, needs_pledge, reader_agency_for

#: Meeting statuses before the start: packets are built from today's data.
PREPARATION = {MeetingStatus.PREPARING.value, MeetingStatus.SHARING.value}

#: How far back an earlier discussion makes a case a repeat.
REPEAT_WINDOW = timedelta(days=365)
SHARED = Disclosure.SHARED.value


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
    #: Disclosure of ``notes``.
    level: str = SHARED
    #: The NeedDomain value: a rating in a sensitive domain is itself sensitive.
    key: str = ""


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
    level: str = SHARED
    agency_id: int = 0


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
    agency_id: int = 0
    facts_level: str = SHARED
    opinion_level: str = SHARED
    risk_level: str = SHARED


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
    key_question_level: str = SHARED
    signals_level: str = SHARED
    #: 종합 소견 of the latest assessment.
    overview: str = ""
    overview_level: str = SHARED
    #: How many pieces of this case the reader is not shown ("비공개 N건").
    not_shown: int = 0
    #: The case may be read beyond its agenda line (consent covers the reader, or an override).
    readable: bool = True
    #: Each invited agency's grant (agency id → Grant); only in the full packet, never in a reader's copy.
    grants: dict[int, Grant] = field(default_factory=dict)

    def shows(self, section: str) -> bool:
        return section in self.sections

    @property
    def unshared(self) -> list[str]:
        """The labels of the packet sections this reader's copy leaves out."""
        return [str(s.label) for s in PacketSection if s.value not in self.sections]


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
    #: Invited agency id → (name, deadline): whose copies the full packet can give.
    readers: dict[int, tuple[str, date | None]] = field(default_factory=dict)
    #: When the packet was frozen (the meeting started); None while it is built from live data.
    frozen_at: datetime | None = None
    #: The coordinator's agency and office phone (업무 연락처): whom an invited agency calls about the packet.
    coordinator_agency: str = ""
    coordinator_phone: str = ""

    @property
    def contact(self) -> str:
        """담당: "한사례 (무한돌봄센터 · 031-860-2101)"."""
        details = " · ".join(part for part in (self.coordinator_agency, self.coordinator_phone) if part)
        return f"{self.coordinator} ({details})" if details else self.coordinator


#: The meeting with the people named on it (its statement built once: the meeting page and packets read it often).
_MEETING = (select(Meeting).where(Meeting.id == bindparam("meeting_id"))
            .options(joinedload(Meeting.chair), joinedload(Meeting.coordinator)))


def _meeting_row(meeting_id: int) -> Meeting | None:
    return db.session.execute(_MEETING, {"meeting_id": meeting_id}).scalar_one_or_none()


def load_meeting(meeting_id: int) -> Meeting | None:
    """A meeting with its invitations, pledges, agenda and every case detail a packet may show, in a fixed number
    of statements (what the session holds of it already is kept, not read again)."""
    meeting = _meeting_row(meeting_id)
    if meeting is not None:
        fill([meeting], Meeting.packet_snapshot)
        items, households = _fill_grants(meeting)
        fill(items, AgendaItem.presenting_agency)
        fill(fill(items, AgendaItem.inputs, AgencyInput.agency), AgencyInput.resources)
        fill(households, Household.actions, ActionItem.agency)
        fill(fill(households, Household.assessments), Assessment.ratings)
    return meeting


def complete_for_packet(meeting: Meeting) -> None:
    """Complete ``meeting`` (loaded for its access check) for reading its packet: a packet frozen at the start
    needs only today's grants beside it; a packet being prepared, every case detail (``load_meeting``)."""
    if fill([meeting], Meeting.packet_snapshot):
        load_meeting_grants(meeting.id)
    else:
        load_meeting(meeting.id)


def load_meeting_grants(meeting_id: int) -> Meeting | None:
    """A meeting with what deciding each invited agency's grant on each case reads (``disclosure.case_grant``):
    invitations and pledges, and the agenda with its visibility rows and each household's members and consents."""
    meeting = _meeting_row(meeting_id)
    if meeting is not None:
        _fill_grants(meeting)
    return meeting


def _fill_grants(meeting: Meeting) -> tuple[list[AgendaItem], list[Household]]:
    _fill_invitations([meeting])
    items = fill([meeting], Meeting.agenda_items, AgendaItem.household)
    fill(items, AgendaItem.visibility)
    households = fill(items, AgendaItem.household)
    fill(households, Household.members)
    fill(fill(households, Household.consents), Consent.agencies)
    return items, households


def _fill_invitations(meetings: list[Meeting]) -> None:
    """Each meeting's invitations with their agencies, and its pledges with who made them."""
    fill(meetings, Meeting.invitations, Invitation.agency)
    fill(meetings, Meeting.pledges, Pledge.user)


#: A meeting with its invitations and minutes in one statement (built once: it runs before every kept page). The
#: approved minutes' JSON (20–30 kB) is left out: the checks never read it, and a kept view spent 0.1 ms on it; the
#: page that shows it reads it when rendered.
_MEETING_ACCESS = (select(Meeting).where(Meeting.id == bindparam("meeting_id"))
                   .options(joinedload(Meeting.invitations), joinedload(Meeting.minutes).defer(Minutes.snapshot)))


def load_meeting_access(meeting_id: int) -> Meeting | None:
    """A meeting with what the checks before its pages read: its invitations and minutes (their rows only; a
    partner's pledge is read by ``packet_for_reader``). The page's loader completes it when the page is rendered."""
    return db.session.execute(_MEETING_ACCESS, {"meeting_id": meeting_id}).unique().scalar_one_or_none()


def load_meeting_outline(meeting_id: int) -> Meeting | None:
    """A meeting with its invitations, pledges and agenda (each case's number and members), for the pages
    that show the agenda but no case details: a fraction of ``load_meeting``'s statements."""
    meeting = _meeting_row(meeting_id)
    if meeting is not None:
        _fill_invitations([meeting])
        items = fill([meeting], Meeting.agenda_items, AgendaItem.household, AgendaItem.presenting_agency)
        fill(fill(items, AgendaItem.household), Household.members)
    return meeting


def earlier_discussions(meeting: Meeting) -> dict[int, list[HistoryLine]]:
    """For each household on the agenda, the earlier meetings that discussed it (one query)."""
    household_ids = [item.household_id for item in meeting.agenda_items]
    if not household_ids:
        return {}
    rows = db.session.execute(_EARLIER_DISCUSSIONS, {"household_ids": household_ids, "meeting_id": meeting.id,
                                                     "starts_at": meeting.starts_at}).all()
    history: dict[int, list[HistoryLine]] = {}
    for household_id, year, number, kind, starts_at in rows:
        history.setdefault(household_id, []).append(HistoryLine(meeting_title(year, number, kind), starts_at))
    return history


#: Built once (every packet and meeting page runs it); the columns of a history line only, no Meeting objects.
_EARLIER_DISCUSSIONS = (
    select(AgendaItem.household_id, Meeting.year, Meeting.number, Meeting.kind, Meeting.starts_at)
    .join(Meeting, Meeting.id == AgendaItem.meeting_id)
    .where(AgendaItem.household_id.in_(bindparam("household_ids", expanding=True)),
           Meeting.id != bindparam("meeting_id"), Meeting.starts_at < bindparam("starts_at"))
    .order_by(Meeting.starts_at.desc()))


def is_repeat(meeting: Meeting, history: list[HistoryLine]) -> bool:
    """A case discussed at another meeting in the 12 months before this one."""
    return any(line.starts_at >= meeting.starts_at - REPEAT_WINDOW for line in history)


def build_full_packet(meeting: Meeting, history: dict[int, list[HistoryLine]], today: date) -> Packet:
    """Every section of every case, each text with its level and each invited agency's grant: what the city reads,
    and what each agency's copy is cut from (``for_reader``)."""
    readers = {i.agency_id: (i.agency.name, i.deadline) for i in meeting.invitations}
    cases = []
    for item in meeting.agenda_items:
        case = _full_case(item, history.get(item.household_id, []), meeting, today)
        case.grants = disclosure.agency_grants(item, current_consent(item.household))
        cases.append(case)
    return Packet(
        meeting_id=meeting.id, title=meeting.title, starts_at=meeting.starts_at, place=meeting.place,
        chair=meeting.chair.display_name if meeting.chair else "", coordinator=meeting.coordinator.display_name,
        coordinator_agency=meeting.coordinator.agency.name, coordinator_phone=meeting.coordinator.phone,
        agency_id=0, agency_name="", deadline=None,
        agencies=[i.agency.name for i in sorted(meeting.invitations, key=lambda i: i.agency.name)], cases=cases,
        readers=readers)


def for_reader(full: Packet, agency_id: int | None, *, coordinator_notes: bool = False,
               today_grants: dict[str, Grant] | None = None) -> Packet:
    """The copy of ``full`` one reader gets: the city (``agency_id`` None) every section, with agencies'
    "coordinator only" notes when ``coordinator_notes`` (coordinators, not the chair, who may be an outside
    expert); an invited agency what its grant lets it read, each withheld piece counted. ``today_grants``
    (case number → grant under today's consent) narrow a frozen packet: the stricter wins."""
    if agency_id is None:
        cases = [replace(c, grants={}, inputs=[replace(i, coordinator_note=i.coordinator_note if coordinator_notes
                                                      else "") for i in c.inputs]) for c in full.cases]
        return replace(full, agency_id=0, agency_name="", deadline=None, cases=cases)
    name, deadline = full.readers.get(agency_id, ("", None))
    cases = []
    for case in full.cases:
        today = today_grants.get(case.case_number, disclosure.NOTHING) if today_grants is not None else None
        cases.append(_case_for(case, disclosure.kept_grant(case.grants, agency_id, today), agency_id))
    return replace(full, agency_id=agency_id, agency_name=name, deadline=deadline, cases=cases)


def _case_for(case: PacketCase, grant: Grant, reader: int) -> PacketCase:
    """One case as ``reader`` may read it under ``grant``."""
    reading = disclosure.Reading(grant, reader)
    keep = reading.keep
    out = PacketCase(
        position=case.position, case_number=case.case_number, masked_name=case.masked_name, district=case.district,
        key_question=keep(case.key_question, case.key_question_level), key_question_level=case.key_question_level,
        presenting_agency=case.presenting_agency, minutes_allotted=case.minutes_allotted, is_repeat=case.is_repeat,
        consent_override_reason=case.consent_override_reason if grant.visible else "",
        sections=set(grant.sections) if grant.visible else set(), readable=grant.visible)
    if out.shows(PacketSection.SUMMARY):
        out.stage, out.household_size = case.stage, case.household_size
        out.signals = keep(case.signals, case.signals_level, PacketSection.SUMMARY)
        out.overview = keep(case.overview, case.overview_level, PacketSection.SUMMARY)
    if out.shows(PacketSection.HOUSEHOLD):
        out.members = case.members
    if out.shows(PacketSection.NEEDS):
        out.classification = case.classification
        for need in case.needs:
            if not grant.may_read_domain(need.key):
                out.sensitive_withheld = True
                reading.withhold()
                continue
            out.needs.append(replace(need, notes=keep(need.notes, need.level, PacketSection.NEEDS)))
    if out.shows(PacketSection.HISTORY):
        out.history = case.history
        out.open_actions = [replace(a, task=keep(a.task, a.level, PacketSection.HISTORY, a.agency_id))
                            for a in case.open_actions]
    if out.shows(PacketSection.INPUTS):
        out.inputs = [replace(
            line, facts=keep(line.facts, line.facts_level, PacketSection.INPUTS),
            opinion=keep(line.opinion, line.opinion_level, PacketSection.INPUTS),
            risk_concerns=keep(line.risk_concerns, line.risk_level, PacketSection.INPUTS),
            withheld=line.withheld if grant.may_read(line.facts_level, PacketSection.INPUTS) else "",
            # What the agency can offer is part of its opinion and goes with that text's level.
            resources=keep(line.resources, line.opinion_level, PacketSection.INPUTS),
            coordinator_note="") for line in case.inputs if line.agency_id != reader]
    out.not_shown = reading.not_shown
    return out


def build_packet(meeting: Meeting, agency_id: int | None, history: dict[int, list[HistoryLine]],
                 today: date, *, coordinator_notes: bool = False) -> Packet:
    """The packet for one invited agency (None: the full view), built from the meeting's data as it is now."""
    return for_reader(build_full_packet(meeting, history, today), agency_id, coordinator_notes=coordinator_notes)


def reader_packet(meeting: Meeting, agency_id: int | None, *, coordinator_notes: bool, today: date) -> Packet:
    """The packet a reader reads of ``meeting``: while it is prepared, built from today's data; once it has
    started, the packet frozen at the start (narrowed by today's consent). A meeting started before packets
    were frozen is rebuilt as of its own day, so nothing after it (an action overdue since) shows."""
    frozen = meeting.packet_snapshot
    if frozen is not None:
        return for_reader(packet_from_json(frozen.content), agency_id, coordinator_notes=coordinator_notes,
                          today_grants=None if agency_id is None else today_grants(meeting, agency_id))
    if meeting.status not in PREPARATION:
        today = min(today, meeting.starts_at.astimezone(KST).date())
    return build_packet(meeting, agency_id, earlier_discussions(meeting), today, coordinator_notes=coordinator_notes)


@dataclass(frozen=True)
class ReaderCopy:
    """The packet one reader may read, and whose copy it is; built when first asked for (a download refused for its
    missing purpose builds nothing)."""

    meeting: Meeting
    #: The invited agency whose copy it is; None for the city's full version.
    agency_id: int | None
    coordinator_notes: bool
    today: date

    @cached_property
    def packet(self) -> Packet:
        return reader_packet(self.meeting, self.agency_id, coordinator_notes=self.coordinator_notes, today=self.today)


def packet_for_reader(meeting: Meeting, user, requested_agency_id: int | None, *, coordinator_notes: bool,
                      today: date) -> ReaderCopy | Refusal:
    """The packet ``user`` may read of ``meeting``: the copy ``reader_agency_for`` gives for ``requested_agency_id``
    (None: the full version), built by ``reader_packet``. ``REFUSED`` when there is none, ``PLEDGE_NEEDED`` for a
    partner who has not yet signed the meeting's confidentiality pledge. ``user`` None is the command line, which
    writes as the city: the full packet or any invited agency's. ``coordinator_notes``: see ``for_reader``."""
    if user is None:
        invited = {i.agency_id for i in meeting.invitations}
        agency_id = requested_agency_id if requested_agency_id is None or requested_agency_id in invited else REFUSED
    else:
        agency_id = reader_agency_for(user, meeting, requested_agency_id)
    if agency_id is REFUSED:
        return REFUSED
    if needs_pledge(user) and not has_pledged(meeting, user):
        return PLEDGE_NEEDED
    return ReaderCopy(meeting, agency_id, coordinator_notes, today)


def today_grants(meeting: Meeting, agency_id: int) -> dict[str, Grant]:
    """Case number → what ``agency_id`` may read of it under today's consent and settings."""
    return {item.household.case_number: disclosure.case_grant(item, agency_id, current_consent(item.household))
            for item in meeting.agenda_items}


def key_questions(items: list[AgendaItem], agency_id: int | None) -> dict[int, str]:
    """Item id → its 논의 요청사항 as ``agency_id`` may read it ("" when its level withholds it; None: the city)."""
    if agency_id is None:
        return {item.id: item.key_question for item in items}
    return {item.id: item.key_question if disclosure.case_grant(item, agency_id, current_consent(item.household))
            .may_read(item.key_question_level) else "" for item in items}


def freeze_packet(meeting_id: int, today: date) -> None:
    """Keep the full packet as it stands now (the meeting starts); later views and exports read this. Loads what
    it needs itself, whatever the caller loaded (changes flushed first). Two starts at once keep the first."""
    db.session.flush()
    if db.session.execute(select(PacketSnapshot.id).where(PacketSnapshot.meeting_id == meeting_id)).first():
        return
    meeting = load_meeting(meeting_id)
    packet = replace(build_full_packet(meeting, earlier_discussions(meeting), today), frozen_at=now_utc())
    try:
        with db.session.begin_nested():
            db.session.add(PacketSnapshot(meeting_id=meeting_id, content=packet_to_json(packet)))
    except IntegrityError:
        pass  # frozen by another request since this one looked


def _full_case(item: AgendaItem, history: list[HistoryLine], meeting: Meeting, today: date) -> PacketCase:
    household = item.household
    head = household.members[0]
    latest = household.assessments[0] if household.assessments else None
    ratings = latest.rating_map() if latest else {}
    case = PacketCase(
        position=item.position, case_number=household.case_number, masked_name=mask_name(head.name),
        district=mask_address(household.address, household.district), key_question=item.key_question,
        key_question_level=item.key_question_level,
        presenting_agency=item.presenting_agency.name if item.presenting_agency else "",
        minutes_allotted=item.minutes_allotted, is_repeat=is_repeat(meeting, history),
        consent_override_reason=item.consent_override_reason, sections={s.value for s in PacketSection},
        stage=str(household.stage.label), signals=household.signals, signals_level=household.signals_level,
        household_size=household.household_size,
        overview=latest.summary if latest else "", overview_level=latest.summary_level if latest else SHARED,
        members=[MemberLine(m.relation, m.age(today), m.sex, [str(f) for f in m.flags(today)])
                 for m in household.members],
        classification=household.classification,
        needs=[NeedLine(str(domain.label), ratings[domain.value].rating, ratings[domain.value].notes,
                        ratings[domain.value].notes_level, domain.value)
               for domain in NeedDomain if domain.value in ratings],
        history=history,
        open_actions=[OpenAction(a.task, a.agency.name, a.due_on, str(a.action_status.label), a.due_on < today,
                                 a.task_level, a.agency_id)
                      for a in household.actions if a.meeting_id != meeting.id
                      and a.status in ACTIVE_STATUSES],
        inputs=[_input_line(i) for i in sorted(item.inputs, key=lambda i: i.agency.name)
                if i.state == InputState.SUBMITTED.value])
    return case


def _input_line(agency_input: AgencyInput) -> InputLine:
    return InputLine(
        agency=agency_input.agency.name, facts=agency_input.facts, opinion=agency_input.opinion,
        domains=[str(NeedDomain(d).label) for d in agency_input.domain_list],
        risk_concerns=agency_input.risk_concerns, withheld=agency_input.withheld,
        resources=[f"{'공공' if r.is_public else '민간'} · {r.kind}" + (f": {r.note}" if r.note else "")
                   for r in agency_input.resources],
        late=agency_input.is_late, coordinator_note=agency_input.coordinator_note, agency_id=agency_input.agency_id,
        facts_level=agency_input.facts_level, opinion_level=agency_input.opinion_level,
        risk_level=agency_input.risk_level)


# --- the frozen packet as JSON ---

def packet_to_json(packet: Packet) -> str:
    raw = asdict(packet)
    raw["readers"] = {str(k): [name, deadline] for k, (name, deadline) in packet.readers.items()}
    for case, source in zip(raw["cases"], packet.cases, strict=True):
        case["sections"] = sorted(source.sections)
        case["grants"] = {str(k): g.to_dict() for k, g in source.grants.items()}
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=lambda v: v.isoformat())


def packet_from_json(text: str) -> Packet:
    raw = json.loads(text)
    cases = []
    for c in raw["cases"]:
        case = PacketCase(**{**c, "sections": set(c["sections"]),
                             "members": [MemberLine(**m) for m in c["members"]],
                             "needs": [NeedLine(**n) for n in c["needs"]],
                             "history": [HistoryLine(h["title"], datetime.fromisoformat(h["starts_at"]))
                                         for h in c["history"]],
                             "open_actions": [OpenAction(**{**a, "due": date.fromisoformat(a["due"])})
                                              for a in c["open_actions"]],
                             "inputs": [InputLine(**i) for i in c["inputs"]],
                             "grants": {int(k): Grant.from_dict(g) for k, g in c["grants"].items()}})
        cases.append(case)
    return Packet(**{**raw, "starts_at": datetime.fromisoformat(raw["starts_at"]),
                     "deadline": _day(raw["deadline"]), "cases": cases,
                     "readers": {int(k): (name, _day(deadline)) for k, (name, deadline) in raw["readers"].items()},
                     "frozen_at": datetime.fromisoformat(raw["frozen_at"]) if raw["frozen_at"] else None})


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
