"""Shared helpers and factories: the web client, page and Word readers, accounts, cases and meetings.

Its fixtures (``web``, ``make_case``, ``make_meeting``, ``add_item`` …) reach every test through ``pytest_plugins`` in
conftest.py: name them in a test's arguments, never import them. Import the plain helpers (``text``, ``flashes`` …).

Every request runs in its own app context, so it gets its own database session as in production (the
test client would otherwise share the test's session and its identity map with the view).
Models are ``lazy="raise"``: reload with ``load_case_file`` / ``packets.load_meeting`` to read relationships.
"""
import html
import io
import itertools
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import docx
import pytest
from conftest import PASSWORD
from sqlalchemy import event, func, select

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.meetings import packets
from conference.meetings import services as meeting_services
from conference.models import (
    AgendaItem,
    AuditEvent,
    Household,
    Invitation,
    LoginThrottle,
    Meeting,
    MeetingKind,
    Pledge,
    Sector,
    User,
)


@dataclass(frozen=True)
class CityDay:
    """A date some days from the city's day, read when the test runs.

    A parametrised value or a module constant is computed when pytest collects, and a run that crosses midnight in
    Seoul would then post "tomorrow" when it has become today. Write it in a form with ``on_the_day``.
    """
    days: int = 0
    #: How a form writes it: a date, or a month (``%Y-%m``).
    pattern: str = "%Y-%m-%d"

    def day(self) -> date:
        return today_local() + timedelta(days=self.days)

    def written(self) -> str:
        return self.day().strftime(self.pattern)

    def __repr__(self) -> str:
        shown = "today" if not self.days else f"today{self.days:+d}"
        return shown if self.pattern == "%Y-%m-%d" else f"{shown} as {self.pattern}"


@dataclass(frozen=True)
class CityYear:
    """A year some years from the city's, read when the test runs (a birth given as a year only)."""
    years: int = 0

    def written(self) -> str:
        return str(today_local().year + self.years)

    def __repr__(self) -> str:
        return f"this year{self.years:+d}"


TOMORROW = CityDay(1)


def on_the_day(value):
    """``value`` with every ``CityDay`` or ``CityYear`` in it (a value, or a dict's values) written out."""
    if isinstance(value, dict):
        return {key: on_the_day(item) for key, item in value.items()}
    return value.written() if isinstance(value, CityDay | CityYear) else value


def first_monday_of_march(year: int) -> date:
    day = date(year, 3, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


#: Meetings are held next year, so they are always in the future and never straddle a new year.
MEETING_DAY = first_monday_of_march(today_local().year + 1)
MEETING_TIME = time(14, 0)


def kst(day: date, at: time = MEETING_TIME) -> datetime:
    return datetime.combine(day, at, KST)


# --- the web client --------------------------------------------------------------------------------

class Web:
    """The test client, one app context (so one fresh database session) per request."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def open(self, method, url, follow_redirects=False, **kwargs):
        db.session.rollback()  # no open transaction of the test may hold SQLite's write lock
        with self.app.app_context():
            response = self.client.open(url, method=method, **kwargs)
        db.session.rollback()  # the test's session sees what the request committed
        if follow_redirects and response.status_code in (301, 302, 303):
            return self.open("GET", response.headers["Location"], follow_redirects=True)
        return response

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.open("POST", url, **kwargs)

    def login(self, username):
        self.post("/logout")
        response = self.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


def signed_in(app, username):
    """A fresh test client logged in as ``username`` (the password every test account has)."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username
    return client


@pytest.fixture
def web(app, client):
    """The test client as a ``Web``: one app context (so one fresh database session) per request."""
    return Web(app, client)


@pytest.fixture
def staff(web, coordinator):
    """The ``web`` client signed in as the coordinator ``coord1``."""
    web.login("coord1")
    return web


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_errors(response, field_id: str) -> list[str]:
    """The messages shown next to a form field (templates/_macros/forms.html)."""
    return re.findall(rf'<p class="error" id="{field_id}-error">(.*?)</p>', text(response), re.DOTALL)


def form_errors(response) -> str:
    match = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', text(response), re.DOTALL)
    return match[1] if match else ""


def selected_option(response, name: str) -> str | None:
    """The value of the option a page's select ``name`` shows as chosen (None when no option is marked)."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', text(response), re.DOTALL)
    assert select, f"no select {name}"
    chosen = re.search(r'<option [^>]*\bselected\b[^>]*>', select[1])
    return re.search(r'value="([^"]*)"', chosen[0])[1] if chosen else None


def flashes(response) -> list[str]:
    return re.findall(r'<div class="flash flash-(\w+)" role="status">(.*?)</div>', text(response), re.DOTALL)


def has_hangul(message: str) -> bool:
    return re.search(r"[가-힣]", message) is not None


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def audit_actions(action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


@contextmanager
def counting_queries():
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)


def case_parts(page: str) -> list[str]:
    """The per-case sections of a packet page, in order."""
    return page.split('<section class="packet-case">')[1:]


def docx_parts(content: bytes) -> dict[str, str]:
    """Every XML part of a .docx file as text (document, header, footer, styles, core properties …)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                if name.endswith((".xml", ".rels"))}


