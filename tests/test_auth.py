"""Login, logout, the login throttle, session rules, cookie flags and changing one's own password."""
import re
import threading
import time
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from flask import Flask

from factories import audit_actions, fresh_user, login, throttle
from conftest import PASSWORD, is_logged_in, login_session_of, make_app
from conference import create_app
from conference.config import Defaults
from conference.core.database import now_utc
from conference.extensions import db
from conference.models import AuditEvent, LoginThrottle

GENERIC_ERROR = "아이디 또는 비밀번호가 올바르지 않습니다."
LOCK_MESSAGE = "로그인 실패가 반복되어 잠시 잠겼습니다. 몇 분 뒤에 다시 시도하세요."
LOGGED_OUT_FLASH = "오랫동안 사용하지 않아 로그아웃되었습니다. 다시 로그인하세요."
LIFETIME_FLASH = "로그인한 지 오래되어 보안을 위해 로그아웃되었습니다. 다시 로그인하세요."
NEW_PASSWORD = "violet-harbour-lantern"


@pytest.fixture
def other_app(database_uri):
    """A second application object on the same database, like another server process."""
    other = make_app(database_uri)
    yield other
    with other.app_context():
        db.engine.dispose()


def form_errors(html: str) -> list[str]:
    block = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, re.S)
    return re.findall(r'<p class="error">(.*?)</p>', block.group(1)) if block else []


def field_errors(html: str, field: str) -> list[str]:
    return re.findall(rf'<p class="error" id="{field}-error">(.*?)</p>', html)


def all_field_errors(html: str) -> list[str]:
    return re.findall(r'<p class="error" id="[^"]+-error">(.*?)</p>', html)


# --- logging in -----------------------------------------------------------------------------------


def test_login_form_has_username_and_password_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="username"[^>]*type="text"', html)
    assert re.search(r'<input[^>]*name="password"[^>]*type="password"', html)
    assert 'lang="ko"' in html


