"""Preparing meetings: numbering, invitations and information requests, agendas behind the consent gate,
need-to-know settings, status and confidentiality pledges.

Functions change data, write the audit trail and flush; the request (or command) commits once.
"""
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from conference import audit
from conference.cases.services import checked_level, current_consent
from conference.core.database import now_utc
from conference.core.formatting import KST, korean_date, today_local
from conference.core.i18n import lazy_gettext as _l
from conference.core.ids import MAX_ID
from conference.extensions import db
from conference.meetings import packets, rules
from conference.models import Agency, Household, Stage, User
from conference.models.disclosure import Disclosure
from conference.models.meetings import (AgendaItem, Invitation, Meeting, MeetingKind, MeetingStatus, PacketSection,
                                        Pledge, SectionVisibility)
from conference.shared import disclosure
from conference.shared.notifications import notify_agency
from conference.shared.rules import RuleError

#: Stages whose households can no longer be put on an agenda.
CLOSED_STAGES = {Stage.CLOSED.value, Stage.AFTERCARE.value}
#: Statuses in which the agenda and invitations may still change.
PREPARATION = {MeetingStatus.PREPARING.value, MeetingStatus.SHARING.value}
#: Status buttons: forward one step at a time; back only while preparing, and from 회의록 작성 to 회의 중.
#: Once the meeting has started the agenda stays as it was discussed.
STATUS_STEPS = {
    MeetingStatus.PREPARING.value: (MeetingStatus.SHARING.value,),
    MeetingStatus.SHARING.value: (MeetingStatus.PREPARING.value, MeetingStatus.IN_PROGRESS.value),
    MeetingStatus.IN_PROGRESS.value: (MeetingStatus.MINUTES.value,),
    MeetingStatus.MINUTES.value: (MeetingStatus.IN_PROGRESS.value,),
}
#: Steps back that reopen a meeting already held: they need a reason, kept in the access log.
STEPS_BACK_WITH_REASON = {(MeetingStatus.MINUTES.value, MeetingStatus.IN_PROGRESS.value)}
REASON_MAX = 200


def next_number(kind: str, year: int) -> int:
    highest = db.session.execute(
        select(func.max(Meeting.number)).where(Meeting.kind == kind, Meeting.year == year)).scalar()
    return (highest or 0) + 1


def default_deadline(starts_at: datetime) -> date:
    """Information is requested by 3 working days before the meeting (UK MARAC practice)."""
    return rules.working_days_before(starts_at.astimezone(KST).date(),
                                     current_app.config["INPUT_DEADLINE_WORKING_DAYS"])


def _check_number(kind: str, year: int, number: int, meeting_id: int | None = None):
    query = select(Meeting.id).where(Meeting.kind == kind, Meeting.year == year, Meeting.number == number)
    if meeting_id is not None:
        query = query.where(Meeting.id != meeting_id)
    if db.session.execute(query).first() is not None:
        raise RuleError("number", _l("같은 해 같은 종류의 회의에 이미 쓰인 회차입니다."))


def _agencies(agency_ids) -> list[Agency]:
    ids = set(agency_ids)
    possible = {i for i in ids if 0 < i <= MAX_ID}  # a larger number is no agency's id, and fails in the database
    agencies = db.session.execute(
        select(Agency).where(Agency.id.in_(possible), Agency.is_active.is_(True))).scalars().all()
    if len(agencies) != len(ids):
        raise RuleError("agency_ids", _l("없거나 사용이 중지된 기관이 있습니다."))
    return agencies


