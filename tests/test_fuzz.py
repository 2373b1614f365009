"""Property-based fuzzing (hypothesis) of every form and of the discovery-list import.

Every POST endpoint of the app is posted the form its page renders, with some values replaced by hostile
ones (empty, 10,000 characters, Hangul, right-to-left text, emoji, NUL and control characters, markup, SQL,
out-of-range numbers and impossible dates, choices that are not offered), some fields left out, some sent
twice and unknown ones added. The properties:

(a) never a 500: the app runs with TESTING, so an unhandled exception is raised into the test itself;
(b) a form shown again, a refusal (4xx), a download, or a redirect that only reports an error changed
    nothing in the database (the audit trail and the login throttle aside);
(c) no page — the form shown again with the input, or the pages showing what was saved — holds markup
    that runs (inline script, on* attributes, javascript: URLs), no CSP allows inline script, and no
    redirect leaves the site.

The import is fuzzed as a pure parser (random bytes, CSV and XLSX files) and through the web upload, whose
confirmation stores all rows or nothing.

Runs are reproducible (``derandomize``, no example database). A longer random search:
``CONFERENCE_FUZZ_EXAMPLES=200 CONFERENCE_FUZZ_RANDOM=1 .venv/bin/pytest tests/test_fuzz.py``.
"""
import csv
import hashlib
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import openpyxl
import pyotp
import pytest
from conftest import POSTGRES_URL, _copy_sqlite, _empty_postgres, make_app
from factories_world import table_rows, write_rows
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jinja2 import BytecodeCache
from sqlalchemy import func, select
from test_import import openpyxl_rows, streamed_rows
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from conference.auth import two_factor
from conference.cases import importer, reading
from conference.cases.importer import COLUMNS, parse_extraction
from conference.cases.queries import load_case_file
from conference.cases.reading import ReadLimits
from conference.config import Defaults
from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.meetings import packets
from conference.meetings import services as meeting_services
from conference.minutes import services as minutes_services
from conference.models import (
    ActionItem,
    Agency,
    Consent,
    Household,
    ImportBatch,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Member,
    User,
)
from conference.seed import demo

PASSWORD = demo.DEFAULT_PASSWORD
EXAMPLES = int(os.environ.get("CONFERENCE_FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("CONFERENCE_FUZZ_RANDOM"),
                database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
#: Filters only read, and what they read is the same for every page: fewer examples.
FEWER = settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))
#: The parser and the document builders need no database: many more examples in the same time.
MORE = settings(FUZZ, max_examples=EXAMPLES * 10)

#: Tables that change without anything being saved: the audit trail records views and refusals, the
#: throttle counts failed logins, logins start and end. ``last_login_at`` and ``totp_last_step`` move with every login.
AUDIT_TABLES = {"audit_event", "audit_chain_head", "access_denial"}  # access_denial: folded refusals
VOLATILE_TABLES = {*AUDIT_TABLES, "login_throttle", "login_session", "data_version"}  # data_version: kept pages
VOLATILE_COLUMNS = {"user_account": {"last_login_at", "totp_last_step"}}

# --- hostile values -----------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
MARKUP = [SCRIPT, IMG, "'><svg onload=alert(1)>", "</textarea><script>alert(1)</script>",
          "javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
          "{{ 7*7 }}", "{% for x in y %}", "${7*7}"]
TEXTS = ["", " ", "\t\r\n", "가" * 10_000, "a" * 10_001, "1" * 400, "김민수", "\u202eevil\u202c", "مرحبا",
         "שלום", "👨‍👩‍👧‍👦🔥", "\ufeff", "\u200b", "Ａ１２", "\x00", "a\x00b", "\x01\x02\x1b[31m\x7f", "\x0b\x0c", "\r",
         "\U0010ffff", "%s%s%n", "\\", "../../../etc/passwd", "//evil.example/", "https://evil.example/",
         "' OR '1'='1", "1; DROP TABLE household; --", '" OR ""="', "admin'--", "680302-1234567",
         '=HYPERLINK("https://evil.example","x")', "+1", "@SUM(A1)", "-2+3", "true", "on", "None", "null", "[]"]
NUMBERS = ["0", "-1", "-0", "1.5", "1e309", "NaN", "inf", "0x10", "٣", "１２", " 7 ", "+5", "1_000", "2147483647",
           "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "99999999999999999999999"]
DATES = ["0000-00-00", "9999-12-31", "2021-02-30", "2021-13-01", "1900-01-01", "0001-01-01", "10000-01-01",
         "2024-02-29", "-2021-01-01", "2021-1-1", "2021/01/01", "20210101", "1969-12-31", "2038-01-19",
         "1582-10-10", "99:99", "24:00", "23:59:60", "00:00", "12:60", "1:2"]
HOSTILE = TEXTS + MARKUP + NUMBERS + DATES
SAFE_TEXT = st.characters(exclude_categories=("Cs",))
any_hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(SAFE_TEXT, max_size=30),
    st.tuples(st.text(SAFE_TEXT, max_size=5), st.sampled_from(MARKUP)).map("".join),
)
numbers = st.one_of(st.sampled_from(NUMBERS), st.integers(-(2 ** 70), 2 ** 70).map(str))
dates = st.one_of(st.sampled_from(DATES), st.dates().map(date.isoformat),
                  st.deferred(lambda: st.dates(today_local() - timedelta(days=400), today_local() + timedelta(days=400))
                              .map(date.isoformat)))
texts = st.one_of(st.sampled_from(TEXTS + MARKUP), st.text(SAFE_TEXT, max_size=30),
                  st.tuples(st.text(SAFE_TEXT, max_size=5), st.sampled_from(MARKUP)).map("".join))
#: Hostile values that fit a field's kind (and so may pass its own check), or anything at all.
BY_KIND = {"date": dates, "time": dates, "number": numbers, "select": numbers, "radio": numbers,
           "checkbox": numbers, "button": numbers, "hidden": numbers}


def hostile_for(kind: str):
    return st.one_of(BY_KIND.get(kind, texts), any_hostile)


#: Field names a form does not have, posted anyway.
STRANGE_NAMES = ["household_id", "agency", "agency_ids", "to", "confirm", "submit", "step", "next", "version",
                 "role", "id", "user_id", "is_admin", "csrf_token", "decision-2", "decision-99999999999999999999",
                 "action-99999999999999999999-task", "action-0-agency", "action--1-task", "cause-0-domain",
                 "attendee-0-agency", "review-1-outcome", "resources-0-kind", "resources-999-kind", "__class__"]