def test_login_succeeds_and_goes_home(client, coordinator):
    assert not is_logged_in(client)
    response = login(client, "coord1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    home = client.get("/home")
    assert home.status_code == 200
    assert "Coord1님, 안녕하세요." in home.get_data(as_text=True)
    assert fresh_user("coord1").last_login_at is not None


def test_username_is_case_insensitive_and_trimmed(client, coordinator):
    assert login(client, "  COORD1 ").headers["Location"] == "/home"


def test_login_page_sends_logged_in_users_home(client, coordinator):
    login(client, "coord1")
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_wrong_password_and_unknown_username_look_the_same(app, coordinator):
    wrong_password = login(app.test_client(), "coord1", "not-the-password")
    unknown_user = login(app.test_client(), "nobody", "not-the-password")
    assert wrong_password.status_code == unknown_user.status_code == 200
    wrong_html, unknown_html = wrong_password.get_data(as_text=True), unknown_user.get_data(as_text=True)
    assert form_errors(wrong_html) == form_errors(unknown_html) == [GENERIC_ERROR]
    assert all_field_errors(wrong_html) == all_field_errors(unknown_html) == []
    # Apart from the echoed username and the per-session CSRF token the two pages are identical.
    token = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
    assert (token.sub("", wrong_html).replace('value="coord1"', "")
            == token.sub("", unknown_html).replace('value="nobody"', ""))


def test_failed_login_does_not_log_in(client, coordinator):
    login(client, "coord1", "not-the-password")
    assert not is_logged_in(client)


def test_inactive_account_gets_the_generic_error(client, coordinator):
    coordinator.is_active_account = False
    db.session.commit()
    response = login(client, "coord1")
    assert response.status_code == 200
    assert form_errors(response.get_data(as_text=True)) == [GENERIC_ERROR]
    assert not is_logged_in(client)
    [failed] = audit_actions("login.failed")
    assert failed.actor_name == "coord1" and failed.details == '{"reason": "inactive"}'


def test_must_change_password_holds_the_user_on_the_password_page(client, make_user):
    make_user("newbie", must_change_password=True)
    assert login(client, "newbie").headers["Location"] == "/home"
    for url in ("/home", "/account", "/", "/admin/users"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == "/account/password"
    assert client.get("/account/password").status_code == 200
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert client.get("/home").status_code == 200
    assert fresh_user("newbie").must_change_password is False


# --- the login throttle ---------------------------------------------------------------------------


def fail_logins(client, username, times):
    for _ in range(times):
        response = login(client, username, "not-the-password")
        assert response.status_code == 200
        assert form_errors(response.get_data(as_text=True)) == [GENERIC_ERROR]


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, coordinator):
    fail_logins(client, "coord1", 4)
    assert login(client, "coord1").status_code == 302
    client.post("/logout")
    fail_logins(client, "coord1", 4)
    assert login(client, "coord1").status_code == 302


def test_five_failures_lock_the_username(client, coordinator):
    fail_logins(client, "coord1", 5)
    response = login(client, "coord1")
    assert response.status_code == 200
    assert form_errors(response.get_data(as_text=True)) == [LOCK_MESSAGE]
    assert not is_logged_in(client)
    assert [e.actor_name for e in audit_actions("login.lock")] == ["coord1"]
    assert [e.actor_name for e in audit_actions("login.locked")] == ["coord1"]


def test_lock_is_kept_in_the_database_for_every_app_instance(client, coordinator, other_app):
    fail_logins(client, "coord1", 5)
    row = throttle("coord1")
    assert row.locked_until > now_utc() + timedelta(minutes=10)
    response = login(other_app.test_client(), "coord1")
    assert response.status_code == 200
    assert form_errors(response.get_data(as_text=True)) == [LOCK_MESSAGE]


def test_lock_expires(client, coordinator):
    fail_logins(client, "coord1", 5)
    assert form_errors(login(client, "coord1").get_data(as_text=True)) == [LOCK_MESSAGE]
    db.session.execute(db.update(LoginThrottle).where(LoginThrottle.username == "coord1")
                       .values(locked_until=now_utc() - timedelta(seconds=1)))
    db.session.commit()
    response = login(client, "coord1")
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert throttle("coord1").locked_until is None


def test_failures_long_ago_do_not_add_up_to_a_lock(client, coordinator):
    for _ in range(4):
        login(client, "coord1", "not-the-password")
    db.session.execute(db.update(LoginThrottle).where(LoginThrottle.username == "coord1")
                       .values(last_failure_at=now_utc() - timedelta(days=30)))
    db.session.commit()
    login(client, "coord1", "not-the-password")
    assert throttle("coord1").locked_until is None
    assert throttle("coord1").failures == 1
    assert login(client, "coord1").status_code == 302


def test_unknown_usernames_are_locked_too(client):
    fail_logins(client, "ghost", 5)
    response = login(client, "ghost")
    assert form_errors(response.get_data(as_text=True)) == [LOCK_MESSAGE]
    assert throttle("ghost").locked_until > now_utc()


@pytest.mark.parametrize("username, earlier_failures", [("coord1", 0), ("ghost", 0), ("coord1", 1)],
                         ids=["existing", "unknown", "already-counting"])
def test_parallel_failed_logins_all_count(app, client, coordinator, username, earlier_failures):
    """Eight wrong passwords sent at once: all are counted until the lock, the rest meet the lock."""
    fail_logins(client, username, earlier_failures)
    db.session.commit()
    start = threading.Barrier(8)
    messages, errors = [], []

    def attempt():
        try:
            other = app.test_client()  # a thread of its own: fresh request contexts
            start.wait(timeout=10)
            response = login(other, username, "not-the-password")
            assert response.status_code == 200, response.status_code
            messages.extend(form_errors(response.get_data(as_text=True)))
        except Exception as error:  # reported below; a thread's exception would otherwise be lost
            errors.append(error)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    counted = 5 - earlier_failures
    assert sorted(messages) == sorted([GENERIC_ERROR] * counted + [LOCK_MESSAGE] * (8 - counted))
    assert len(audit_actions("login.failed")) == 5 and len(audit_actions("login.locked")) == 8 - counted
    assert throttle(username).locked_until > now_utc()


def test_lock_of_one_username_does_not_affect_another(client, coordinator, make_user):
    make_user("other1")
    fail_logins(client, "coord1", 5)
    assert login(client, "other1").status_code == 302


# --- audit ---------------------------------------------------------------------------------------


def test_failed_logins_logins_and_logouts_are_audited(client, coordinator):
    login(client, "coord1", "not-the-password")
    login(client, "nobody", "not-the-password")
    login(client, "coord1")
    client.post("/logout")
    rows = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    rows = [r for r in rows if r.action != "user.create"]
    assert [(r.action, r.actor_name, r.actor_id) for r in rows] == [
        ("login.failed", "coord1", None),
        ("login.failed", "nobody", None),
        ("login", "coord1", coordinator.id),
        ("logout", "coord1", coordinator.id),
    ]
    assert rows[0].details == '{"reason": "credentials"}'
    assert all(r.ip == "127.0.0.1" for r in rows)
    assert rows[2].object_type == "user_account" and rows[2].object_id == str(coordinator.id)


# --- where to go after login ----------------------------------------------------------------------


@pytest.mark.parametrize("next_url, expected", [
    ("/account", "/account"),
    ("/admin/users?page=2", "/admin/users?page=2"),
    ("https://evil.example/x", "/home"),
    ("//evil.example", "/home"),
    ("/\\evil", "/home"),
    ("\\\\evil.example", "/home"),
    ("/\t/evil.example", "/home"),
    ("javascript:alert(1)", "/home"),
    ("evil.example", "/home"),
    ("", "/home"),
])
def test_next_parameter_is_followed_only_within_the_site(client, coordinator, next_url, expected):
    response = login(client, "coord1", next=next_url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == expected
    assert not urlsplit(location).netloc


# --- the session --------------------------------------------------------------------------------


def test_session_is_renewed_at_login(client, coordinator):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = 1
    with client.session_transaction() as session:
        assert session["planted"] == 1
    login(client, "coord1")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{coordinator.id}:")


def test_logout_ends_the_session_on_the_server(app, client, coordinator):
    login(client, "coord1")
    old_cookie = client.get_cookie("session").value
    before = app.test_client()
    before.set_cookie("session", old_cookie)
    assert before.get("/home").status_code == 200  # the copied cookie is a working login

    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(client)

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_needs_post(client, coordinator):
    login(client, "coord1")
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)


def set_session_times(client, *, seen_ago: float = 0, login_ago: float = 0):
    """Move the server's record of the client's login back: its last request and its login time."""
    login = login_session_of(client)
    now = now_utc()
    login.last_seen_at = now - timedelta(seconds=seen_ago)
    login.logged_in_at = now - timedelta(seconds=login_ago)
    db.session.commit()


def test_idle_timeout_logs_out(client, coordinator):
    login(client, "coord1")
    set_session_times(client, seen_ago=29 * 60, login_ago=29 * 60)
    assert client.get("/home").status_code == 200

    set_session_times(client, seen_ago=31 * 60, login_ago=31 * 60)
    response = client.get("/home")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert LOGGED_OUT_FLASH in page
    assert not is_logged_in(client)


def test_activity_refreshes_the_idle_clock_once_a_minute(client, coordinator):
    login(client, "coord1")
    client.get("/home")  # the first page puts the CSRF token in the session
    set_session_times(client, seen_ago=10)
    seen = login_session_of(client).last_seen_at
    assert "Set-Cookie" not in client.get("/home").headers, "the cookie is never signed anew for the idle clock"
    assert login_session_of(client).last_seen_at == seen, "a page within the minute writes nothing"
    set_session_times(client, seen_ago=25 * 60, login_ago=25 * 60)
    assert "Set-Cookie" not in client.get("/home").headers
    assert now_utc() - login_session_of(client).last_seen_at < timedelta(seconds=5), \
        "25 idle minutes start again from now"


def test_absolute_session_lifetime(app, client, coordinator):
    lifetime = app.permanent_session_lifetime.total_seconds()
    assert lifetime == 8 * 3600
    login(client, "coord1")
    set_session_times(client, login_ago=lifetime - 60)
    assert client.get("/home").status_code == 200

    set_session_times(client, login_ago=lifetime + 60)
    response = client.get("/home")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert LIFETIME_FLASH in client.get(response.headers["Location"]).get_data(as_text=True)
    assert not is_logged_in(client)


# --- changing one's own password --------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm": new if confirm is None else confirm})


def test_change_password_page_needs_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_wrong_current_password_changes_nothing(client, coordinator):
    login(client, "coord1")
    old_hash, old_login = fresh_user("coord1").password_hash, login_session_of(client).id
    response = change_password(client, current="not-the-password")
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "current_password") == ["현재 비밀번호가 올바르지 않습니다."]
    assert fresh_user("coord1").password_hash == old_hash
    assert login_session_of(client).id == old_login and login_session_of(client).ended_at is None
    assert audit_actions("password.change") == []


