"""Following actions up after the meeting: progress checks (점검 기록), completion, due-date changes.

Functions change data, write the audit trail and flush; the request commits once.
"""
from datetime import date


from conference import audit
from conference.core.database import now_utc
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import ActionEvent, ActionItem, ActionStatus, User
from conference.models.actions import ACTIVE_STATUSES
from conference.shared.permissions import is_case_staff
from conference.shared.rules import RuleError

MAX_TEXT = 2000


def _require_active(action: ActionItem):
    if action.status not in ACTIVE_STATUSES:
        raise RuleError("form", _l("진행 중인 실행과제만 점검하거나 바꿀 수 있습니다."))


def _text(field: str, value: str, *, required: bool, message) -> str:
    value = (value or "").strip()
    if required and not value:
        raise RuleError(field, message)
    if len(value) > MAX_TEXT:
        raise RuleError(field, _l("%(n)s자 이하로 적으세요.", n=MAX_TEXT))
    return value


def record_progress(action: ActionItem, *, by: User, checked_on: date, content: str, result: str,
                    today: date) -> ActionEvent:
    """점검 기록: what was done on a date and with what result; an open action becomes 진행 중."""
    _require_active(action)
    if checked_on > today:
        raise RuleError("checked_on", _l("점검일은 오늘 이후일 수 없습니다."))
    event = ActionEvent(action=action, kind="progress", happened_on=checked_on, by_id=by.id,
                        content=_text("content", content, required=True, message=_l("한 일을 적으세요.")),
                        result=_text("result", result, required=False, message=""))
    db.session.add(event)
    if action.status == ActionStatus.OPEN.value:
        action.status = ActionStatus.IN_PROGRESS.value
    db.session.flush()
    audit.record("action.progress", action, actor=by, details={"event_id": event.id})
    return event


def propose_completion(action: ActionItem, *, by: User, note: str, today: date) -> ActionEvent:
    """The responsible agency reports the action done; the coordinator confirms it."""
    _require_active(action)
    text = _text("note", note, required=True, message=_l("완료 내용을 적어야 완료를 제안할 수 있습니다."))
    event = ActionEvent(action=action, kind="proposal", happened_on=today, content=text, by_id=by.id)
    db.session.add(event)
    action.completion_proposed_at = now_utc()
    db.session.flush()
    audit.record("action.propose", action, actor=by, details={"event_id": event.id})
    return event


def confirm_completion(action: ActionItem, *, by: User, note: str, today: date) -> ActionEvent:
    """Coordinators confirm an action as done (with a note when nobody proposed it)."""
    if not is_case_staff(by):
        raise RuleError("form", _l("완료 확인은 사례관리 담당자가 합니다."))
    _require_active(action)
    text = _text("note", note, required=action.completion_proposed_at is None,
                 message=_l("완료를 확인한 내용을 적으세요."))
    event = ActionEvent(action=action, kind="confirmation", happened_on=today, content=text, by_id=by.id)
    db.session.add(event)
    action.status = ActionStatus.DONE.value
    db.session.flush()
    audit.record("action.done", action, actor=by, details={"event_id": event.id})
    return event


def change_due(action: ActionItem, *, by: User, new_due: date | None, reason: str, today: date) -> ActionEvent:
    """Move the due date; a reason is always recorded."""
    _require_active(action)
    if new_due is None or new_due < today:
        raise RuleError("new_due", _l("새 기한은 오늘이나 그 뒤의 날짜여야 합니다."))
    if new_due == action.due_on:
        raise RuleError("new_due", _l("지금 기한과 같은 날짜입니다."))
    text = _text("reason", reason, required=True, message=_l("기한을 바꾸는 사유를 적으세요."))
    event = ActionEvent(action=action, kind="due_change", happened_on=today, content=text, by_id=by.id,
                        old_due=action.due_on, new_due=new_due)
    db.session.add(event)
    action.due_on = new_due
    db.session.flush()
    audit.record("action.due", action, actor=by, details={"from": event.old_due, "to": new_due})
    return event