# --- the world ----------------------------------------------------------------------------------------

@dataclass
class World:
    #: Every table's rows, to put back before an example that follows a change.
    rows: dict[str, list[dict]]
    #: Ids the targets' URLs are made of.
    ids: dict[str, int]

    def stored(self, name: str) -> list[str]:
        """Texts the world keeps in columns called ``name``: typed again (or in another case) into a field
        of that name, they collide with what exists (unique names, repeats)."""
        return sorted({row[name] for table, rows in self.rows.items() if table not in AUDIT_TABLES
                       for row in rows if isinstance(row.get(name), str) and 0 < len(row[name]) <= 100})


CASE_VARIANTS = [str, str.upper, str.lower, str.swapcase, lambda t: f" {t} "]


def read_rows() -> dict[str, list[dict]]:
    with db.engine.connect() as connection:
        return table_rows(connection, db.metadata.sorted_tables)


def restore(rows: dict[str, list[dict]]) -> None:
    """Put every table back as it was when the world was built (ids included)."""
    db.session.remove()
    with db.engine.begin() as connection:
        write_rows(connection, db.metadata.sorted_tables, rows)


def fingerprint() -> dict[str, str]:
    """A digest per table of what the app keeps (the audit trail and columns that move at login left out)."""
    digests = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in AUDIT_TABLES:
                continue
            skip = VOLATILE_COLUMNS.get(table.name, set())
            columns = [c for c in table.c if c.name not in skip]
            if table.name == "login_session":  # random keys and times: only who has how many open logins
                rows = connection.execute(select(table.c.user_id, func.count()).where(table.c.ended_at.is_(None))
                                          .group_by(table.c.user_id).order_by(table.c.user_id)).all()
            else:
                rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            digests[table.name] = f"{len(rows)}:" + hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    return digests


def changed_tables(before: dict, after: dict) -> list[str]:
    """What was saved between two fingerprints (a failed login's count is not something saved)."""
    return sorted(name for name in before if before[name] != after[name] and name not in VOLATILE_TABLES)


def build_world() -> dict[str, int]:
    """The demo (meetings, inputs, approved minutes, actions) plus every state a form needs.

    A meeting under way and one whose minutes wait for review, a pending import with a repeat, a user
    with two-factor login and one halfway through enrolling, pledges for the packet.
    """
    demo.seed(PASSWORD)
    db.session.flush()
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    agencies = {a.name: a for a in db.session.execute(select(Agency)).scalars()}
    heads = {h.members[0].name: h for h in (load_case_file(i) for i in db.session.execute(
        select(Household.id)).scalars())}
    coordinator, chair = users["coordinator"], users["chair"]
    partners = [agencies[name].id for name in demo.PARTNERS]
    final = db.session.execute(select(Meeting).where(Meeting.year == 2021)).scalar_one()
    prep = db.session.execute(select(Meeting).where(Meeting.status == MeetingStatus.PREPARING.value)).scalar_one()

    def scheduled(days: int, households: list[str], *, recorded: bool = False) -> int:
        """A meeting under way; ``recorded``: with attendance and every case's record written."""
        meeting = meeting_services.create_meeting(
            by=coordinator, kind=MeetingKind.INTEGRATED.value, place="시청 소회의실", chair_id=chair.id,
            starts_at=datetime.combine(today_local() + timedelta(days=days), clock(14), KST),
            coordinator_id=coordinator.id, agency_ids=partners)
        for name in households:
            meeting_services.add_agenda_item(meeting, by=coordinator, household=load_case_file(heads[name].id),
                                             consent_override_reason=demo.OVERRIDE_REASON)
        for step in ("sharing", "in_progress"):
            meeting_services.change_status(meeting, by=coordinator, to_status=step)
        db.session.flush()
        if recorded:
            db.session.expire_all()
            meeting = minutes_services.load_for_minutes(meeting.id)
            minutes_services.record_attendance(meeting, by=coordinator, rows=[
                (u.display_name, u.agency_id, u.position) for u in (users["mh"], users["dong"])])
            for item in meeting.agenda_items:
                minutes_services.save_case_record(
                    item, minutes_services.CaseRecordDraft(
                        discussion="안부 확인 담당 논의", decisions="주 1회 방문", goals="고립 해소", classification="",
                        status_to="", track="", closure_reason="", root_causes=[], actions=[], reviews={}),
                    by=coordinator, base_version=0, earlier=[])
            db.session.flush()
        db.session.expire_all()
        return meeting.id

    live_id = scheduled(21, ["김민수", "이영희"])
    drafted_id = scheduled(24, ["이영희"], recorded=True)
    review_id = scheduled(28, ["박철호"], recorded=True)
    minutes_services.request_review(minutes_services.load_for_minutes(review_id), by=coordinator,
                                    deadline=today_local() + timedelta(days=7), today=today_local())
    for name in ("mh", "dong", "dream"):
        meeting_services.accept_pledge(packets.load_meeting(prep.id), user=users[name], ip="127.0.0.1")
        db.session.flush()

    listing = ",".join(COLUMNS) + "\n" + "\n".join([  # row 2 repeats a registered household, row 4 row 3
        "2021-1,중앙동,김민수,1968-03-02,남,,중앙로 1,3,단전,복지사각지대 발굴시스템,",
        "2021-1,송내동,홍길순,1950-05-05,여,,송내로 2,1,단수,복지사각지대 발굴시스템,",
        "2021-1,송내동,홍길순,1950-05-05,여,,송내로 2,1,가스,복지사각지대 발굴시스템,"])
    parsed = parse(listing.encode())
    assert parsed.ok, parsed.errors
    batch = ImportBatch(uploaded_by_id=coordinator.id, filename="명단.csv", payload=json.dumps(
        {"rows": [row.to_json() for row in parsed.rows], "warnings": []}, ensure_ascii=False))
    db.session.add(batch)

    db.session.add(Agency(name="ÉCOLE ＡＢＣ 복지관", sector="other"))  # a name that lower() in SQLite leaves as it is
    dream = users["dream"]
    secret = two_factor.start_enrolment(dream)
    assert two_factor.enable(dream, pyotp.TOTP(secret).now()) is not None
    two_factor.start_enrolment(users["angel"])
    db.session.flush()

    kim = heads["김민수"].id
    member = db.session.execute(select(Member.id).where(Member.household_id == kim, Member.is_head.is_(False))
                                .order_by(Member.id)).scalars().first()
    consent = db.session.execute(select(Consent.id).where(Consent.household_id == kim)).scalars().first()
    prep = packets.load_meeting(prep.id)
    live = packets.load_meeting(live_id)
    action = db.session.execute(select(ActionItem.id).where(  # one still to do (the demo's 2021 ones are done)
        ActionItem.agency_id == agencies["중앙동 행정복지센터"].id, ActionItem.status.in_(["open", "in_progress"]))
        .order_by(ActionItem.id)).scalars().first()
    return {
        "kim": kim, "choi": heads["최은정"].id, "member": member, "consent": consent,
        "prep": prep.id, "live": live_id, "drafted": drafted_id, "review": review_id, "final": final.id,
        "prep_item": prep.agenda_items[0].id, "kim_prep_item": next(
            i.id for i in prep.agenda_items if i.household_id == kim),
        "live_item": next(i.id for i in live.agenda_items if i.household_id == kim),
        "invitation": prep.invitations[0].id, "batch": batch.id, "action": action,
        "angel": users["angel"].id, "dream": dream.id, "private_agency": agencies["천사운동본부"].id,
        "uninvited_agency": agencies["무한돌봄센터"].id, "mh_agency": users["mh"].agency_id,
        "dong_agency": users["dong"].agency_id,
    }