@pytest.mark.parametrize("new, confirm, field, message", [
    ("short-pw1", None, "new_password", "비밀번호는 10자 이상이어야 합니다."),
    ("qwertyuiop", None, "new_password", "너무 흔하거나 추측하기 쉬운 비밀번호입니다. 다른 비밀번호를 정하세요."),
    ("1234567890", None, "new_password", "너무 흔하거나 추측하기 쉬운 비밀번호입니다. 다른 비밀번호를 정하세요."),
    ("my-COORD1-password", None, "new_password", "비밀번호에 아이디를 넣을 수 없습니다."),
    (NEW_PASSWORD, NEW_PASSWORD + "x", "confirm", "새 비밀번호가 서로 다릅니다."),
], ids=["too-short", "common-letters", "common-digits", "contains-username", "confirmation-differs"])
def test_unacceptable_new_password_is_refused(client, coordinator, new, confirm, field, message):
    login(client, "coord1")
    old_hash = fresh_user("coord1").password_hash
    response = change_password(client, new=new, confirm=confirm)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert field_errors(html, field) == [message]
    assert all_field_errors(html) == [message]
    assert fresh_user("coord1").password_hash == old_hash
    assert audit_actions("password.change") == []
    assert is_logged_in(client)
    client.post("/logout")
    assert form_errors(login(client, "coord1", new).get_data(as_text=True)) == [GENERIC_ERROR]
    assert login(client, "coord1").status_code == 302


