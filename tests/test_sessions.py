"""Sessions held on the server: bound to the browser, ended at logout, idle and absolute limits on the server's
clock; the current password before two-factor and e-mail changes; the lockout per username and address."""
import json
import re
from datetime import timedelta

import pyotp
import time_machine
from sqlalchemy import event

from factories import audit_actions, field_errors, fresh_user, login, text
from conftest import PASSWORD, is_logged_in, login_session_of
from conference.auth import two_factor
from conference.config import Defaults
from conference.core.database import now_utc
from conference.extensions import db
from conference.models import LoginSession, LoginThrottle, Role, User

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
GENERIC_ERROR = "아이디 또는 비밀번호가 올바르지 않습니다."
LOCK_MESSAGE = "로그인 실패가 반복되어 잠시 잠겼습니다. 몇 분 뒤에 다시 시도하세요."
IDLE_FLASH = "오랫동안 사용하지 않아 로그아웃되었습니다. 다시 로그인하세요."
LIFETIME_FLASH = "로그인한 지 오래되어 보안을 위해 로그아웃되었습니다. 다시 로그인하세요."
WRONG_PASSWORD = "현재 비밀번호가 올바르지 않습니다."
NO_PASSWORD = "현재 비밀번호를 입력하세요."
OUTSIDER, OWNER = "203.0.113.9", "198.51.100.7"


def browser(app, user_agent: str = FIREFOX, address: str = "127.0.0.1"):
    """A test client that sends this User-Agent from this client address."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return client


def copy_of(app, client, user_agent: str = FIREFOX):
    """Another browser holding a copy of ``client``'s session cookie."""
    other = browser(app, user_agent)
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def form_errors(response) -> list[str]:
    block = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', text(response), re.S)
    return re.findall(r'<p class="error">(.*?)</p>', block.group(1)) if block else []


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- the session is a row on the server, bound to the browser ------------------------------------------


def test_a_login_is_a_row_on_the_server_and_the_cookie_holds_only_its_key(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    with client.session_transaction() as session:
        user_id, _sep, key = session["_user_id"].partition(":")
        assert "seen_at" not in session and "login_at" not in session  # the times live on the server
    row = login_session_of(client)
    assert user_id == str(coordinator.id) and len(key) >= 40
    assert row.user_id == coordinator.id and row.ended_at is None and not row.awaiting_second_factor
    assert row.id != key and key not in row.id  # only the key's SHA-256 is stored
    assert re.fullmatch(r"[0-9a-f]{64}", row.id) and re.fullmatch(r"[0-9a-f]{64}", row.user_agent_hash)
    assert FIREFOX not in row.user_agent_hash


def test_a_cookie_replayed_from_another_browser_is_refused_and_recorded(app, coordinator):
    client = browser(app, FIREFOX)
    login(client, "coord1")
    assert is_logged_in(copy_of(app, client, FIREFOX))  # the same browser (User-Agent) may carry on

    thief = copy_of(app, client, CHROME)
    response = thief.get("/home")
    assert sent_to_login(response)
    assert not is_logged_in(thief)
    [refused] = audit_actions("auth.session_refused")
    assert (refused.actor_id, refused.actor_name, refused.ip) == (coordinator.id, "coord1", "127.0.0.1")
    assert json.loads(refused.details) == {"reason": "user_agent"}
    # The cookie is known to be out: the login ends for the browser it was made for too.
    assert login_session_of(client).end_reason == "user_agent"
    assert not is_logged_in(client)
    assert login(client, "coord1").status_code == 302 and is_logged_in(client)


def test_a_copy_taken_before_logout_is_refused(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    row_id = login_session_of(client).id
    copy = copy_of(app, client)
    assert is_logged_in(copy)

    assert client.post("/logout").headers["Location"] == "/login"
    assert not is_logged_in(client)
    row = db.session.get(LoginSession, row_id)
    assert row.ended_at is not None and row.end_reason == "logout"

    assert sent_to_login(copy.get("/home"))
    assert not is_logged_in(copy)
    [refused] = audit_actions("auth.session_refused")
    assert json.loads(refused.details) == {"reason": "ended"} and refused.actor_id == coordinator.id


def test_logout_ends_only_this_browsers_login(app, coordinator):
    office, laptop = browser(app, FIREFOX), browser(app, CHROME)
    login(office, "coord1")
    login(laptop, "coord1")
    office.post("/logout")
    assert not is_logged_in(office)
    assert is_logged_in(laptop)


def test_a_password_change_ends_every_other_login_on_the_server(app, coordinator):
    office, laptop = browser(app, FIREFOX), browser(app, CHROME)
    login(office, "coord1")
    login(laptop, "coord1")
    old = login_session_of(laptop).id
    response = office.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "violet-harbour-lantern", "confirm": "violet-harbour-lantern"})
    assert response.status_code == 302
    assert is_logged_in(office) and not is_logged_in(laptop)
    assert db.session.get(LoginSession, old).end_reason == "revoked"


