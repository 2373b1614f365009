"""Agency input per case: drafts, submission, revisions without lost edits, the coordinator's matrix, reminders.

Functions change data, write the audit trail and flush; the request commits once.
"""
import json
import smtplib
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from conference import audit
from conference.cases.services import checked_level
from conference.core.database import conflict_if_overtaken, now_utc
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import Agency, AgendaItem, Meeting, MeetingStatus, NeedDomain, User
from conference.models.inputs import AgencyInput, InputRevision, InputState, OfferedResource
from conference.shared.disclosure import default_level
from conference.shared.notifications import message_text, notify_agency
from conference.shared.rules import RuleError

TEXT_FIELDS = ("facts", "opinion", "risk_concerns", "withheld", "coordinator_note")
#: The 공개 범위 column (and form field) of each text field that has one.
LEVEL_FIELDS = {"facts": "facts_level", "opinion": "opinion_level", "risk_concerns": "risk_level"}
#: Longest text accepted in one field.
MAX_TEXT = 4000


class InputConflict(Exception):
    """Someone saved this input after the version the user started from."""

    def __init__(self, current: AgencyInput | None):
        super().__init__("input changed meanwhile")
        self.current = current


@dataclass
class InputValues:
    facts: str = ""
    opinion: str = ""
    domains: tuple[str, ...] = ()
    risk_concerns: str = ""
    withheld: str = ""
    coordinator_note: str = ""
    #: (is_public, kind, note) for each resource offered
    resources: tuple[tuple[bool, str, str], ...] = ()
    #: 공개 범위 of facts, opinion and risk_concerns; None keeps the saved level (a new input: the agency's default).
    facts_level: str | None = None
    opinion_level: str | None = None
    risk_level: str | None = None

    def as_fields(self) -> dict:
        return {"facts": self.facts, "opinion": self.opinion, "domains": ",".join(self.domains),
                "risk_concerns": self.risk_concerns, "withheld": self.withheld,
                "coordinator_note": self.coordinator_note}

    def is_empty(self) -> bool:
        return not any(getattr(self, f).strip() for f in TEXT_FIELDS) and not self.resources


def input_levels(agency_input: AgencyInput | None, sector: str | None = None) -> dict[str, str]:
    """The 공개 범위 of each text: as saved, or for a new input the writing agency's default (정신건강: 민감정보)."""
    if agency_input is None:
        level = default_level(sector=sector).value
        return {name: level for name in LEVEL_FIELDS.values()}
    return {name: getattr(agency_input, name) for name in LEVEL_FIELDS.values()}


def snapshot(agency_input: AgencyInput) -> dict:
    data = {f: getattr(agency_input, f) for f in (*TEXT_FIELDS, *LEVEL_FIELDS.values(), "domains", "state")}
    data["resources"] = [[r.is_public, r.kind, r.note] for r in agency_input.resources]
    return data


def find_input(item: AgendaItem, agency_id: int) -> AgencyInput | None:
    return db.session.execute(
        select(AgencyInput).where(AgencyInput.agenda_item_id == item.id, AgencyInput.agency_id == agency_id)
        .options(db.selectinload(AgencyInput.resources), db.selectinload(AgencyInput.revisions))
    ).scalar_one_or_none()


def _deadline(meeting: Meeting, agency_id: int) -> date | None:
    invitation = next((i for i in meeting.invitations if i.agency_id == agency_id), None)
    return invitation.deadline if invitation else None


def closed_reason(meeting: Meeting):
    """Why agency input on this meeting can no longer be changed (None while it can): the one rule the form page
    (shown read-only) and ``save_input`` ask."""
    if meeting.status == MeetingStatus.FINALISED.value:
        return _l("회의록이 확정되어 더는 의견을 고칠 수 없습니다.")
    return None


def save_input(item: AgendaItem, *, agency_id: int, by: User, values: InputValues, base_version: int,
               submit: bool, today: date) -> AgencyInput:
    """Save (and optionally submit) an agency's input; refuses a save based on an outdated version."""
    meeting = item.meeting
    closed = closed_reason(meeting)
    if closed:
        raise RuleError("form", closed)
    if agency_id not in {i.agency_id for i in meeting.invitations}:
        raise RuleError("form", _l("이 회의에 초대되지 않은 기관입니다."))
    if values.is_empty():
        raise RuleError("facts", _l("보유 정보나 기관 의견 중 하나는 적어야 합니다."))
    for field in TEXT_FIELDS:
        if len(getattr(values, field)) > MAX_TEXT:
            raise RuleError(field, _l("%(n)s자 이하로 적으세요.", n=MAX_TEXT))
    if not set(values.domains) <= {d.value for d in NeedDomain}:
        raise RuleError("domains", _l("알 수 없는 욕구 영역입니다."))
    for _is_public, kind, note in values.resources:
        if not kind.strip() or len(kind) > 100 or len(note) > 1000:
            raise RuleError("resources", _l("자원 종류는 1~100자, 메모는 1000자 이하입니다."))
    for name in LEVEL_FIELDS.values():
        if getattr(values, name) is not None:
            checked_level(name, getattr(values, name))

    agency_input = find_input(item, agency_id)
    current_version = agency_input.version if agency_input else 0
    if base_version != current_version:
        raise InputConflict(agency_input)
    creating = agency_input is None
    if creating:
        agency_input = AgencyInput(agenda_item_id=item.id, agency_id=agency_id, version=0, resources=[],
                                   revisions=[], state=InputState.DRAFT.value)
        db.session.add(agency_input)
    before = snapshot(agency_input) if agency_input.id else {}
    for field, value in values.as_fields().items():
        setattr(agency_input, field, value.strip() if field != "domains" else value)
    saved = input_levels(None, db.session.get(Agency, agency_id).sector) if creating else input_levels(agency_input)
    for name, level in saved.items():
        setattr(agency_input, name, getattr(values, name) or level)
    agency_input.resources = [OfferedResource(is_public=p, kind=k.strip(), note=n.strip())
                              for p, k, n in values.resources]
    now = now_utc()
    if submit and agency_input.state != InputState.SUBMITTED.value:
        agency_input.state = InputState.SUBMITTED.value
        agency_input.submitted_at = now
    deadline = _deadline(meeting, agency_id)
    agency_input.is_late = deadline is not None and today > deadline
    agency_input.version = current_version + 1
    agency_input.updated_at, agency_input.updated_by_id = now, by.id
    after = snapshot(agency_input)
    changed = sorted(k for k in after if before.get(k) != after[k])
    agency_input.revisions.append(InputRevision(version=agency_input.version, saved_by_id=by.id, saved_at=now,
                                                snapshot=json.dumps(after, ensure_ascii=False),
                                                changed=",".join(changed)))
    with conflict_if_overtaken(InputConflict(None if creating else agency_input), creating=creating):
        db.session.flush()
    audit.record("input.submit" if submit else "input.save", item.household, actor=by, details={
        "meeting_id": meeting.id, "agency_id": agency_id, "version": agency_input.version, "changed": changed,
        "late": agency_input.is_late})
    return agency_input