def test_change_password(app, client, coordinator):
    other_device = app.test_client()
    login(other_device, "coord1")
    login(client, "coord1")
    assert is_logged_in(other_device)

    response = change_password(client)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert is_logged_in(client)
    assert not is_logged_in(other_device)

    user = fresh_user("coord1")
    assert user.password_hash.startswith("$argon2id$")
    assert user.must_change_password is False
    [event] = audit_actions("password.change")
    assert event.actor_id == user.id and event.object_id == str(user.id)

    fresh = app.test_client()
    assert form_errors(login(fresh, "coord1").get_data(as_text=True)) == [GENERIC_ERROR]
    assert login(fresh, "coord1", NEW_PASSWORD).status_code == 302


def test_password_hashes_are_argon2id(coordinator, make_user):
    user = make_user("hashcheck", password="some-other-long-pass")
    assert fresh_user("coord1").password_hash.startswith("$argon2id$")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash



# --- sessions end on the server: an old cookie replayed is refused ----------------------------------


def _admin_client(app, make_user):
    admin_client = app.test_client()
    make_user("admin9", "admin")
    assert login(admin_client, "admin9").status_code == 302
    return admin_client


def _log_out(app, client, user, make_user):
    assert client.post("/logout").status_code == 302


def _change_own_password(app, client, user, make_user):
    assert change_password(client).status_code == 302
    assert is_logged_in(client)  # this browser carries on with a new cookie


def _admin_resets_password(app, client, user, make_user):
    response = _admin_client(app, make_user).post(
        f"/admin/users/{user.id}/password", data={"password": "temporary-pass-4711", "confirm": "temporary-pass-4711"})
    assert response.status_code == 302


def _admin_deactivates(app, client, user, make_user):
    response = _admin_client(app, make_user).post(f"/admin/users/{user.id}", data={
        "display_name": user.display_name, "position": user.position, "email": user.email,
        "agency_id": str(user.agency_id), "role": user.role})  # no is_active_account: unticked
    assert response.status_code == 302
    assert fresh_user(user.username).is_active_account is False


@pytest.mark.parametrize("end_session", [_log_out, _change_own_password, _admin_resets_password, _admin_deactivates],
                         ids=["logout", "own-password-change", "admin-password-reset", "deactivation"])
def test_an_ended_session_cannot_be_replayed(app, client, coordinator, make_user, end_session):
    login(client, "coord1")
    old_cookie = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", old_cookie)
    assert is_logged_in(copy)  # the copied cookie is a working login until the session ends

    end_session(app, client, coordinator, make_user)

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert replay.get("/account").status_code == 302
    assert not is_logged_in(copy)


# --- cookie flags and session settings ---------------------------------------------------------------


def set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_session_cookie_attributes(client, coordinator):
    before = time.time()
    response = login(client, "coord1")
    cookies = set_cookies(response)
    assert list(cookies) == ["session"]  # no remember-me cookie: a login lasts one browser session at most
    attributes = [part.strip() for part in cookies["session"].split(";")]
    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes and "Path=/" in attributes
    assert "Secure" not in attributes  # plain HTTP (development); see the next test for HTTPS
    expires = next(a for a in attributes if a.startswith("Expires="))
    lifetime = parsedate_to_datetime(expires.split("=", 1)[1]).timestamp() - before
    assert 8 * 3600 - 60 < lifetime <= 8 * 3600 + 60


