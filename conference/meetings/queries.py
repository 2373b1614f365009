"""Read-side queries for meetings."""
from datetime import datetime, UTC

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from conference.cases.queries import CaseFilters, CaseRow, case_list_query, case_rows
from conference.extensions import db
from conference.models import AgendaItem, Invitation, Meeting, MeetingStatus, Role, User
from conference.shared.paging import Page, paginate
from conference.shared.permissions import visible_meetings


def _meetings_query(user):
    return visible_meetings(user, select(Meeting)).order_by(Meeting.starts_at.desc(), Meeting.id.desc())


def upcoming_meetings(user):
    """The meetings still ahead or not yet approved (a short list: the home page)."""
    query = _meetings_query(user).where(_current()).options(
        selectinload(Meeting.invitations).joinedload(Invitation.agency), joinedload(Meeting.chair))
    return db.session.execute(query).unique().scalars().all()


def meeting_page(user, page: int, per_page: int) -> Page:
    """One page of every meeting the user may see, newest first (years of meetings add up)."""
    query = _meetings_query(user)
    return paginate(query.options(selectinload(Meeting.invitations).joinedload(Invitation.agency)),
                    page=page, per_page=per_page, count_query=query.order_by(None))


def _current():
    """Meetings still ahead, or held but with minutes not yet approved."""
    return or_(Meeting.starts_at >= datetime.now(UTC), Meeting.status != MeetingStatus.FINALISED.value)


def practitioner_home(user) -> list[tuple[Meeting, Invitation, bool]]:
    """Upcoming meetings the user's agency is invited to, with its invitation and whether the user pledged."""
    query = (select(Meeting, Invitation)
             .join(Invitation, (Invitation.meeting_id == Meeting.id) & (Invitation.agency_id == user.agency_id))
             .where(_current())
             .options(selectinload(Meeting.pledges), selectinload(Meeting.agenda_items))
             .order_by(Meeting.starts_at))
    rows = db.session.execute(query).unique().all()
    return [(meeting, invitation, any(p.user_id == user.id for p in meeting.pledges)) for meeting, invitation in rows]


def candidate_households(user, text: str, limit: int = 20) -> list[CaseRow]:
    """Households to put on an agenda, found by case number or the start of the head's name."""
    query = case_list_query(user, CaseFilters(q=text, sort="case", direction="desc")).limit(limit)
    return case_rows(db.session.execute(query).scalars().all())


def people(role: Role) -> list[User]:
    return db.session.execute(
        select(User).where(User.role == role.value, User.is_active_account.is_(True))
        .order_by(User.display_name)).scalars().all()


def latest_meeting_with_case(user, household_id: int) -> int | None:
    """The id of the latest meeting ``user`` may open that has the household on its agenda."""
    query = (select(Meeting.id).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
             .where(AgendaItem.household_id == household_id))
    return db.session.execute(
        visible_meetings(user, query).order_by(Meeting.starts_at.desc()).limit(1)).scalar()


def meeting_with_minutes(meeting_id: int) -> Meeting | None:
    """A meeting with its invitations and minutes: enough to say who may open it and on which page."""
    return db.session.execute(select(Meeting).where(Meeting.id == meeting_id).options(
        selectinload(Meeting.invitations).joinedload(Invitation.agency), joinedload(Meeting.minutes))
    ).unique().scalar_one_or_none()
