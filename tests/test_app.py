"""Configuration, database connection settings, error pages, security headers and the schema."""
import os
import sqlite3
import threading
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import POSTGRES_URL, make_app
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

import conference
from conference.config import DEV_SECRET_KEY
from conference.core import database
from conference.core.database import SQLITE_MMAP_BYTES, WRITE_LOCK, WriteInReadTransaction
from conference.extensions import db
from conference.models import Agency, LoginThrottle, User

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite connection settings")


# --- configuration --------------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No configuration from the environment, and an empty instance folder of our own."""
    for name in list(os.environ):
        if name.startswith(("CONFERENCE_", "FLASK_")) or name in ("SECRET_KEY", "DATABASE_URL"):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    return instance


def test_refuses_to_start_without_a_secret_key(clean_environment):
    with pytest.raises(conference.ConfigurationError) as raised:
        conference.create_app()
    message = str(raised.value)
    assert "SECRET_KEY" in message and "SECRET_KEY가 설정되지 않았습니다" in message
    assert "instance/config.py" in message


def test_refuses_the_placeholder_key(clean_environment, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(conference.ConfigurationError):
        conference.create_app()


def test_refuses_an_empty_key_from_the_instance_file(clean_environment):
    clean_environment.mkdir()
    (clean_environment / "config.py").write_text('SECRET_KEY = ""\n')
    with pytest.raises(conference.ConfigurationError):
        conference.create_app()


def test_demo_mode_starts_with_the_placeholder_key(clean_environment, monkeypatch):
    monkeypatch.setenv("CONFERENCE_DEMO", "true")
    app = conference.create_app()
    assert app.config["DEMO"] is True
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(clean_environment / "conference.sqlite")
    response = app.test_client().get("/login")
    assert response.status_code == 200 and "로그인" in response.get_data(as_text=True)


def test_debug_mode_starts_with_the_placeholder_key(clean_environment, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert conference.create_app().debug is True


@pytest.mark.parametrize("variable", ["SECRET_KEY", "CONFERENCE_SECRET_KEY"])
def test_secret_key_from_the_environment(clean_environment, monkeypatch, variable):
    monkeypatch.setenv(variable, "a-long-random-production-key")
    app = conference.create_app()
    assert app.config["SECRET_KEY"] == "a-long-random-production-key"
    assert app.config["DEMO"] is False


def test_secret_key_from_the_instance_file(clean_environment):
    clean_environment.mkdir()
    (clean_environment / "config.py").write_text('SECRET_KEY = "from-the-instance-file"\n')
    assert conference.create_app().config["SECRET_KEY"] == "from-the-instance-file"


@pytest.mark.parametrize("url, expected", [
    ("postgresql://u:p@127.0.0.1/db", "postgresql+psycopg://u:p@127.0.0.1/db"),
    ("postgres://u:p@127.0.0.1:5433/db", "postgresql+psycopg://u:p@127.0.0.1:5433/db"),
    ("sqlite:////srv/conference/data.sqlite", "sqlite:////srv/conference/data.sqlite"),
])
def test_database_url_from_the_environment(clean_environment, monkeypatch, url, expected):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-key")
    monkeypatch.setenv("DATABASE_URL", url)
    app = conference.create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected
    with app.app_context():
        assert db.engine.url.render_as_string(hide_password=False) == expected


def test_test_config_replaces_the_environment(clean_environment, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = make_app("sqlite://")
    assert app.config["SECRET_KEY"] == "test-secret-key"


# --- the database connection ------------------------------------------------------------------------


@sqlite_only
def test_sqlite_connection_settings(app):
    pragmas = {name: db.session.execute(text(f"PRAGMA {name}")).scalar()
               for name in ("journal_mode", "foreign_keys", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


def test_an_sqlite_file_is_read_through_a_shared_memory_map(tmp_path):
    """Every connection maps the file (the OS page cache, shared by the workers) instead of reading each page into
    its own small cache: the lists' consent checks at 500,000 households read pages far apart."""
    app = make_app(f"sqlite:///{tmp_path / 'city.sqlite'}")
    with app.app_context():
        db.create_all()
        assert db.session.execute(text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_BYTES > 1_000_000_000
        db.session.rollback()
        db.engine.dispose()


def test_foreign_keys_are_enforced(app):
    db.session.add(User(username="orphan", display_name="고아", agency_id=999_999, role="practitioner",
                        password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _other_writer_is_locked_out(database_file) -> bool:
    """Whether a second connection, not willing to wait, is refused the write lock right now."""
    other = sqlite3.connect(database_file, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


@sqlite_only
@pytest.mark.parametrize("method, path, takes_lock", [
    (None, None, True), ("POST", "/", True), ("GET", "/", False),
    ("GET", "/notifications/1", True),  # following a notification marks it read (writes_on_get)
])
def test_write_transactions_take_the_sqlite_lock_at_begin(app, method, path, takes_lock):
    database_file = db.engine.url.database
    db.session.rollback()
    assert not _other_writer_is_locked_out(database_file)
    if method is None:
        db.session.execute(text("SELECT 1"))  # a read, outside any request
        assert _other_writer_is_locked_out(database_file) is takes_lock
    else:
        with app.test_request_context(path, method=method):
            db.session.execute(text("SELECT 1"))
            assert _other_writer_is_locked_out(database_file) is takes_lock
    db.session.rollback()
    assert not _other_writer_is_locked_out(database_file)


class _LockHolder:
    """Another process's connection holding SQLite's write lock, and a stand-in for ``time`` in the database module
    that lets go of the lock after ``release_after`` pauses (never, if None): a writer's tries, without waiting."""

    def __init__(self, database_file, release_after: int | None):
        self.other = sqlite3.connect(database_file, timeout=0, isolation_level=None)
        self.other.execute("BEGIN IMMEDIATE")
        self.release_after, self.pauses, self.clock = release_after, [], 0.0

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.clock += seconds
        if len(self.pauses) == self.release_after:
            self.other.execute("ROLLBACK")

    def monotonic(self):
        return self.clock


@sqlite_only
def test_a_write_tries_for_the_sqlite_lock_again_after_short_pauses(app, monkeypatch):
    """SQLite's own busy handler sleeps 1 ms and more between tries, however briefly the lock is held: the app
    tries again after 50 µs, then 100, 200 … up to 5 ms, and its busy timeout is back at 5 s once it holds the lock."""
    db.session.rollback()
    holder = _LockHolder(db.engine.url.database, release_after=8)
    monkeypatch.setattr(database, "time", holder)
    with db.engine.connect().execution_options(**{WRITE_LOCK: True}) as connection, connection.begin():
        connection.execute(text("UPDATE data_version SET version = version"))
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    assert holder.pauses == [0.00005, 0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.005]
    holder.other.close()


@sqlite_only
def test_a_write_still_gives_up_after_the_busy_timeout(app, monkeypatch):
    db.session.rollback()
    holder = _LockHolder(db.engine.url.database, release_after=None)
    monkeypatch.setattr(database, "time", holder)
    with pytest.raises(sqlite3.OperationalError, match="locked"), \
            db.engine.connect().execution_options(**{WRITE_LOCK: True}) as connection, connection.begin():
        pass
    assert 5.0 <= holder.clock < 5.01 and max(holder.pauses) == 0.005
    holder.other.execute("ROLLBACK")
    holder.other.close()
    with db.engine.connect() as connection:  # the pooled connection waits as configured again
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000


@sqlite_only
def test_a_write_in_a_read_only_request_transaction_fails_under_test(app):
    """SQLite cannot turn a GET's read transaction into a write once another request has written ("database
    is locked" at once): under test such a write fails every time, so a GET view that writes must say so."""
    db.session.add(LoginThrottle(username="counter", failures=0))
    db.session.commit()
    with app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))
        with pytest.raises(WriteInReadTransaction, match="UPDATE login_throttle"):
            db.session.execute(text("UPDATE login_throttle SET failures = 1"))
        db.session.rollback()
    with app.test_request_context("/", method="POST"):
        db.session.execute(text("UPDATE login_throttle SET failures = 1"))
        db.session.commit()
    assert db.session.execute(text("SELECT failures FROM login_throttle")).scalar() == 1


@sqlite_only
def test_concurrent_read_then_write_neither_fails_nor_loses_updates(app):
    """Two writers each read a counter and write it back 20 times: the second waits, it does not fail.

    With a plain (deferred) BEGIN the two would read the same value and one would either fail with
    "database is locked" when upgrading to a write, or overwrite the other's update.
    """
    db.session.add(LoginThrottle(username="counter", failures=0))
    db.session.commit()
    errors = []
    start = threading.Barrier(2)

    def worker():
        try:
            with app.app_context():
                start.wait(timeout=10)
                for _ in range(20):
                    row = db.session.execute(
                        db.select(LoginThrottle).where(LoginThrottle.username == "counter")).scalar_one()
                    row.failures += 1
                    db.session.commit()
        except Exception as error:  # reported below; a thread's exception would otherwise be lost
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    db.session.expire_all()
    counter = db.session.execute(db.select(LoginThrottle).where(LoginThrottle.username == "counter")).scalar_one()
    assert counter.failures == 40


# --- error pages ------------------------------------------------------------------------------------


def test_404_page_is_korean(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "찾는 페이지가 없습니다." in page and 'lang="ko"' in page


def test_403_page_is_korean(client, auth, coordinator):
    auth.login("coord1")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "이 페이지를 볼 권한이 없습니다." in response.get_data(as_text=True)


def test_405_page_is_korean(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "허용되지 않는 요청 방식입니다." in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/cases/99999999999999999999", "/meetings/2147483648",
                                 "/meetings/9223372036854775808/inputs/1", "/actions/10000000000000000000000"])
def test_an_id_no_database_column_holds_is_not_found(client, auth, coordinator, url):
    """Found by tests/test_fuzz.py: such ids reached the database and failed there (OverflowError, 500)."""
    auth.login("coord1")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("method, url, data", [
    ("GET", "/login?next=/home%00", None),
    ("POST", "/login", {"username": "coord1\x00", "password": "x"}),
    ("POST", "/login", {"username\x00": "coord1", "password": "x"}),
])
def test_a_nul_character_is_refused(client, coordinator, method, url, data):
    """Found by tests/test_fuzz.py: PostgreSQL cannot store NUL in text, so it ended as a database error."""
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400
    assert db.session.execute(db.select(LoginThrottle)).first() is None


@pytest.fixture
def failing_app(database_uri, app):
    """An app with a route that changes data and then fails, and exceptions not propagated to the test."""
    failing = make_app(database_uri, PROPAGATE_EXCEPTIONS=False)
    seen_after_error = []

    def boom():
        db.session.add(Agency(name="반쯤 만든 기관"))
        db.session.flush()
        raise RuntimeError("secret internal detail 42")

    def look_after_error(response):
        # Runs after the error handler, in the same request: is the half-done change still there?
        seen_after_error.append(db.session.execute(
            db.select(Agency.id).where(Agency.name == "반쯤 만든 기관")).first())
        return response

    failing.add_url_rule("/boom", "boom", boom, methods=["GET", "POST"])
    failing.after_request(look_after_error)
    failing.seen_after_error = seen_after_error
    db.session.commit()  # the SQLite write lock must be free for the other app
    yield failing
    with failing.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_500_page_is_korean_and_rolls_back(failing_app, method):
    response = failing_app.test_client().open("/boom", method=method)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "일시적인 오류가 발생했습니다." in page and 'lang="ko"' in page
    assert "Traceback" not in page and "secret internal detail" not in page and "RuntimeError" not in page
    assert failing_app.seen_after_error == [None]
    assert db.session.execute(db.select(Agency.id).where(Agency.name == "반쯤 만든 기관")).first() is None


# --- security headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login", "/no-such-page"])
def test_security_headers(client, url):
    headers = client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # only over HTTPS


def test_pages_behind_login_are_not_cached(client, auth, coordinator):
    auth.login("coord1")
    assert client.get("/home").headers["Cache-Control"] == "no-store"


def test_hsts_over_https(client):
    headers = client.get("/login", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_session_cookie_flags(client, auth, coordinator):
    response = auth.login("coord1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- the schema ---------------------------------------------------------------------------------------


def test_migrations_match_the_models(app):
    """Alembic cannot compare expression indexes (the name search's), so those are checked by name."""
    with db.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index")
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        listed = ("SELECT name FROM sqlite_master WHERE type = 'index'" if connection.dialect.name == "sqlite"
                  else "SELECT indexname FROM pg_indexes")
        indexes = set(connection.exec_driver_sql(listed).scalars())
    assert diff == []
    expected = {index.name for table in db.metadata.tables.values() for index in table.indexes}
    assert {name for name in expected if "from_" in name or "long_name" in name} and expected <= indexes


def test_health_route_answers_without_login_and_reads_nothing(app, client):
    statements = []

    def count(*args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    response = client.get("/healthz")
    event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
    assert statements == []


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(app, client, auth, coordinator):
    from conference.models import AuditEvent

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert "Strict-Transport-Security" not in client.get("/login", headers=headers).headers
    auth.login(coordinator.username)
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "login")).scalars().all()
    assert events and all(event.ip != "203.0.113.9" for event in events)


def test_behind_a_trusted_proxy_https_and_the_client_address_come_from_it(app):
    from conftest import make_app

    from conference.models import AuditEvent

    proxied = make_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1)
    with proxied.app_context():
        client = proxied.test_client()
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
        assert client.get("/login", headers=headers).headers["Strict-Transport-Security"].startswith("max-age=")
        client.post("/login", data={"username": "nobody", "password": "x" * 12}, headers=headers)
        event = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
        assert event.ip == "203.0.113.9"
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("url, data", [("/login?next=%00", None), ("/login", {"username": "a\x00", "password": "x"})])
def test_a_nul_character_anywhere_in_a_request_is_refused_with_400(client, url, data):
    response = client.post(url, data=data) if data else client.get(url)
    assert response.status_code == 400


@pytest.mark.skipif(not POSTGRES_URL, reason="psycopg forgets its prepared statements on a rollback: PostgreSQL")
def test_on_postgresql_a_request_that_wrote_nothing_commits_and_one_that_wrote_rolls_back(app, client):
    """A read-only request's transaction ends with COMMIT, the same as a rollback to the database, so psycopg keeps
    the statements it prepared on the connection; a request that flushed a write it did not commit is rolled back."""
    @app.get("/_probe/read")
    def read_only():
        return str(db.session.execute(select(func.count(Agency.id))).scalar())

    @app.get("/_probe/flush")
    def flushed_not_committed():
        db.session.add(Agency(name="저장 안 된 기관", sector="other", is_public=True))
        db.session.flush()
        return "ok"

    ends = []
    for name in ("commit", "rollback"):
        event.listen(db.engine, name, lambda conn, name=name: ends.append(name))
    client.get("/_probe/read")
    assert ends == ["commit"]
    ends.clear()
    client.get("/_probe/flush")
    assert "commit" not in ends and "rollback" in ends
    assert db.session.execute(select(func.count()).where(Agency.name == "저장 안 된 기관")).scalar() == 0