def test_cookies_are_secure_when_switched_on(database_uri, coordinator):
    secure = make_app(database_uri, SESSION_COOKIE_SECURE=True)
    try:
        assert secure.config["REMEMBER_COOKIE_SECURE"] is True
        assert secure.config["REMEMBER_COOKIE_HTTPONLY"] is True
        assert secure.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
        client = secure.test_client()
        response = login(client, "coord1")
        attributes = [part.strip() for part in set_cookies(response)["session"].split(";")]
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(attributes)
        # Logging out sends no cookie without the flags either.
        headers = client.post("/logout", base_url="https://localhost").headers.getlist("Set-Cookie")
        assert headers and all("Secure" in h and "HttpOnly" in h and "SameSite=Lax" in h for h in headers)
    finally:
        with secure.app_context():
            db.engine.dispose()


def test_session_settings_from_the_environment(monkeypatch, tmp_path):
    assert Defaults.IDLE_TIMEOUT_MINUTES == 30
    assert Defaults.PERMANENT_SESSION_LIFETIME.total_seconds() == 8 * 3600
    assert Defaults.SESSION_COOKIE_SECURE is False
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    for name in ("CONFERENCE_IDLE_TIMEOUT_MINUTES", "CONFERENCE_SESSION_COOKIE_SECURE",
                 "CONFERENCE_PERMANENT_SESSION_LIFETIME", "CONFERENCE_REMEMBER_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-key")
    app = create_app()
    assert (app.config["SESSION_COOKIE_SECURE"], app.config["REMEMBER_COOKIE_SECURE"]) == (False, False)

    monkeypatch.setenv("CONFERENCE_IDLE_TIMEOUT_MINUTES", "20")
    monkeypatch.setenv("CONFERENCE_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("CONFERENCE_PERMANENT_SESSION_LIFETIME", "14400")
    app = create_app()
    assert app.config["IDLE_TIMEOUT_MINUTES"] == 20
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.permanent_session_lifetime == timedelta(hours=4)


def test_idle_timeout_follows_the_setting(app, client, coordinator):
    app.config["IDLE_TIMEOUT_MINUTES"] = 5
    login(client, "coord1")
    set_session_times(client, seen_ago=4 * 60, login_ago=4 * 60)
    assert client.get("/home").status_code == 200
    set_session_times(client, seen_ago=6 * 60, login_ago=6 * 60)
    assert client.get("/home").status_code == 302
    assert not is_logged_in(client)


@pytest.mark.parametrize("login_id", ["{id}:made-up-key", "{id}:", "{id}", "{other}:{key}", "x:{key}"],
                         ids=["unknown-key", "empty-key", "no-key", "another-account", "not-a-number"])
def test_a_login_id_the_server_did_not_issue_is_refused(app, client, coordinator, make_user, login_id):
    """Only a key the server gave out at login, for that account, opens a session (even with a valid signature)."""
    other = make_user("other1")
    login(client, "coord1")
    with client.session_transaction() as session:
        key = session["_user_id"].partition(":")[2]
        session["_user_id"] = login_id.format(id=coordinator.id, other=other.id, key=key)
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_wrong_current_passwords_lock_the_account_and_end_the_stolen_session(client, coordinator):
    login(client, "coord1")
    old_hash = fresh_user("coord1").password_hash
    for _ in range(4):
        assert change_password(client, current="guess-number-x").status_code == 200
        assert is_logged_in(client)
    response = change_password(client, current="guess-number-x")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(client)
    assert fresh_user("coord1").password_hash == old_hash
    assert audit_actions("password.change") == []
    assert len(audit_actions("login.failed")) == 5 and len(audit_actions("login.lock")) == 1
    page = login(client, "coord1").get_data(as_text=True)  # the right password is refused while locked
    assert not is_logged_in(client) and "잠시 잠겼습니다" in page


def test_a_password_change_keeps_the_absolute_lifetime_of_the_login(client, coordinator):
    login(client, "coord1")
    set_session_times(client, login_ago=7 * 3600)
    before = login_session_of(client)
    assert change_password(client).status_code == 302
    after = login_session_of(client)
    assert after.id != before.id, "a new key after the change"
    assert after.logged_in_at == before.logged_in_at  # so the 8-hour limit still ends it within the hour
    db.session.refresh(before)
    assert before.ended_at is not None
