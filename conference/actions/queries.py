"""The action list: filtered, paginated, overdue and due-soon marked, in a fixed number of queries."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased

from conference.core.formatting import korean_date
from conference.core.masking import mask_name
from conference.extensions import db
from conference.models import ActionItem, ActionStatus, Agency, Household, Meeting, Member
from conference.models.actions import ACTIVE_STATUSES, PROPOSED_LABEL, shown_status_label
from conference.models.cases import case_number
from conference.models.meetings import meeting_title
from conference.shared.paging import CappedCount, paginate_ids
from conference.shared.permissions import visible_actions

#: Days before the due date from which an action counts as "due soon".
DUE_SOON_DAYS = 14
#: The home page's overdue and due-soon figures say "99+" beyond this.
DUE_COUNT_CAP = 99
#: The list counts its matches up to this many (then "100건 이상"): each counted action is checked against the
#: household's consent, so a larger cap made the count the one part of the page still growing with the data.
LIST_COUNT_CAP = 100


@dataclass
class ActionFilters:
    #: "active" (open or in progress), a single status, or "all"
    status: str = "active"
    agency: int = 0
    #: "overdue", "soon" or ""
    due: str = ""


@dataclass(slots=True)
class ActionRow:
    """A line of the action list: plain values read in one statement and shaped for printing, no ORM objects to
    build per row and no filter for the template to call per row."""
    id: int
    #: 2021. 3. 24.
    due_text: str
    task: str
    #: The case as the list prints it: its number and the head's name masked (2021-0001 김○○), never in full.
    case: str
    agency: str
    person: str
    status_label: str
    completion_proposed: bool
    meeting_title: str
    #: "overdue", "soon" or "" (see ``due_state``)
    due: str


def action_list_query(user, filters: ActionFilters, today: date):
    """The ids of the actions ``user`` may see that match ``filters``, in the list's order."""
    query = visible_actions(user, select(ActionItem.id).where(ActionItem.status != ActionStatus.PLANNED.value))
    if filters.status == "active":
        query = query.where(ActionItem.is_active())
    elif filters.status in {s.value for s in ActionStatus}:
        query = query.where(ActionItem.status == filters.status)
    if filters.agency:
        query = query.where(ActionItem.agency_id == filters.agency)
    if filters.due == "overdue":
        query = query.where(ActionItem.due_on < today, ActionItem.is_active())
    elif filters.due == "soon":
        query = query.where(ActionItem.due_on >= today, ActionItem.due_on <= today + timedelta(days=DUE_SOON_DAYS),
                            ActionItem.is_active())
    return query.order_by(ActionItem.due_on, ActionItem.id)


_head = aliased(Member)
_ACTION_ROWS = (select(ActionItem.id, ActionItem.due_on, ActionItem.task, ActionItem.person, ActionItem.status,
                       ActionItem.completion_proposed_at, Agency.name.label("agency"), Household.case_year,
                       Household.case_seq, _head.name.label("head_name"), Meeting.year, Meeting.number, Meeting.kind)
                .join(Agency, Agency.id == ActionItem.agency_id)
                .join(Meeting, Meeting.id == ActionItem.meeting_id)
                .join(Household, Household.id == ActionItem.household_id)
                .outerjoin(_head, (_head.household_id == Household.id) & _head.is_head.is_(True))
                .where(ActionItem.id.in_(bindparam("ids", expanding=True))))


def page_of_actions(user, filters: ActionFilters, today: date, page: int, per_page: int = 50):
    """One page of the list. The page's ids are chosen first (an index walk and a sort of bare ids), then only
    those rows are joined to their household, agency and meeting: joining every match before the sort made
    an agency with hundreds of open actions pay for all of them.

    The ids and the capped count come from one read in the list's order: each match costs a consent check, and a
    separate count read the page's matches again (unordered, SQLite even took another index and checked every
    action of the first status it found)."""
    return paginate_ids(action_list_query(user, filters, today), page=page, per_page=per_page, cap=LIST_COUNT_CAP,
                        rows=lambda ids: action_rows(ids, today))


def action_rows(ids: list[int], today: date) -> list[ActionRow]:
    """The rows of the actions ``ids`` (chosen and checked by ``action_list_query``), in that order."""
    found = {row[0]: row for row in db.session.execute(_ACTION_ROWS, {"ids": ids}).tuples()} if ids else {}
    labels = {status.value: (status, str(status.label)) for status in ActionStatus}  # translated once, not per row
    titles = {}  # a page holds the actions of a few meetings
    rows = []
    for action_id in ids:
        if action_id not in found:
            continue
        (_, due_on, task, person, status_value, proposed_at, agency, case_year, case_seq, head_name,
         year, meeting_number, kind) = found[action_id]
        status, label = labels[status_value]
        if (shown := shown_status_label(status_value, proposed_at is not None)) is PROPOSED_LABEL:
            label = str(shown)
        if (year, meeting_number, kind) not in titles:
            titles[year, meeting_number, kind] = meeting_title(year, meeting_number, kind)
        rows.append(ActionRow(
            id=action_id, due_text=korean_date(due_on), task=task,
            case=f"{case_number(case_year, case_seq)} {mask_name(head_name or '')}", agency=agency,
            person=person, status_label=label,
            completion_proposed=proposed_at is not None and status != ActionStatus.DONE,
            meeting_title=titles[year, meeting_number, kind], due=due_state(status_value, due_on, today)))
    return rows


def due_state(status: str, due_on: date, today: date) -> str:
    """"overdue" (still active past its due date), "soon" (active, due within DUE_SOON_DAYS) or ""."""
    if status not in ACTIVE_STATUSES:
        return ""
    if due_on < today:
        return "overdue"
    return "soon" if due_on <= today + timedelta(days=DUE_SOON_DAYS) else ""


def is_overdue(action: ActionItem, today: date) -> bool:
    return due_state(action.status, action.due_on, today) == "overdue"


def due_counts(user, today: date) -> dict[str, CappedCount]:
    """How many of the user's visible active actions are overdue and due within two weeks, each counted up to
    ``DUE_COUNT_CAP`` (99+): an agency with thousands of open actions reads as few rows as one with a hundred."""
    active = visible_actions(user, select(ActionItem.id).where(ActionItem.is_active()))
    soon_until = today + timedelta(days=DUE_SOON_DAYS)
    overdue = active.where(ActionItem.due_on < today)
    soon = active.where(ActionItem.due_on.between(today, soon_until))
    row = db.session.execute(select(*(select(func.count()).select_from(part.limit(DUE_COUNT_CAP + 1).subquery())
                                      .scalar_subquery() for part in (overdue, soon)))).one()
    return {"overdue": CappedCount.of(row[0], DUE_COUNT_CAP), "soon": CappedCount.of(row[1], DUE_COUNT_CAP)}
