"""Fixtures: a fresh app and database per test, clients, a login helper and factories.

The schema comes from the migrations, applied once per run to a template database; each test gets
a copy of it (SQLite) or an emptied database (PostgreSQL, set CONFERENCE_TEST_DATABASE_URL).
Under pytest-xdist (`make test` runs `-n auto`) each worker has its own template and, on PostgreSQL, its own
database: the configured name + "_gw0", "_gw1", … (created when missing; the role needs CREATEDB).

How fixtures are shared: a fixture is defined once and asked for by name in a test's arguments, never imported.
The app, database, clients and accounts (``app``, ``client``, ``auth``, ``admin``, ``as_admin`` …) live here; the
rest lives in the helper modules registered once, in ``pytest_plugins`` below: ``factories`` (``web``, ``staff``,
``make_case``, ``make_meeting``, ``add_item``), ``factories_cases`` (``make_household``) and ``factories_world`` (the
demo city: ``world``, ``seeded``; a test process seeds it once a day and writes its rows back for the next test that
asks, ``seed_once``). Put a new shared fixture in the module of its subject (a new module goes into
``pytest_plugins``); keep one that a single test file needs in that file, under a name no shared fixture has
unless it replaces that fixture for the file on purpose (test_i18n's ``client``). Plain helper functions
(``text``, ``flashes``, ``login`` …) are imported from those modules as usual.
"""
import atexit
import contextvars
import hashlib
import os
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import Pool
from werkzeug.routing import Rule

from bench.load_test import create_postgres_database
from conference import create_app
from conference.admin import services as account_services
from conference.extensions import db
from conference.models import Agency, LoginSession, Role, Sector, User

#: The fixtures of these helper modules are available to every test (pytest rewrites their asserts too).
pytest_plugins = ["factories", "factories_cases", "factories_world"]
#: A helper module without fixtures, imported by tests: rewritten so its failing asserts explain themselves.
pytest.register_assert_rewrite("hostile_uploads")

PASSWORD = "correct-horse-battery"
#: The PostgreSQL database named by the environment: the load test makes its own beside it.
BASE_POSTGRES_URL = os.environ.get("CONFERENCE_TEST_DATABASE_URL")


def _worker_database(url: str | None) -> str | None:
    """This pytest-xdist worker's own database (the configured one when run without workers)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    target = make_url(url)
    return target.set(database=f"{target.database}_{worker}").render_as_string(hide_password=False)


POSTGRES_URL = _worker_database(BASE_POSTGRES_URL)

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
    "SERVER_NAME": None,
    # On by default (tests/test_two_factor.py shows it); most tests sign the admin in with a password only.
    "TWO_FACTOR_REQUIRED_FOR_ADMINS": False,
}


def pytest_collection_modifyitems(items):
    """Tests marked ``slow`` run first: the two workers (``--dist worksteal`` in the Makefile) then share the short
    ones at the end, instead of one worker finishing a long test while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class SeparateContextClient(FlaskClient):
    """A test client whose every request runs in its own application context, as on a real server.

    The ``app`` fixture keeps an application context pushed for the whole test body, and Flask would reuse
    it for test-client requests: ``g`` (where Flask-Login caches the user) and ``db.session`` would then be
    shared by every client and request. Before each request the test's own session is committed, which also
    ends the transaction a read outside a request holds (on SQLite that is a write lock, BEGIN IMMEDIATE).
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory for every app this test process makes.

    Each test makes its own app, and each app's Jinja environment would compile every template it renders again
    (a seventh of the suite's time). The code of a template depends only on its source and the environment's
    options, which are the same for every app; Jinja checks the source's checksum before using a stored copy.
    """

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def _build_url_builders_once():
    """Werkzeug compiles two Python functions per URL rule when an app registers it (a fifth of the suite's time,
    as every test makes its own app). Such a function depends only on the rule's text and parts and takes the rule
    as its first argument, so this test process compiles each once and every app's rule is bound to it. Rules with
    defaults are compiled as usual (their defaults are written into the code)."""
    compile_builder = Rule._compile_builder
    compiled = {}

    def compile_once(self, append_unknown=True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = compile_once


_build_url_builders_once()

#: One SQL dialect and compiled-statement cache per database driver, for every app this test process makes.
_COMPILED_SQL: dict[str, tuple] = {}


def _share_compiled_sql(app):
    """SQLAlchemy keeps the SQL it compiled per engine, keyed by the engine's dialect object; each test's app has a
    new engine, so every statement was compiled again in every test (a quarter of the suite's time). Engines of one
    driver made with the same options (every app here) can share a dialect and that cache."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.url.drivername not in _COMPILED_SQL:
                # The dialect learns the server's version on its engine's first connection; later engines that
                # share it never make that first connection for it (test_app.py alone met an uninitialised one).
                with engine.connect():
                    pass
            dialect, cache = _COMPILED_SQL.setdefault(engine.url.drivername, (engine.dialect, engine._compiled_cache))
            engine.dialect = engine.pool._dialect = dialect
            engine._compiled_cache = cache


#: The connections to this test process's PostgreSQL database, shared by the engine of every app it makes: a new
#: connection per test cost its log-in (SCRAM) and lost the statements the server had prepared.
_POSTGRES_POOL: list[Pool] = []


def _share_postgres_connections(app):
    """Give the app's engine the process's pool of connections to POSTGRES_URL (made by the first app's engine)."""
    with app.app_context():
        if not POSTGRES_URL or db.engine.url.render_as_string(hide_password=False) != POSTGRES_URL:
            return
        if not _POSTGRES_POOL:
            _POSTGRES_POOL.append(db.engine.pool)
        db.engine.pool = _POSTGRES_POOL[0]


def make_app(database_uri: str, **overrides):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_uri, **overrides})
    app.test_client_class = SeparateContextClient
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    _share_compiled_sql(app)
    _share_postgres_connections(app)
    return app


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """Apply the migrations once: to a template SQLite file, or to the PostgreSQL test database."""
    if POSTGRES_URL:
        create_postgres_database(POSTGRES_URL)
        app = make_app(POSTGRES_URL)
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            db.engine.dispose()
        return None
    path = _sqlite_folder(tmp_path_factory) / "template.sqlite"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


