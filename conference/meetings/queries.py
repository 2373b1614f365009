"""Read-side queries for meetings."""
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from conference.cases.queries import CaseFilters, CaseRow, case_list_query, case_rows
from conference.core.database import UTCDateTime
from conference.core.formatting import KST
from conference.extensions import db
from conference.models import (
    AgendaItem,
    Household,
    Invitation,
    Meeting,
    MeetingStatus,
    Role,
    Stage,
    StatusChange,
    User,
)
from conference.shared.paging import Page, paginate
from conference.shared.permissions import visible_households, visible_meetings


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


#: Every status but approved, spelled out so that the status index finds them.
_NOT_FINALISED = [status.value for status in MeetingStatus if status is not MeetingStatus.FINALISED]


def _current():
    """Meetings still ahead, or held but with minutes not yet approved. Each half reads its own index: written as
    one OR, the condition read every meeting of every year (7.4 ms at 20,000 meetings on SQLite, 0.07 ms now)."""
    ahead = select(Meeting.id).where(Meeting.starts_at >= datetime.now(UTC))
    open_minutes = select(Meeting.id).where(Meeting.status.in_(_NOT_FINALISED))
    return Meeting.id.in_(ahead.union_all(open_minutes))


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
    """Households to put on an agenda, found by the case list's one search rule (part of a case number, of the
    head's name or of the 행정동), among those ``user`` may see, in the case list's order for that search."""
    query = case_list_query(user, CaseFilters(q=text), upto=limit).limit(limit)
    return case_rows(db.session.execute(query).scalars().all())


#: How many waiting cases the agenda page proposes before a search; the others are found by searching.
WAITING_SHOWN = 30
#: Meetings whose agenda is still being prepared: a case on one of them waits for nothing.
_NOT_YET_HELD = (MeetingStatus.PREPARING.value, MeetingStatus.SHARING.value)


@dataclass(frozen=True, slots=True)
class WaitingCase:
    """A household proposed for an agenda: its list row, whether its check is due by the meeting day, and since
    when it waits (last discussed at a meeting, else selected, else registered)."""
    row: CaseRow
    due: bool
    waiting_since: datetime
    #: Why the last meeting that had it on its agenda put it off (보류, 다음 회의로); None when it did not.
    postponed_reason: str | None = None


@dataclass
class WaitingList:
    cases: list[WaitingCase]
    #: Every waiting household, shown or not.
    total: int


def meeting_day(meeting: Meeting) -> date:
    return meeting.starts_at.astimezone(KST).date()


def check_due_by(day: date):
    """SQL: the household's next check date (다음 점검일) is on or before ``day``."""
    return and_(Household.next_check_on.is_not(None), Household.next_check_on <= day)


def waiting_for_meeting(meeting: Meeting):
    """SQL: the household waits for a meeting — the one rule of the agenda's proposal list.

    Selected (선정: in case management or service linking; closed and after-care cases go on no agenda) and on the
    agenda of neither this meeting nor another one not yet held. A case a meeting postponed (보류, 다음 회의로) is one
    of them: it stays selected and is on no agenda until a coordinator puts it on one again.
    """
    on_an_agenda = (select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
                    .where(AgendaItem.household_id == Household.id,
                           or_(Meeting.id == meeting.id,
                               and_(Meeting.status.in_(_NOT_YET_HELD), Meeting.starts_at >= datetime.now(UTC))))
                    .exists())
    return and_(Household.status == Stage.SELECTED.value, ~on_an_agenda)


def _waiting_since():
    """SQL: when the household began to wait — its last meeting already held, else its selection, else its
    registration."""
    last_discussed = (select(func.max(Meeting.starts_at)).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
                      .where(AgendaItem.household_id == Household.id, Meeting.starts_at < datetime.now(UTC))
                      .scalar_subquery())
    selected = (select(func.max(StatusChange.changed_at))
                .where(StatusChange.household_id == Household.id, StatusChange.to_status == Stage.SELECTED.value)
                .scalar_subquery())
    return func.coalesce(last_discussed, selected, Household.created_at, type_=UTCDateTime)


def _postponed_reason(meeting: Meeting):
    """SQL: the reason the household's latest agenda item (at another meeting than ``meeting``) was postponed
    with, or NULL when it was not."""
    latest = (select(AgendaItem.postponed_reason).join(Meeting, Meeting.id == AgendaItem.meeting_id)
              .where(AgendaItem.household_id == Household.id, Meeting.id != meeting.id)
              .order_by(Meeting.starts_at.desc(), AgendaItem.id.desc()).limit(1).scalar_subquery())
    return func.nullif(latest, "")


def waiting_households(user, meeting: Meeting, limit: int | None = None) -> WaitingList:
    """The households ``user`` may see that wait for ``meeting`` (``waiting_for_meeting``): those the last meeting
    postponed first, then checks due (the most overdue first), then those waiting longest; at most ``limit``
    (``WAITING_SHOWN``), and how many wait."""
    limit = limit or WAITING_SHOWN
    due = check_due_by(meeting_day(meeting))
    since = _waiting_since().label("since")
    postponed = _postponed_reason(meeting).label("postponed")
    query = visible_households(user, select(Household.id, case((due, True), else_=False).label("due"), since,
                                            postponed)
                               .where(waiting_for_meeting(meeting)))
    overdue_since = case((due, Household.next_check_on))  # NULL for the others, whichever end NULLs sort to
    chosen = db.session.execute(query.order_by(case((postponed.is_not(None), 0), else_=1), case((due, 0), else_=1),
                                               overdue_since, since, Household.id)
                                .limit(limit)).all()
    total = db.session.execute(select(func.count()).select_from(
        visible_households(user, select(Household.id).where(waiting_for_meeting(meeting))).subquery())).scalar_one()
    rows = {row.id: row for row in case_rows([item.id for item in chosen])}
    return WaitingList([WaitingCase(rows[item.id], bool(item.due), item.since, item.postponed)
                        for item in chosen if item.id in rows], total)


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
