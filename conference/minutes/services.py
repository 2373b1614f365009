"""Running the meeting and its minutes: attendance, case records, actions, review, approval, corrections.

Functions change data, write the audit trail and flush; the request (or command) commits once.
"""
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from conference import audit
from conference.cases import services as case_services
from conference.cases.services import checked_level, current_consent
from conference.core.database import conflict_if_overtaken, now_utc
from conference.core.loading import fill
from conference.core.formatting import KST
from conference.core.i18n import lazy_gettext as _l
from conference.core.masking import mask_name
from conference.extensions import db
from conference.meetings import rules
from conference.meetings.packets import PREPARATION, build_full_packet, load_meeting, load_meeting_grants, today_grants
from conference.minutes import document, snapshot
from conference.models import (REVIEW_OUTCOMES, Disclosure, ActionItem, ActionReview, ActionStatus, Agency, AgendaItem,
                               Attendee, CaseRecord, InputState, Meeting, MeetingKind, MeetingStatus,
                               Minutes, MinutesRevision, MinutesStatus, NeedDomain, ReviewResponse, RootCause,
                               Stage, Track, User)
from conference.shared.disclosure import default_level
from conference.shared.notifications import notify_user
from conference.shared.permissions import can_approve_minutes
from conference.shared.rules import RuleError, RuleErrors

SHARED = Disclosure.SHARED.value
#: Meeting statuses in which the record of the meeting may be written.
RECORDING = {MeetingStatus.IN_PROGRESS.value, MeetingStatus.MINUTES.value, MeetingStatus.REVIEW.value}
MAX_TEXT = 8000
MAX_OVERRIDE_REASON = 2000


class RecordConflict(Exception):
    """Someone saved this case record after the version the user started from."""


@dataclass
class ActionDraft:
    task: str
    domain: str
    agency_id: int | None
    person: str
    due_on: date | None
    resource_public: bool | None = None
    resource_kind: str = ""
    #: Disclosure level of the task text as chosen; None or "": the domain's default (민감정보 for health).
    task_level: str | None = None
    #: Why the action goes to an agency the household's consent does not cover (동의 범위 예외 사유).
    consent_override_reason: str = ""
    #: The row of the form it was written in (its fields are action-<row>-…); None when not from a form.
    row: int | None = None


class CauseDraft(NamedTuple):
    """A root cause as written; a plain (domain, cause) pair is one at the domain's default level."""

    domain: str
    cause: str
    level: str | None = None


@dataclass
class CaseRecordDraft:
    """What the meeting found and decided for one case, as written on its screen (``save_case_record`` checks it)."""

    discussion: str = ""
    decisions: str = ""
    goals: str = ""
    #: Disclosure levels of the discussion and the decisions as chosen; None: 참석기관 공유.
    discussion_level: str | None = None
    decisions_level: str | None = None
    #: 사례 구분, one of the configured CLASSIFICATIONS, or "".
    classification: str = ""
    #: The stage the meeting moves the case to: "" (none), selected (with a ``track``) or closed (with a reason).
    status_to: str = ""
    track: str = ""
    closure_reason: str = ""
    root_causes: list[CauseDraft | tuple[str, str]] = field(default_factory=list)
    actions: list[ActionDraft] = field(default_factory=list)
    #: Earlier action id → (outcome, note): the review of the case's open actions from earlier meetings.
    reviews: dict[int, tuple[str, str]] = field(default_factory=dict)


def minutes_of(meeting: Meeting) -> Minutes:
    """The meeting's minutes, created as a draft the first time they are needed.

    Two first saves at once (PostgreSQL runs them side by side) both find none; the later insert is refused by
    the unique meeting id, and that request goes on with the row the other one made.
    """
    if meeting.minutes is None:
        try:
            with db.session.begin_nested():
                db.session.add(Minutes(meeting_id=meeting.id, status=MinutesStatus.DRAFT.value))
        except IntegrityError:
            pass  # created by another request since this one read the meeting
        minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
        set_committed_value(meeting, "minutes", minutes)
    return meeting.minutes


def _require_recording(meeting: Meeting):
    if meeting.status == MeetingStatus.FINALISED.value:
        raise RuleError("form", _l("회의록이 확정되어 고칠 수 없습니다. 정정하려면 정정 사유를 적어 새 판을 여세요."))
    if meeting.status not in RECORDING:
        raise RuleError("form", _l("회의를 시작한 뒤(회의 중 단계)에 기록할 수 있습니다."))


def record_attendance(meeting: Meeting, *, by: User, rows: list[tuple[str, int | None, str]]) -> None:
    """Replace the attendance list: (name, agency id, position) per person present."""
    _require_recording(meeting)
    agencies = {a.id: a for a in db.session.execute(select(Agency)).scalars()}
    cleaned = [(name.strip(), agency_id, position.strip()) for name, agency_id, position in rows if name.strip()]
    for name, agency_id, position in cleaned:
        if agency_id not in agencies or len(name) > 50 or len(position) > 50:
            raise RuleError("attendees", _l("참석자마다 성명(50자 이하)과 소속기관을 적으세요."))
    users = {(u.display_name, u.agency_id): u.id for u in db.session.execute(
        select(User).where(User.is_active_account.is_(True))).scalars()}
    meeting.attendees = [Attendee(name=name, agency_id=agency_id, agency_name=agencies[agency_id].name,
                                  position=position, user_id=users.get((name, agency_id)))
                         for name, agency_id, position in cleaned]
    audit.record("meeting.attendance", meeting, actor=by, details={"count": len(cleaned)})