def create_meeting(*, by: User, kind: str, starts_at: datetime, place: str, coordinator_id: int,
                   chair_id: int | None = None, duration_minutes: int = 120, number: int | None = None,
                   agency_ids=()) -> Meeting:
    """Schedule a meeting, numbered per year and kind, and invite agencies with the default deadline."""
    if starts_at <= now_utc():
        raise RuleError("starts_at", _l("지난 일시로 새 회의를 만들 수 없습니다."))
    kind = MeetingKind(kind).value
    year = starts_at.astimezone(KST).year
    if number is None:
        number = next_number(kind, year)
    _check_number(kind, year, number)
    meeting = Meeting(kind=kind, year=year, number=number, starts_at=starts_at, place=place.strip(),
                      duration_minutes=duration_minutes, chair_id=chair_id, coordinator_id=coordinator_id)
    meeting.invitations = []
    meeting.agenda_items = []
    db.session.add(meeting)
    deadline = default_deadline(starts_at)
    for agency in _agencies(agency_ids):
        meeting.invitations.append(Invitation(agency=agency, deadline=deadline))
    db.session.flush()
    for invitation in meeting.invitations:
        _request_information(meeting, invitation)
    audit.record("meeting.create", meeting, actor=by, details={
        "title": meeting.title, "starts_at": starts_at, "agencies": sorted(agency_ids)})
    return meeting


def update_meeting(meeting: Meeting, *, by: User, starts_at: datetime, place: str, number: int,
                   duration_minutes: int, chair_id: int | None, coordinator_id: int) -> dict:
    _require_preparation(meeting)
    if starts_at != meeting.starts_at and starts_at <= now_utc():
        raise RuleError("starts_at", _l("회의 일시를 지난 시각으로 바꿀 수 없습니다."))
    year = starts_at.astimezone(KST).year
    _check_number(meeting.kind, year, number, meeting.id)
    late = [i for i in meeting.invitations if i.deadline > starts_at.astimezone(KST).date()]
    if late:
        raise RuleError("starts_at", _l("정보 요청 기한이 회의일보다 늦은 기관이 있습니다. 기한을 먼저 바꾸세요."))
    changed = {}
    for field, value in (("starts_at", starts_at), ("year", year), ("number", number), ("place", place.strip()),
                         ("duration_minutes", duration_minutes), ("chair_id", chair_id),
                         ("coordinator_id", coordinator_id)):
        if getattr(meeting, field) != value:
            changed[field] = [getattr(meeting, field), value]
            setattr(meeting, field, value)
    if changed:
        audit.record("meeting.update", meeting, actor=by, details=changed)
    return changed


def _require_preparation(meeting: Meeting):
    if meeting.status not in PREPARATION:
        raise RuleError("status", _l("회의가 시작된 뒤에는 안건과 초대를 바꿀 수 없습니다."))


def invite_agency(meeting: Meeting, *, by: User, agency_id: int, deadline: date | None = None,
                  invitees: str = "") -> Invitation:
    """Invite one more agency; refused while a case on the agenda lacks consent for it and has no override."""
    _require_preparation(meeting)
    agency = _agencies([agency_id])[0]
    if any(i.agency_id == agency.id for i in meeting.invitations):
        raise RuleError("agency_id", _l("이미 초대한 기관입니다."))
    deadline = deadline or default_deadline(meeting.starts_at)
    _check_deadline(meeting, deadline)
    blocked = [item.household.case_number for item in meeting.agenda_items
               if not item.consent_override_reason
               and rules.uncovered_agencies({agency.id}, current_consent(item.household))]
    if blocked:
        raise RuleError("agency_id", _l(
            "다음 사례의 정보제공 동의에 이 기관이 없습니다: %(cases)s. 동의를 받거나 안건에 예외 사유를 적으세요.",
            cases=", ".join(blocked)))
    invitation = Invitation(meeting=meeting, agency=agency, deadline=deadline, invitees=invitees.strip())
    db.session.add(invitation)
    for item in meeting.agenda_items:
        item.visibility.append(SectionVisibility(agency_id=agency.id, sections=",".join(sorted(
            disclosure.default_sections(agency.sector, has_children=has_children(item.household))))))
    db.session.flush()
    _request_information(meeting, invitation)
    audit.record("meeting.invite", meeting, actor=by, details={"agency_id": agency.id, "deadline": deadline})
    return invitation