_SQLITE_FOLDER: list[Path] = []


def _sqlite_folder(tmp_path_factory) -> Path:
    """Where this test process keeps its SQLite files: in memory (/dev/shm) when the machine has it, where closing
    a database (SQLite's checkpoint writes it through) costs no disk flush; otherwise pytest's temporary folder."""
    if not _SQLITE_FOLDER:
        if os.access("/dev/shm", os.W_OK):
            folder = Path(tempfile.mkdtemp(prefix="conference-tests-", dir="/dev/shm"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        else:
            folder = tmp_path_factory.mktemp("databases")
        _SQLITE_FOLDER.append(folder)
    return _SQLITE_FOLDER[0]


def _copy_sqlite(source, target):
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _empty_postgres():
    """Delete every row and restart the id sequences, as TRUNCATE … RESTART IDENTITY would.

    DELETE, children first, takes ~10 ms here; TRUNCATE of the same tables ~0.5 s (new files and
    fsyncs), which was most of the PostgreSQL run's time. TRUNCATE stays as the fallback.
    """
    tables = db.metadata.sorted_tables
    db.session.remove()
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(_emptying_sql(conn, tables))
    except IntegrityError:
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))


def _emptying_sql(conn, tables) -> str:
    """The statements of ``_empty_postgres`` as one string: the server runs them in one round trip."""
    quote = conn.dialect.identifier_preparer.format_table
    return "".join(f"DELETE FROM {quote(table)};" for table in reversed(tables)) + (
        "SELECT setval(format('%%I.%%I', schemaname, sequencename)::regclass, start_value, false) "  # %% for psycopg
        "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL")


@pytest.fixture
def database_uri(template_database, tmp_path_factory):
    if POSTGRES_URL:
        yield POSTGRES_URL
        return
    handle, name = tempfile.mkstemp(suffix=".sqlite", dir=_sqlite_folder(tmp_path_factory))
    os.close(handle)
    _copy_sqlite(template_database, name)
    yield f"sqlite:///{name}"
    for leftover in (name, f"{name}-wal", f"{name}-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)


@pytest.fixture
def app(database_uri):
    app = make_app(database_uri)
    with app.app_context():
        yield app
        if POSTGRES_URL:
            _empty_postgres()
        db.session.remove()
        db.engine.dispose(close=not POSTGRES_URL)  # the PostgreSQL connections stay for the next test


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username, password=PASSWORD, next_url=None):
        url = "/login" + (f"?next={next_url}" if next_url else "")
        return self._client.post(url, data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


def is_logged_in(client) -> bool:
    """Whether the client's session still opens a page behind login (else it is sent to the login page)."""
    response = client.get("/home")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    return False


def login_session_of(client) -> LoginSession | None:
    """The server's row of the login in the client's session cookie (None when the cookie names none)."""
    with client.session_transaction() as session:
        login_id = session.get("_user_id", "")
    _user_id, _sep, key = login_id.partition(":")
    db.session.expire_all()
    return db.session.get(LoginSession, hashlib.sha256(key.encode()).hexdigest()) if key else None


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def after_midnight_in_seoul():
    """00:30 on 25 November in Seoul, while a server on UTC still says 24 November (15:30).

    Every "today" a user sees or a rule checks is the city's day; tests that run in this hour used to fail.
    Request it before any fixture that logs in: a session signed later than the moved clock is refused.
    """
    with time_machine.travel(datetime(2026, 11, 24, 15, 30, tzinfo=UTC), tick=True) as traveller:
        yield traveller


@pytest.fixture
def make_agency(app):
    counter = iter(range(1, 10_000))

    def factory(name=None, sector=Sector.OTHER, is_public=True, **values) -> Agency:
        agency = Agency(name=name or f"기관{next(counter)}", sector=sector.value if hasattr(sector, "value") else sector,
                        is_public=is_public, **values)
        db.session.add(agency)
        db.session.commit()
        return agency

    return factory


@pytest.fixture
def make_user(app, make_agency):
    def factory(username, role=Role.PRACTITIONER, agency=None, password=PASSWORD, **values) -> User:
        agency = agency or make_agency()
        user = account_services.create_user(
            by=None, username=username, display_name=values.pop("display_name", username.title()),
            agency_id=agency.id, role=Role(role).value, password=password,
            must_change_password=values.pop("must_change_password", False), **values)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def admin(make_user):
    return make_user("admin1", Role.ADMIN)


@pytest.fixture
def as_admin(client, auth, admin):
    """The ``client`` signed in as the administrator ``admin1``."""
    response = auth.login("admin1")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def coordinator(make_user):
    return make_user("coord1", Role.COORDINATOR)
