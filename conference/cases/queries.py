"""Read-side queries of the case register: the filtered list and the quarterly counts."""
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import String, and_, bindparam, case, cast, extract, func, literal, literal_column, select, union_all
from sqlalchemy.orm import aliased, joinedload

from conference.core.formatting import KST
from conference.core.loading import fill
from conference.extensions import db
from conference.models import Assessment, Consent, Household, Member, MonitoringEntry, Role, Stage, StatusChange, User
from conference.models.cases import NAME_SEARCH_PLACES, CaseLabels, head_name_from, name_reaches
from conference.shared.paging import Page, paginate
from conference.shared.permissions import visible_households


@dataclass
class CaseFilters:
    q: str = ""
    status: str = ""
    classification: str = ""
    route: str = ""
    district: str = ""
    coordinator: int = 0
    quarter: str = ""
    #: "" lets ``case_list_query`` choose: by name for a name search, else by case number; names A→Z, others newest first.
    sort: str = ""
    direction: str = ""


def quarter_range(quarter: str) -> tuple[date, date]:
    """'2021-1' → (2021-01-01, 2021-04-01): start inclusive, end exclusive."""
    year, number = (int(part) for part in quarter.split("-"))
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return start, end


SORTS = {
    "case": (Household.case_year, Household.case_seq),
    # The head-name index in its own order: a page instead of sorting every household.
    "name": (head_name_from(1), Member.household_id),
    "discovered": (Household.discovered_on, Household.id),
    "status": (Household.status, Household.case_year, Household.case_seq),
    "district": (Household.district, Household.case_year, Household.case_seq),
}


@dataclass(frozen=True, slots=True)
class CaseRow(CaseLabels):
    """A line of a case list: plain values read in the page's one statement, no ORM objects built per row."""
    id: int
    case_year: int
    case_seq: int
    head_name: str
    district: str
    discovery_route: str
    discovered_on: date
    status: str
    track: str
    classification: str
    coordinator_name: str | None
    next_check_on: date | None


_coordinator = aliased(User)
#: What a case list shows of the households whose ids it has chosen: their own columns, the head's name and the
#: coordinator's. Choosing the page's ids first lets each list read its index in order; joined in the same
#: statement, SQLite may start from the heads and sort every household instead.
_CASE_ROWS = (select(Household.id, Household.case_year, Household.case_seq, Member.name.label("head_name"),
                     Household.district, Household.discovery_route, Household.discovered_on, Household.status,
                     Household.track, Household.classification,
                     _coordinator.display_name.label("coordinator_name"), Household.next_check_on)
              .join(Member, (Member.household_id == Household.id) & Member.is_head.is_(True))
              .outerjoin(_coordinator, _coordinator.id == Household.coordinator_id)
              .where(Household.id.in_(bindparam("ids", expanding=True))))


def case_rows(ids: list[int]) -> list[CaseRow]:
    """The rows of the households ``ids`` (chosen and checked by a list query), in that order."""
    found = {row.id: CaseRow(**row._mapping) for row in db.session.execute(_CASE_ROWS, {"ids": ids})} if ids else {}
    return [found[household_id] for household_id in ids if household_id in found]


def _order(filters: CaseFilters) -> tuple[str, str]:
    """The list's sort and direction: by name for a name search, else by case number; names A→Z, others newest
    first, unless the user chose."""
    sort = filters.sort if filters.sort in SORTS else ("name" if _is_name_search(filters.q) else "case")
    return sort, filters.direction or ("asc" if sort == "name" else "desc")


def case_page(user, filters: CaseFilters, *, page: int, per_page: int, cap: int = 1000) -> Page:
    """One page of the case list with its count (up to ``cap`` more than the rows before the page)."""
    before = (page - 1) * per_page
    if _in_name_search_order(filters):
        count_query = select(_name_search_read(_scope(user, filters), filters, upto=before + cap + 1).c.id)
    else:
        count_query = _filtered(user, select(Household.id), filters)
    return paginate(case_list_query(user, filters, upto=before + per_page), page=page, per_page=per_page, cap=cap,
                    rows=case_rows, count_query=count_query)