def _request_information(meeting: Meeting, invitation: Invitation):
    """Tell the invited agency's practitioners about the meeting and their deadline (정보 요청)."""
    notify_agency(invitation.agency_id, kind="input.request", link=f"/meetings/{meeting.id}/inputs",
                  params={"meeting": meeting.title, "deadline": invitation.deadline.isoformat()})


def _check_deadline(meeting: Meeting, deadline: date):
    if deadline > meeting.starts_at.astimezone(KST).date():
        raise RuleError("deadline", _l("정보 요청 기한은 회의일 이후일 수 없습니다."))


def update_invitation(invitation: Invitation, *, by: User, deadline: date, invitees: str) -> None:
    _require_preparation(invitation.meeting)
    _check_deadline(invitation.meeting, deadline)
    invitation.deadline, invitation.invitees = deadline, invitees.strip()
    audit.record("meeting.invitation", invitation.meeting, actor=by,
                 details={"agency_id": invitation.agency_id, "deadline": deadline})


def withdraw_invitation(invitation: Invitation, *, by: User) -> None:
    meeting = invitation.meeting
    _require_preparation(meeting)
    for item in meeting.agenda_items:
        item.visibility = [v for v in item.visibility if v.agency_id != invitation.agency_id]
    audit.record("meeting.uninvite", meeting, actor=by, details={"agency_id": invitation.agency_id})
    meeting.invitations.remove(invitation)
    db.session.delete(invitation)


def has_children(household: Household) -> bool:
    """Whether anyone in the household is under 18 today."""
    today = today_local()
    return any(member.is_child(today) for member in household.members)


def add_agenda_item(meeting: Meeting, *, by: User, household: Household, key_question: str = "",
                    key_question_level: str = Disclosure.SHARED.value, presenting_agency_id: int | None = None,
                    minutes_allotted: int = 15, consent_override_reason: str = "") -> AgendaItem:
    """Put a household on the agenda; every invited agency must be covered by its consent or an override reason."""
    _require_preparation(meeting)
    key_question_level = checked_level("key_question_level", key_question_level)
    if household.status in CLOSED_STAGES:
        raise RuleError("household_id", _l("종결되었거나 사후관리 중인 사례는 안건에 올릴 수 없습니다."))
    if any(item.household_id == household.id for item in meeting.agenda_items):
        raise RuleError("household_id", _l("이미 이 회의 안건에 있는 사례입니다."))
    if presenting_agency_id is not None:
        _agencies([presenting_agency_id])
    override = consent_override_reason.strip()
    uncovered = rules.uncovered_agencies({i.agency_id for i in meeting.invitations}, current_consent(household))
    if uncovered and not override:
        names = sorted(i.agency.name for i in meeting.invitations if i.agency_id in uncovered)
        raise RuleError("consent_override_reason", _l(
            "이 가구의 정보제공 동의에 없는 초대 기관이 있습니다: %(agencies)s. 동의를 받거나 예외 사유를 적으세요.",
            agencies=", ".join(names)))
    item = AgendaItem(meeting=meeting, household=household, key_question=key_question.strip(),
                      key_question_level=key_question_level, presenting_agency_id=presenting_agency_id, minutes_allotted=minutes_allotted,
                      consent_override_reason=override if uncovered else "",
                      position=max((i.position for i in meeting.agenda_items), default=0) + 1)
    children = has_children(household)
    item.visibility = [SectionVisibility(agency_id=i.agency_id, sections=",".join(sorted(
        disclosure.default_sections(i.agency.sector, has_children=children)))) for i in meeting.invitations]
    db.session.add(item)
    db.session.flush()
    audit.record("agenda.add", meeting, actor=by, details={
        "household_id": household.id, "case_number": household.case_number, "item_id": item.id,
        "key_question_level": item.key_question_level})
    if item.consent_override_reason:
        audit.record("consent.override", household, actor=by, details={
            "meeting_id": meeting.id, "agencies": sorted(uncovered), "reason": item.consent_override_reason})
    return item


