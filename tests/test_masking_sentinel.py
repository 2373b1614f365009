"""One masking policy (conference/core/masking.py): no page or file a practitioner or chair can reach holds a name,
phone number or address of a household in full.

Only case staff see a household's identity (permissions.can_see_identity); everyone else gets 김○○, 010-****-1234
and the 행정동, whether or not they may see the case. So the sentinels seeded here (names, phones and addresses
nobody else has) must never appear for anyone else: not on a page reached by following links from /home, not on any
GET route of the URL map filled with the world's ids, not in a packet, minutes or attendance Word or 한글 file, a calendar
file or a report, not in a download's file name.

The sentinel households: ``shared`` is on the upcoming agenda and on the agenda of an approved 2021 meeting (with
agency input, a record, actions of every partner agency, minutes); ``second`` is on that 2021 meeting only;
``withdrawn`` is on the upcoming agenda but its consent was withdrawn; ``hidden`` is on no agenda.
"""
import html
import io
import json
import re
import zipfile
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote, urlsplit

import pytest
from conftest import POSTGRES_URL
from factories import docx_every_text, signed_in
from factories_world import seed_world
from openpyxl import load_workbook
from sqlalchemy import select

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.downloads import DOCX, HWPX, XLSX
from conference.core.formatting import today_local
from conference.extensions import db
from conference.meetings import packets
from conference.meetings import services as meeting_services
from conference.seed import demo
from conference.models import (ActionItem, AgendaItem, Agency, Consent, Household, ImportBatch, Invitation, Meeting,
                               MeetingKind, MeetingStatus, Member, Notification, User)

#: Masking is applied as pages and files are written, from rows loaded the same way on either database (the
#: PostgreSQL pass loads them in the need-to-know, packet, minutes and authorization tests): crawled on SQLite.
pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="masking happens in rendering: crawled on SQLite")


@dataclass(frozen=True)
class Sentinel:
    head: str
    members: tuple[str, ...]
    phone: str
    address: str

    def forms(self) -> set[str]:
        """Every string that would show the identity: each name in full and its given name, the phone number
        with and without dashes and its middle part, the street address and its road name."""
        names = (self.head, *self.members)
        road = self.address.rsplit(" ", 1)[0].rsplit(" ", 1)[1]
        plain = {*names, *(n[1:] for n in names), self.phone, self.phone.replace("-", ""),
                 self.phone.split("-", 1)[1], self.address, self.address.split("시 ", 1)[1], road}
        # …also as a JSON string or a URL would carry it.
        return plain | {json.dumps(s)[1:-1] for s in plain} | {quote(s) for s in plain}


SENTINELS = {
    "shared": Sentinel("한센티", ("도센티미", "한센티솔"), "010-9876-5432", "경기도 동두천시 센티넬로 77"),
    "second": Sentinel("주센티", ("주센티별",), "010-9876-5433", "경기도 동두천시 센티넬로 78"),
    "withdrawn": Sentinel("표센티", ("표센티달",), "010-9876-5434", "경기도 동두천시 센티넬로 79"),
    "hidden": Sentinel("양센티", ("양센티강",), "010-9876-5435", "경기도 동두천시 센티넬로 80"),
}
FORBIDDEN = sorted(set().union(*(s.forms() for s in SENTINELS.values())), key=len, reverse=True)
PARTNERS = ["정신건강복지센터", "드림스타트", "중앙동 행정복지센터", "천사운동본부"]
#: Everyone who is not case staff: the demo's partner practitioners, one of an agency invited to nothing,
#: the chair of the demo meetings and a chair of nothing.
READERS = ["mh", "dream", "dong", "angel", "police", "chair", "chair2"]
#: A crawl that reaches this many addresses has lost its way; fail rather than stop quietly.
MAX_PAGES = 2000


def _register(sentinel: Sentinel, coordinator: User, agency_ids: list[int] | None) -> Household:
    household = case_services.register_household(
        by=coordinator, head=case_services.HeadOfHousehold(name=sentinel.head, birth_year=1979, sex="여"),
        district="중앙동", address=sentinel.address, discovery_route="이웃·주민 제보", discovered_on=date(2021, 2, 1),
        phone=sentinel.phone, household_size=1 + len(sentinel.members), crisis_signals="단전",
        coordinator_id=coordinator.id)
    for n, name in enumerate(sentinel.members):
        case_services.add_member(household, by=coordinator, name=name, relation="배우자" if n == 0 else "자녀",
                                 birth_year=1980 if n == 0 else today_local().year - 10, birth_date=None, sex="남",
                                 has_disability=False)
    case_services.record_assessment(household, by=coordinator, assessed_on=date(2021, 2, 10), ratings={
        "safety": ("위기", "안전 메모"), "health": ("취약", "건강 메모"), "economy": ("위기", "경제 메모")})
    if agency_ids:
        case_services.record_consent(household, by=coordinator, consented_on=date(2021, 2, 10), agency_ids=agency_ids,
                                     covers_sensitive=True)
    db.session.flush()
    return load_case_file(household.id)