# --- idle and absolute limits, on the server's clock -------------------------------------------------


def test_the_idle_limit_is_counted_on_the_server(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    with time_machine.travel(now_utc() + timedelta(minutes=29)):
        assert client.get("/home").status_code == 200  # 29 idle minutes; the last-seen time moves to now
    with time_machine.travel(now_utc() + timedelta(minutes=29 + 31)):
        response = client.get("/home")
        assert sent_to_login(response)
        assert IDLE_FLASH in text(client.get(response.headers["Location"]))
    assert login_session_of(client) is None  # the cookie no longer names the login
    assert db.session.execute(db.select(LoginSession.end_reason)).scalar_one() == "idle"


def test_cookie_contents_cannot_extend_a_login(app, coordinator):
    """Whatever times a (validly signed) cookie carries, only the row's times count."""
    client = browser(app)
    login(client, "coord1")
    row = login_session_of(client)
    row.last_seen_at = now_utc() - timedelta(minutes=31)
    db.session.commit()
    with client.session_transaction() as session:
        session["seen_at"] = session["login_at"] = 4_000_000_000
    assert sent_to_login(client.get("/home"))


def test_the_absolute_limit_is_counted_on_the_server(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    row = login_session_of(client)
    row.logged_in_at = now_utc() - timedelta(hours=8, minutes=1)
    db.session.commit()
    response = client.get("/home")
    assert sent_to_login(response)
    assert LIFETIME_FLASH in text(client.get(response.headers["Location"]))
    assert db.session.get(LoginSession, row.id).end_reason == "expired"
    assert audit_actions("auth.session_refused") == []  # an ordinary end, not a suspicious one


def statements_during(client, url) -> list[str]:
    statements = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return statements


def test_a_page_reads_the_login_once_and_writes_it_at_most_once_a_minute(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    client.get("/account")
    statements = statements_during(client, "/account")
    assert sum("FROM login_session" in s for s in statements) == 1  # one primary-key read, account joined
    assert not any("user_account" in s and "login_session" not in s for s in statements)
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)

    with time_machine.travel(now_utc() + timedelta(seconds=61)):
        statements = statements_during(client, "/account")
        updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
        assert len(updates) == 1 and "login_session" in updates[0]
        assert now_utc() - login_session_of(client).last_seen_at < timedelta(seconds=5)
        assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements_during(client, "/account"))


def test_static_files_read_no_session(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    statements = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        with time_machine.travel(now_utc() + timedelta(minutes=31)):
            response = client.get("/static/css/app.css")
            assert response.status_code == 200
            response.close()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert statements == []


def test_a_pending_second_step_is_bound_to_the_browser_too(app, coordinator):
    secret = two_factor.start_enrolment(coordinator)
    two_factor.enable(coordinator, pyotp.TOTP(secret).now())
    db.session.commit()
    client = browser(app, FIREFOX)
    assert login(client, "coord1").headers["Location"] == "/login/two-factor"
    thief = copy_of(app, client, CHROME)
    code = pyotp.TOTP(secret).at(now_utc().timestamp() + 30)
    assert thief.post("/login/two-factor", data={"code": code}).headers["Location"] == "/login"
    assert not is_logged_in(thief)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    assert is_logged_in(client)


def test_sessions_from_before_the_upgrade_need_a_new_login(app, client, coordinator):
    with client.session_transaction() as session:
        session["_user_id"] = f"{coordinator.id}:an-old-per-user-session-token"
        session["login_at"] = session["seen_at"] = int(now_utc().timestamp())
    assert sent_to_login(client.get("/home"))


# --- the current password before two-factor and e-mail changes -----------------------------------------


def test_switching_two_factor_on_needs_the_current_password(app, coordinator):
    client = browser(app)
    login(client, "coord1")
    client.post("/account/two-factor/start")
    secret = fresh_user("coord1").totp_secret
    code = pyotp.TOTP(secret).now()

    response = client.post("/account/two-factor", data={"code": code})
    assert field_errors(response, "current_password") == [NO_PASSWORD]
    response = client.post("/account/two-factor", data={"code": code, "current_password": "not-the-password"})
    assert response.status_code == 200
    assert field_errors(response, "current_password") == [WRONG_PASSWORD]
    user = fresh_user("coord1")
    assert (user.totp_enabled_at, user.totp_last_step) == (None, 0)  # nothing changed, the code not used up
    assert audit_actions("two_factor.enable") == []
    [failed] = audit_actions("login.failed")
    assert failed.actor_name == "coord1" and json.loads(failed.details) == {"reason": "password_recheck"}
    assert is_logged_in(client)

    response = client.post("/account/two-factor", data={"code": code, "current_password": PASSWORD})
    assert response.status_code == 200 and fresh_user("coord1").totp_enabled_at is not None


def test_switching_two_factor_off_with_a_wrong_password_is_counted(app, coordinator):
    secret = two_factor.start_enrolment(coordinator)
    two_factor.enable(coordinator, pyotp.TOTP(secret).now())
    db.session.commit()
    client = browser(app)
    login(client, "coord1")
    client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).at(now_utc().timestamp() + 30)})
    response = client.post("/account/two-factor/disable", data={"disable-current_password": "not-the-password"})
    assert field_errors(response, "disable-current_password") == [WRONG_PASSWORD]
    assert fresh_user("coord1").totp_enabled_at is not None
    assert [json.loads(e.details)["reason"] for e in audit_actions("login.failed")] == ["password_recheck"]