def docx_text(content: bytes) -> str:
    """All of a .docx file's XML, for 'this text is (not) anywhere in the file' checks."""
    return "\n".join(docx_parts(content).values())


def docx_every_text(content: bytes) -> str:
    """Every text of a Word file as a reader meets it and as it is stored: paragraphs, tables (nested too), headers,
    footers, core properties, and the raw XML of every part, for sentinel checks."""
    document = docx.Document(io.BytesIO(content))
    parts = []

    def blocks(container):
        parts.extend(p.text for p in container.paragraphs)
        for table in container.tables:
            for table_row in table.rows:
                for cell in table_row.cells:
                    blocks(cell)

    blocks(document)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            blocks(part)
    props = document.core_properties
    parts += [props.title or "", props.subject or "", props.author or "", props.keywords or "", props.comments or "",
              props.last_modified_by or "", props.category or ""]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return "\n".join(parts)


# --- accounts --------------------------------------------------------------------------------------

def login(client, username, password=PASSWORD, **query):
    """Post the login form (``query``: the URL's query string); the response, 302 when the password is right."""
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def fresh_user(username: str) -> User:
    """The account as the database has it now."""
    db.session.expire_all()
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def throttle(username: str, address: str = "127.0.0.1") -> LoginThrottle | None:
    """The username's throttle row at ``address`` (the test client's by default; "*" for every address)."""
    return db.session.execute(select(LoginThrottle).where(
        LoginThrottle.username == username, LoginThrottle.address == address)).scalar_one_or_none()


# --- cases -----------------------------------------------------------------------------------------

@dataclass
class Case:
    """A household made by ``make_case`` and the texts that prove which packet sections were shown."""

    id: int
    case_number: str
    head_name: str
    #: Only in the 가구 구성 section (a member's relation).
    household_sentinel: str
    #: Only in the 욕구 및 위기도 section (an assessment note of a non-sensitive domain).
    needs_sentinel: str
    #: Only in the sensitive 건강 rating of the 욕구 section.
    health_sentinel: str
    #: Only in the 사례 개요 section (a crisis signal).
    summary_sentinel: str
    agency_ids: list[int] = field(default_factory=list)


@pytest.fixture
def make_case(app, coordinator):
    """Register a household with members, consent and an assessment through the services and commit.

    ``consent``: agencies the consent names (None: no consent); ``withdrawn`` withdraws it afterwards;
    ``children``: how many members under 18; ``stage``: move the household there (``closed`` …).
    """
    numbers = itertools.count(1)

    def factory(name: str | None = None, *, consent=(), covers_sensitive: bool = False, withdrawn: bool = False,
                children: int = 0, adults: int = 1, assessment: bool = True, stage: str | None = None,
                district: str = "중앙동") -> Case:
        n, today = next(numbers), today_local()
        name = name or f"김민수{n}"
        tag = f"{n:02d}"
        household = case_services.register_household(
            by=coordinator, head=case_services.HeadOfHousehold(name=name, birth_year=1968, sex="남"),
            district=district, address=f"경기도 동두천시 중앙로 {n}", discovery_route="이웃·주민 제보",
            discovered_on=date(today.year, 1, 2), phone="010-2345-6789", household_size=1 + adults + children,
            crisis_signals=f"단전;위기신호{tag}")
        for k in range(adults):
            case_services.add_member(household, by=coordinator, name=f"이순자{tag}{k}", relation=f"외조모{tag}",
                                     birth_year=1948, birth_date=None, sex="여", has_disability=k == 0)
        for k in range(children):
            case_services.add_member(household, by=coordinator, name=f"김아이{tag}{k}", relation="자녀",
                                     birth_year=today.year - 9, birth_date=None, sex="여", has_disability=False)
        agency_ids = [a.id if hasattr(a, "id") else a for a in (consent or ())]
        if consent is not None and agency_ids:
            recorded = case_services.record_consent(household, by=coordinator, consented_on=today,
                                                    agency_ids=agency_ids, covers_sensitive=covers_sensitive)
            if withdrawn:
                case_services.withdraw_consent(recorded, by=coordinator, withdrawn_on=today)
        if assessment:
            case_services.record_assessment(household, by=coordinator, assessed_on=today, ratings={
                "safety": ("위기", f"안전메모{tag} 가정폭력 의심"),
                "health": ("취약", f"건강메모{tag} 우울 치료 중단"),
                "economy": ("위기", f"경제메모{tag} 체납 6개월"),
            })
        if stage is not None:
            case_services.change_status(household, by=coordinator, to_status=stage, reason="테스트",
                                        closure_reason="목표 달성" if stage == "closed" else "")
        db.session.commit()
        return Case(id=household.id, case_number=household.case_number, head_name=name,
                    household_sentinel=f"외조모{tag}", needs_sentinel=f"경제메모{tag}",
                    health_sentinel=f"건강메모{tag}", summary_sentinel=f"위기신호{tag}", agency_ids=agency_ids)

    return factory