def case_list_query(user, filters: CaseFilters, *, upto: int):
    """The ids of the households ``user`` may see that match ``filters``, in the list's order, for a caller that
    reads at most the first ``upto`` of them."""
    sort, direction = _order(filters)
    if _in_name_search_order(filters):
        merged = _name_search_read(_scope(user, filters), filters, upto=upto)
        keys = (merged.c.part, merged.c.key0, merged.c.key1, merged.c.key2)
        return select(merged.c.id).order_by(*(key.desc() if direction == "desc" else key.asc() for key in keys))
    query = _filtered(user, _with_head(select(Household.id), sort), filters)
    return query.order_by(*(c.asc() if direction == "asc" else c.desc() for c in SORTS[sort]))


def _in_name_search_order(filters: CaseFilters) -> bool:
    return _order(filters)[0] == "name" and _is_name_search(filters.q)


def _scope(user, filters: CaseFilters):
    """The households ``user`` may see that match ``filters`` apart from the search text, for each part of it."""
    others = replace(filters, q="")
    return lambda query: _filtered(user, query, others)


def _with_head(query, sort: str):
    """Join the head only to sort by name: a list by case number or 행정동 reads its own index."""
    return _heads(query) if sort == "name" else query


_HEAD = (Member.household_id == Household.id) & Member.is_head.is_(True)


def _heads(query):
    return query.join(Member, _HEAD)


# --- Name search ---
#
# Any part of the head's name or of the 행정동 matches (민수 finds 김민수). Read as ``lower(name) LIKE '%민수%'``, every
# search walked all the heads' names. Instead the matches are taken in parts, each a range of one index read in
# order (``models.cases.head_name_from``): names starting with the text, then names where it starts at the 2nd, 3rd,
# … 8th character, then the few names longer than that, then the households whose 행정동 matches. The list shows the
# parts in that order, each in its index's order, so a page reads about a page of each part however many households
# there are, and the count stops at its cap the same way.