def earlier_open_actions(meeting: Meeting) -> dict[int, list[ActionItem]]:
    """Per household on the agenda, its actions from other meetings that are still open (carried over)."""
    household_ids = [item.household_id for item in meeting.agenda_items]
    if not household_ids:
        return {}
    actions = db.session.execute(
        select(ActionItem).where(ActionItem.household_id.in_(household_ids), ActionItem.meeting_id != meeting.id,
                                 ActionItem.is_active())
        .options(joinedload(ActionItem.agency), joinedload(ActionItem.meeting)).order_by(ActionItem.due_on)
    ).scalars().all()
    grouped: dict[int, list[ActionItem]] = {}
    for action in actions:
        grouped.setdefault(action.household_id, []).append(action)
    return grouped


def agencies_needing_override(item: AgendaItem, agency_ids: set[int]) -> set[int]:
    """Of ``agency_ids``, those an action of this case may go to only with a written override reason.

    They are outside the household's current consent (none, withdrawn, or not named in it), unless invited to
    the meeting under the agenda item's own override (written and logged when the case was put on the agenda).
    Needs the item's meeting invitations and household consents loaded (``load_for_minutes``).
    """
    return rules.uncovered_agencies(agency_ids, current_consent(item.household)) - _invited_under_override(item)


def _invited_under_override(item: AgendaItem) -> set[int]:
    return {i.agency_id for i in item.meeting.invitations} if item.consent_override_reason else set()


class CheckedAction(NamedTuple):
    level: str
    #: The reason kept with the action: as written, or the agenda item's when that one covers the agency.
    override_reason: str
    #: The row's writer gave a reason of their own: a new override, logged.
    new_override: bool


def _check_actions(drafts: list[ActionDraft], item: AgendaItem) -> list[CheckedAction]:
    """Refuse incomplete action rows, or rows outside the consent without a reason, with every problem of every row
    at once (``RuleErrors``, each by its field); the rows' levels and override reasons."""
    checked, problems = _action_problems(drafts, item)
    if problems:
        raise RuleErrors(problems)
    return checked


def _action_problems(drafts: list[ActionDraft], item: AgendaItem) -> tuple[list[CheckedAction], list]:
    """The rows' checked levels and reasons, and every (field, message) problem of the rows, by the form's fields
    (``action-<row>-<name>``; "actions" for a row that does not say where it came from)."""
    meeting = item.meeting
    domains = {d.value for d in NeedDomain}
    meeting_day = meeting.starts_at.astimezone(KST).date()
    uncovered = rules.uncovered_agencies({d.agency_id for d in drafts}, current_consent(item.household))
    needing = uncovered - _invited_under_override(item)
    checked, problems = [], []
    for number, draft in enumerate(drafts, start=1):
        def problem(name, message, draft=draft):
            problems.append((f"action-{draft.row}-{name}" if draft.row is not None else "actions", message))

        if not draft.task.strip() or len(draft.task) > 1000:
            problem("task", _l("%(n)s번째 과제: 과제 내용을 1000자 이하로 적으세요.", n=number))
        if draft.domain not in domains:
            problem("domain", _l("%(n)s번째 과제: 욕구영역을 고르세요.", n=number))
        if not draft.agency_id or db.session.get(Agency, draft.agency_id) is None:
            problem("agency", _l("%(n)s번째 과제: 담당기관을 고르세요.", n=number))
        if draft.due_on is None or draft.due_on < meeting_day:
            problem("due", _l("%(n)s번째 과제: 기한을 회의일 이후 날짜로 적으세요.", n=number))
        if len(draft.person) > 50:
            problem("person", _l("%(n)s번째 과제: 담당자는 50자 이하입니다.", n=number))
        if len(draft.resource_kind) > 100:
            problem("resource_kind", _l("%(n)s번째 과제: 연계자원은 100자 이하입니다.", n=number))
        try:
            level = checked_level("actions", draft.task_level, default=default_level(domain=draft.domain),
                                  message=_l("%(n)s번째 과제: 공개 범위를 목록에서 고르세요.", n=number))
        except RuleError as error:
            problem("level", error.message)
            level = SHARED
        reason = draft.consent_override_reason.strip()
        if len(reason) > MAX_OVERRIDE_REASON:
            problem("override", _l("%(n)s번째 과제: 동의 범위 예외 사유는 %(max)s자 이하로 적으세요.",
                                   n=number, max=MAX_OVERRIDE_REASON))
        if draft.agency_id in needing and not reason:
            problem("override", _l(
                "%(n)s번째 과제: 담당기관이 이 가구의 정보제공 동의 범위 밖입니다. 동의를 받거나 동의 범위 예외 사유를 "
                "적으세요.", n=number))
        if draft.agency_id not in uncovered:
            checked.append(CheckedAction(level, "", False))  # the consent covers it: nothing to override
        else:
            checked.append(CheckedAction(level, reason or item.consent_override_reason, bool(reason)))
    return checked, problems


