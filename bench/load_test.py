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
import html
import http.client
import ipaddress
import json
import os
import pwd
import random
import re
import secrets
import shutil
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
from conference.config import Defaults  # noqa: E402
from conference.extensions import db  # noqa: E402
from conference.models import (AgendaItem, AgencyInput, AuditEvent, CaseRecord, Household, Invitation,  # noqa: E402
                               Meeting, MeetingStatus, Pledge, Role, User)
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
#: The body of nginx's own 502, for a request whose app server connection broke (see NGINX_CONF).
NGINX_CUT = "conference-load-test: upstream connection cut"
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
        if response.status == 502 and NGINX_CUT.encode() in content:
            # nginx's own answer for a request whose app server connection broke (a killed worker): cut, as a
            # broken connection is without nginx; never an answer of the app
            self.recorder.sample(kind, None, started, time.perf_counter() - started)
            return None
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


# --- the app servers and nginx -------------------------------------------------------------------------------

#: Starts a program that is sent SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG survives exec):
#: no server outlives this script, even one restarted while the simulated users' threads run.
DIE_WITH_PARENT = ("import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
                   "os.execv(sys.argv[1], sys.argv[1:])")


def start_process(command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    with open(log_path, "a") as log:
        return subprocess.Popen([sys.executable, "-c", DIE_WITH_PARENT, *command], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


class AppServer:
    """One app server: gunicorn with ``workers`` workers on a loopback port of its own."""

    def __init__(self, number: int, workers: int, workdir: Path, env: dict):
        self.number, self.workers, self.env = number, workers, env
        self.port = free_port()
        self.log_path = workdir / f"gunicorn-{number}.log"
        self.process: subprocess.Popen | None = None

    def start(self):
        self.process = start_process(
            [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"{HOST}:{self.port}", "--timeout",
             "30", "--graceful-timeout", "15", "--no-control-socket", "app:app"], self.env, self.log_path)
        wait_healthy(self.port, self.process)

    @property
    def master(self) -> int:
        return self.process.pid

    def stop(self):
        stop_server(self.process)


NGINX_CONF = """# written by bench/load_test.py
{user}pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
daemon off;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {workdir}/nginx-body;
    proxy_temp_path {workdir}/nginx-proxy;
    fastcgi_temp_path {workdir}/nginx-fastcgi;
    uwsgi_temp_path {workdir}/nginx-uwsgi;
    scgi_temp_path {workdir}/nginx-scgi;
    upstream conference {{
{servers}
    }}
    server {{
        listen {host}:{port};
        client_max_body_size 20m;
        location / {{
            proxy_pass http://conference;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            error_page 502 = @cut;
        }}
        location @cut {{
            return 502 "{cut}";
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        raise SystemExit("--servers needs nginx (Debian: apt-get install nginx; .ci/run installs it)")
    return found


class Nginx:
    """nginx on a loopback port of its own, balancing over the app servers; a server can be taken out of the
    rotation and put back (``nginx -s reload``: requests under way finish on the old configuration)."""

    def __init__(self, workdir: Path, servers: list[AppServer]):
        self.workdir, self.servers = workdir, servers
        self.port = free_port()
        self.conf = workdir / "nginx.conf"
        self.log_path = workdir / "nginx.log"
        self.process: subprocess.Popen | None = None

    def write(self, down: AppServer | None = None):
        lines = "\n".join(f"        server {HOST}:{s.port} max_fails=1 fail_timeout=2s{' down' if s is down else ''};"
                          for s in self.servers)
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        self.conf.write_text(NGINX_CONF.format(user=user, workdir=self.workdir, servers=lines, host=HOST,
                                               port=self.port, cut=NGINX_CUT))

    def start(self):
        self.write()
        self.process = start_process([nginx_binary(), "-p", str(self.workdir), "-c", str(self.conf)], os.environ,
                                     self.log_path)
        wait_healthy(self.port, self.process)

    def reload(self, down: AppServer | None = None, seconds: float = 30):
        """Rewrite the configuration and reload it; return once the workers of the old one have finished."""
        old = set(children(self.process.pid))
        self.write(down)
        os.kill(self.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = set(children(self.process.pid))
            if now and not now & old:
                return
            time.sleep(0.05)
        raise SystemExit("nginx did not reload")

    def stop(self):
        if self.process is not None:
            stop_server(self.process)


@dataclass
class Restart:
    """One app server restarted during the run: taken out of nginx's rotation, stopped, started, put back."""

    server: int
    at: float = 0.0
    out_of_rotation: float = 0.0
    stopped_for: float = 0.0


def restart_server(nginx: Nginx, server: AppServer, started: float) -> Restart:
    restart = Restart(server.number, at=time.monotonic() - started)
    left = time.monotonic()
    nginx.reload(down=server)  # new requests go to the others; the ones under way finish
    stopped = time.monotonic()
    server.stop()
    server.start()
    restart.stopped_for = time.monotonic() - stopped
    nginx.reload()
    restart.out_of_rotation = time.monotonic() - left
    return restart


# --- one server's change seen by the other ----------------------------------------------------------------------

def _signed_in(port: int, recorder: Recorder, username: str, name: str) -> Browser | None:
    user = SimulatedUser(0, "check", username, port=port, recorder=recorder, meeting_id=0, seed=0, think_ms=0)
    user.browser.name = name
    return user.browser if user.login() else None


def cross_server_checks(servers: list[AppServer], url: str) -> list[str]:
    """Straight to two app servers (not through nginx): a kept case file changed on one is fresh on the other, a
    logout on one holds on the other, and a login lockout on one holds on the other. Returns what failed."""
    recorder = Recorder()
    first, second = servers[0].port, servers[1].port
    failures = []
    household = first_household(url)
    readers = {port: _signed_in(port, recorder, "coordinator", f"check-{port}") for port in (first, second)}
    if None in readers.values():
        return ["the coordinator could not log in on both servers"]
    for turn in range(4):
        writer_port, reader_port = (first, second) if turn % 2 == 0 else (second, first)
        reader, writer = readers[reader_port], readers[writer_port]
        for _ in range(3):  # each of the reading server's workers keeps its own copy
            reader.get(f"/cases/{household}", "kept page")
        form = form_with(writer.get(f"/cases/{household}/edit", "case edit"), "note")
        if form is None:
            return failures + ["no case edit form"]
        note = f"부하시험 메모 {turn}-{secrets.token_hex(3)}"
        form.set("note", note)
        answer = writer.post(f"/cases/{household}/edit", "case edit", form.data())
        if not answer or answer.status != 302:
            failures.append(f"the case edit on port {writer_port} was not saved ({answer and answer.status})")
            continue
        for _ in range(3):
            page = reader.get(f"/cases/{household}", "kept page")
            if not page or html.escape(note) not in page.text:
                failures.append(f"case file on port {reader_port} stale after a change on port {writer_port}")
                break

    chair = _signed_in(first, recorder, "chair", "check-logout")
    if chair is None:
        return failures + ["the chair could not log in"]
    on_second = Browser(second, recorder, "check-logout")  # the same browser (a login is bound to its User-Agent)
    on_second.cookies = dict(chair.cookies)
    home = on_second.get("/home", "home")
    if not home or home.status != 200:
        failures.append("a login made on one server is not valid on the other")
    form = form_with(chair.get("/home", "home"), "csrf_token", action="/logout")
    chair.post("/logout", "logout", form.data() if form else [])
    after = on_second.get("/home", "home")
    if not after or after.status != 302 or "/login" not in after.location:
        failures.append("a logout on one server does not hold on the other (the old cookie still opens /home)")

    failures += _lockout_holds(first, second, recorder)
    failures += [f"unexpected answer during the checks: {line}" for line in recorder.unexpected
                 if "POST /login" not in line]
    return failures


def _lockout_holds(first: int, second: int, recorder: Recorder) -> list[str]:
    """Wrong passwords for ``admin`` on one server until it is locked; then the right one on the other."""
    limit = Defaults.LOGIN_MAX_FAILURES
    browser = Browser(first, recorder, "check-lockout")
    for _ in range(limit):
        form = form_with(browser.get("/login", "login"), "username")
        form.set("username", "admin")
        form.set("password", "wrong-password")
        browser.post("/login", "login", form.data())
    elsewhere = Browser(second, recorder, "check-lockout-2")
    form = form_with(elsewhere.get("/login", "login"), "username")
    form.set("username", "admin")
    form.set("password", demo.DEFAULT_PASSWORD)
    answer = elsewhere.post("/login", "login", form.data())
    if not answer or answer.status == 302:
        return ["a login lockout on one server does not hold on the other"]
    return []


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


def first_household(url: str) -> int | None:
    app = app_for(url)
    with app.app_context():
        found = db.session.execute(select(func.min(Household.id))).scalar()
        db.engine.dispose()
    return found


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
           check: Check, audit_ok: bool, server_errors: list[str], baseline: float, restart: Restart | None = None,
           cross: list[str] | None = None) -> bool:
    samples = recorder.samples
    statuses = Counter()
    for _kind, status, _started, _seconds in samples:
        statuses["interrupted" if status is None else "5xx" if status >= 500 else "409" if status == 409
                 else "4xx" if status >= 400 else "3xx" if status >= 300 else "2xx"] += 1
    kills = 1 if killer and killer.killed else 0
    servers = f"{args.servers} app servers (gunicorn --workers {args.workers} each) behind nginx" if args.servers > 1 \
        else f"gunicorn --workers {args.workers}"
    print(f"\nLoad and fault test: {backend}, {servers}, {args.users} users, {args.seconds} s, "
          f"think time 0–{args.think_ms} ms, database built in {built:.1f} s ({args.households} generated households)")
    if killer is not None:
        if killer.killed:
            replaced = f"replaced after {killer.replaced_after:.2f} s" if killer.replaced_after is not None \
                else "NOT replaced within 30 s"
            print(f"worker pid {killer.killed} killed (SIGKILL) at {killer.killed_at - killer.started:.1f} s "
                  f"with {killer.writes_in_flight} write(s) in flight; {replaced}")
        else:
            print("worker kill requested but no worker was found")
    if restart is not None:
        print(f"app server {restart.server} restarted at {restart.at:.1f} s: out of nginx's rotation for "
              f"{restart.out_of_rotation:.1f} s, stopped for {restart.stopped_for:.1f} s")
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
    if cross is not None:
        print("between the servers (kept page after a change, logout, login lockout): "
              + ("held" if not cross else "; ".join(cross)))
    failures = []
    if cross:
        failures.append(f"{len(cross)} checks between the servers failed")
    if args.servers > 1 and args.restart_server and restart is None:
        failures.append("no app server was restarted")
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
    print(f"SUMMARY servers={args.servers} requests={len(samples)} throughput={len(samples) / elapsed:.1f} 5xx={statuses['5xx']} "
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
    parser.add_argument("--servers", type=int, default=1,
                        help="app servers (gunicorn each) behind nginx; more than one needs PostgreSQL")
    parser.add_argument("--restart-server", action=argparse.BooleanOptionalAction, default=True,
                        help="with --servers 2: restart the last app server at 60%% of the run (default: on)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-seconds", type=float, default=3,
                        help="seconds of /healthz before the run, the baseline of the throughput (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file, server log)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.workers < 2:
        raise SystemExit("--workers must be at least 2")
    if args.servers > 1 and not (args.database_url or "").startswith("postgresql"):
        raise SystemExit("--servers 2 needs --database-url postgresql+psycopg://… (the servers share one database)")
    workdir = Path(tempfile.mkdtemp(prefix="conference-load-"))
    url = args.database_url or f"sqlite:///{workdir / 'load.sqlite'}"
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    secret = secrets.token_hex(32)
    print(f"building the {backend} database …", flush=True)
    built = build_database(url, args.households, secret)
    meeting_id = pick_meeting(url)
    env = flask_env(url, secret)
    if args.servers > 1:
        env["CONFERENCE_TRUSTED_PROXIES"] = "1"  # behind nginx, as deployed (README "Several app servers")
    servers = [AppServer(number, args.workers, workdir, env) for number in range(1, args.servers + 1)]
    nginx = Nginx(workdir, servers) if args.servers > 1 else None
    recorder = Recorder()
    users: list[SimulatedUser] = []
    killer, restart, cross = None, None, None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, _stop_run)
    signal.signal(signal.SIGALRM, _stop_run)
    signal.alarm(int(args.seconds + args.baseline_seconds + GRACE + 240))  # the whole run, whatever happens
    try:
        for server in servers:
            server.start()
        if nginx is not None:
            nginx.start()
        port = nginx.port if nginx is not None else servers[0].port
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
            first = servers[0]
            killer = WorkerKiller(first.master, first.port, args.workers, started, started + args.seconds / 2,
                                  recorder, stop)
            killer.start()
        print(f"running for {args.seconds:.0f} s …", flush=True)
        if nginx is not None and args.restart_server:
            time.sleep(max(0.0, started + args.seconds * 0.6 - time.monotonic()))
            restart = restart_server(nginx, servers[-1], started)  # in this thread: its servers live as long
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
        if nginx is not None:
            cross = cross_server_checks(servers, url)
    except BaseException:
        print(f"aborted; the servers' logs are kept in {workdir}", file=sys.stderr)
        raise
    finally:
        signal.alarm(0)
        stop.set()
        for user in users:
            user.stop.set()
        if nginx is not None:
            nginx.stop()
        for server in servers:
            server.stop()
    server_errors = [line for server in servers for line in server.log_path.read_text(errors="replace").splitlines()
                     if SERVER_ERRORS.search(line)]
    check = check_writes(url, recorder, meeting_id)
    check.integrity = integrity(url)
    audit_ok, check.audit = verify_audit(url, secret)
    ok = report(args, backend=backend, built=built, recorder=recorder, elapsed=elapsed, killer=killer, check=check,
                audit_ok=audit_ok, server_errors=server_errors, baseline=baseline, restart=restart, cross=cross)
    if not ok or args.keep:
        print(f"server logs and files kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
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