def edit_own_account(client, user: User, **changes):
    data = {"display_name": user.display_name, "position": user.position, "email": user.email,
            "agency_id": str(user.agency_id), "role": user.role, "is_active_account": "y", **changes}
    return client.post(f"/admin/users/{user.id}", data=data)


def test_changing_ones_own_email_needs_the_current_password(app, make_user):
    admin = make_user("admin1", Role.ADMIN, email="old@city.example")
    client = browser(app)
    login(client, "admin1")
    assert 'name="current_password"' in client.get(f"/admin/users/{admin.id}").get_data(as_text=True)

    response = edit_own_account(client, admin, email="new@evil.example")
    assert response.status_code == 200 and field_errors(response, "current_password") == [NO_PASSWORD]
    response = edit_own_account(client, admin, email="new@evil.example", current_password="not-the-password")
    assert response.status_code == 200 and field_errors(response, "current_password") == [WRONG_PASSWORD]
    assert fresh_user("admin1").email == "old@city.example"
    assert audit_actions("user.update") == []
    assert [json.loads(e.details)["reason"] for e in audit_actions("login.failed")] == ["password_recheck"]

    response = edit_own_account(client, admin, email="new@city.example", current_password=PASSWORD)
    assert response.status_code == 302
    assert fresh_user("admin1").email == "new@city.example"
    assert is_logged_in(client)


def test_other_changes_and_other_accounts_email_need_no_password(app, make_user):
    admin = make_user("admin1", Role.ADMIN, email="old@city.example")
    colleague = make_user("coord1", Role.COORDINATOR)
    client = browser(app)
    login(client, "admin1")
    assert 'name="current_password"' not in client.get(f"/admin/users/{colleague.id}").get_data(as_text=True)
    assert edit_own_account(client, admin, position="팀장").status_code == 302
    assert edit_own_account(client, colleague, email="coord@city.example").status_code == 302
    assert fresh_user("coord1").email == "coord@city.example" and fresh_user("admin1").position == "팀장"
    assert is_logged_in(client)