def save_case_record(item: AgendaItem, draft: CaseRecordDraft, *, by: User, base_version: int,
                     earlier: list[ActionItem]) -> CaseRecord:
    """``_save_case_record``, refusing with the problems of the action rows too when another field is refused, so
    that the writer sees them all at once."""
    try:
        return _save_case_record(item, draft, by=by, base_version=base_version, earlier=earlier)
    except RuleErrors:
        raise
    except RuleError as error:
        rows = _action_problems(draft.actions, item)[1] if item.meeting.status in RECORDING else []
        if rows:
            raise RuleErrors([(error.field, error.message), *rows]) from None
        raise


def _save_case_record(item: AgendaItem, draft: CaseRecordDraft, *, by: User, base_version: int,
                     earlier: list[ActionItem]) -> CaseRecord:
    """Save what the meeting found and decided for one case, its new actions and its review of earlier ones, over
    the version ``base_version`` of the record the writer started from (0: none yet; another raises
    ``RecordConflict``). ``earlier`` are the case's open actions from earlier meetings, the ones it may review.

    Each text keeps the disclosure level its writer chose (unset: 참석기관 공유, and 민감정보 for root causes and
    actions in the health domain). An action for an agency outside the household's consent needs its own written
    override reason, which is logged (``action.consent_override``), unless the agenda item's override covers it.
    Needs the meeting loaded by ``load_for_minutes``.
    """
    meeting = item.meeting
    _require_recording(meeting)
    record = item.record
    if (record.version if record else 0) != base_version:
        raise RecordConflict()
    for name, text in (("discussion", draft.discussion), ("decisions", draft.decisions), ("goals", draft.goals)):
        if len(text) > MAX_TEXT:
            raise RuleError(name, _l("%(n)s자 이하로 적으세요.", n=MAX_TEXT))
    discussion_level = checked_level("discussion_level", draft.discussion_level, default=Disclosure.SHARED,
                                     message=_l("논의 내용의 공개 범위를 목록에서 고르세요."))
    decisions_level = checked_level("decisions_level", draft.decisions_level, default=Disclosure.SHARED,
                                    message=_l("결정사항의 공개 범위를 목록에서 고르세요."))
    _check_decision(item, draft.status_to, track=draft.track, classification=draft.classification,
                    closure_reason=draft.closure_reason)
    causes = [CauseDraft(*row) for row in draft.root_causes]
    causes = [c._replace(cause=c.cause.strip()) for c in causes if c.cause.strip()]
    if any(c.domain not in {x.value for x in NeedDomain} or len(c.cause) > 2000 for c in causes):
        raise RuleError("root_causes", _l("근본원인마다 욕구영역을 고르고 2000자 이하로 적으세요."))
    cause_levels = [checked_level("root_causes", c.level, default=default_level(domain=c.domain),
                                  message=_l("%(n)s번째 근본원인: 공개 범위를 목록에서 고르세요.", n=number))
                    for number, c in enumerate(causes, start=1)]
    checked = _check_actions(draft.actions, item)
    earlier_ids = {a.id: a for a in earlier}
    for action_id, (outcome, note) in draft.reviews.items():
        if action_id not in earlier_ids or outcome not in {o.value for o in REVIEW_OUTCOMES}:
            raise RuleError("reviews", _l("이전 실행과제의 점검 결과를 고르세요."))
        if outcome in (ActionStatus.CHANGED.value, ActionStatus.NOT_DONE.value) and not note.strip():
            raise RuleError("reviews", _l("상황 변화나 미이행으로 남는 과제는 사유를 적으세요."))

    creating = record is None
    if creating:
        record = CaseRecord(version=0)
        item.record = record
    record.discussion, record.decisions, record.goals = (draft.discussion.strip(), draft.decisions.strip(),
                                                         draft.goals.strip())
    record.discussion_level, record.decisions_level = discussion_level, decisions_level
    record.classification, record.status_to = draft.classification, draft.status_to
    record.track = draft.track if draft.status_to == Stage.SELECTED.value else ""
    record.closure_reason = draft.closure_reason if draft.status_to == Stage.CLOSED.value else ""
    record.root_causes = [RootCause(domain=c.domain, cause=c.cause, level=level)
                          for c, level in zip(causes, cause_levels, strict=True)]
    record.version += 1
    record.updated_at = now_utc()
    with conflict_if_overtaken(RecordConflict(), creating=creating):
        db.session.flush()  # the record first: a save that another one overtook stops here
    logged = set()  # overrides already written at an earlier save of this record
    for old in db.session.execute(select(ActionItem).where(
            ActionItem.agenda_item_id == item.id, ActionItem.status == ActionStatus.PLANNED.value)).scalars():
        logged.add((old.agency_id, old.consent_override_reason))
        db.session.delete(old)
    overridden = []
    for planned, checks in zip(draft.actions, checked, strict=True):
        action = ActionItem(
            household_id=item.household_id, meeting_id=meeting.id, agenda_item_id=item.id, task=planned.task.strip(),
            task_level=checks.level, domain=planned.domain, agency_id=planned.agency_id, person=planned.person.strip(),
            due_on=planned.due_on, resource_public=planned.resource_public if planned.resource_kind.strip() else None,
            resource_kind=planned.resource_kind.strip(), consent_override_reason=checks.override_reason,
            status=ActionStatus.PLANNED.value)
        db.session.add(action)
        if checks.new_override and (planned.agency_id, checks.override_reason) not in logged:
            overridden.append(action)
    existing = {r.action_id: r for r in meeting.reviews}
    for action_id, (outcome, note) in draft.reviews.items():
        review = existing.get(action_id)
        if review is None:
            meeting.reviews.append(ActionReview(action_id=action_id, outcome=outcome, note=note.strip()))
        else:
            review.outcome, review.note = outcome, note.strip()
    db.session.flush()
    for action in overridden:
        audit.record("action.consent_override", item.household, actor=by, details={
            "meeting_id": meeting.id, "action_id": action.id, "agency_id": action.agency_id,
            "reason": action.consent_override_reason})
    audit.record("minutes.case", item.household, actor=by, details={
        "meeting_id": meeting.id, "version": record.version, "actions": len(draft.actions),
        "reviews": len(draft.reviews), "status_to": draft.status_to, "classification": draft.classification})
    return record


