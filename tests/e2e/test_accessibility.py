"""Every page each role can reach is accessible (axe-core in Chromium) and valid HTML (the Nu HTML Checker).

Korean public-sector web services must meet KWCAG 2.2 (WCAG 2.1 AA). For each role, a test client signed in as
each of the demo's accounts of that role sends a few forms wrong or empty (their answers: the errors by the fields, the chair's
confirmation, an upload's preview; ``FORMS``), then follows every link from its home page (for a visitor, from the
login page), the way the masking sentinel crawl does; every HTML page reached goes through `vnu.jar` (Java), and enough of them to
hold every route and every kind of element the accounts met (``pages_to_open``) are opened in Chromium, signed in as
the account that reached them, and checked by axe-core with its default rules, best practices included.
Both checkers come from the npm registry (tests/a11y/package.json, installed by `make setup-dev`) and are used by
the tests only. The pages are the same on either database, so the PostgreSQL pass of `.ci/run` leaves them to the
SQLite pass.
"""
import html
import io
import json
import re
import shutil
import subprocess
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import POSTGRES_URL
from factories_world import seed_demo
from sqlalchemy import select

from conference.extensions import db
from conference.models import AgendaItem, Meeting, MeetingStatus, Role
from conference.seed import demo
from e2e.conftest import served_demo
from e2e.test_browser import log_in

CHECKERS = Path(__file__).resolve().parent.parent / "a11y" / "node_modules"
AXE = CHECKERS / "axe-core" / "axe.min.js"
VNU = CHECKERS / "vnu-jar" / "build" / "dist" / "vnu.jar"

#: Who signs in, by role: a visitor (nobody), the admin, the coordinator, the chair, and the four partner agencies'
#: practitioners together (their pages are of the same kinds, so axe opens each kind once for the four).
ROLES = {"visitor": [None], "admin": ["admin"], "coordinator": ["coordinator"], "chair": ["chair"],
         "practitioners": [username for username, *_, role in demo.USERS if role == Role.PRACTITIONER]}
#: The same page asked with other filter values is the same page: at most this many of each path and query keys.
VARIANTS = 2
MAX_PAGES = 1500

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(POSTGRES_URL), reason="pages do not depend on the database: the SQLite pass "
                                                             "of .ci/run checks them")]


def _require_checkers():
    missing = [str(path) for path in (AXE, VNU) if not path.exists()]
    if shutil.which("java") is None:
        missing.append("java (apt-get install default-jre-headless)")
    if missing:
        pytest.fail("accessibility checkers missing (make setup-dev installs them): " + ", ".join(missing),
                    pytrace=False)


# --- what a role reaches ---------------------------------------------------------------------------------------

def links(page: str) -> list[str]:
    found = []
    for href in re.findall(r'href="([^"]*)"', page):
        parts = urlsplit(html.unescape(href))
        if not parts.scheme and not parts.netloc and parts.path.startswith("/") \
                and not parts.path.startswith("/static/"):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client, *start: str) -> dict[str, str]:
    """Every HTML page reachable by GET from ``start`` (following links and redirects): its address and text."""
    pages: dict[str, str] = {}
    seen: set[str] = set()
    variants: dict[tuple, int] = {}
    queue = deque(start)
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        kind = (parts.path, tuple(sorted({key for key, _ in parse_qsl(parts.query)})))
        if url in seen or variants.get(kind, 0) >= VARIANTS:
            continue
        seen.add(url)
        variants[kind] = variants.get(kind, 0) + 1
        assert len(seen) < MAX_PAGES, f"the crawl reached {MAX_PAGES} addresses"
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
        elif response.status_code == 200 and response.mimetype == "text/html":
            pages[url] = text = response.get_data(as_text=True)
            queue.extend(link for link in links(text) if link not in seen)
    return pages


class Page(NamedTuple):
    """A page as one account reached it: by following links (``url``), or as the answer to a form it sent."""
    username: str | None
    url: str
    posted: bool = False

    def __str__(self):
        return f"{self.username or 'visitor'} {'POST ' if self.posted else ''}{self.url}"