@pytest.fixture(scope="session")
def fuzz_world(template_database, tmp_path_factory):
    """The world, built once per run on its own database and kept as rows."""
    if POSTGRES_URL:
        uri = POSTGRES_URL
    else:
        path = tmp_path_factory.mktemp("fuzz") / "world.sqlite"
        _copy_sqlite(template_database, path)
        uri = f"sqlite:///{path}"
    builder = make_app(uri)
    with builder.app_context():
        ids = build_world()
        db.session.commit()
        rows = read_rows()
        if POSTGRES_URL:
            _empty_postgres()
        db.session.remove()
        db.engine.dispose()
    return World(rows=rows, ids=ids)


# --- reading pages ------------------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    #: What the browser sends when nobody touches the field (nothing for an unticked box).
    values: list[str] = field(default_factory=list)
    #: The values a select, a group of boxes or buttons offers.
    options: list[str] = field(default_factory=list)
    kind: str = "text"


@dataclass
class Form:
    action: str
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)
    method: str = "post"


class FormReader(HTMLParser):
    """The forms of a page, as a browser would submit them (a button's formaction makes its own form)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form = None
        self._alternatives: list[str] = []
        self._select = self._textarea = None

    def _add(self, name, kind, values=(), options=()):
        entry = self._form.fields.setdefault(name, Field(name, kind=kind))
        entry.values += list(values)
        entry.options += [o for o in options if o not in entry.options]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = urljoin(self.page_url, attrs.get("action") or self.page_url)
            self._form = Form(action, attrs.get("enctype") == "multipart/form-data",
                              method=(attrs.get("method") or "get").lower())
            self._alternatives, self._plain_submit = [], False
            return
        if self._form is None:
            return
        if tag == "button" or (tag == "input" and (attrs.get("type") or "").lower() == "submit"):
            if attrs.get("formaction"):
                self._alternatives.append(urljoin(self.page_url, attrs["formaction"]))
                return
            self._plain_submit = True
        name = attrs.get("name")
        if not name and tag != "option":
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            value = attrs.get("value") or ""
            if kind in ("checkbox", "radio"):
                self._add(name, kind, [value or "on"] if "checked" in attrs else [], [value or "on"])
            elif kind == "file":
                self._add(name, kind)
            elif kind not in ("submit", "button", "reset", "image"):
                self._add(name, kind, [value])
        elif tag == "button":
            self._add(name, "button", [], [attrs.get("value") or ""])
        elif tag == "select":
            self._select = Field(name, kind="select")
        elif tag == "option" and self._select is not None:
            value = attrs.get("value") or ""
            self._select.options.append(value)
            if "selected" in attrs:
                self._select.values = [value]
        elif tag == "textarea":
            self._textarea = name
            self._add(name, "textarea", [""])

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            entry = self._select
            self._add(entry.name, "select", entry.values or entry.options[:1], entry.options)
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            if self._plain_submit or not self._alternatives:
                self.forms.append(self._form)
            for action in self._alternatives:
                self.forms.append(Form(action, self._form.multipart, dict(self._form.fields), self._form.method))
            self._form = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            entry = self._form.fields[self._textarea]
            entry.values[-1] += data.removeprefix("\n") if not entry.values[-1] else data


class RunnableMarkup(HTMLParser):
    """What in a page would run: inline script, event-handler attributes, javascript: URLs, refreshes."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in self.URL_ATTRIBUTES and re.sub(r"[\s\x00-\x1f]", "", value or "").lower().startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            self._inline_script = not dict(attrs).get("src")
        if tag in ("iframe", "object", "embed", "base") or (
                tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh"):
            self.problems.append(f"<{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.problems.append(f"inline script {data[:60]!r}")


def check_page(response, where: str) -> str:
    """Properties (a) and (c) for any response; returns the page's text when it is HTML."""
    assert response.status_code < 500, f"{where}: {response.status_code}"
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy, where
    if response.status_code in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers["Location"])
        assert location.netloc in ("", "localhost") and location.scheme in ("", "http"), \
            f"{where}: redirect off the site to {response.headers['Location']!r}"
        return ""
    if response.mimetype != "text/html":
        return ""
    page = response.get_data(as_text=True)
    reader = RunnableMarkup()
    reader.feed(page)
    assert not reader.problems, f"{where}: markup that runs: {reader.problems}"
    for payload in (SCRIPT, "<img src=x onerror", "<svg onload"):
        assert payload not in page, f"{where}: {payload!r} unescaped"
    return page


def flash_kinds(page: str) -> set[str]:
    return set(re.findall(r'class="flash flash-(\w+)"', page))


# --- targets ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A POST endpoint, who uses it and the page that shows its form."""

    endpoint: str
    #: Who posts: a demo username, "dream-pending" (password step done, code due) or None (nobody).
    user: str | None
    page: str
    #: Values that make the form valid, laid over what the page fills in, so changes reach the services.
    baseline: dict = field(default_factory=dict)
    #: Pages that show what a successful post saved (the form's own page is always looked at again).
    shows: tuple = ()
    #: A 200 page may follow a change (the recovery codes are shown once, not redirected to).
    renders_success: bool = False

    def __str__(self):
        return f"{self.endpoint}[{self.user}]"




def city_days() -> dict[str, str]:
    """``{today}``, ``{soon}`` and ``{last_month}`` in a target, read when it is posted (a run may cross midnight)."""
    today = today_local()
    return {"today": today.isoformat(), "soon": (today + timedelta(days=10)).isoformat(),
            "last_month": (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")}


CASE = {"head_name": "김가나", "head_birth": "1970-01-01", "district": "중앙동", "address": "중앙로 1",
        "household_size": "2", "discovery_route": "이웃·주민 제보", "discovered_on": "{today}"}

TARGETS = [
    # Signing in and the account
    Target("auth.login", None, "/login", {"username": "coordinator", "password": PASSWORD}),
    Target("auth.login_two_factor", "dream-pending", "/login/two-factor", {"code": "{code}"}),
    Target("auth.logout", "coordinator", "/home"),
    Target("auth.change_password", "coordinator", "/account/password",
           {"current_password": PASSWORD, "new_password": "새로운-비밀번호-2024!", "confirm": "새로운-비밀번호-2024!"}),
    Target("auth.two_factor", "angel", "/account/two-factor", {"code": "{code}", "current_password": PASSWORD},
           renders_success=True),
    Target("auth.two_factor_start", "angel", "/account/two-factor"),
    Target("auth.two_factor_disable", "dream", "/account/two-factor", {"disable-current_password": PASSWORD}),
    Target("auth.two_factor_recovery_codes", "dream", "/account/two-factor", {"codes-current_password": PASSWORD},
           renders_success=True),
    Target("auth.set_language", "coordinator", "/home?x=1"),
    Target("main.notifications", "mh", "/notifications"),
    # Administration
    Target("admin.agency_new", "admin", "/admin/agencies/new", {"name": "새 기관"}, shows=("/admin/agencies",)),
    Target("admin.agency_edit", "admin", "/admin/agencies/{private_agency}", shows=("/admin/agencies",)),
    Target("admin.user_new", "admin", "/admin/users/new",
           {"username": "new.user", "display_name": "새사용자", "password": "임시-비밀번호-2024!",
            "confirm": "임시-비밀번호-2024!"}, shows=("/admin/users",)),
    Target("admin.user_edit", "admin", "/admin/users/{angel}", shows=("/admin/users",)),
    Target("admin.user_reset_password", "admin", "/admin/users/{angel}",
           {"password": "임시-비밀번호-2024!", "confirm": "임시-비밀번호-2024!"}),
    Target("admin.user_reset_two_factor", "admin", "/admin/users/{dream}"),
    Target("audit.export", "admin", "/admin/audit?action=login&actor=coordinator",
           {"purpose": "정기 점검"}),
    Target("audit.review_mark", "admin", "/admin/audit/review?month={last_month}",
           {"note": "이상 없음"}, shows=("/admin/audit/review?month={last_month}",)),
    # The case register
    Target("cases.new", "coordinator", "/cases/new", CASE, shows=("/cases",)),
    Target("cases.edit", "coordinator", "/cases/{kim}/edit", shows=("/cases/{kim}", "/cases")),
    Target("cases.member_new", "coordinator", "/cases/{kim}/members/new",
           {"name": "김다라", "relation": "자녀", "birth": "2015-04-01"}, shows=("/cases/{kim}",)),
    Target("cases.member_edit", "coordinator", "/cases/{kim}/members/{member}", shows=("/cases/{kim}",)),
    Target("cases.member_delete", "coordinator", "/cases/{kim}"),
    Target("cases.monitoring", "coordinator", "/cases/{kim}", {"method": "visit", "content": "방문 점검"}),
    Target("cases.status", "coordinator", "/cases/{choi}/status", {"to_status": "not_selected", "reason": "회의 결과"},
           shows=("/cases/{choi}",)),
    Target("cases.consent_new", "coordinator", "/cases/{kim}/consents/new",
           {"agency_ids": ["{mh_agency}", "{dong_agency}"], "note": "전화로 동의"}, shows=("/cases/{kim}",)),
    Target("cases.consent_withdraw", "coordinator", "/cases/{kim}/consents/{consent}/withdraw"),
    Target("cases.assessment_new", "coordinator", "/cases/{kim}/assessments/new", shows=("/cases/{kim}",)),
    Target("cases.import_upload", "coordinator", "/cases/import"),
    Target("cases.import_preview", "coordinator", "/cases/import/{batch}", shows=("/cases",)),
    Target("cases.import_cancel", "coordinator", "/cases/import/{batch}"),
    # Preparing meetings
    Target("meetings.new", "coordinator", "/meetings/new", {"day": "{soon}", "place": "시청 3층"},
           shows=("/meetings",)),
    Target("meetings.edit", "coordinator", "/meetings/{prep}/edit", shows=("/meetings/{prep}", "/meetings")),
    Target("meetings.status", "coordinator", "/meetings/{prep}"),
    Target("meetings.invite", "coordinator", "/meetings/{prep}", {"agency_id": "{uninvited_agency}"},
           shows=("/meetings/{prep}",)),
    Target("meetings.invitation_edit", "coordinator", "/meetings/{prep}/invitations/{invitation}",
           shows=("/meetings/{prep}",)),
    Target("meetings.invitation_delete", "coordinator", "/meetings/{prep}"),
    Target("meetings.agenda_new", "coordinator", "/meetings/{prep}/agenda/new?household_id={choi}",
           {"consent_override_reason": "긴급 위기 사례"}, shows=("/meetings/{prep}", "/meetings/{prep}/packet")),
    Target("meetings.agenda_edit", "coordinator", "/meetings/{prep}/agenda/{prep_item}",
           shows=("/meetings/{prep}", "/meetings/{prep}/packet")),
    Target("meetings.agenda_change", "coordinator", "/meetings/{prep}"),
    Target("meetings.agenda_children_first", "coordinator", "/meetings/{prep}"),
    Target("meetings.pledge", "angel", "/meetings/{prep}/pledge", {"accept": "y"}),
    Target("meetings.packet_docx", "coordinator", "/meetings/{prep}/packet", {"purpose": "회의 준비"}),
    # Agency input
    Target("inputs.edit", "mh", "/meetings/{prep}/inputs/{kim_prep_item}",
           shows=("/meetings/{prep}/packet", "/meetings/{prep}/inputs/{kim_prep_item}/history")),
    Target("inputs.remind", "coordinator", "/meetings/{prep}/inputs", shows=("/meetings/{prep}/inputs",)),
    # The meeting and its minutes
    Target("minutes.run", "coordinator", "/meetings/{live}/run", shows=("/meetings/{live}/minutes",)),
    Target("minutes.run_case", "coordinator", "/meetings/{live}/run/{live_item}",
           {"discussion": "논의", "decisions": "결정"}, shows=("/meetings/{live}/minutes", "/meetings/{live}/run")),
    Target("minutes.start", "coordinator", "/meetings/{prep}/run", shows=("/meetings/{prep}/run",)),
    Target("minutes.postpone", "coordinator", "/meetings/{live}/run/{live_item}", {"postpone_reason": "다음 회의로"},
           shows=("/meetings/{live}/run",)),
    Target("minutes.request_review", "coordinator", "/meetings/{drafted}/minutes", {"deadline": "{soon}"},
           shows=("/meetings/{drafted}/minutes",)),
    Target("minutes.respond", "mh", "/meetings/{review}/minutes", {"comment": "확인했습니다"}),
    Target("minutes.approve", "chair", "/meetings/{review}/minutes", shows=("/actions",)),
    Target("minutes.correct", "coordinator", "/meetings/{final}/minutes", {"reason": "오기 정정"}),
    Target("minutes.minutes_docx", "coordinator", "/meetings/{final}/minutes", {"purpose": "결재 보고"}),
    Target("minutes.attendance_docx", "coordinator", "/meetings/{live}/run", {"purpose": "서명 받기"}),
    # Actions after the meeting
    Target("actions.detail", "dong", "/actions/{action}", {"checked_on": "{today}", "content": "방문"},
           shows=("/actions",)),
    Target("actions.detail", "coordinator", "/actions/{action}",
           {"checked_on": "{today}", "content": "방문", "note": "완료 확인", "new_due": "{soon}"}),
]


def post_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_endpoint_is_fuzzed(app):
    """A new form without a target here fails this test (and so gets fuzzed)."""
    assert {t.endpoint for t in TARGETS} == post_endpoints(app)


# --- the fuzzer ---------------------------------------------------------------------------------------

class Fuzzer:
    """Signs in, reads a target's forms, posts drawn submissions and checks the properties."""

    def __init__(self, app, world: World):
        self.app, self.world = app, world
        self.adapter = app.url_map.bind("localhost")
        self.client = None
        self.user = "?"
        #: Fingerprints: right after signing in (per user), and after the last request.
        self.clean = self.last = None
        self._signed_in = {}
        self._forms = {}

    def url(self, template: str) -> str:
        return template.format(**self.world.ids, **city_days())

    def baseline(self, target: Target, name: str) -> list[str]:
        """The target's valid value(s) for a field; ``{code}`` is the user's next authenticator code."""
        values = target.baseline[name]
        values = values if isinstance(values, list) else [values]
        if "{code}" in values:
            username = (target.user or "").removesuffix("-pending")
            secret = db.session.execute(select(User.totp_secret).where(User.username == username)).scalar_one()
            db.session.rollback()
            return [pyotp.TOTP(secret).at(time.time() + 30)]  # the next step: never one used before
        return [self.url(value) for value in values]

    def endpoint_of(self, url: str) -> str | None:
        parts = urlsplit(url)
        try:
            endpoint, _args = self.adapter.match(parts.path, method="POST", query_args=parts.query)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            return None
        return endpoint

    def start(self, user: str | None):
        """A browser signed in as ``user`` on the world as built: the last one, if nothing was saved since."""
        if self.client is not None and self.user == user and user and "-" not in user and self.last == self.clean:
            return
        restore(self.world.rows)
        self.app.extensions.pop("dashboard_figures", None)
        self.client, self.user = self.app.test_client(), user
        self.clean = self.last = self._signed_in.get(user)
        if user is not None:
            username = user.removesuffix("-pending")
            response = self.client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, f"login as {username}"
            if response.headers["Location"].endswith("/login/two-factor") and not user.endswith("-pending"):
                secret = db.session.execute(select(User.totp_secret).where(User.username == username)).scalar_one()
                db.session.rollback()
                code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: never one used before
                response = self.client.post("/login/two-factor", data={"code": code})
                assert response.status_code == 302 and "/login" not in response.headers["Location"]
        if self.clean is None:  # signing in on the world as built always leaves the same fingerprint
            self.clean = self.last = self._signed_in[user] = fingerprint()

    def forms(self, target: Target) -> list[Form]:
        """The forms on the target's page that post to its endpoint (read once: every example starts alike)."""
        key = (target.endpoint, target.user, target.page)
        if key in self._forms:
            return self._forms[key]
        page = self.url(target.page)
        response = self.client.get(page)
        assert response.status_code == 200, f"{target}: {page} answered {response.status_code}"
        reader = FormReader(page)
        reader.feed(response.get_data(as_text=True))
        found = [f for f in reader.forms if f.method == "post" and self.endpoint_of(f.action) == target.endpoint]
        assert found, f"{target}: no form posting to {target.endpoint} on {page}"
        assert not any(f.method == "get" for f in reader.forms) or target.page.split("?")[0] in {
            p for _user, p in FILTER_PAGES}, f"{page} has a filter form: add the page to FILTER_PAGES"
        self._forms[key] = found
        return found

    def draw_submission(self, data, form: Form, target: Target) -> MultiDict:
        """The form as the page fills it in (and the target's baseline), with up to three fields spoiled."""
        names = sorted(form.fields)
        spoiled = data.draw(st.lists(st.sampled_from(names), max_size=3, unique=True), label="spoiled") \
            if names else []
        values = MultiDict()
        for name in names:
            entry = form.fields[name]
            chosen = self.baseline(target, name) if name in target.baseline else list(entry.values)
            if entry.kind == "file":
                content = data.draw(st.one_of(listing_files(), st.binary(max_size=300)), label=name)
                values.add(name, (io.BytesIO(content), data.draw(st.sampled_from(
                    ["명단.csv", "a.xlsx", "", "../../a.xls", "가.CSV", "<script>.csv", "a" * 300]), label="filename")))
                continue
            if not chosen and entry.kind in ("button", "radio"):
                chosen = entry.options[:1]  # the button pressed, the first choice made
            if name in spoiled:
                how = data.draw(st.sampled_from(["hostile"] * 4 + ["drop", "repeat"] + ["option"] * bool(
                    entry.options)), label=f"{name} how")
                stored = self.world.stored(name)
                hostile = hostile_for(entry.kind) if not stored else st.one_of(hostile_for(entry.kind), st.tuples(
                    st.sampled_from(stored), st.sampled_from(CASE_VARIANTS)).map(lambda pair: pair[1](pair[0])))
                value = data.draw(st.sampled_from(entry.options) if how == "option" else hostile, label=name)
                chosen = {"hostile": [value], "option": [value], "repeat": [*chosen, value], "drop": []}[how]
            for value in chosen:
                values.add(name, value)
        renamed = sorted({re.sub(r"\d+", str(2 ** 64), name) for name in names} - set(names))
        if data.draw(st.integers(0, 3), label="extra field?") == 3:
            name = data.draw(st.sampled_from(STRANGE_NAMES + renamed), label="extra name")
            values.add(name, data.draw(any_hostile, label=name))
        return values

    def run(self, data, target: Target):
        self.start(target.user)
        forms = self.forms(target)
        form = data.draw(st.sampled_from(forms), label="form") if len(forms) > 1 else forms[0]
        values = self.draw_submission(data, form, target)
        before = self.last
        response = self.client.post(form.action, data=values,
                                    content_type="multipart/form-data" if form.multipart else None)
        where = f"{target} POST {form.action}"
        page = check_page(response, where)
        after = fingerprint()
        self.last = after
        changes = changed_tables(before, after)
        event(f"{response.status_code}, {'saved' if changes else 'nothing saved'}")
        seen = set()
        if response.status_code in (302, 303):
            if changes:  # a redirect that reports only an error (in its flash message) saved nothing
                location = urlsplit(response.headers["Location"])
                seen.add(location.path + (f"?{location.query}" if location.query else ""))
                shown = check_page(self.client.get(response.headers["Location"]), f"{where} → {location.path}")
                kinds = flash_kinds(shown)
                assert "success" in kinds or "error" not in kinds, \
                    f"{where}: refused with an error message but changed {changes}"
        elif response.status_code >= 400 or "attachment" in response.headers.get("Content-Disposition", ""):
            assert not changes, f"{where}: {response.status_code} but changed {changes}"
        elif not target.renders_success:
            assert not changes, f"{where}: form shown again ({response.status_code}) but changed {changes}"
        else:
            assert page
        if changes:
            for url in dict.fromkeys(self.url(u) for u in (target.page, *target.shows)):
                if url not in seen:
                    check_page(self.client.get(url), f"{where}, then GET {url}")


class SharedTemplateCache(BytecodeCache):
    """Compiled templates kept for the whole run: each test's new app would otherwise compile them again."""

    def __init__(self):
        self.store = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedTemplateCache()


@pytest.fixture
def fuzzer(app, fuzz_world):
    app.jinja_env.bytecode_cache = TEMPLATES
    return Fuzzer(app, fuzz_world)


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_form_survives_hostile_input(fuzzer, target):
    fuzzer.start(target.user)
    fields = sum(len(set(form.fields) - {"csrf_token"}) for form in fuzzer.forms(target))

    # A form of buttons only (log out, approve …) has little to vary: unknown fields at most.
    @settings(FUZZ, max_examples=EXAMPLES if fields else min(EXAMPLES, 4))
    @given(data=st.data())
    def fuzz(data):
        fuzzer.run(data, target)

    fuzz()


# --- filters and searches (GET forms) -----------------------------------------------------------------

#: (who, page): every GET form on the page is fuzzed, and ``?page=``; a GET never saves anything.
FILTER_PAGES = [
    ("coordinator", "/cases"), ("coordinator", "/cases/stats"), ("coordinator", "/cases/checks"),
    ("coordinator", "/actions"), ("dong", "/actions"), ("coordinator", "/dashboard"), ("mh", "/dashboard"),
    ("coordinator", "/meetings"), ("coordinator", "/meetings/{prep}/packet"),
    ("coordinator", "/meetings/{drafted}/minutes"), ("coordinator", "/meetings/{final}/minutes"),
    ("coordinator", "/meetings/{prep}/agenda/new"), ("admin", "/admin/audit"), ("admin", "/admin/audit/review"),
]


@pytest.mark.parametrize("user, page", FILTER_PAGES, ids=[f"{page}[{user}]" for user, page in FILTER_PAGES])
@FEWER
@given(data=st.data())
def test_filter_survives_hostile_input(fuzzer, user, page, data):
    fuzzer.start(user)
    url = fuzzer.url(page)
    reader = FormReader(url)
    reader.feed(check_page(fuzzer.client.get(url), url))
    forms = [f for f in reader.forms if f.method == "get"] or [Form(url, False, method="get")]  # lists: ?page= only
    form = data.draw(st.sampled_from(forms), label="form")
    values = fuzzer.draw_submission(data, form, Target("", user, page))
    if data.draw(st.booleans(), label="page?"):
        values.add("page", data.draw(numbers, label="page"))
    response = fuzzer.client.get(urlsplit(form.action).path, query_string=values)
    check_page(response, f"GET {form.action} {values}")
    after = fingerprint()
    assert changed_tables(fuzzer.last, after) == [], f"GET {form.action} saved something"
    fuzzer.last = after


# --- ids in URLs --------------------------------------------------------------------------------------

def test_ids_beyond_the_database_are_not_found(fuzzer):
    """Every route with an id, given 0 or ids no database column holds: a 404 (or a redirect), never a 500."""
    fuzzer.start("coordinator")
    rules = [r for r in fuzzer.app.url_map.iter_rules() if "int" in str(r.rule) or r.arguments & {
        "household_id", "meeting_id", "item_id", "user_id", "agency_id", "action_id", "batch_id"}]
    for rule in rules:
        for number in (0, 2 ** 31, 2 ** 63, 10 ** 30):
            values = {name: number for name in rule.arguments}
            values.update({k: v for k, v in {"action": "up", "kind": "xlsx", "code": "en"}.items()
                           if k in rule.arguments})
            url = fuzzer.adapter.build(rule.endpoint, values)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = fuzzer.client.open(url, method=method)
                check_page(response, f"{method} {url}")


# --- the import: the pure parser ----------------------------------------------------------------------

CONFIG = {"districts": Defaults.DISTRICTS, "routes": Defaults.DISCOVERY_ROUTES,
          "extraction_route": Defaults.EXTRACTION_ROUTE, "route_aliases": Defaults.DISCOVERY_ROUTE_ALIASES}
cell_text = st.one_of(
    st.sampled_from(["", "중앙동", "송내동", "김민수", "1968-03-02", "1968", "남", "여", "010-1234-5678", "중앙로 1", "3",
                     "단전;단수", "복지사각지대 발굴시스템", "이웃 제보", "2021-1", "2021-13", "1968. 3. 2.", "19680302"]),
    any_hostile,
    st.sampled_from(['=HYPERLINK("https://evil.example","x")', "+82 10", "-", "@", "=1+1", "=cmd|' /C calc'!A0",
                     "680302-1234567", "680302 1234567", "6803021234567", "\ufeff성명", "\x00"]),
)


def check_parsed(parsed, cells: list[str] | None = None):
    """The parser's promises: every row valid when ok, and no resident number kept anywhere."""
    assert isinstance(parsed, importer.ParsedFile)
    if parsed.ok:
        assert parsed.rows and len(parsed.rows) == parsed.row_count
    for row in parsed.rows:
        assert row.name and not row.name.startswith(importer.FORMULA_PREFIXES) and len(row.name) <= importer.MAX_NAME
        assert row.district in Defaults.DISTRICTS and row.discovery_route in Defaults.DISCOVERY_ROUTES
        assert 1 <= row.household_size <= importer.MAX_HOUSEHOLD_SIZE
        assert importer.MIN_BIRTH_YEAR <= row.birth_year <= today_local().year
        assert len(row.address) <= importer.MAX_ADDRESS and len(row.note or "") <= importer.MAX_NOTE
    numbers = {m.group() for cell in cells or () for m in importer.RRN_PATTERN.finditer(cell)}
    kept = json.dumps([r.to_json() for r in parsed.rows], ensure_ascii=False) + "".join(
        str(e) for e in parsed.errors + parsed.warnings)
    for number in numbers:
        assert number not in kept, "a resident registration number was kept"


def parse(data: bytes, filename: str = "list.csv"):
    return parse_extraction(data, filename, limits=ReadLimits.from_config(vars(Defaults)), today=today_local(),
                            **CONFIG)


@MORE
@given(st.one_of(st.binary(max_size=2000),
                 st.tuples(st.sampled_from([reading.XLSX_MAGIC, reading.XLS_MAGIC, reading.UTF8_BOM, b"\xff\xfe",
                                            ",".join(COLUMNS).encode() + b"\n"]),
                           st.binary(max_size=500)).map(b"".join)))
def test_parser_survives_random_bytes(data):
    check_parsed(parse(data))


@st.composite
def csv_files(draw):
    """A CSV file: the form's header (maybe damaged), rows of plausible and hostile cells, odd encodings."""
    header = list(COLUMNS)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.integers(0, 4)) == 0:
        header = draw(st.lists(st.one_of(st.sampled_from(COLUMNS), cell_text), max_size=14))
    width = len(header)
    rows = draw(st.lists(st.lists(cell_text, min_size=max(width - 2, 0), max_size=width + 2), max_size=6))
    delimiter = draw(st.sampled_from([",", ",", "\t", ";", "|"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=draw(st.sampled_from(
        [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])), lineterminator=draw(
        st.sampled_from(["\n", "\r\n", "\r"])))
    for row in [header, *rows]:
        writer.writerow([cell.replace("\x00", "") if draw(st.booleans()) else cell for cell in row])
    content = buffer.getvalue()
    if draw(st.integers(0, 5)) == 0:
        content += "x" * draw(st.sampled_from([1, 200_000])) + '"\n'  # a huge or unclosed last line
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949"]))
    data = content.encode(encoding, errors="replace")
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut:]
    return data, [header, *rows]


@MORE
@given(csv_files())
def test_parser_survives_random_csv(file):
    data, table = file
    check_parsed(parse(data), [cell for row in table for cell in row])


XLSX_VALUES = st.one_of(
    cell_text.map(lambda s: re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", s)),  # openpyxl refuses these itself
    st.none(), st.booleans(), st.integers(-(2 ** 53), 2 ** 53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),  # noqa: DTZ001  # cells are naive
    st.dates(min_value=date(1900, 3, 1)), st.times(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9999)),
)


@st.composite
def xlsx_files(draw, damaged=True):
    """A workbook: the header, random values and number formats (dates, text …), sometimes many columns;
    sometimes ``damaged``."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    values = []
    if draw(st.booleans()):
        sheet.append(list(COLUMNS) + draw(st.lists(st.sampled_from(["", "추가", "성명"]), max_size=3)))
    for _ in range(draw(st.integers(0, 5))):
        row = draw(st.lists(XLSX_VALUES, max_size=draw(st.sampled_from([11, 11, 13, 60]))))
        sheet.append(row)
        values += [str(v) for v in row]
    for cell in draw(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 13)), max_size=6)):
        sheet.cell(*cell).number_format = draw(st.sampled_from(["yyyy-mm-dd", "h:mm", "@", "0.00", "General",
                                                                "[$-ko-KR]yyyy\"년\" m\"월\" d\"일\""]))
        if draw(st.booleans()):
            sheet.cell(*cell).value = draw(st.one_of(st.integers(-(10 ** 12), 10 ** 12),
                                                     st.floats(allow_nan=False, allow_infinity=False)))
    if draw(st.integers(0, 6)) == 0:
        workbook.create_sheet("두번째").append(["x"])
        workbook.move_sheet("두번째", offset=-1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if damaged and draw(st.integers(0, 6)) == 0:  # damaged: cut short or a few bytes changed (where: a share of the length,
        cut = len(reading.XLSX_MAGIC) + draw(st.integers(0, 10 ** 6)) % len(data)  # which varies with the clock)
        data = data[:cut] + draw(st.binary(max_size=16)) + data[cut + draw(st.integers(0, 64)):]
    return data, values


@MORE
@given(xlsx_files())
def test_parser_survives_random_xlsx(file):
    data, values = file
    check_parsed(parse(data, "list.xlsx"), values)


@MORE
@given(xlsx_files(damaged=False))
def test_streamed_xlsx_reads_as_openpyxl_reads(file):
    """conference/cases/reading.py parses the sheet itself; the values must be those openpyxl's reader gives."""
    data, _ = file
    assert streamed_rows(data, max_columns=100) == openpyxl_rows(data)


# --- the import: the web upload -----------------------------------------------------------------------

@st.composite
def listing_files(draw):
    """Mostly valid lists (so the preview and the confirmation are reached) with hostile cells among them."""
    plain = draw(st.booleans())
    rows = []
    for _ in range(draw(st.integers(1, 5))):
        row = {"추출회차": "2021-1", "행정동": draw(st.sampled_from(["중앙동", "송내동"])),
               "성명": draw(st.sampled_from(["김민수", "홍길순", "이몽룡"])),
               "생년월일": draw(st.sampled_from(["1968-03-02", "1950-05-05", "1970"])), "성별": "", "연락처": "",
               "주소": "중앙로 1", "가구원수": "1", "위기정보": "단전", "발굴경로": "복지사각지대 발굴시스템", "비고": ""}
        for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=0 if plain else 3)):
            row[column] = draw(cell_text)
        for column in ("주소", "비고", "위기정보"):
            if draw(st.integers(0, 3)) == 0:
                row[column] = draw(st.sampled_from(MARKUP))
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])), errors="replace")