#: The stages a meeting may decide for a case (선정, 종결); the case service says how the case gets there.
DECIDED_STAGES = (Stage.SELECTED, Stage.CLOSED)


class DecisionChoice(NamedTuple):
    stage: Stage
    #: The stages the case passes on the way, the decided one last ([]: it is there already).
    path: list[Stage]


def decision_choices(household) -> list[DecisionChoice]:
    """The stage decisions the case screen offers for a household at its current stage, each with the stages the
    case will pass at approval (``cases.services.stage_path``, the one rule of which step may follow which)."""
    choices = []
    for stage in DECIDED_STAGES:
        path = [] if stage == household.stage else case_services.stage_path(household.stage, stage)
        if path is not None:
            choices.append(DecisionChoice(stage, path))
    return choices


def _check_decision(item: AgendaItem, status_to: str, *, track: str, classification: str,
                    closure_reason: str) -> list[Stage]:
    """Refuse, naming the case, a decision it cannot take from its current stage (or lacking its track or reason);
    the stages it will pass at approval."""
    household = item.household
    if status_to not in ("", *(s.value for s in DECIDED_STAGES)):
        raise RuleError("status_to", _l("사례 %(case)s: 회의에서 정할 수 있는 단계는 선정과 종결입니다.",
                                        case=household.case_number))
    if not status_to and not classification:
        return []
    try:
        return case_services.check_decision(household, **_decision(household, status_to, track=track,
                                                                   classification=classification,
                                                                   closure_reason=closure_reason))
    except RuleError as refused:
        raise RuleError(refused.field, _l("사례 %(case)s: %(refusal)s", case=household.case_number,
                                          refusal=refused.message)) from None


def _decision(household, status_to: str, *, track: str, classification: str, closure_reason: str) -> dict:
    """A case record's decision as the case service takes it: no stage decided keeps the stage (and its track)."""
    return {"to_status": status_to or household.status, "track": track if status_to else household.track,
            "classification": classification or None, "closure_reason": closure_reason}


class Problem(NamedTuple):
    """Something to fix before the minutes go for review or approval; the message names its case."""

    message: str
    case_number: str = ""
    item_id: int | None = None


class NotReady(RuleError):
    """The minutes cannot go for review or be approved yet: ``problems`` lists every one, each naming its case."""

    def __init__(self, problems: list[Problem]):
        super().__init__("form", _l("먼저 고칠 것이 %(n)s건 있습니다: %(problems)s", n=len(problems),
                                    problems=" / ".join(str(p.message) for p in problems)))
        self.problems = problems


def approval_problems(meeting: Meeting) -> list[Problem]:
    """Everything that would stop the chair's approval (결재) and only the coordinator can fix: no chair named, no
    attendance, a case without a record (unless postponed), a decision its case cannot take now. The review request and the approval
    both ask this one list. Needs the meeting loaded by ``load_for_minutes``."""
    problems = []
    if meeting.chair_id is None:
        problems.append(Problem(_l("주재(결재권자)가 정해지지 않은 회의입니다. 결재할 사람이 없으니 회의 정보에서 주재를 "
                                   "정하세요.")))
    if not meeting.attendees:
        problems.append(Problem(_l("참석자를 기록하세요.")))
    for item in meeting.agenda_items:
        number, record = item.household.case_number, item.record
        if item.postponed_reason:  # put off to the next meeting: neither recorded nor decided here
            continue
        if record is None:
            problems.append(Problem(_l("사례 %(case)s: 논의 기록이 없습니다.", case=number), number, item.id))
            continue
        try:
            _check_decision(item, record.status_to, track=record.track, classification=record.classification,
                            closure_reason=record.closure_reason)
        except RuleError as refused:
            problems.append(Problem(refused.message, number, item.id))
    return problems


def _require_ready(meeting: Meeting) -> None:
    problems = approval_problems(meeting)
    if problems:
        raise NotReady(problems)


@dataclass
class Reviewer:
    """A person asked to review the minutes (an attendee with an account), or someone else who answered."""

    name: str
    agency: str
    response: ReviewResponse | None = None


@dataclass
class ReviewSummary:
    """Who has reviewed the minutes' current revision and who has not yet."""

    #: Attendees asked to review (those with an account but the chair and the coordinator) who answered, and who
    #: did not yet.
    reviewed: list[Reviewer]
    waiting: list[Reviewer]
    #: Attendees without an account: they were not asked in the app and are not counted.
    offline: list[Reviewer]
    #: Others who answered (a colleague of an invited agency): shown, not counted.
    others: list[Reviewer]

    @property
    def expected(self) -> int:
        return len(self.reviewed) + len(self.waiting)

    @property
    def done(self) -> int:
        return len(self.reviewed)

    @property
    def missing(self) -> int:
        return len(self.waiting)