def update_agenda_item(item: AgendaItem, *, by: User, key_question: str, presenting_agency_id: int | None,
                       minutes_allotted: int, key_question_level: str | None = None) -> None:
    """Change an item's key question (and its 공개 범위; None keeps it), presenter and time."""
    _require_preparation(item.meeting)
    level = checked_level("key_question_level", key_question_level or item.key_question_level)
    if presenting_agency_id is not None:
        _agencies([presenting_agency_id])
    item.key_question, item.key_question_level = key_question.strip(), level
    item.presenting_agency_id = presenting_agency_id
    item.minutes_allotted = minutes_allotted
    audit.record("agenda.update", item.meeting, actor=by, details={
        "item_id": item.id, "key_question_level": item.key_question_level})


class InputsWouldBeLost(Exception):
    """Removing the item would delete agency input already written for it; the coordinator must confirm."""

    def __init__(self, agencies: list[str]):
        super().__init__(", ".join(agencies))
        self.agencies = agencies


def remove_agenda_item(item: AgendaItem, *, by: User, confirmed: bool = False) -> None:
    """Take a case off the agenda; its agency input goes with it, so that needs ``confirmed``."""
    meeting = item.meeting
    _require_preparation(meeting)
    written = sorted(i.agency.name for i in item.inputs)
    if written and not confirmed:
        raise InputsWouldBeLost(written)
    audit.record("agenda.remove", meeting, actor=by, details={"item_id": item.id, "household_id": item.household_id,
                                                              "inputs_deleted": len(written)})
    meeting.agenda_items.remove(item)
    db.session.delete(item)
    _renumber(meeting.agenda_items)


def _renumber(items):
    for position, item in enumerate(items, start=1):
        item.position = position