@FUZZ
@given(data=st.data())
def test_web_import_stores_all_rows_or_nothing(fuzzer, data):
    fuzzer.start("coordinator")
    client = fuzzer.client
    before = fingerprint()
    content = data.draw(st.one_of(listing_files(), xlsx_files().map(lambda f: f[0]), st.binary(max_size=300)))
    response = client.post("/cases/import", data={"file": (io.BytesIO(content), data.draw(st.sampled_from(
        ["명단.csv", "list.xlsx", "x"])))}, content_type="multipart/form-data")
    check_page(response, "upload")
    fuzzer.last = fingerprint()
    if response.status_code != 302:
        assert changed_tables(before, fuzzer.last) == [], "a refused upload stored something"
        return
    preview_url = response.headers["Location"]
    preview = client.get(preview_url)
    page = check_page(preview, "preview")
    reader = FormReader(preview_url)
    reader.feed(page)
    form = next(f for f in reader.forms if f.method == "post" and fuzzer.endpoint_of(f.action) == "cases.import_preview")
    decisions = MultiDict()
    for name in form.fields:
        if name.startswith("decision-"):
            choice = data.draw(st.one_of(st.sampled_from(["merge", "keep", "merge", "keep"]), any_hostile,
                                         st.none()), label=name)
            if choice is not None:
                decisions.add(name, choice)
    uploaded = fingerprint()
    batch = db.session.execute(select(ImportBatch).order_by(ImportBatch.id.desc())).scalars().first()
    rows = json.loads(batch.payload)["rows"]
    count_before = db.session.execute(select(db.func.count(Household.id))).scalar_one()
    db.session.rollback()
    confirmed = client.post(preview_url, data=decisions)
    check_page(confirmed, "confirm")
    fuzzer.last = fingerprint()
    if confirmed.status_code != 302:
        assert changed_tables(uploaded, fuzzer.last) == [], "a refused import stored something"
        return
    merged = sum(1 for name in decisions if decisions.get(name) == "merge")
    count_after = db.session.execute(select(db.func.count(Household.id))).scalar_one()
    db.session.rollback()
    assert count_after - count_before == len(rows) - merged, "not every row was imported"
    check_page(client.get("/cases"), "the case list after the import")
    for household_id in db.session.execute(select(Household.id).order_by(Household.id.desc()).limit(3)).scalars():
        check_page(client.get(f"/cases/{household_id}"), "an imported case")
    db.session.rollback()