def review_summary(meeting: Meeting) -> ReviewSummary:
    """Who reviewed the minutes' current revision (their latest answer: confirmed or with a comment) and which
    attendees with an account have not yet; the chair (who approves) and the coordinator (who wrote them) are not
    counted. Needs ``load_for_minutes``."""
    minutes = meeting.minutes
    latest = {}
    for response in (minutes.responses if minutes else []):
        if response.revision == minutes.revision:
            latest[response.user_id] = response
    summary, asked = ReviewSummary([], [], [], []), set()
    for attendee in meeting.attendees:
        if attendee.user_id is None:
            summary.offline.append(Reviewer(attendee.name, attendee.agency_name))
        elif attendee.user_id not in (meeting.chair_id, meeting.coordinator_id, *asked):
            asked.add(attendee.user_id)
            response = latest.get(attendee.user_id)
            (summary.reviewed if response else summary.waiting).append(
                Reviewer(attendee.name, attendee.agency_name, response))
    summary.others = [Reviewer(r.user.display_name, r.user.agency.name, r) for user_id, r in latest.items()
                      if user_id not in asked]
    return summary


def set_schedule(meeting: Meeting, *, by: User, next_meeting: date | None, next_check: date | None) -> None:
    _require_recording(meeting)
    minutes = minutes_of(meeting)
    minutes.next_meeting, minutes.next_check = next_meeting, next_check
    audit.record("minutes.schedule", meeting, actor=by,
                 details={"next_meeting": next_meeting, "next_check": next_check})


def request_review(meeting: Meeting, *, by: User, deadline: date, today: date) -> None:
    """Send the draft to the attendees (and the chair) to confirm or comment by ``deadline``; refused (``NotReady``)
    with every problem ``approval_problems`` finds, so the approval cannot fail on one of them."""
    _require_recording(meeting)
    if deadline < today:
        raise RuleError("deadline", _l("검토 기한은 오늘 이후여야 합니다."))
    _require_ready(meeting)
    minutes = minutes_of(meeting)
    minutes.status, minutes.review_deadline = MinutesStatus.REVIEW.value, deadline
    meeting.status = MeetingStatus.REVIEW.value
    link = f"/meetings/{meeting.id}/minutes"
    readers = {a.user_id for a in meeting.attendees if a.user_id} | ({meeting.chair_id} if meeting.chair_id else set())
    for user_id in readers:
        notify_user(user_id, kind="minutes.review", link=link,
                    params={"meeting": meeting.title, "deadline": deadline.isoformat()})
    audit.record("minutes.review_request", meeting, actor=by, details={"deadline": deadline, "readers": len(readers)})


def respond(meeting: Meeting, *, user: User, confirmed: bool, comment: str) -> ReviewResponse:
    minutes = meeting.minutes
    if minutes is None or minutes.status != MinutesStatus.REVIEW.value:
        raise RuleError("comment", _l("지금은 검토 요청 중인 회의록이 아닙니다."))
    if not confirmed and not comment.strip():
        raise RuleError("comment", _l("의견을 적거나 '확인'을 고르세요."))
    if len(comment) > 2000:
        raise RuleError("comment", _l("2000자 이하로 적으세요."))
    response = ReviewResponse(minutes=minutes, user_id=user.id, confirmed=confirmed, comment=comment.strip(),
                              revision=minutes.revision)
    db.session.add(response)
    db.session.flush()
    audit.record("minutes.response", meeting, actor=user, details={"confirmed": confirmed})
    return response


def finalise(meeting: Meeting, *, by: User, at: datetime | None = None) -> Minutes:
    """결재: lock the minutes with a content hash; decisions and actions take effect now.

    ``at`` records an approval made earlier on paper (entering a past meeting); by default it is now.
    """
    minutes = meeting.minutes
    if not can_approve_minutes(by, meeting):
        raise RuleError("form", _l("이 회의의 주재자(결재권자)만 결재할 수 있습니다."))
    if minutes is None or minutes.status != MinutesStatus.REVIEW.value:
        raise RuleError("form", _l("검토 요청을 거친 회의록만 결재할 수 있습니다."))
    _require_ready(meeting)
    for item in meeting.agenda_items:
        if not item.postponed_reason:  # a postponed case is decided at the next meeting
            _apply_decisions(item, by=by, meeting=meeting)
        for action in item.actions:
            if action.status == ActionStatus.PLANNED.value:
                action.status = ActionStatus.OPEN.value
    for review in meeting.reviews:
        review.action.status = review.outcome
    if minutes.next_check:
        for item in meeting.agenda_items:
            household = item.household
            if household.next_check_on is None or household.next_check_on > minutes.next_check:
                household.next_check_on = minutes.next_check  # the meeting's 다음 점검일
    minutes.status, minutes.finalised_at, minutes.approved_by_id = MinutesStatus.FINAL.value, at or now_utc(), by.id
    meeting.status = MeetingStatus.FINALISED.value
    db.session.flush()
    content = snapshot.to_json(minutes_data(meeting, approver=by))
    minutes.snapshot, minutes.content_hash = content, snapshot.content_hash(content)
    audit.record("minutes.finalise", meeting, actor=by,
                 details={"revision": minutes.revision, "hash": minutes.content_hash})
    return minutes