# --- meetings --------------------------------------------------------------------------------------

@pytest.fixture
def make_meeting(app, coordinator):
    """Schedule a meeting through the service (numbered, invitations with the default deadline) and commit."""

    def factory(agencies=(), *, day: date = MEETING_DAY, at: time = MEETING_TIME, kind=MeetingKind.INTEGRATED,
                chair=None, number=None, place="시청 별관 3층 회의실", by=None) -> Meeting:
        meeting = meeting_services.create_meeting(
            by=by or coordinator, kind=str(kind), starts_at=kst(day, at), place=place,
            coordinator_id=coordinator.id, chair_id=chair.id if chair else None, number=number,
            agency_ids=[a.id for a in agencies])
        db.session.commit()
        return meeting

    return factory


def load(meeting_id: int) -> Meeting:
    """A meeting with everything loaded, as the views see it (fresh from the database)."""
    db.session.rollback()
    db.session.expire_all()
    return packets.load_meeting(meeting_id)


@pytest.fixture
def add_item(app, coordinator):
    """Put a case on a meeting's agenda through the service and commit; returns the item id."""

    def factory(meeting_id: int, case: Case, *, key_question="", override: str = "", presenting_agency=None,
                minutes: int = 15) -> int:
        meeting = load(meeting_id)
        household = load_case_file(case.id)
        item = meeting_services.add_agenda_item(
            meeting, by=coordinator, household=household, key_question=key_question,
            presenting_agency_id=presenting_agency.id if presenting_agency else None, minutes_allotted=minutes,
            consent_override_reason=override)
        db.session.commit()
        return item.id

    return factory


def past_meeting(coordinator, days_before_meeting: int, households=(), *, relative_to: date = MEETING_DAY,
                 number: int | None = None) -> Meeting:
    """An earlier meeting written straight to the database (the service refuses past dates)."""
    starts_at = kst(relative_to - timedelta(days=days_before_meeting))
    kind = MeetingKind.INTERNAL.value
    year = starts_at.year
    meeting = Meeting(kind=kind, year=year, number=number or meeting_services.next_number(kind, year),
                      starts_at=starts_at, place="시청", coordinator_id=coordinator.id, status="finalised")
    db.session.add(meeting)
    db.session.flush()
    for position, case in enumerate(households, start=1):
        db.session.add(AgendaItem(meeting_id=meeting.id, household_id=case.id, position=position))
    db.session.commit()
    return meeting


def pledge(meeting_id: int, user) -> None:
    db.session.add(Pledge(meeting_id=meeting_id, user_id=user.id, ip="127.0.0.1"))
    db.session.commit()


def invitation_of(meeting_id: int, agency_id: int) -> Invitation | None:
    return db.session.execute(select(Invitation).where(Invitation.meeting_id == meeting_id,
                                                       Invitation.agency_id == agency_id)).scalar_one_or_none()


def items_in_order(meeting_id: int) -> list[tuple[int, int]]:
    """(position, household_id) of a meeting's agenda, by position."""
    return [tuple(row) for row in db.session.execute(
        select(AgendaItem.position, AgendaItem.household_id).where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position))]


__all__ = [
    "MEETING_DAY",
    "TOMORROW",
    "CityDay",
    "CityYear",
    "on_the_day",
    "Case",
    "Household",
    "Sector",
    "Web",
    "audit_actions",
    "count",
    "counting_queries",
    "docx_parts",
    "docx_text",
    "field_errors",
    "flashes",
    "form_errors",
    "has_hangul",
    "invitation_of",
    "items_in_order",
    "kst",
    "load",
    "past_meeting",
    "pledge",
    "text",
]