# --- documents built from stored text -----------------------------------------------------------------

@FUZZ
@given(st.lists(any_hostile, min_size=1, max_size=6))
def test_documents_take_any_stored_text(texts):
    """Word and Excel builders write whatever a form could have stored (control characters included)."""
    from conference.documents import docx_kit, xlsx_kit

    document = docx_kit.new_document(font="맑은 고딕", title=texts[0], author=texts[-1], header_mark=texts[0],
                                      subject=texts[-1])
    docx_kit.add_heading(document, texts[0], 1)
    docx_kit.add_paragraph(document, texts[-1])
    docx_kit.add_labelled(document, texts[0], texts[-1])
    docx_kit.add_facts(document, [(t, t) for t in texts])
    docx_kit.add_table(document, ["a"], [[t] for t in texts])
    assert docx_kit.to_bytes(document).startswith(b"PK")
    workbook, sheet = xlsx_kit.new_workbook("감사 기록")
    xlsx_kit.add_table(sheet, 1, texts[0], texts, [texts])
    assert xlsx_kit.to_bytes(workbook).startswith(b"PK")



@MORE
@given(place=any_hostile)
def test_a_calendar_file_holds_its_lines_whatever_the_place(place):
    """The meeting's place, typed by the coordinator, stays one escaped LOCATION line of the .ics file."""
    from types import SimpleNamespace

    from conference.meetings.calendar import meeting_ics

    meeting = SimpleNamespace(id=1, title="2030년도 제1회 통합사례회의", place=place, duration_minutes=120,
                              starts_at=datetime(2030, 3, 4, 5, 0, tzinfo=KST))
    content = meeting_ics(meeting, host="localhost", now=datetime(2030, 1, 1, tzinfo=KST))
    lines = re.sub(r"\r\n[ \t]", "", content).split("\r\n")  # unfolded (RFC 5545 3.1)
    assert [line.split(":", 1)[0] for line in lines] == [
        "BEGIN", "VERSION", "PRODID", "METHOD", "BEGIN", "UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY",
        "LOCATION", "DESCRIPTION", "END", "END", ""]
    assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", "".join(lines)), "a control character in a line"
