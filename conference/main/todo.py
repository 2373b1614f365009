"""What needs the signed-in user now, counted live (one aggregate query each) for the notifications page."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from conference.actions.queries import due_counts
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import (ActionItem, AgencyInput, AgendaItem, Household, InputState, Invitation,
                               Meeting, MeetingStatus, Minutes, MinutesStatus, Role)
from conference.shared.permissions import visible_actions, visible_households, visible_meetings


@dataclass
class Todo:
    label: object
    count: int
    endpoint: str
    args: dict


def for_user(user, today: date) -> list[Todo]:
    """The open tasks of the user's role, only those with something to do."""
    items = []
    if user.role == Role.PRACTITIONER.value:
        items.append(Todo(_l("의견을 아직 제출하지 않은 사례 (기한 전)"), _inputs_waiting(user, today), "main.home", {}))
        actions = due_counts(user, today)
        items.append(Todo(_l("기한이 지난 실행과제"), actions["overdue"], "actions.index", {"due": "overdue"}))
        items.append(Todo(_l("2주 안에 마감인 실행과제"), actions["soon"], "actions.index", {"due": "soon"}))
    if user.role == Role.COORDINATOR.value:
        items.append(Todo(_l("점검일이 된 사례"), _checks_due(today), "cases.checks_due", {}))
        items.append(Todo(_l("완료 확인을 기다리는 실행과제"), _proposals(user), "actions.index", {"status": "active"}))
    if user.role == Role.CHAIR.value:
        items.append(Todo(_l("결재를 기다리는 회의록"), _minutes_to_approve(user), "main.home",
                          {"_anchor": "approval-queue"}))
    return [item for item in items if item.count]


def _inputs_waiting(user, today: date) -> int:
    submitted = select(AgencyInput.id).where(AgencyInput.agenda_item_id == AgendaItem.id,
                                             AgencyInput.agency_id == user.agency_id,
                                             AgencyInput.state == InputState.SUBMITTED.value)
    query = (select(func.count()).select_from(AgendaItem)
             .join(Invitation, (Invitation.meeting_id == AgendaItem.meeting_id)
                   & (Invitation.agency_id == user.agency_id))
             .join(Meeting, Meeting.id == AgendaItem.meeting_id)
             .join(Household, Household.id == AgendaItem.household_id)
             .where(Invitation.deadline >= today, Meeting.status != MeetingStatus.FINALISED.value,
                    ~submitted.exists()))
    # Only the cases the agency may open (as on its input page), never one outside its consent.
    return db.session.execute(visible_households(user, query)).scalar_one()


def _checks_due(today: date) -> int:
    return db.session.execute(select(func.count()).select_from(Household).where(
        Household.next_check_on.is_not(None), Household.next_check_on <= today)).scalar_one()


def _proposals(user) -> int:
    query = visible_actions(user, select(func.count()).select_from(ActionItem).where(
        ActionItem.completion_proposed_at.is_not(None),
        ActionItem.is_active()))
    return db.session.execute(query).scalar_one()


def _minutes_to_approve(user) -> int:
    query = (select(func.count()).select_from(Minutes).join(Meeting, Meeting.id == Minutes.meeting_id)
             .where(Minutes.status == MinutesStatus.REVIEW.value))
    # A chair approves the minutes of the meetings they chair, which are the meetings they may open.
    return db.session.execute(visible_meetings(user, query)).scalar_one()