def _apply_decisions(item: AgendaItem, *, by: User, meeting: Meeting) -> None:
    """Move the case through every stage its decision implies (checked by ``approval_problems``), each step with
    the meeting's decision as its reason."""
    record, household = item.record, item.household
    if record is None or not (record.status_to or record.classification):
        return
    reason = f"{meeting.title} 결정"
    step_reason = f"{reason} ({Stage(record.status_to).label if record.status_to else ''} 결정에 따른 단계 이동)"
    case_services.decide(household, by=by, reason=reason, step_reason=step_reason,
                         **_decision(household, record.status_to, track=record.track,
                                     classification=record.classification, closure_reason=record.closure_reason))


def correct(meeting: Meeting, *, by: User, reason: str) -> Minutes:
    """Open a new revision of finalised minutes; the approved one is kept with its hash."""
    minutes = meeting.minutes
    if minutes is None or minutes.status != MinutesStatus.FINAL.value:
        raise RuleError("reason", _l("확정된 회의록만 정정할 수 있습니다."))
    if not reason.strip() or len(reason) > 2000:
        raise RuleError("reason", _l("정정 사유를 2000자 이하로 적으세요."))
    db.session.add(MinutesRevision(minutes=minutes, revision=minutes.revision, content_hash=minutes.content_hash,
                                   snapshot=minutes.snapshot, finalised_at=minutes.finalised_at,
                                   correction_reason=reason.strip(), corrected_by_id=by.id))
    minutes.revision += 1
    minutes.status, minutes.content_hash, minutes.snapshot = MinutesStatus.DRAFT.value, "", ""
    minutes.finalised_at = minutes.approved_by_id = None
    meeting.status = MeetingStatus.MINUTES.value
    audit.record("minutes.correct", meeting, actor=by, details={"new_revision": minutes.revision,
                                                               "reason": reason.strip()})
    return minutes


def load_for_minutes(meeting_id: int) -> Meeting | None:
    """A meeting with everything its record and minutes show, in a fixed number of statements."""
    meeting = load_meeting(meeting_id)
    if meeting is not None:
        _fill_review(meeting)
        fill(fill([meeting], Meeting.reviews), ActionReview.action, ActionItem.agency)
        fill(fill(meeting.agenda_items, AgendaItem.record), CaseRecord.root_causes)
        fill(meeting.agenda_items, AgendaItem.actions, ActionItem.agency)
    return meeting


def load_for_reading(meeting: Meeting) -> None:
    """Complete ``meeting`` (loaded for its access check) for reading its minutes: approved minutes are read from
    their snapshot, so only what today's grants, the attendance and the reviews need; a draft needs the record."""
    if meeting.minutes is not None and meeting.minutes.status == MinutesStatus.FINAL.value:
        load_meeting_grants(meeting.id)
        _fill_review(meeting)
    else:
        load_for_minutes(meeting.id)


def _fill_review(meeting: Meeting) -> None:
    """The attendance, and the minutes with their review answers and who gave them."""
    fill([meeting], Meeting.attendees)
    fill(fill([meeting], Meeting.minutes), Minutes.responses, ReviewResponse.user)


def minutes_data(meeting: Meeting, *, approver: User | None = None, full_names: bool = False
                 ) -> document.MinutesData:
    """The minutes' full version as plain data, from the meeting as recorded now (masked names by default): every
    text with its level, each invited agency's grant per case (``document.agency_copy`` cuts an agency's version)."""
    minutes = meeting.minutes
    packet = build_full_packet(meeting, {}, meeting.starts_at.astimezone(KST).date())
    invited = {i.agency_id: i.agency.name for i in meeting.invitations}
    present = {a.agency_id for a in meeting.attendees}
    cases = []
    for item, packet_case in zip(meeting.agenda_items, packet.cases, strict=True):
        record = item.record
        head = item.household.members[0].name
        cases.append(document.CaseMinutes(
            position=item.position, case_number=item.household.case_number,
            name=head if full_names else mask_name(head),
            summary=case_summary(packet_case), key_question=item.key_question,
            key_question_level=item.key_question_level,
            signals=", ".join(packet_case.signals), signals_level=packet_case.signals_level,
            overview=packet_case.overview, overview_level=packet_case.overview_level,
            needs=[document.NeedLine(n.domain, n.rating, n.notes, n.level, n.key) for n in packet_case.needs],
            opinions=[opinion_of(i) for i in sorted(item.inputs, key=lambda i: i.agency.name)
                      if i.state == InputState.SUBMITTED.value],
            discussion=record.discussion if record else "",
            discussion_level=record.discussion_level if record else SHARED,
            root_causes=[document.CauseLine(str(NeedDomain(r.domain).label), r.cause, r.level)
                         for r in record.root_causes] if record else [],
            decided=decided_text(record), postponed=bool(item.postponed_reason), postponed_reason=item.postponed_reason,
            decisions=decisions_text(record),
            decisions_level=record.decisions_level if record else SHARED,
            actions=[document.ActionLine(a.task, str(NeedDomain(a.domain).label), a.agency.name, a.person, a.due_on,
                                         a.resource_text, a.task_level, a.agency_id) for a in item.actions],
            grants=packet_case.grants))
    case_numbers = {item.household_id: item.household.case_number for item in meeting.agenda_items}
    reviews = [document.ReviewLine(case_numbers.get(r.action.household_id, ""), r.action.task, r.action.agency.name,
                                   r.action.due_on, str(ActionStatus(r.outcome).label), r.note, r.action.task_level,
                                   r.action.agency_id)
               for r in meeting.reviews]
    chair, coordinator = meeting.chair, meeting.coordinator
    signer = approver or chair
    approved = minutes.finalised_at.astimezone(KST).date() if minutes and minutes.finalised_at else None
    written = [item.record.updated_at.astimezone(KST).date() for item in meeting.agenda_items if item.record]
    # 작성: the last save of a case record, never after the approval (a past meeting entered afterwards).
    drafted = min(filter(None, (max(written, default=None), approved)), default=None)
    approvals = [document.Approval("작성", coordinator.display_name, drafted, position_of(coordinator)),
                 document.Approval("결재", signer.display_name if signer else "", approved,
                                   position_of(signer) if signer else "")]
    attendees = [document.Attendee(a.name, a.agency_name, a.position) for a in meeting.attendees]
    if chair is not None and not any(_is_user(a, chair) for a in meeting.attendees):
        attendees.insert(0, document.Attendee(chair.display_name, chair.agency.name, position_of(chair)))
        present.add(chair.agency_id)
    return document.MinutesData(
        title=meeting.title, starts_at=meeting.starts_at, ends_at=ends_at(meeting), place=meeting.place,
        kind=str(MeetingKind(meeting.kind).label), chair=chair.display_name if chair else "",
        chair_position=position_of(chair) if chair else "",
        author=coordinator.display_name, author_agency=coordinator.agency.name,
        attendees=attendees,
        absent_agencies=sorted(name for agency_id, name in invited.items() if agency_id not in present),
        cases=cases, reviews=reviews, next_meeting=minutes.next_meeting if minutes else None,
        next_check=minutes.next_check if minutes else None, approvals=approvals,
        revision=minutes.revision if minutes else 1,
        draft=minutes is None or minutes.status != MinutesStatus.FINAL.value)


