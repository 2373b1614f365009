"""The action list: filtered, paginated, overdue and due-soon marked, in a fixed number of queries."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from conference.actions.services import ACTIVE
from conference.cases.queries import paginate
from conference.extensions import db
from conference.models import ActionItem, ActionStatus, Agency, Household, Meeting, Member
from conference.permissions import visible_actions

#: Days before the due date from which an action counts as "due soon".
DUE_SOON_DAYS = 14


@dataclass
class ActionFilters:
    #: "active" (open or in progress), a single status, or "all"
    status: str = "active"
    agency: int = 0
    #: "overdue", "soon" or ""
    due: str = ""


#: What a row of the list shows of the agency, meeting and household: their other columns stay in the database.
LIST_COLUMNS = (
    joinedload(ActionItem.agency).load_only(Agency.name),
    joinedload(ActionItem.meeting).load_only(Meeting.kind, Meeting.year, Meeting.number),
    joinedload(ActionItem.household).load_only(Household.case_year, Household.case_seq)
    .joinedload(Household.head).load_only(Member.name),
)


def action_list_query(user, filters: ActionFilters, today: date):
    query = (select(ActionItem)
             .where(ActionItem.status != ActionStatus.PLANNED.value)
             .options(*LIST_COLUMNS))
    query = visible_actions(user, query)
    if filters.status == "active":
        query = query.where(ActionItem.status.in_(ACTIVE))
    elif filters.status in {s.value for s in ActionStatus}:
        query = query.where(ActionItem.status == filters.status)
    if filters.agency:
        query = query.where(ActionItem.agency_id == filters.agency)
    if filters.due == "overdue":
        query = query.where(ActionItem.due_on < today, ActionItem.status.in_(ACTIVE))
    elif filters.due == "soon":
        query = query.where(ActionItem.due_on >= today, ActionItem.due_on <= today + timedelta(days=DUE_SOON_DAYS),
                            ActionItem.status.in_(ACTIVE))
    return query.order_by(ActionItem.due_on, ActionItem.id)


def page_of_actions(user, filters: ActionFilters, today: date, page: int, per_page: int = 50):
    return paginate(action_list_query(user, filters, today), page=page, per_page=per_page)


def is_overdue(action: ActionItem, today: date) -> bool:
    return action.status in ACTIVE and action.due_on < today


def is_due_soon(action: ActionItem, today: date) -> bool:
    return action.status in ACTIVE and today <= action.due_on <= today + timedelta(days=DUE_SOON_DAYS)


def due_counts(user, today: date) -> dict[str, int]:
    """How many of the user's visible active actions are overdue and due within two weeks (one query)."""
    active = visible_actions(user, select(ActionItem.due_on).where(ActionItem.status.in_(ACTIVE))).subquery()
    soon_until = today + timedelta(days=DUE_SOON_DAYS)
    row = db.session.execute(select(
        func.count().filter(active.c.due_on < today),
        func.count().filter(active.c.due_on.between(today, soon_until)))).one()
    return {"overdue": row[0], "soon": row[1]}
