"""Load and fault test: the app under gunicorn with simulated users, then a check that no acknowledged write is lost.

    .venv/bin/python bench/load_test.py                       # SQLite in a temp dir, 20 users, 60 s
    .venv/bin/python bench/load_test.py --database-url postgresql+psycopg://conference:conference@127.0.0.1/conference_load

1. Builds a fresh database the documented way (``flask init-db``, ``flask seed-demo --households N``). A PostgreSQL
   database is emptied first (``DROP SCHEMA public CASCADE``), so its name must contain "load"; it is created when
   missing and the role may.
2. Starts ``gunicorn --workers 2`` on 127.0.0.1 (a port the OS chooses) with the real configuration: CSRF on, a
   random SECRET_KEY. Each simulated user logs in once through the login form and keeps its own cookies.
3. For ``--seconds``, ``--users`` simulated users work with 0–200 ms think time: practitioners of several agencies
   (two or three sessions per agency) open their home, packet (pledging once) and input list and save or submit
   their agency's input on the agenda items of the demo's upcoming meeting; coordinators, with the same meeting
   moved to 회의 중, write the case records of the minutes and browse the case list and case files; everyone
   follows links. A 409 ("someone else saved meanwhile") is the app refusing a stale save: counted, not an error.
4. ``--kill-worker`` (on by default) sends SIGKILL to one gunicorn worker halfway through, while a write is in
   flight; the master starts a new one. Requests cut off by it fail at the client and count as interrupted,
   never as acknowledged.
5. After the server has stopped: every acknowledged write must be in the database — each input save as its
   revision (version and text), the last acknowledged case record save as the stored text with an audit event for
   every acknowledged version, each pledge as a row — and versions must run 1…n without gaps or repeats. Then
   SQLite's ``PRAGMA integrity_check`` and ``flask verify-audit`` (the audit hash chain).

Exits 1 on any 5xx, lost write, unexpected 4xx, request that did not go to the loopback address, server error in
the log, failed integrity check, or more interrupted requests than one per killed worker. Only 127.0.0.1 is ever
contacted; every request has a timeout, the run stops itself at ``--seconds`` plus a grace period, and the
server's process group is always terminated.
"""
import argparse
import ctypes
import html
import http.client
import ipaddress
import json
import os
import random
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import HOST, free_port  # noqa: E402
from conference import create_app  # noqa: E402
from conference.extensions import db  # noqa: E402
from conference.models import (AgendaItem, AgencyInput, AuditEvent, CaseRecord, Invitation, Meeting,  # noqa: E402
                               MeetingStatus, Pledge, Role, User)
from conference.models.inputs import InputRevision  # noqa: E402
from conference.seed import demo  # noqa: E402

BIN = Path(sys.executable).parent
#: Seconds a single request may take before the client gives up on it.
REQUEST_TIMEOUT = 15
#: Seconds after --seconds by which every simulated user must have stopped.
GRACE = 25
#: Who the simulated users are, in turn; practitioners cycle through the demo's agencies.
MIX = ["practitioner", "coordinator", "practitioner", "reader", "practitioner",
       "coordinator", "practitioner", "coordinator", "practitioner", "reader"]
PRACTITIONERS = [username for username, *_rest, role in demo.USERS if role == Role.PRACTITIONER]
#: Where browsing may go: pages, not downloads or actions.
BROWSE_PREFIXES = ("/home", "/meetings", "/cases", "/actions", "/dashboard", "/notifications", "/account")
NOT_BROWSED = re.compile(r"\.(docx|xlsx|ics|csv)$|/logout|/export|/report")
#: Lines in the server's log that mean the app failed (a worker killed on purpose logs none of these).
SERVER_ERRORS = re.compile(r"Traceback|database is locked|deadlock detected|Exception on ")


# --- HTTP: one simulated browser ------------------------------------------------------------------------------

class NotLoopback(Exception):
    """A request would have left the machine."""


@dataclass
class Page:
    status: int
    location: str
    text: str

    def links(self, pattern: str) -> list[str]:
        return sorted({html.unescape(link) for link in re.findall(pattern, self.text)})