class _ElementKinds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.kinds: set[tuple] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.kinds.add((tag, tuple(sorted(attributes)), attributes.get("class"), attributes.get("type"),
                        attributes.get("role"), re.sub(r"\d+", "#", attributes.get("id") or "")))


def element_kinds(page: str) -> set[tuple]:
    """What kinds of element a page holds: tag, attribute names, class, type, role and id (numbers aside)."""
    parser = _ElementKinds()
    parser.feed(page)
    return parser.kinds


def pages_to_open(app, pages: dict[Page, str]) -> list[Page]:
    """The pages axe opens: the richest page of each route, then (greedily) pages holding kinds of element none of
    those holds, until every kind of element the accounts met is on a page axe checks. axe's rules look at an
    element (its name, contrast, role) or at the page's structure (headings, landmarks): both are covered, in
    about a third of the crawl."""
    adapter = app.url_map.bind("localhost")
    kinds = {page: element_kinds(text) for page, text in pages.items()}
    richest: dict[str, Page] = {}
    for page in pages:
        route = adapter.match(urlsplit(page.url).path, method="POST" if page.posted else "GET")[0]
        if route not in richest or len(kinds[page]) > len(kinds[richest[route]]):
            richest[route] = page
    chosen = list(richest.values()) + [page for page in pages if page.posted]  # few, and each an error state
    covered = set().union(*(kinds[page] for page in chosen))
    while missing := set().union(*kinds.values()) - covered:
        page = max(kinds, key=lambda page: len(kinds[page] & missing))
        chosen.append(page)
        covered |= kinds[page]
    return chosen


def signed_in_client(app, username: str | None):
    client = app.test_client()
    if username is not None:
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        response = client.post("/login", data={"csrf_token": token, "username": username,
                                               "password": demo.DEFAULT_PASSWORD})
        assert response.status_code == 302, username
    return client


# --- what a role reaches by sending forms -----------------------------------------------------------------------

def _demo_ids() -> dict[str, int]:
    """The demo's meeting of next week (in preparation), the one in review, and an agenda item of the first."""
    def meeting(*statuses):
        return db.session.execute(select(Meeting.id).where(Meeting.status.in_(statuses))
                                  .order_by(Meeting.starts_at.desc())).scalars().first()

    upcoming = meeting(MeetingStatus.PREPARING.value, MeetingStatus.SHARING.value)
    item = db.session.execute(select(AgendaItem.id).where(AgendaItem.meeting_id == upcoming)
                              .order_by(AgendaItem.position)).scalars().first()
    return {"upcoming": upcoming, "in_review": meeting(MeetingStatus.REVIEW.value), "item": item}


#: Forms each role sends, as (page holding the form, address posted to, what is sent): a form sent empty or wrong
#: comes back with its errors by the fields, the chair's 결재 with reviews missing asks to confirm, and a list
#: uploaded leads to its preview. A file is sent as (name, bytes); ``TEMPLATE_CSV`` is the import page's own form.
TEMPLATE_CSV = "template"
FORMS = {
    None: [("/login", "/login", {"username": "coordinator", "password": "not the password"})],
    "admin": [("/admin/users/new", "/admin/users/new", {}), ("/admin/agencies/new", "/admin/agencies/new", {})],
    "coordinator": [
        ("/cases/new", "/cases/new", {}),
        ("/meetings/new", "/meetings/new", {}),
        ("/meetings/{upcoming}/run", "/meetings/{upcoming}/run/start", {}),
        ("/cases/import", "/cases/import", {"file": ("명단.csv", "행정동,성명\n중앙동,\n".encode())}),
        ("/cases/import", "/cases/import", {"file": TEMPLATE_CSV}),
    ],
    "chair": [("/meetings/{in_review}/minutes", "/meetings/{in_review}/minutes/approve", {})],
    "mh": [("/meetings/{upcoming}/inputs/{item}", "/meetings/{upcoming}/inputs/{item}", {"opinion": "가" * 4001})],
}