#: 직위 on documents for an account without one, by role (Korean in every UI language: the documents are).
ROLE_POSITIONS = {"coordinator": "사례관리 담당", "chair": "회의 주재", "admin": "관리자", "practitioner": "실무자"}


def position_of(user: User) -> str:
    """A person's 직위 on the minutes and the sign-in sheet: the account's own, else its role's title."""
    return user.position or ROLE_POSITIONS.get(user.role, "")


def ends_at(meeting: Meeting) -> datetime:
    """When the meeting ends: its start plus its planned duration (no end time is recorded)."""
    return meeting.starts_at + timedelta(minutes=meeting.duration_minutes or 0)


def _is_user(attendee: Attendee, user: User) -> bool:
    """Whether an attendance row is ``user`` (linked to the account, or the same name at the same agency)."""
    return attendee.user_id == user.id or (attendee.name == user.display_name and attendee.agency_id == user.agency_id)


def sign_in_sheet(meeting: Meeting) -> document.SignInSheet:
    """참석자 서명부 as plain data, for printing before the meeting: the chair and the coordinator, each invited
    agency's named invitees (or one row with the agency when it named nobody), then anyone recorded present who is
    not on the list yet. Needs the meeting loaded by ``load_for_minutes``."""
    people: list[document.Attendee] = []
    seen: set[tuple[str, str]] = set()

    def add(name: str, agency: str, position: str) -> None:
        if name and (name, agency) in seen:
            return
        seen.add((name, agency))
        people.append(document.Attendee(name, agency, position))

    for user in (meeting.chair, meeting.coordinator):
        if user is not None:
            add(user.display_name, user.agency.name, position_of(user))
    for invitation in sorted(meeting.invitations, key=lambda i: i.agency.name):
        named = invitees(invitation.invitees)
        for name, position in named or [("", "")]:
            add(name, invitation.agency.name, position)
    for attendee in meeting.attendees:
        add(attendee.name, attendee.agency_name, attendee.position)
    return document.SignInSheet(title=meeting.title, starts_at=meeting.starts_at, ends_at=ends_at(meeting),
                                place=meeting.place, author_agency=meeting.coordinator.agency.name, people=people)


def invitees(text: str) -> list[tuple[str, str]]:
    """The people an invitation names ("서마음 팀장, 조아동"): (name, 직위) each, the first word being the name."""
    people = []
    for piece in re.split(r"[,;/\n·]+", text or ""):
        words = piece.split()
        if words:
            people.append((words[0], " ".join(words[1:])))
    return people


def opinion_of(agency_input) -> document.Opinion:
    """An agency's input for the minutes, facts and opinion kept apart as the form asked, each with its level."""
    return document.Opinion(agency_input.agency.name, [
        document.Passage("보유 정보", agency_input.facts, agency_input.facts_level),
        document.Passage("기관 의견", agency_input.opinion, agency_input.opinion_level),
        document.Passage("위험 요인", agency_input.risk_concerns, agency_input.risk_level)], agency_input.agency_id)


def case_summary(packet_case) -> str:
    parts = [f"{packet_case.stage}", f"가구원 {packet_case.household_size}명"]
    if packet_case.classification:
        parts.append(f"사례 구분 {packet_case.classification}")
    return " · ".join(parts)


def decided_text(record: CaseRecord | None) -> str:
    """What the meeting decided formally: classification, selection or closure."""
    if record is None:
        return ""
    lines = []
    if record.classification:
        lines.append(f"사례 구분: {record.classification}")
    if record.status_to == Stage.SELECTED.value:
        lines.append(f"선정: {Track(record.track).label}")
    elif record.status_to == Stage.CLOSED.value:
        lines.append(f"종결: {record.closure_reason}")
    return "\n".join(str(line) for line in lines)