@dataclass
class MatrixCell:
    state: str  # "missing", "draft", "submitted", "overdue"
    late: bool = False

    @property
    def label(self):
        return MATRIX_LABELS[self.state]


MATRIX_LABELS = {"missing": _l("미제출"), "draft": _l("작성 중"), "submitted": _l("제출"), "overdue": _l("기한 경과")}


def input_matrix(meeting: Meeting, inputs: list[AgencyInput], today: date) -> dict[tuple[int, int], MatrixCell]:
    """State per (agenda item id, agency id): 미제출 / 작성 중 / 제출 / 기한 경과 (not submitted by the deadline)."""
    by_key = {(i.agenda_item_id, i.agency_id): i for i in inputs}
    cells = {}
    for item in meeting.agenda_items:
        for invitation in meeting.invitations:
            found = by_key.get((item.id, invitation.agency_id))
            if found is not None and found.state == InputState.SUBMITTED.value:
                cells[item.id, invitation.agency_id] = MatrixCell("submitted", found.is_late)
            elif today > invitation.deadline:
                cells[item.id, invitation.agency_id] = MatrixCell("overdue")
            else:
                cells[item.id, invitation.agency_id] = MatrixCell("draft" if found else "missing")
    return cells


def meeting_inputs(meeting: Meeting) -> list[AgencyInput]:
    """Every input of the meeting with its resources and author (one query each)."""
    item_ids = [item.id for item in meeting.agenda_items]
    if not item_ids:
        return []
    return db.session.execute(
        select(AgencyInput).where(AgencyInput.agenda_item_id.in_(item_ids))
        .options(db.selectinload(AgencyInput.resources), db.joinedload(AgencyInput.updated_by),
                 db.joinedload(AgencyInput.agency))
    ).unique().scalars().all()


def remind_agencies(meeting: Meeting, *, by: User, cells: dict[tuple[int, int], MatrixCell]) -> int:
    """Notify the practitioners of every agency with an input not yet submitted; returns how many were told."""
    waiting = {agency_id for (_, agency_id), cell in cells.items() if cell.state != "submitted"}
    if not waiting:
        return 0
    link = f"/meetings/{meeting.id}/inputs"
    params = {"meeting": meeting.title}
    text = message_text("input.reminder", params)
    told = []
    for agency_id in sorted(waiting):
        told += notify_agency(agency_id, kind="input.reminder", params=params, link=link)
    for user in db.session.execute(select(User).where(User.id.in_(told))).scalars():
        send_mail(user.email, f"[통합사례회의] {meeting.title} 기관 의견 요청", text)
    audit.record("input.remind", meeting, actor=by, details={"agencies": sorted(waiting), "users": len(told)})
    return len(told)


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send an e-mail only when SMTP is configured (MAIL_SERVER); the in-app notification is always made."""
    server = current_app.config.get("MAIL_SERVER")
    if not server or not to:
        return False
    message = EmailMessage()
    message["From"] = current_app.config.get("MAIL_FROM", "conference@localhost")
    message["To"], message["Subject"] = to, subject
    message.set_content(body + "\n\n(개인정보는 메일에 싣지 않습니다. 시스템에 로그인해 확인하세요.)")
    try:
        with smtplib.SMTP(server, current_app.config.get("MAIL_PORT", 25), timeout=10) as smtp:
            smtp.send_message(message)
    except OSError:
        current_app.logger.warning("reminder e-mail to %s failed", to)
        return False
    return True


@dataclass
class RevisionView:
    version: int
    saved_at: object
    saved_by: str
    changed: list[str]
    values: dict


def revisions(agency_input: AgencyInput | None) -> list[RevisionView]:
    """The saved versions of an input, newest first, with their full text."""
    if agency_input is None:
        return []
    users = {u.id: u.display_name for u in db.session.execute(
        select(User).where(User.id.in_({r.saved_by_id for r in agency_input.revisions}))).scalars()}
    return [RevisionView(r.version, r.saved_at, users.get(r.saved_by_id, ""), [c for c in r.changed.split(",") if c],
                         json.loads(r.snapshot)) for r in agency_input.revisions]