class Recorder:
    """Every request's kind, status and time, and every write: attempted, acknowledged, refused. Thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[tuple[str, int | None, float, float]] = []  # kind, status (None: interrupted), start, s
        self.unexpected: list[str] = []
        self.acks: dict[str, list[dict]] = defaultdict(list)
        self.interrupted_writes: dict[str, list[dict]] = defaultdict(list)
        self.writes_in_flight = 0
        self.not_loopback = 0
        self.measuring = False
        #: CPU seconds the simulated users took (they share the machine with the server).
        self.client_cpu = 0.0

    def sample(self, kind: str, status: int | None, started: float, seconds: float):
        with self.lock:
            if self.measuring:
                self.samples.append((kind, status, started, seconds))

    def note(self, message: str):
        with self.lock:
            self.unexpected.append(message)

    def ack(self, kind: str, **write):
        with self.lock:
            self.acks[kind].append(write)

    def interrupted(self, kind: str, **write):
        with self.lock:
            self.interrupted_writes[kind].append(write)

    def post_write(self, browser: "Browser", url: str, kind: str, data: list[tuple[str, str]]) -> "Page | None":
        """A POST that writes, counted while in flight (the worker killer waits for one)."""
        with self.lock:
            self.writes_in_flight += 1
        try:
            return browser.post(url, kind, data)
        finally:
            with self.lock:
                self.writes_in_flight -= 1


class Browser:
    """One user's browser: its own cookies, requests to 127.0.0.1 only, redirects returned, not followed."""

    def __init__(self, port: int, recorder: Recorder, name: str):
        if not ipaddress.ip_address(HOST).is_loopback:
            raise NotLoopback(HOST)
        self.port, self.recorder, self.name = port, recorder, name
        self.cookies: dict[str, str] = {}

    def _target(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.netloc:
            host = parts.hostname or ""
            if parts.port != self.port or not (host == "localhost" or _is_loopback(host)):
                with self.recorder.lock:
                    self.recorder.not_loopback += 1
                raise NotLoopback(url)
        return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))

    def open(self, method: str, url: str, kind: str, data: list[tuple[str, str]] | None = None) -> Page | None:
        """The answer, or None when the connection broke or timed out (recorded as interrupted)."""
        path = self._target(url)
        headers = {"User-Agent": f"conference-load-test/{self.name}", "Accept-Language": "ko"}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.recorder.sample(kind, None, started, time.perf_counter() - started)
            return None
        finally:
            connection.close()
        self.recorder.sample(kind, response.status, started, time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            self._keep_cookie(header)
        page = Page(response.status, response.headers.get("Location", ""), content.decode("utf-8", "replace"))
        if page.status >= 400 and page.status != 409:
            self.recorder.note(f"{self.name}: {method} {path} → {page.status}")
        return page

    def get(self, url: str, kind: str) -> Page | None:
        return self.open("GET", url, kind)

    def post(self, url: str, kind: str, data: list[tuple[str, str]]) -> Page | None:
        return self.open("POST", url, kind, data)

    def _keep_cookie(self, header: str):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if expired or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- HTML forms -----------------------------------------------------------------------------------------------

@dataclass
class Form:
    action: str
    fields: list[list] = field(default_factory=list)  # [name, value, kind]; kind: "text", "checkbox", "select"

    def names(self) -> set[str]:
        return {name for name, _value, _kind in self.fields}

    def set(self, name: str, value: str):
        for row in self.fields:
            if row[0] == name:
                row[1] = value
                return
        self.fields.append([name, value, "text"])

    def data(self, *, check_all: bool = False) -> list[tuple[str, str]]:
        """What a browser posts: checked boxes only (every box with ``check_all``)."""
        out = []
        for name, value, kind in self.fields:
            if kind == "checkbox-off" and not check_all:
                continue
            out.append((name, value))
        return out


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: list | None = None
        self._select: list | None = None  # [name, first value, chosen value]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = Form(attrs.get("action") or "")
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                checked = "checked" in attrs
                self._form.fields.append([attrs["name"], attrs.get("value") or "on",
                                          "checkbox" if checked else "checkbox-off"])
            else:
                self._form.fields.append([attrs["name"], attrs.get("value") or "", "text"])
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = [attrs["name"], []]
        elif tag == "select" and attrs.get("name"):
            self._select = [attrs["name"], None, None]
        elif tag == "option" and self._select is not None:
            value = attrs.get("value") or ""
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in attrs:
                self._select[2] = value

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            content = "".join(self._textarea[1])
            self._form.fields.append([self._textarea[0], content[1:] if content.startswith("\n") else content, "text"])
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, first, chosen = self._select
            self._form.fields.append([name, chosen if chosen is not None else (first or ""), "select"])
            self._select = None


def form_with(page: Page, field_name: str, action: str = "") -> Form | None:
    """The first form on the page that has a field of this name (and whose action ends with ``action``)."""
    parser = _FormParser()
    parser.feed(page.text)
    return next((f for f in parser.forms if field_name in f.names() and f.action.endswith(action)), None)


# --- simulated users ------------------------------------------------------------------------------------------

class SimulatedUser(threading.Thread):
    """One person at a browser, working until ``deadline`` or until stopped."""

    def __init__(self, number: int, role: str, username: str, *, port: int, recorder: Recorder, meeting_id: int,
                 seed: int, think_ms: int):
        super().__init__(name=f"u{number:02d}-{username}", daemon=True)
        self.role, self.username, self.meeting_id = role, username, meeting_id
        self.browser = Browser(port, recorder, self.name)
        self.recorder = recorder
        self.rng = random.Random(seed * 1000 + number)
        self.think = think_ms / 1000
        self.writes = 0
        self.logged_in = threading.Event()
        self.start_work = threading.Event()
        self.stop = threading.Event()
        self.deadline = 0.0
        self.links: list[str] = []

    # -- the session --

    def login(self) -> bool:
        page = self.browser.get("/login", "login")
        form = form_with(page, "username") if page and page.status == 200 else None
        if form is None:
            return False
        form.set("username", self.username)
        form.set("password", demo.DEFAULT_PASSWORD)
        answer = self.browser.post("/login", "login", form.data())
        return bool(answer and answer.status == 302 and "/login" not in answer.location)

    def run(self):
        try:
            if not self.login():
                self.recorder.note(f"{self.name}: login failed")
                return
            self.logged_in.set()
            self.start_work.wait(timeout=120)
            step = {"practitioner": self.practitioner_step, "coordinator": self.coordinator_step,
                    "reader": self.browse_step}[self.role]
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                step()
                self.stop.wait(self.rng.uniform(0, self.think))
        except NotLoopback as error:
            self.recorder.note(f"{self.name}: refused a request off the loopback address: {error}")
        except Exception as error:  # a bug in this script must show, not hang the run
            self.recorder.note(f"{self.name}: simulated user crashed: {error!r}")
        finally:
            self.logged_in.set()

    def marker(self) -> str:
        self.writes += 1
        return f"load-{self.name}-{self.writes}"

    # -- practitioners: home, packet, input list, input form --

    def practitioner_step(self):
        meeting = f"/meetings/{self.meeting_id}"
        self.one_of((0.10, lambda: self.visit("/home", "home")),
                    (0.18, self.browse_step),
                    (0.28, self.open_packet),
                    (0.40, lambda: self.visit(f"{meeting}/inputs", "input list")),
                    (1, self.write_input))

    def open_packet(self):
        meeting = f"/meetings/{self.meeting_id}"
        page = self.browser.get(f"{meeting}/packet", "packet")
        if page is None or page.status != 302 or "/pledge" not in page.location:
            return
        pledge_page = self.browser.get(page.location, "pledge form")
        form = form_with(pledge_page, "accept") if pledge_page and pledge_page.status == 200 else None
        if form is None:
            return  # pledged meanwhile (another session of the same account)
        answer = self.recorder.post_write(self.browser, page.location, "pledge", form.data(check_all=True))
        if answer is None:
            self.recorder.interrupted("pledge", meeting_id=self.meeting_id, username=self.username)
        elif answer.status == 302:
            self.recorder.ack("pledge", meeting_id=self.meeting_id, username=self.username)
            self.browser.get(f"{meeting}/packet", "packet")

    def write_input(self):
        self.write_item(f"/meetings/{self.meeting_id}/inputs", "input list", "input form", "input",
                        {"opinion": "부하 시험 기관 의견"},
                        extra=lambda: [("submit", "1") if self.rng.random() < 0.3 else ("save", "1")])

    # -- coordinators: the minutes, case list and case files --

    def coordinator_step(self):
        meeting = f"/meetings/{self.meeting_id}"
        self.one_of((0.12, lambda: self.visit("/cases", "case list")),
                    (0.27, self.open_case_file),
                    (0.35, lambda: self.visit(f"{meeting}/inputs", "input matrix")),
                    (0.42, self.browse_step),
                    (1, self.write_case_record))

    def open_case_file(self):
        cases = [link for link in self.links if re.fullmatch(r"/cases/\d+", link)]
        if not cases:
            page = self.browser.get(f"/cases?page={self.rng.randint(1, 3)}", "case list")
            self.remember(page)
            cases = page.links(r'href="(/cases/\d+)"') if page else []
        if cases:
            self.visit(self.rng.choice(cases), "case file")

    def write_case_record(self):
        self.write_item(f"/meetings/{self.meeting_id}/run", "meeting run", "case record form", "case record",
                        {"discussion": "논의: 안전계획과 기관별 역할을 나눔", "decisions": "결정"})

    # -- writers: one save of an agenda item's form --

    def write_item(self, items_url: str, items_kind: str, form_kind: str, what: str, texts: dict[str, str], *,
                   extra=list):
        """Pick an agenda item from ``items_url``, type ``texts`` into its form (each after this write's marker),
        post it with the ``extra()`` fields and record the save of ``what`` with the first text: acknowledged (302),
        refused as stale (409), cut off, or answered otherwise."""
        items = self.item_links(items_url, items_kind, rf'href="{items_url}/(\d+)"')
        if not items:
            return
        item_id = int(self.rng.choice(items))
        url = f"{items_url}/{item_id}"
        page = self.browser.get(url, form_kind)
        field = next(iter(texts))
        form = form_with(page, field) if page and page.status == 200 else None
        if form is None:
            return
        self.stop.wait(self.rng.uniform(0, self.think))  # typing
        marker = self.marker()
        typed = {name: f"{marker} {text}" for name, text in texts.items()}
        for name, value in typed.items():
            form.set(name, value)
        data = [*form.data(), *extra()]
        base_version = int(dict(form.data()).get("version") or 0)
        write = {"item_id": item_id, "username": self.username, "base_version": base_version, field: typed[field],
                 "marker": marker}
        answer = self.recorder.post_write(self.browser, url, f"{what} save", data)
        if answer is None:
            self.recorder.interrupted(what, **write)
        elif answer.status == 302:
            self.recorder.ack(what, **write)
        elif answer.status == 409:
            self.recorder.ack(f"{what} refused (409)", **write)
        else:
            self.recorder.note(f"{self.name}: {what} save answered {answer.status}, not acknowledged")

    # -- everyone: following links --

    def browse_step(self):
        choices = [link for link in self.links if link.startswith(BROWSE_PREFIXES) and not NOT_BROWSED.search(link)]
        if not choices or self.rng.random() < 0.2:
            choices = ["/home"]  # its navigation lists what this role may open
        self.visit(self.rng.choice(choices), "browse")

    def one_of(self, *steps):
        """Take one of ``steps``, given as (cumulative probability, step) with the last at 1."""
        roll = self.rng.random()
        next(step for below, step in steps if roll < below)()

    def visit(self, url: str, kind: str):
        self.remember(self.browser.get(url, kind))

    def remember(self, page: Page | None):
        if page is not None and page.status == 200:
            self.links = page.links(r'href="(/[^"#]*)"')

    def item_links(self, url: str, kind: str, pattern: str) -> list[str]:
        found = [m for link in self.links for m in re.findall(pattern, f'href="{link}"')]
        if found and self.rng.random() < 0.7:
            return found
        page = self.browser.get(url, kind)
        self.remember(page)
        return page.links(pattern) if page and page.status == 200 else []


# --- the server -----------------------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (the gunicorn master's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def busy(workers: list[int], port: int) -> list[int]:
    """The workers holding an open client connection to ``port``: each is in the middle of a request."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            if columns[3] == "01" and int(columns[1].rsplit(":", 1)[1], 16) == port:
                established.add(columns[9])
    found = []
    for pid in workers:
        try:
            fds = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in established for link in fds):
            found.append(pid)
    return found


def hello_world_rate(port: int, threads: int, seconds: float) -> float:
    """Requests per second of /healthz (reads nothing) from ``threads`` clients without pauses: the baseline the
    scenario's throughput is compared with, measured on the same server in the same run."""
    recorder = Recorder()
    recorder.measuring = True
    deadline = time.monotonic() + seconds

    def client():
        browser = Browser(port, recorder, "baseline")
        while time.monotonic() < deadline:
            browser.get("/healthz", "healthz")

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + REQUEST_TIMEOUT)
    return sum(1 for _kind, status, _t, _s in recorder.samples if status == 200) / seconds