def decisions_text(record: CaseRecord | None) -> str:
    """결정사항 and 목표 as written."""
    if record is None:
        return ""
    lines = [record.decisions] if record.decisions else []
    if record.goals:
        lines.append(f"목표: {record.goals}")
    return "\n".join(lines)


def require_held(meeting: Meeting) -> None:
    """Minutes exist only for a meeting that has started."""
    if meeting.status in PREPARATION:
        raise RuleError("form", _l("아직 열리지 않은 회의라 회의록이 없습니다. 회의를 시작한 뒤에 회의록을 보고 내려받을 수 있습니다."))


def reader_minutes(meeting: Meeting, agency_id: int | None, *, full_names: bool = False) -> document.MinutesData:
    """The minutes one reader reads: the approved snapshot once approved, else the draft as recorded now; the
    full version for the city (``agency_id`` None), else that agency's version cut by the disclosure policy in
    force at approval and narrowed by today's consent. Refused for a meeting that has not started."""
    require_held(meeting)
    minutes = meeting.minutes
    if minutes is not None and minutes.status == MinutesStatus.FINAL.value:
        names = {item.household.case_number: item.household.members[0].name for item in meeting.agenda_items}
        data = final_data(minutes, full_names=names if full_names else None)
    else:
        data = minutes_data(meeting, full_names=full_names)
    if agency_id is None:
        return data
    name = next((i.agency.name for i in meeting.invitations if i.agency_id == agency_id), "")
    return document.agency_copy(data, agency_id, name, today_grants(meeting, agency_id))


def visible_responses(minutes: Minutes | None, agency_id: int | None) -> list[ReviewResponse]:
    """The review comments (검토 의견) a reader sees: the city all of them, an agency those of its own people (a
    comment may speak of any case, so it reaches no other agency)."""
    if minutes is None:
        return []
    return [r for r in minutes.responses if agency_id is None or r.user.agency_id == agency_id]


def final_data(minutes: Minutes, *, full_names: dict[str, str] | None = None) -> document.MinutesData:
    """The approved content, optionally with the heads' full names put back (case number → name)."""
    data = snapshot.from_json(minutes.snapshot)
    data.content_hash = minutes.content_hash
    if full_names:
        data.cases = [replace(c, name=full_names.get(c.case_number, c.name)) for c in data.cases]
    return data



# --- 보류 (다음 회의로): a case the meeting puts off ---------------------------------------------------------------

MAX_POSTPONE_REASON = 1000


def postpone_case(item: AgendaItem, *, by: User, reason: str) -> None:
    """보류: the meeting puts the case off to the next meeting, with a reason. The case then needs no record for the
    review request and approval, its decisions are not applied, and it is proposed for the next meeting's agenda."""
    _require_recording(item.meeting)
    reason = reason.strip()
    if not reason:
        raise RuleError("postpone_reason", _l("보류 사유를 적으세요."))
    if len(reason) > MAX_POSTPONE_REASON:
        raise RuleError("postpone_reason", _l("보류 사유는 %(n)s자 이하로 적으세요.", n=MAX_POSTPONE_REASON))
    item.postponed_reason, item.postponed_at = reason, now_utc()
    audit.record("minutes.postpone", item.household, actor=by,
                 details={"meeting_id": item.meeting_id, "item_id": item.id, "reason": reason})


def resume_case(item: AgendaItem, *, by: User) -> None:
    """Take a postponement back: the case is discussed at this meeting after all."""
    _require_recording(item.meeting)
    item.postponed_reason, item.postponed_at = "", None
    audit.record("minutes.resume", item.household, actor=by, details={"meeting_id": item.meeting_id,
                                                                        "item_id": item.id})


# --- attendance suggested from the invitations, pledges, chair and coordinator -------------------------------------

class AttendanceRow(NamedTuple):
    name: str
    agency_id: int | None
    position: str
    #: Where a suggestion comes from: invitation, pledge, chair or coordinator ("": recorded as present).
    source: str = ""


def attendance_suggestions(meeting: Meeting) -> list[AttendanceRow]:
    """People expected at the meeting and not yet on its attendance list, once each (by name and agency): the chair,
    the coordinator, those who pledged confidentiality and the invitees named on each invitation ("서마음 팀장").
    The coordinator confirms each one; nothing is recorded until then. Needs ``load_for_minutes``."""
    seen = {(a.name, a.agency_id) for a in meeting.attendees}
    rows = []

    def add(name, agency_id, position, source):
        name = " ".join((name or "").split())
        if name and len(name) <= 50 and (name, agency_id) not in seen:
            seen.add((name, agency_id))
            rows.append(AttendanceRow(name, agency_id, (position or "").strip()[:50], source))

    for user, source in ((meeting.chair, "chair"), (meeting.coordinator, "coordinator")):
        if user is not None:
            add(user.display_name, user.agency_id, user.position, source)
    for pledge in sorted(meeting.pledges, key=lambda p: p.accepted_at):
        add(pledge.user.display_name, pledge.user.agency_id, pledge.user.position, "pledge")
    for invitation in sorted(meeting.invitations, key=lambda i: i.agency.name):
        for person in re.split(r"[,;/\n·]+", invitation.invitees or ""):
            name, _, position = person.strip().partition(" ")
            add(name, invitation.agency_id, position, "invitation")
    return rows