def send_forms(client, username: str | None, ids: dict[str, int]) -> tuple[dict[str, str], list[str]]:
    """The pages ``username`` gets back from its FORMS, and where the forms that went through led."""
    pages, led_to = {}, []
    for form_page, target, data in FORMS.get(username, []):
        form_page, target = form_page.format(**ids), target.format(**ids)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(form_page).get_data(as_text=True))
        sent = {**data, "csrf_token": token.group(1)}
        if sent.get("file") == TEMPLATE_CSV:
            sent["file"] = ("발굴명단.csv", client.get("/cases/import/template.csv").data)
        if "file" in sent:
            name, content = sent["file"]
            sent["file"] = (io.BytesIO(content), name)
        response = client.post(target, data=sent)
        if response.status_code in (301, 302, 303):
            led_to.append(response.headers["Location"])
        else:
            assert response.status_code in (200, 409, 422) and response.mimetype == "text/html", (target, response)
            pages[target] = response.get_data(as_text=True)
    return pages, led_to


# --- the checkers --------------------------------------------------------------------------------------------

def vnu_errors(pages: dict[Page, str], folder: Path) -> list[str]:
    """The Nu HTML Checker's errors on every page, as "account address: line: message"."""
    files = {}
    for number, (page, text) in enumerate(pages.items()):
        files[f"page-{number}.html"] = str(page)
        (folder / f"page-{number}.html").write_text(text, encoding="utf-8")
    (folder / "pages.json").write_text(json.dumps(files, ensure_ascii=False, indent=0), encoding="utf-8")
    result = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--exit-zero-always", "--stdout",
                             *(str(folder / name) for name in files)],
                            capture_output=True, text=True, timeout=300, check=True)
    return [f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}: line {m.get('lastLine')}: "
            f"{m['message']}" for m in json.loads(result.stdout)["messages"] if m["type"] == "error"]


AXE_RUN = """() => axe.run(document, {resultTypes: ['violations']}).then(result => result.violations.map(
    v => `${v.id} (${v.impact}): ${v.help}: ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


def axe_violations(browser, base: str, pages: list[Page], texts: dict[Page, str]) -> list[str]:
    """axe-core's violations on each page, opened in Chromium signed in as the account that reached it."""
    found = []
    for username in dict.fromkeys(page.username for page in pages):
        context = browser.new_context(bypass_csp=True, locale="ko-KR", timezone_id="Asia/Seoul")
        context.set_default_timeout(10_000)
        try:
            context.add_init_script(path=str(AXE))  # in every document the context opens, before its own scripts
            tab = context.new_page()
            if username is not None:
                log_in(tab, base, username, demo.DEFAULT_PASSWORD)
                tab.wait_for_url(re.compile(r"/home$"))
            for page in pages:
                if page.username != username:
                    continue
                if page.posted:  # the answer to a form, put in a tab of the same site (for its styles)
                    tab.goto(base + "/login" if username is None else base + "/home")
                    tab.set_content(texts[page])
                    tab.add_script_tag(path=str(AXE))
                else:
                    tab.goto(base + page.url)
                found += [f"{page}: {violation}" for violation in tab.evaluate(AXE_RUN)]
        finally:
            context.close()
    return found


# --- the test ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_is_accessible_and_valid(database_uri, browser, tmp_path, role):
    _require_checkers()
    with served_demo(database_uri, seed=lambda: seed_demo(demo.DEFAULT_PASSWORD)) as (app, base):
        with app.app_context():
            ids = _demo_ids()
        pages = {}
        for username in ROLES[role]:
            client = signed_in_client(app, username)
            answers, led_to = send_forms(client, username, ids)
            reached = crawl(client, "/home" if username else "/login", *led_to)
            assert "/login" in reached if username is None else len(reached) > 10, sorted(reached)
            pages.update((Page(username, url), text) for url, text in reached.items())
            pages.update((Page(username, url, posted=True), text) for url, text in answers.items())
        errors = vnu_errors(pages, tmp_path)
        assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors[:40])
        violations = axe_violations(browser, base, pages_to_open(app, pages), pages)
        assert not violations, f"{len(violations)} axe violations:\n" + "\n".join(violations[:40])