def wait_healthy(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz")


def _die_with_parent():
    """In the server's process, before gunicorn starts: be sent SIGTERM when this script ends, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)


def _stop_run(signum, frame):
    raise SystemExit(f"stopped by signal {signal.Signals(signum).name}")


def stop_server(server: subprocess.Popen) -> None:
    """Terminate the server's whole process group: gracefully, then by force."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass


class WorkerKiller(threading.Thread):
    """At ``at`` (monotonic), SIGKILL a worker that is serving a request while a write is in flight; then wait for
    the master to start its replacement."""

    def __init__(self, master: int, port: int, workers: int, started: float, at: float, recorder: Recorder,
                 stop: threading.Event):
        super().__init__(name="worker-killer", daemon=True)
        self.master, self.port, self.workers, self.recorder, self.stop = master, port, workers, recorder, stop
        self.started, self.at = started, at
        self.killed: int | None = None
        self.killed_at = 0.0
        self.writes_in_flight = 0
        self.replaced_after: float | None = None

    def run(self):
        if self.stop.wait(max(0.0, self.at - time.monotonic())):
            return
        waited, workers, serving = time.monotonic(), [], []
        while time.monotonic() - waited < 5 and not self.stop.is_set():
            workers = children(self.master)
            serving = busy(workers, self.port)
            if serving and self.recorder.writes_in_flight:
                break
            time.sleep(0.001)
        if not workers:
            return
        self.killed = random.choice(serving or workers)
        self.writes_in_flight = self.recorder.writes_in_flight
        self.killed_at = time.monotonic()
        os.kill(self.killed, signal.SIGKILL)
        while time.monotonic() - self.killed_at < 30 and not self.stop.is_set():
            now = children(self.master)
            if self.killed not in now and len(now) >= self.workers:
                self.replaced_after = time.monotonic() - self.killed_at
                return
            time.sleep(0.02)


# --- the database ---------------------------------------------------------------------------------------------

def flask_env(url: str, secret: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFERENCE_")}
    return {**env, "DATABASE_URL": url, "SECRET_KEY": secret, "PYTHONUNBUFFERED": "1"}


def flask(args: list[str], url: str, secret: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=flask_env(url, secret),
                          capture_output=True, text=True, timeout=timeout)


def create_postgres_database(url: str) -> None:
    """Create the PostgreSQL database ``url`` names unless it exists (the role must be allowed to)."""
    target = make_url(url)
    engine = create_engine(url)
    try:
        with engine.connect():
            return
    except Exception:  # nosec B110  # the database is missing (or unreachable): try to create it below
        pass
    finally:
        engine.dispose()
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{target.database}" ENCODING \'UTF8\' TEMPLATE template0'))
    finally:
        admin.dispose()


def empty_postgres(url: str) -> None:
    """Create the database when missing (if the role may), then drop everything in it."""
    target = make_url(url)
    if "load" not in (target.database or ""):
        raise SystemExit(f"refusing to empty database {target.database!r}: its name must contain 'load'")
    try:
        create_postgres_database(url)
    except Exception as error:
        raise SystemExit(f"cannot create PostgreSQL database {target.database!r}: {error}") from None
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def build_database(url: str, households: int, secret: str) -> float:
    started = time.perf_counter()
    if url.startswith("postgresql"):
        empty_postgres(url)
    for args in (["init-db"], ["seed-demo", "--households", str(households)]):
        result = flask(args, url, secret)
        if result.returncode != 0:
            raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def app_for(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load-test-check", "TESTING": True})


def pick_meeting(url: str) -> int:
    """The upcoming meeting (not yet held) that invites the most of the demo practitioners' agencies."""
    app = app_for(url)
    with app.app_context():
        agencies = select(User.agency_id).where(User.username.in_(PRACTITIONERS))
        row = db.session.execute(
            select(Meeting.id).join(Invitation, Invitation.meeting_id == Meeting.id)
            .where(Meeting.status.in_([MeetingStatus.PREPARING.value, MeetingStatus.SHARING.value]),
                   Invitation.agency_id.in_(agencies))
            .group_by(Meeting.id, Meeting.starts_at)
            .order_by(func.count().desc(), Meeting.starts_at).limit(1)).first()
        db.engine.dispose()
    if row is None:
        raise SystemExit("no upcoming meeting with invited demo agencies: did seed-demo run?")
    return row[0]


def meeting_status(url: str, meeting_id: int) -> str:
    app = app_for(url)
    with app.app_context():
        status = db.session.get(Meeting, meeting_id).status
        db.engine.dispose()
    return status


# --- checking the writes --------------------------------------------------------------------------------------

@dataclass
class Check:
    acknowledged: Counter = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    integrity: str = ""
    audit: str = ""


def check_writes(url: str, recorder: Recorder, meeting_id: int) -> Check:
    """Every acknowledged write is in the database, and no two acknowledged saves claim the same version."""
    check = Check()
    app = app_for(url)
    with app.app_context():
        users = {u.username: u for u in db.session.execute(select(User)).scalars()}
        items = {i.id: i for i in db.session.execute(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)).scalars()}
        _check_inputs(check, recorder, users)
        _check_case_records(check, recorder, items, meeting_id)
        for write in recorder.acks["pledge"]:
            check.acknowledged["pledge"] += 1
            found = db.session.execute(select(Pledge.id).where(
                Pledge.meeting_id == write["meeting_id"], Pledge.user_id == users[write["username"]].id)).first()
            if found is None:
                check.lost.append(f"pledge of {write['username']} for meeting {write['meeting_id']}")
        db.session.rollback()
        db.engine.dispose()
    return check


def _check_inputs(check: Check, recorder: Recorder, users: dict) -> None:
    """Each acknowledged input save is the revision base_version + 1 of its input, with the text sent."""
    revisions = {}
    for agency_input, revision in db.session.execute(
            select(AgencyInput, InputRevision).join(InputRevision, InputRevision.agency_input_id == AgencyInput.id)):
        revisions[agency_input.agenda_item_id, agency_input.agency_id, revision.version] = json.loads(revision.snapshot)
    for write in recorder.acks["input"]:
        check.acknowledged["input"] += 1
        key = (write["item_id"], users[write["username"]].agency_id, write["base_version"] + 1)
        stored = revisions.get(key)
        if stored is None or stored.get("opinion") != write["opinion"]:
            check.lost.append(f"input {write['marker']} (item {key[0]}, agency {key[1]}, version {key[2]}): "
                              f"stored {None if stored is None else stored.get('opinion')!r}")
    for agency_input in db.session.execute(select(AgencyInput)).scalars():
        versions = sorted(v for (item, agency, v) in revisions if (item, agency) == (
            agency_input.agenda_item_id, agency_input.agency_id))
        if versions != list(range(1, agency_input.version + 1)):
            check.problems.append(f"agency input {agency_input.id}: version {agency_input.version}, "
                                  f"revisions {versions}")


def _check_case_records(check: Check, recorder: Recorder, items: dict, meeting_id: int) -> None:
    """The last acknowledged save of each case record is its stored text; every acknowledged version has exactly
    one audit event (a second one would be a save that overwrote another without noticing)."""
    events = Counter()
    for details, object_id in db.session.execute(select(AuditEvent.details, AuditEvent.object_id).where(
            AuditEvent.action == "minutes.case")):
        data = json.loads(details)
        if data.get("meeting_id") == meeting_id:
            events[int(object_id), data.get("version")] += 1
    by_item = defaultdict(list)
    for write in recorder.acks["case record"]:
        check.acknowledged["case record"] += 1
        by_item[write["item_id"]].append(write)
    interrupted = {w["discussion"] for w in recorder.interrupted_writes["case record"]}
    for item_id, writes in by_item.items():
        item = items[item_id]
        record = db.session.execute(select(CaseRecord).where(CaseRecord.agenda_item_id == item_id)).scalar_one_or_none()
        claimed = Counter(w["base_version"] + 1 for w in writes)
        for version, count in sorted(claimed.items()):
            if count > 1:  # both were told "saved"; one overwrote the other
                check.lost += [f"case record of item {item_id}: {count} acknowledged saves of version {version}"] \
                    * (count - 1)
            elif not events[item.household_id, version]:
                check.lost.append(f"case record of item {item_id}: version {version} acknowledged, not committed")
        last = max(writes, key=lambda w: w["base_version"])
        version = last["base_version"] + 1
        if record is None or record.version < version:
            check.lost.append(f"case record of item {item_id}: acknowledged version {version}, "
                              f"stored {record.version if record else None}")
        elif record.version == version and claimed[version] == 1 and record.discussion != last["discussion"]:
            check.lost.append(f"case record of item {item_id}: stored {record.discussion!r}, "
                              f"last acknowledged {last['discussion']!r}")
        elif record.version > version and record.discussion not in interrupted:
            check.problems.append(f"case record of item {item_id}: version {record.version} stored with text "
                                  f"nobody sent: {record.discussion!r}")
    for item in items.values():
        versions = sorted(version for (household, version), n in events.items() if household == item.household_id
                          for _ in range(n))
        if versions != list(range(1, len(versions) + 1)):
            check.problems.append(f"case record of item {item.id}: audit events for versions {versions}")


def integrity(url: str) -> str:
    """SQLite: PRAGMA integrity_check and foreign_key_check on the file the server wrote."""
    if not url.startswith("sqlite"):
        return "n/a (PostgreSQL: constraints are enforced by the server)"
    connection = sqlite3.connect(make_url(url).database)
    try:
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        orphans = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    if rows != ["ok"]:
        return "; ".join(rows[:5])
    return "ok" if not orphans else f"{len(orphans)} rows break a foreign key, e.g. {orphans[0]}"


def verify_audit(url: str, secret: str) -> tuple[bool, str]:
    result = flask(["verify-audit"], url, secret, timeout=300)
    output = (result.stdout + result.stderr).strip()
    if "No such command" in output:
        return True, "skipped (no verify-audit command)"
    return result.returncode == 0, output.splitlines()[-1] if output else f"exit {result.returncode}"


# --- report ---------------------------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(args, *, backend: str, built: float, recorder: Recorder, elapsed: float, killer: WorkerKiller | None,
           check: Check, audit_ok: bool, server_errors: list[str], baseline: float) -> bool:
    samples = recorder.samples
    statuses = Counter()
    for _kind, status, _started, _seconds in samples:
        statuses["interrupted" if status is None else "5xx" if status >= 500 else "409" if status == 409
                 else "4xx" if status >= 400 else "3xx" if status >= 300 else "2xx"] += 1
    kills = 1 if killer and killer.killed else 0
    print(f"\nLoad and fault test: {backend}, gunicorn --workers {args.workers}, {args.users} users, {args.seconds} s, "
          f"think time 0–{args.think_ms} ms, database built in {built:.1f} s ({args.households} generated households)")
    if killer is not None:
        if killer.killed:
            replaced = f"replaced after {killer.replaced_after:.2f} s" if killer.replaced_after is not None \
                else "NOT replaced within 30 s"
            print(f"worker pid {killer.killed} killed (SIGKILL) at {killer.killed_at - killer.started:.1f} s "
                  f"with {killer.writes_in_flight} write(s) in flight; {replaced}")
        else:
            print("worker kill requested but no worker was found")
    print(f"\n{'kind':<26}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'409':>6}{'5xx':>5}{'cut':>5}")
    by_kind = defaultdict(list)
    for kind, status, _started, seconds in samples:
        by_kind[kind].append((status, seconds))
    for kind in sorted(by_kind, key=lambda k: -len(by_kind[k])):
        rows = by_kind[kind]
        times = [s * 1000 for status, s in rows if status is not None]
        print(f"{kind:<26}{len(rows):>9,}{percentile(times, 0.5) if times else 0:>9.0f}"
              f"{percentile(times, 0.95) if times else 0:>9.0f}{sum(1 for st, _ in rows if st == 409):>6}"
              f"{sum(1 for st, _ in rows if st and st >= 500):>5}{sum(1 for st, _ in rows if st is None):>5}")
    answered = [s * 1000 for _k, status, _t, s in samples if status is not None]
    print(f"{'all':<26}{len(samples):>9,}{percentile(answered, 0.5) if answered else 0:>9.0f}"
          f"{percentile(answered, 0.95) if answered else 0:>9.0f}")
    rate = len(samples) / elapsed
    print(f"\n{len(samples):,} requests in {elapsed:.1f} s: {rate:.1f} req/s"
          + (f" = {rate / baseline:.3f} × hello-world (/healthz, {args.users} clients, no pauses: {baseline:.0f} req/s)"
             if baseline else ""))
    print(f"the simulated users themselves used {recorder.client_cpu:.1f} CPU-seconds of the "
          f"{os.cpu_count()} × {elapsed:.0f} s the machine had")
    print("answers: " + " · ".join(f"{name} {statuses[name]:,}" for name in
                                   ("2xx", "3xx", "409", "4xx", "5xx", "interrupted")))
    refused = {k: len(v) for k, v in recorder.acks.items() if "409" in k}
    print("acknowledged writes: " + " · ".join(f"{k} {v:,}" for k, v in sorted(check.acknowledged.items()))
          + (" · refused as stale: " + " · ".join(f"{k} {v:,}" for k, v in sorted(refused.items())) if refused else ""))
    interrupted = {k: len(v) for k, v in recorder.interrupted_writes.items() if v}
    if interrupted:
        print("interrupted writes (not acknowledged; may or may not be stored): "
              + " · ".join(f"{k} {v}" for k, v in sorted(interrupted.items())))
    print(f"lost writes: {len(check.lost)}")
    for line in check.lost[:20]:
        print(f"  LOST {line}")
    for line in check.problems[:20]:
        print(f"  PROBLEM {line}")
    unexpected = recorder.unexpected
    for line in unexpected[:20]:
        print(f"  UNEXPECTED {line}")
    for line in server_errors[:20]:
        print(f"  SERVER LOG {line}")
    print(f"database integrity check: {check.integrity}")
    print(f"audit chain: {check.audit}")
    failures = []
    if statuses["5xx"]:
        failures.append(f"{statuses['5xx']} answers 5xx")
    if check.lost:
        failures.append(f"{len(check.lost)} lost writes")
    if check.problems:
        failures.append(f"{len(check.problems)} inconsistent records")
    if unexpected:
        failures.append(f"{len(unexpected)} unexpected answers")
    if recorder.not_loopback:
        failures.append(f"{recorder.not_loopback} requests off the loopback address")
    if server_errors:
        failures.append(f"{len(server_errors)} errors in the server log")
    if check.integrity not in ("ok",) and not check.integrity.startswith("n/a"):
        failures.append("integrity check failed")
    if not audit_ok:
        failures.append("audit chain does not verify")
    if statuses["interrupted"] > kills:
        failures.append(f"{statuses['interrupted']} interrupted requests with {kills} worker(s) killed")
    if killer is not None and killer.killed and killer.replaced_after is None:
        failures.append("killed worker not replaced")
    if not check.acknowledged["input"] or not check.acknowledged["case record"]:
        failures.append("no acknowledged input or case record save: the scenario did not run")
    print(f"SUMMARY requests={len(samples)} throughput={len(samples) / elapsed:.1f} 5xx={statuses['5xx']} "
          f"lost_writes={len(check.lost)} acknowledged={sum(check.acknowledged.values())} "
          f"conflicts={statuses['409']} interrupted={statuses['interrupted']} not_loopback={recorder.not_loopback}")
    print("RESULT: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    return not failures


# --- the run --------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql+psycopg://… (its name must contain 'load'; emptied). "
                                               "Default: a new SQLite file in a temp directory")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--households", type=int, default=200, help="generated households (seed-demo --households)")
    parser.add_argument("--think-ms", type=int, default=200, help="longest pause between a user's steps")
    parser.add_argument("--kill-worker", action=argparse.BooleanOptionalAction, default=True,
                        help="SIGKILL one worker halfway through (default: on)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-seconds", type=float, default=3,
                        help="seconds of /healthz before the run, the baseline of the throughput (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file, server log)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.workers < 2:
        raise SystemExit("--workers must be at least 2")
    workdir = Path(tempfile.mkdtemp(prefix="conference-load-"))
    url = args.database_url or f"sqlite:///{workdir / 'load.sqlite'}"
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    secret = secrets.token_hex(32)
    print(f"building the {backend} database …", flush=True)
    built = build_database(url, args.households, secret)
    meeting_id = pick_meeting(url)
    port = free_port()
    log_path = workdir / "gunicorn.log"
    recorder = Recorder()
    users: list[SimulatedUser] = []
    killer = None
    stop = threading.Event()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(args.workers), "--bind", f"{HOST}:{port}", "--timeout", "30",
             "--graceful-timeout", "15", "--no-control-socket", "app:app"],
            cwd=ROOT, env=flask_env(url, secret), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent)  # before any thread is started
    signal.signal(signal.SIGTERM, _stop_run)
    signal.signal(signal.SIGALRM, _stop_run)
    signal.alarm(int(args.seconds + args.baseline_seconds + GRACE + 180))  # the whole run, whatever happens
    try:
        wait_healthy(port, server)
        coordinator = SimulatedUser(0, "coordinator", "coordinator", port=port, recorder=recorder,
                                    meeting_id=meeting_id, seed=args.seed, think_ms=0)
        if not coordinator.login():
            raise SystemExit("the coordinator could not log in")
        start_meeting(coordinator.browser, meeting_id)
        if meeting_status(url, meeting_id) != MeetingStatus.IN_PROGRESS.value:
            raise SystemExit(f"meeting {meeting_id} could not be moved to in_progress")
        baseline = hello_world_rate(port, args.users, args.baseline_seconds) if args.baseline_seconds else 0.0
        for number in range(1, args.users + 1):
            role = MIX[(number - 1) % len(MIX)]
            count = sum(1 for u in users if u.role == "practitioner")
            username = {"practitioner": PRACTITIONERS[count % len(PRACTITIONERS)], "coordinator": "coordinator",
                        "reader": "chair"}[role]
            users.append(SimulatedUser(number, role, username, port=port, recorder=recorder, meeting_id=meeting_id,
                                       seed=args.seed, think_ms=args.think_ms))
        print(f"meeting {meeting_id} in progress; {args.users} users logging in …", flush=True)
        for user in users:
            user.start()
        for user in users:
            user.logged_in.wait(timeout=120)
        started, cpu_started = time.monotonic(), time.process_time()
        hard_stop = started + args.seconds + GRACE
        recorder.measuring = True
        for user in users:
            user.deadline = started + args.seconds
            user.start_work.set()
        if args.kill_worker:
            killer = WorkerKiller(server.pid, port, args.workers, started, started + args.seconds / 2, recorder, stop)
            killer.start()
        print(f"running for {args.seconds:.0f} s …", flush=True)
        time.sleep(max(0.0, started + args.seconds - time.monotonic()))
        for user in users:
            user.stop.set()
        for user in users:
            user.join(timeout=max(0.1, hard_stop - time.monotonic()))
        elapsed = time.monotonic() - started
        recorder.client_cpu = time.process_time() - cpu_started
        recorder.measuring = False
        stuck = [u.name for u in users if u.is_alive()]
        if stuck:
            recorder.note(f"users still running at the hard stop: {', '.join(stuck)}")
        stop.set()
        if killer is not None:
            killer.join(timeout=5)
    except BaseException:
        print(f"aborted; the server's log is kept in {log_path}", file=sys.stderr)
        raise
    finally:
        signal.alarm(0)
        stop.set()
        for user in users:
            user.stop.set()
        stop_server(server)
    log_text = log_path.read_text(errors="replace")
    server_errors = [line for line in log_text.splitlines() if SERVER_ERRORS.search(line)]
    check = check_writes(url, recorder, meeting_id)
    check.integrity = integrity(url)
    audit_ok, check.audit = verify_audit(url, secret)
    ok = report(args, backend=backend, built=built, recorder=recorder, elapsed=elapsed, killer=killer, check=check,
                audit_ok=audit_ok, server_errors=server_errors, baseline=baseline)
    if not ok or args.keep:
        print(f"server log and files kept in {workdir}")
    else:
        for path in sorted(workdir.iterdir()):
            path.unlink()
        workdir.rmdir()
    return 0 if ok else 1


def start_meeting(browser: Browser, meeting_id: int) -> None:
    """The coordinator starts the meeting (회의 중) from its run page, confirming the day as the page asks when the
    meeting is on another day."""
    page = browser.get(f"/meetings/{meeting_id}/run", "meeting run")
    form = form_with(page, "csrf_token", action="/run/start") if page and page.status == 200 else None
    if form is not None:
        browser.post(f"/meetings/{meeting_id}/run/start", "meeting start", [*form.data(), ("confirm_day", "1")])


if __name__ == "__main__":
    sys.exit(main())