# --- the lockout: per username and address, and per username over every address -------------------------


def fail(client, username, times):
    for _ in range(times):
        assert form_errors(login(client, username, "not-the-password")) == [GENERIC_ERROR]


def test_an_outsiders_failures_do_not_lock_the_owner_out(app, coordinator):
    outsider = browser(app, CHROME, OUTSIDER)
    fail(outsider, "coord1", 5)
    assert form_errors(login(outsider, "coord1")) == [LOCK_MESSAGE]  # even the right password, from there
    [lock] = audit_actions("login.lock")
    assert lock.ip == OUTSIDER and json.loads(lock.details) == {"minutes": 15, "scope": "address"}

    owner = browser(app, FIREFOX, OWNER)
    assert login(owner, "coord1").headers["Location"] == "/home"
    assert is_logged_in(owner)


def test_the_username_locks_everywhere_past_its_own_number(app, coordinator):
    assert (Defaults.LOGIN_USERNAME_MAX_FAILURES, Defaults.LOGIN_USERNAME_LOCK_MINUTES) == (50, 60)
    for n in range(12):  # 48 failures from 12 addresses, none of them locked by itself
        fail(browser(app, CHROME, f"192.0.2.{n + 1}"), "coord1", 4)
    owner = browser(app, FIREFOX, OWNER)
    assert login(owner, "coord1").status_code == 302  # still in; a success does not clear the count
    owner.post("/logout")
    fail(browser(app, CHROME, "192.0.2.100"), "coord1", 2)
    assert form_errors(login(owner, "coord1")) == [LOCK_MESSAGE]
    assert not is_logged_in(owner)
    [lock] = audit_actions("login.lock")
    assert json.loads(lock.details) == {"minutes": 60, "scope": "username"}
    row = db.session.execute(db.select(LoginThrottle).where(
        LoginThrottle.username == "coord1", LoginThrottle.address == "*")).scalar_one()
    assert row.locked_until > now_utc() + timedelta(minutes=59)
    with time_machine.travel(now_utc() + timedelta(minutes=61)):
        assert login(browser(app, FIREFOX, OWNER), "coord1").status_code == 302


def test_the_numbers_follow_the_settings(app, coordinator):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_USERNAME_MAX_FAILURES=4)
    fail(browser(app, CHROME, OUTSIDER), "coord1", 3)
    assert form_errors(login(browser(app, CHROME, OUTSIDER), "coord1")) == [LOCK_MESSAGE]
    assert login(browser(app, FIREFOX, OWNER), "coord1").status_code == 302
    fail(browser(app, CHROME, "192.0.2.1"), "coord1", 1)
    assert form_errors(login(browser(app, FIREFOX, OWNER), "coord1")) == [LOCK_MESSAGE]


def test_unknown_usernames_behave_alike_at_every_address(app):
    outsider = browser(app, CHROME, OUTSIDER)
    fail(outsider, "ghost", 5)
    assert form_errors(login(outsider, "ghost")) == [LOCK_MESSAGE]
    assert form_errors(login(browser(app, FIREFOX, OWNER), "ghost")) == [GENERIC_ERROR]


def test_wrong_password_checks_in_a_stolen_session_lock_its_address_and_end_every_login(app, coordinator):
    owner = browser(app, FIREFOX, OWNER)
    login(owner, "coord1")
    thief = browser(app, CHROME, OUTSIDER)
    login(thief, "coord1")  # (a session obtained somehow, used from the outsider's address)
    for _ in range(5):
        response = thief.post("/account/password", data={
            "current_password": "guess", "new_password": "violet-harbour-lantern", "confirm": "violet-harbour-lantern"})
    assert sent_to_login(response)
    assert not is_logged_in(thief) and not is_logged_in(owner)
    assert form_errors(login(thief, "coord1")) == [LOCK_MESSAGE]
    assert login(owner, "coord1").status_code == 302  # the owner logs in again from their own address