def seed_sentinels():
    """The four sentinel households, a third 2021 meeting with its approved minutes, and the upcoming agenda."""
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    chair = db.session.execute(select(User).where(User.username == "chair")).scalar_one()
    agencies = {a.name: a for a in db.session.execute(select(Agency)).scalars()}
    partner_ids = [agencies[name].id for name in PARTNERS]
    households = {key: _register(s, coordinator, None if key == "hidden" else partner_ids)
                  for key, s in SENTINELS.items()}

    earlier = Meeting(kind=MeetingKind.INTEGRATED.value, year=2021, number=4, place="동두천시청 소회의실",
                      starts_at=datetime(2021, 3, 31, 5, 0, tzinfo=UTC), duration_minutes=120, chair_id=chair.id,
                      coordinator_id=coordinator.id, status=MeetingStatus.MINUTES.value)
    earlier.invitations = [Invitation(agency_id=agency_id, deadline=date(2021, 3, 26)) for agency_id in partner_ids]
    earlier.agenda_items = [AgendaItem(household_id=households[key].id, position=n, minutes_allotted=15)
                            for n, key in enumerate(("shared", "second"), start=1)]
    db.session.add(earlier)
    db.session.flush()
    demo.seed_past_minutes(earlier.id, coordinator, chair, agencies)

    upcoming = db.session.execute(select(Meeting.id).where(Meeting.status == MeetingStatus.PREPARING.value)
                                  ).scalar_one()
    for key in ("shared", "withdrawn"):
        db.session.expire_all()
        meeting_services.add_agenda_item(packets.load_meeting(upcoming), by=coordinator,
                                         household=load_case_file(households[key].id), key_question="",
                                         presenting_agency_id=None, minutes_allotted=15)
    consent = db.session.execute(select(Consent).where(Consent.household_id == households["withdrawn"].id)
                                 ).scalar_one()
    case_services.withdraw_consent(consent, by=coordinator, withdrawn_on=today_local())


@pytest.fixture
def sentinel_world(app):
    return seed_world(extra=seed_sentinels)


# --- reading what came back --------------------------------------------------------------------------------


def xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content))
    parts = [workbook.properties.title or "", workbook.properties.creator or ""]
    for sheet in workbook.worksheets:
        parts.append(sheet.title)
        parts += [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return "\n".join(parts)


def hwpx_text(content: bytes) -> str:
    """Every text of a 한글 file: the raw XML of every part (body, header and footer, metadata) as stored."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def readable(response) -> str:
    """What a response shows: its headers (a download's file name) and its body as text, whatever the format."""
    headers = unquote(str(response.headers))
    kind = response.mimetype
    if kind == DOCX:
        content = docx_every_text(response.data)
    elif kind == XLSX:
        content = xlsx_text(response.data)
    elif kind == HWPX:
        content = hwpx_text(response.data)
    else:
        content = html.unescape(response.get_data(as_text=True))
    return headers + "\n" + content


def leaks(text: str) -> list[str]:
    return [form for form in FORBIDDEN if form in text]


# --- what a user can reach -----------------------------------------------------------------------------------

def _ids():
    """Ids to fill the routes with: every meeting, action, agency and account, and of the cases only the sentinel
    households (another household's pages cannot show a sentinel; the lists and figures are routes without ids)."""
    sentinel_ids = select(Member.household_id).where(Member.is_head.is_(True),
                                                     Member.name.in_([s.head for s in SENTINELS.values()]))

    def rows(*columns, where=True):
        return db.session.execute(select(*columns).where(where)).all()

    on_agenda = select(AgendaItem.meeting_id).where(AgendaItem.household_id.in_(sentinel_ids))
    return {
        (): [{}],
        ("household_id",): [{"household_id": i} for (i,) in rows(Household.id, where=Household.id.in_(sentinel_ids))],
        ("meeting_id",): [{"meeting_id": i} for (i,) in rows(Meeting.id)],
        ("item_id", "meeting_id"): [{"meeting_id": m, "item_id": i} for i, m in rows(
            AgendaItem.id, AgendaItem.meeting_id, where=AgendaItem.household_id.in_(sentinel_ids))],
        ("invitation_id", "meeting_id"): [{"meeting_id": m, "invitation_id": i} for i, m in rows(
            Invitation.id, Invitation.meeting_id, where=Invitation.meeting_id.in_(on_agenda))],
        ("household_id", "member_id"): [{"household_id": h, "member_id": i} for i, h in rows(
            Member.id, Member.household_id, where=Member.household_id.in_(sentinel_ids))],
        ("consent_id", "household_id"): [{"household_id": h, "consent_id": i} for i, h in rows(
            Consent.id, Consent.household_id, where=Consent.household_id.in_(sentinel_ids))],
        ("action_id",): [{"action_id": i} for (i,) in rows(ActionItem.id)],
        ("batch_id",): [{"batch_id": i} for (i,) in rows(ImportBatch.id)],
        ("agency_id",): [{"agency_id": i} for (i,) in rows(Agency.id)],
        ("user_id",): [{"user_id": i} for (i,) in rows(User.id)],
        ("notification_id",): [{"notification_id": i} for (i,) in rows(Notification.id)],
        ("kind",): [{"kind": "xlsx"}, {"kind": "docx"}, {"kind": "csv"}],
    }


def _build(adapter, rule, values) -> str | None:
    """The rule's address for these values, or None when its converter takes none of them (``kind`` is csv/xlsx
    for the import templates, xlsx/docx for the report)."""
    try:
        return adapter.build(rule.endpoint, values)
    except ValueError:
        return None


def url_map_pages(app) -> list[str]:
    """Every GET route, filled with the id of every object in the database."""
    ids = _ids()
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        arguments = tuple(sorted(rule.arguments))
        assert arguments in ids, f"the sentinel crawl cannot fill {rule.rule}: add its arguments to _ids()"
        built = [_build(adapter, rule, values) for values in ids[arguments]]
        assert any(built), f"no value of _ids() fits {rule.rule}"
        urls += [url for url in built if url]
    year = "year=2021"  # the demo's meetings and actions are of 2021
    return urls + [f"/dashboard?{year}", f"/dashboard/report.xlsx?{year}", f"/dashboard/report.docx?{year}&quarter=2",
                   "/actions?status=all", "/actions?status=done"]


def links(page: str) -> list[str]:
    found = []
    for href in re.findall(r'(?:href|action|src)="([^"]*)"', page):
        parts = urlsplit(html.unescape(href))
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
            continue
        if parts.path.startswith("/") and not parts.path.startswith("/static/"):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client, start: list[str]) -> dict[str, str]:
    """GET every same-site address reachable from ``start`` (following links and redirects), breadth first."""
    seen: dict[str, str] = {}
    queue = deque(start)
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        assert len(seen) < MAX_PAGES, f"the crawl reached {MAX_PAGES} addresses"
        response = client.get(url)
        seen[url] = text = readable(response)
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
        elif response.mimetype == "text/html":
            queue.extend(link for link in links(text) if link not in seen)
    return seen


def downloads(client) -> dict[str, str]:
    """Every Word file of every meeting and its 한글 minutes (the other 한글 files are written by the same builders
    as their Word files and hold their text: tests/test_hwpx.py), asked for with a purpose (and with full names,
    which must be refused)."""
    files = {}
    purpose = {"purpose": "회의 준비"}
    for (meeting_id,) in db.session.execute(select(Meeting.id)).all():
        for url, data in ((f"/meetings/{meeting_id}/packet.docx", purpose),
                          (f"/meetings/{meeting_id}/minutes.docx", purpose),
                          (f"/meetings/{meeting_id}/minutes.docx", {**purpose, "full_names": "y"}),
                          (f"/meetings/{meeting_id}/minutes.docx", {**purpose, "file_format": "hwpx"}),
                          (f"/meetings/{meeting_id}/attendance.docx", purpose)):
            response = client.post(url, data=data)
            files[f"POST {url} {sorted(data)}"] = readable(response)
    return files


# --- the tests ----------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("username", READERS)
def test_no_page_or_file_shows_a_household_in_full(app, sentinel_world, username):
    """Each reader crawls every page and downloads every file of the same world."""
    client = signed_in(app, username)
    reached = crawl(client, ["/home", *url_map_pages(app)])
    reached.update(downloads(client))
    found = {url: forms for url, text in reached.items() if (forms := leaks(text))}
    assert not found, "a sentinel in full:\n" + "\n".join(f"{where}: {forms[:5]}" for where, forms in sorted(found.items()))
    # The crawl did reach the sentinel cases, masked, wherever the reader may see them.
    everything = "\n".join(reached.values())
    assert {"한○○" in everything, "주○○" in everything} == {username not in ("police", "chair2")}


def test_case_staff_see_the_sentinels_in_full(app, sentinel_world):
    """The control: the sentinels are really stored, and the checks above would see them."""
    client = signed_in(app, "coordinator")
    shared = db.session.execute(select(Member.household_id).where(Member.name == "한센티")).scalar_one()
    page = readable(client.get(f"/cases/{shared}"))
    sentinel = SENTINELS["shared"]
    assert {sentinel.head, *sentinel.members, sentinel.phone, sentinel.address} <= set(leaks(page))
    earlier = db.session.execute(select(Meeting.id).where(Meeting.year == 2021, Meeting.number == 4)).scalar_one()
    full = readable(client.post(f"/meetings/{earlier}/minutes.docx", data={"purpose": "보관", "full_names": "y"}))
    assert sentinel.head in leaks(full) and SENTINELS["second"].head in leaks(full)
    masked = readable(client.post(f"/meetings/{earlier}/minutes.docx", data={"purpose": "보관"}))
    assert not leaks(masked) and "한○○" in masked
    full_hwpx = readable(client.post(f"/meetings/{earlier}/minutes.docx",
                                     data={"purpose": "보관", "full_names": "y", "file_format": "hwpx"}))
    assert sentinel.head in leaks(full_hwpx)  # the 한글 file is read as closely as the Word file