def move_agenda_item(item: AgendaItem, *, by: User, offset: int) -> None:
    """Move an item up (-1) or down (+1) the agenda."""
    meeting = item.meeting
    _require_preparation(meeting)
    items = sorted(meeting.agenda_items, key=lambda i: i.position)
    index = items.index(item)
    target = min(max(index + offset, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    _renumber(items)
    audit.record("agenda.reorder", meeting, actor=by, details={"order": [i.id for i in items]})


def put_children_first(meeting: Meeting, *, by: User) -> None:
    """Order cases with children first, so child-focused agencies may leave early; otherwise keep the order."""
    _require_preparation(meeting)
    items = sorted(meeting.agenda_items, key=lambda i: (not has_children(i.household), i.position))
    _renumber(items)
    audit.record("agenda.reorder", meeting, actor=by, details={"order": [i.id for i in items], "children_first": True})


def set_sections(item: AgendaItem, *, by: User, sections_by_agency: dict[int, set[str]]) -> None:
    """Decide per invited agency which packet sections it sees for this case."""
    _require_preparation(item.meeting)
    valid = {s.value for s in PacketSection}
    rows = {v.agency_id: v for v in item.visibility}
    for agency_id, sections in sections_by_agency.items():
        if agency_id not in rows or not sections <= valid:
            raise RuleError("sections", _l("초대하지 않은 기관이나 알 수 없는 항목입니다."))
    for agency_id, sections in sections_by_agency.items():
        rows[agency_id].sections = ",".join(sorted(sections))
    audit.record("agenda.sections", item.meeting, actor=by, details={
        "item_id": item.id, "sections": {str(a): sorted(s) for a, s in sections_by_agency.items()}})


def status_steps(meeting: Meeting) -> list[MeetingStatus]:
    """Where the meeting may go from here by the status buttons (검토 and 확정 go through the minutes)."""
    return [MeetingStatus(s) for s in STATUS_STEPS.get(meeting.status, ())]


def needs_reason(meeting: Meeting, to_status: str) -> bool:
    return (meeting.status, to_status) in STEPS_BACK_WITH_REASON


def change_status(meeting: Meeting, *, by: User, to_status: str, reason: str = "") -> None:
    """Move the meeting one step along 준비 → 자료 공유 → 회의 중 → 회의록 작성. Preparation can go back, and so can
    회의록 작성 to 회의 중 with a reason (``STEPS_BACK_WITH_REASON``)."""
    try:
        target = MeetingStatus(to_status)
    except ValueError:
        raise RuleError("status", _l("알 수 없는 회의 상태입니다.")) from None
    if target == MeetingStatus.FINALISED:
        raise RuleError("status", _l("회의록 확정은 결재로만 합니다."))
    if target == MeetingStatus.REVIEW:
        raise RuleError("status", _l("검토 요청은 회의록 화면에서 기한을 정해 보냅니다."))
    if target not in status_steps(meeting):
        raise RuleError("status", _l("회의 상태는 한 단계씩만 바꿀 수 있습니다."))
    if target == MeetingStatus.SHARING and not meeting.agenda_items:
        raise RuleError("status", _l("안건이 없는 회의는 자료를 공유할 수 없습니다."))
    if target == MeetingStatus.IN_PROGRESS:
        _check_startable(meeting)
    details = {"from": meeting.status, "to": target.value}
    if needs_reason(meeting, target.value):
        reason = " ".join(reason.split())
        if len(reason) < 2 or len(reason) > REASON_MAX:
            raise RuleError("reason", _l("회의 중으로 되돌리는 사유를 2~200자로 적으세요."))
        details["reason"] = reason
    if target == MeetingStatus.IN_PROGRESS:
        packets.freeze_packet(meeting.id, today_local())  # past meetings' packets are read as they were at the start
    audit.record("meeting.status", meeting, actor=by, details=details)
    meeting.status = target.value


def _check_startable(meeting: Meeting) -> None:
    """What a meeting needs before it starts, whatever the day."""
    if meeting.chair_id is None:
        # The chair approves the minutes, and cannot be named once the meeting has started.
        raise RuleError("status", _l("주재(결재권자)를 정한 뒤에 회의를 시작하세요. 회의 수정에서 정할 수 있습니다."))


def is_meeting_day(meeting: Meeting, today: date) -> bool:
    """Whether ``today`` is the meeting's date (Korean time)."""
    return meeting.starts_at.astimezone(KST).date() == today


def start_meeting(meeting: Meeting, *, by: User, today: date, confirmed: bool = False) -> None:
    """Start the meeting (회의 중) from the meeting-day screen, through the status steps (준비 → 자료 공유 → 회의 중);
    on another day than the meeting's only when the coordinator ``confirmed`` it."""
    if meeting.status not in PREPARATION:
        raise RuleError("status", _l("이미 시작한 회의입니다."))
    _check_startable(meeting)  # before the day: a confirmation would not help
    if not is_meeting_day(meeting, today) and not confirmed:
        raise RuleError("confirm_day", _l("오늘은 회의일(%(day)s)이 아닙니다. 그래도 시작하려면 확인란을 고르세요.",
                                          day=korean_date(meeting.starts_at)))
    if meeting.status == MeetingStatus.PREPARING.value:
        change_status(meeting, by=by, to_status=MeetingStatus.SHARING.value)
    change_status(meeting, by=by, to_status=MeetingStatus.IN_PROGRESS.value)


def accept_pledge(meeting: Meeting, *, user: User, ip: str) -> Pledge:
    """Record the user's confidentiality pledge for the meeting (once)."""
    existing = next((p for p in meeting.pledges if p.user_id == user.id), None)
    if existing is not None:
        return existing
    pledge = Pledge(meeting_id=meeting.id, user_id=user.id, ip=ip)
    try:
        with db.session.begin_nested():
            db.session.add(pledge)
    except IntegrityError:  # pledged a moment ago in another tab (PostgreSQL runs both requests at once)
        return db.session.execute(select(Pledge).where(Pledge.meeting_id == meeting.id,
                                                       Pledge.user_id == user.id)).scalar_one()
    audit.record("pledge.accept", meeting, actor=user, details={"pledge_id": pledge.id})
    return pledge


def meeting_end(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