def _after(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (in code point order); None if none."""
    while prefix and ord(prefix[-1]) == 0x10FFFF:
        prefix = prefix[:-1]
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else None


def _name_search_parts(needle: str) -> list[tuple[object, tuple]]:
    """(condition, order) of each part of a name search for the lowered ``needle``, in the list's order. A household
    is in one part only: the text's first place in the name decides which. The order is (text, number, number), None
    where a part has no such key, so that the parts line up in one union."""
    lowered, size = func.lower(Member.name), len(needle)
    parts = []
    for place in range(1, NAME_SEARCH_PLACES + 1):
        key = head_name_from(place)
        where = [key >= needle]  # the names that start with it, in code point order (README: the database's locale)
        if (bound := _after(needle)) is not None:
            where.append(key < bound)
        if place > 1:  # the index's own condition, and not already found at an earlier place
            where += [name_reaches(place),
                      ~func.substr(lowered, 1, place + size - 2).contains(needle, autoescape=True)]
        parts.append((and_(*where), (key, Member.household_id, None)))
    longer = and_(name_reaches(NAME_SEARCH_PLACES + 1),
                  lowered.contains(needle, autoescape=True),
                  ~func.substr(lowered, 1, NAME_SEARCH_PLACES + size - 1).contains(needle, autoescape=True))
    parts.append((longer, (None, Member.household_id, None)))
    if districts := _districts_containing(needle):
        parts.append((and_(Household.district.in_(districts), ~lowered.contains(needle, autoescape=True)),
                      (Household.district, Household.case_year, Household.case_seq)))
    return parts


#: Every 행정동 in use, one index seek each (a loose scan of ``ix_household_district_case``): a few dozen in a city.
_district = select(func.min(Household.district).label("name")).cte("district", recursive=True)
_DISTRICTS = select(_district.union_all(
    select(select(func.min(Household.district)).where(Household.district > _district.c.name).scalar_subquery())
    .where(_district.c.name.is_not(None))).c.name)


def _districts_containing(needle: str) -> list[str]:
    return [name for name in db.session.execute(_DISTRICTS).scalars() if name is not None and needle in name.lower()]


def _name_search_read(scope, filters: CaseFilters, *, upto: int | None):
    """The households of a name search as (id, part, key0, key1, key2), each part read in its own order up to
    ``upto`` rows (all when None), each within ``scope``. Read in order, each part keeps to its index: SQLite chose
    the index of the longer names only when asked for their order."""
    descending = _order(filters)[1] == "desc"
    ranked = []
    for number, (where, order) in enumerate(_name_search_parts(filters.q.strip().lower())):
        keys = [literal_column(blank) if key is None else key for key, blank in zip(order, ("''", "0", "0"), strict=True)]
        columns = [literal_column(str(number)).label("part"), *(key.label(f"key{i}") for i, key in enumerate(keys))]
        part = (scope(_heads(select(Household.id, *columns))).where(where)
                .order_by(*(key.desc() if descending else key.asc() for key in order if key is not None)).limit(upto))
        ranked.append(select(part.subquery()))
    return union_all(*ranked).subquery()


def _filtered(user, query, filters: CaseFilters):
    query = visible_households(user, query)
    if filters.status:
        query = query.where(Household.status == filters.status)
    if filters.classification:
        query = query.where(Household.classification == filters.classification)
    if filters.route:
        query = query.where(Household.discovery_route == filters.route)
    if filters.district:
        query = query.where(Household.district == filters.district)
    if filters.coordinator:
        query = query.where(Household.coordinator_id == filters.coordinator)
    if filters.quarter:
        start, end = quarter_range(filters.quarter)
        query = query.where(Household.discovered_on >= start, Household.discovered_on < end)
    if filters.q:
        query = query.where(_search_condition(filters.q.strip()))
    return query


#: A whole case number: 2021-0043, or 2021-43 without the zeros.
_CASE_NUMBER = re.compile(r"(\d{4})-(\d{1,6})")
#: Only digits and hyphens: a case number or part of one ("0002", "24-00"); never matched against names.
_CASE_NUMBER_PART = re.compile(r"[\d-]*\d[\d-]*")


def _is_name_search(text: str) -> bool:
    return bool(text.strip()) and not _CASE_NUMBER_PART.fullmatch(text.strip())


def _case_number_text():
    """SQL: the case number as shown (``case_number``: 2021-0043), built the same way on SQLite and PostgreSQL."""
    seq = cast(Household.case_seq, String)
    padded = case((Household.case_seq >= 10000, seq), else_=func.substr(literal("0000") + seq, func.length(seq) + 1))
    return cast(Household.case_year, String) + literal("-") + padded


def _search_condition(text: str):
    """The one search rule of every case search (the case list and the agenda's picker): digits and hyphens find
    a case number or any part of it (2021-43, 0002, 24-00); other text any part of the head's name (민수 finds
    김민수) or of the 행정동. Callers scope the households to the user first (``visible_households``)."""
    if _CASE_NUMBER_PART.fullmatch(text):
        whole = _CASE_NUMBER.fullmatch(text)
        exact = whole and (Household.case_year == int(whole[1])) & (Household.case_seq == int(whole[2]))
        if whole and len(whole[2]) >= 4:
            return exact  # as shown (2021-0043): no other number contains it, and the unique index finds it
        part = _case_number_text().contains(text, autoescape=True)
        return part | exact if whole else part
    return Household.id.in_(select(_name_search_read(lambda query: query, CaseFilters(q=text), upto=None).c.id))


_HOUSEHOLD_ALONE = select(Household).where(Household.id == bindparam("household_id"))


def load_household(household_id: int) -> Household | None:
    """Only the household's own row: enough to check access before a kept page is served."""
    return db.session.execute(_HOUSEHOLD_ALONE, {"household_id": household_id}).scalar_one_or_none()


#: The household with the people named on it (built once: the case file reads it on every view).
_HOUSEHOLD = (select(Household).where(Household.id == bindparam("household_id"))
              .options(joinedload(Household.coordinator), joinedload(Household.referring_agency)))


def load_case_file(household_id: int) -> Household | None:
    """A household with everything its case file shows, in a fixed number of statements."""
    household = db.session.execute(_HOUSEHOLD, {"household_id": household_id}).scalar_one_or_none()
    if household is not None:
        households = [household]
        fill(households, Household.members)
        fill(households, Household.status_changes, StatusChange.changed_by)
        fill(fill(households, Household.consents), Consent.agencies)
        fill(households, Household.monitoring, MonitoringEntry.by)
        fill(fill(households, Household.assessments, Assessment.assessed_by), Assessment.ratings)
    return household


def coordinators() -> list[User]:
    """Accounts a case can be assigned to."""
    return db.session.execute(
        select(User).where(User.role == Role.COORDINATOR.value,
                           User.is_active_account.is_(True)).order_by(User.display_name)).scalars().all()


@dataclass
class RouteCounts:
    route: str
    discovered: list[int]
    selected: list[int]


def quarterly_counts(user, year: int, routes: list[str]) -> list[RouteCounts]:
    """Households discovered and selected in each quarter of ``year``, by discovery route.

    Selected counts the selections recorded in that quarter of Korean time (a household selected twice
    counts twice), one conditional count per quarter so that the quarter boundaries are Korean midnights.
    """
    counts = {route: RouteCounts(route, [0] * 4, [0] * 4) for route in routes}

    def add(rows, attribute):
        for route, month, number in rows:
            entry = counts.setdefault(route, RouteCounts(route, [0] * 4, [0] * 4))
            getattr(entry, attribute)[(int(month) - 1) // 3] += number

    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    month = extract("month", Household.discovered_on)
    discovered = visible_households(user, select(Household.discovery_route, month, func.count())
                                    .where(Household.discovered_on >= start, Household.discovered_on < end)
                                    .group_by(Household.discovery_route, month))
    add(db.session.execute(discovered).all(), "discovered")

    bounds = [_korean_midnight(date(year, month, 1)) for month in (1, 4, 7, 10)] + [_korean_midnight(end)]
    per_quarter = [func.count(case(((StatusChange.changed_at >= bounds[q]) & (StatusChange.changed_at < bounds[q + 1]),
                                    1))) for q in range(4)]
    selected = visible_households(user, select(Household.discovery_route, *per_quarter)
                                  .join(StatusChange, StatusChange.household_id == Household.id)
                                  .where(StatusChange.to_status == Stage.SELECTED.value,
                                         StatusChange.from_status != Stage.SELECTED.value,
                                         StatusChange.changed_at >= bounds[0], StatusChange.changed_at < bounds[4])
                                  .group_by(Household.discovery_route))
    for route, *numbers in db.session.execute(selected).all():
        entry = counts.setdefault(route, RouteCounts(route, [0] * 4, [0] * 4))
        entry.selected = [a + b for a, b in zip(entry.selected, numbers, strict=True)]
    return list(counts.values())


def total_counts(rows: list[RouteCounts]) -> RouteCounts:
    """The column totals of ``quarterly_counts``."""
    return RouteCounts("", [sum(r.discovered[q] for r in rows) for q in range(4)],
                       [sum(r.selected[q] for r in rows) for q in range(4)])


def _korean_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=KST)


#: Stages in which a household is checked on.
MONITORED = (Stage.SELECTED.value, Stage.AFTERCARE.value)


def checks_due_query(user, until: date):
    """The ids of households whose next check date has come (by ``until``), the most overdue first."""
    query = select(Household.id).where(Household.next_check_on.is_not(None), Household.next_check_on <= until,
                                       Household.status.in_(MONITORED))
    return visible_households(user, query).order_by(Household.next_check_on, Household.id)
