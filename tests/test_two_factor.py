"""Two-factor login: enrolment, the second login step, recovery codes, admin rules and odd input."""
import hashlib
import json
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import unquote

import pyotp
import pytest
from flask import Flask

from factories import audit_actions, field_errors, fresh_user, login, text, throttle
from conftest import PASSWORD, is_logged_in, make_app
from conference import create_app
from conference.auth import two_factor
from conference.extensions import db
from conference.models import AuditEvent, LoginSession, RecoveryCode, Role, User

WRONG_CODE = "인증 코드가 올바르지 않습니다."
WRONG_ENROLMENT_CODE = "인증 코드가 올바르지 않습니다. 앱에 지금 표시된 코드를 입력하세요."
LOCK_MESSAGE = "로그인 실패가 반복되어 잠시 잠겼습니다. 몇 분 뒤에 다시 시도하세요."
EXPIRED_FLASH = "인증 시간이 지났습니다. 처음부터 다시 로그인하세요."
TWO_FACTOR_OFF_WARNING = ("관리자 2단계 인증 의무가 꺼져 있습니다. 비밀번호만으로 계정과 접속기록을 관리할 수 있으니 "
                          "CONFERENCE_TWO_FACTOR_REQUIRED_FOR_ADMINS 설정을 다시 켜세요.")
MUST_ENROL_FLASH = "관리자 계정은 2단계 인증을 설정해야 합니다. 설정을 마치면 다른 화면을 쓸 수 있습니다."
RECOVERY_CODE = re.compile(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>")


class Clock:
    """The time two-factor codes are checked at, standing still in the middle of a 30-second step."""

    def __init__(self):
        self.now = (int(time.time()) // 30) * 30 + 15.0

    @property
    def step(self) -> int:
        return int(self.now // 30)

    def advance(self, steps: int = 1):
        self.now += 30 * steps


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(two_factor, "time", SimpleNamespace(time=lambda: clock.now))
    return clock


# --- helpers ---------------------------------------------------------------------------------------


def code_for(username: str, step: int) -> str:
    return pyotp.TOTP(fresh_user(username).totp_secret).generate_otp(step)


def enrol(user: User, clock: Clock) -> list[str]:
    """Switch two-factor login on through the service, as the enrolment page does, and commit."""
    two_factor.start_enrolment(user)
    codes = two_factor.enable(user, pyotp.TOTP(user.totp_secret).generate_otp(clock.step))
    db.session.commit()
    clock.advance()  # the step of the enrolment code is used up
    return codes


def second_step(client, code):
    return client.post("/login/two-factor", data={"code": code})


def login_with_code(client, username, code, **query):
    first = login(client, username, **query)
    assert first.status_code == 302 and first.headers["Location"] == "/login/two-factor"
    return second_step(client, code)


def recovery_codes_of(user_id: int) -> list[RecoveryCode]:
    return db.session.execute(db.select(RecoveryCode).where(RecoveryCode.user_id == user_id)
                              .order_by(RecoveryCode.id)).scalars().all()


def confirm_enrolment(client, code, password=PASSWORD):
    return client.post("/account/two-factor", data={"code": code, "current_password": password})


# --- every page behind the right door --------------------------------------------------------------


@pytest.mark.parametrize("method, url", [
    ("GET", "/account/two-factor"),
    ("POST", "/account/two-factor"),
    ("POST", "/account/two-factor/start"),
    ("POST", "/account/two-factor/disable"),
    ("POST", "/account/two-factor/recovery-codes"),
    ("POST", "/admin/users/1/two-factor/reset"),
])
def test_two_factor_settings_need_login(client, method, url):
    response = client.open(url, method=method, data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_second_step_without_a_password_step_goes_to_login(client, coordinator, method):
    response = client.open("/login/two-factor", method=method, data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(client)


# --- enrolment -------------------------------------------------------------------------------------


def start_enrolment(client) -> str:
    response = client.post("/account/two-factor/start")
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    return fresh_user("coord1").totp_secret


def test_looking_at_the_enrolment_page_changes_nothing(client, coordinator):
    login(client, "coord1")
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'action="/account/two-factor/start"' in page and "<svg" not in page
    assert fresh_user("coord1").totp_secret == ""
    # A confirmation without a started enrolment goes back to the start.
    assert confirm_enrolment(client, "123456").headers["Location"] == "/account/two-factor"
    assert fresh_user("coord1").totp_enabled_at is None


def test_enrolment_page_shows_the_secret_and_an_inline_qr_code(client, coordinator):
    login(client, "coord1")
    secret = start_enrolment(client)
    response = client.get("/account/two-factor")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    user = fresh_user("coord1")
    assert len(secret) == 32 and user.totp_enabled_at is None
    assert two_factor.grouped(secret) in page

    # The QR code is inline SVG of the otpauth address with the configured issuer: no image request, no script.
    uri = pyotp.TOTP(secret).provisioning_uri(name="coord1", issuer_name="통합사례회의")
    svg = re.search(r'<div class="qr">(<svg.*?</svg>)</div>', page, re.S).group(1)
    assert svg == str(two_factor.qr_svg(uri, "인증 앱에 등록할 QR 코드"))
    parsed = pyotp.parse_uri(uri)
    assert (parsed.issuer, parsed.name, parsed.secret) == ("통합사례회의", "coord1", secret)
    assert unquote(uri).startswith("otpauth://totp/통합사례회의:coord1?secret=")
    assert "<script" not in page and "<img" not in page

    # Coming back shows the same secret (the app may already have it); login is unchanged until confirmed.
    assert two_factor.grouped(secret) in client.get("/account/two-factor").get_data(as_text=True)
    assert fresh_user("coord1").totp_secret == secret
    client.post("/logout")
    assert login(client, "coord1").headers["Location"] == "/home"


def test_starting_again_makes_a_new_secret(client, coordinator, clock):
    login(client, "coord1")
    first = start_enrolment(client)
    old_code = code_for("coord1", clock.step)
    second = start_enrolment(client)
    assert second != first
    if old_code != code_for("coord1", clock.step):
        response = confirm_enrolment(client, old_code)
        assert field_errors(response, "code") == [WRONG_ENROLMENT_CODE]
    assert confirm_enrolment(client, code_for("coord1", clock.step)).status_code == 200
    assert fresh_user("coord1").totp_enabled_at is not None
    # Once on, starting again does not replace the secret.
    client.post("/account/two-factor/start")
    assert fresh_user("coord1").totp_secret == second


def test_account_page_links_to_two_factor(client, coordinator):
    login(client, "coord1")
    page = text(client.get("/account"))
    assert 'href="/account/two-factor"' in page and "사용 안 함" in page


@pytest.mark.parametrize("code, message", [
    ("000000", WRONG_ENROLMENT_CODE),
    ("", "인증 코드를 입력하세요."),
    ("abcdef", WRONG_ENROLMENT_CODE),
    ("١٢٣٤٥٦", WRONG_ENROLMENT_CODE),
    ("9" * 10_000, WRONG_CODE),
    ("<script>alert(1)</script>", WRONG_ENROLMENT_CODE),
], ids=["wrong", "empty", "letters", "arabic-digits", "very-long", "markup"])
def test_enrolment_with_a_bad_code_keeps_two_factor_off(client, coordinator, clock, code, message):
    login(client, "coord1")
    start_enrolment(client)
    if code == "000000" and code_for("coord1", clock.step) == code:
        code = "000001"
    response = confirm_enrolment(client, code)
    assert response.status_code == 200
    assert field_errors(response, "code") == [message]
    user = fresh_user("coord1")
    assert user.totp_enabled_at is None and recovery_codes_of(user.id) == []
    assert audit_actions("two_factor.enable") == []


def test_enrolment(app, client, coordinator, clock):
    other_device = app.test_client()
    login(other_device, "coord1")
    login(client, "coord1")
    start_enrolment(client)
    code = code_for("coord1", clock.step)

    response = confirm_enrolment(client, code)
    assert response.status_code == 200
    codes = RECOVERY_CODE.findall(response.get_data(as_text=True))
    assert len(codes) == len(set(codes)) == 10
    user = fresh_user("coord1")
    assert user.totp_enabled_at is not None and user.totp_last_step == clock.step
    stored = recovery_codes_of(user.id)
    assert len(stored) == 10 and all(row.used_at is None for row in stored)
    # Only keyed hashes are stored, never the codes.
    assert all(re.fullmatch(r"[0-9a-f]{64}", row.code_hash) for row in stored)
    assert not {c.replace("-", "") for c in codes} & {row.code_hash for row in stored}
    [event] = audit_actions("two_factor.enable")
    assert (event.actor_id, event.object_id) == (user.id, str(user.id))

    # This browser stays logged in; the session started with the password alone ends.
    assert is_logged_in(client)
    assert not is_logged_in(other_device)
    # The codes are shown once: the page now shows the state, not the codes.
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "사용 중" in page and "10개" in page
    assert not any(c in page for c in codes)
    # The enrolment code cannot log in again.
    client.post("/logout")
    assert field_errors(login_with_code(client, "coord1", code), "code") == [WRONG_CODE]


# --- logging in with the second step ---------------------------------------------------------------


def test_login_needs_the_second_step(client, coordinator, clock):
    enrol(coordinator, clock)
    first = login(client, "coord1")
    assert first.status_code == 302 and first.headers["Location"] == "/login/two-factor"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    page = client.get("/login/two-factor")
    assert page.status_code == 200
    assert 'name="code"' in page.get_data(as_text=True)
    assert fresh_user("coord1").last_login_at is None

    response = second_step(client, code_for("coord1", clock.step))
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert is_logged_in(client)
    assert fresh_user("coord1").last_login_at is not None
    [password_step] = audit_actions("login.password")
    [done] = audit_actions("login")
    assert password_step.actor_id == done.actor_id == coordinator.id
    assert json.loads(done.details) == {"second_factor": "totp"}


@pytest.mark.parametrize("method, url", [
    ("GET", "/home"), ("GET", "/account"), ("GET", "/account/two-factor"), ("GET", "/admin/users"),
    ("GET", "/cases"), ("GET", "/account/password"), ("POST", "/account/two-factor/disable"),
    ("POST", "/logout"),
])
def test_half_logged_in_grants_nothing(client, admin, clock, method, url):
    enrol(admin, clock)
    login(client, "admin1")
    response = client.open(url, method=method, data={"disable-current_password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert fresh_user("admin1").totp_enabled_at is not None


def test_pending_login_cookie_has_the_session_flags(client, coordinator, clock):
    enrol(coordinator, clock)
    cookie = login(client, "coord1").headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("offset, accepted", [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_codes_one_step_either_side_are_accepted(client, coordinator, clock, offset, accepted):
    enrol(coordinator, clock)
    clock.advance(2)  # well past the step the enrolment used
    response = login_with_code(client, "coord1", code_for("coord1", clock.step + offset))
    assert (response.status_code == 302) is accepted
    assert is_logged_in(client) is accepted


def test_a_code_works_once(app, client, coordinator, clock):
    enrol(coordinator, clock)
    code = code_for("coord1", clock.step)
    assert login_with_code(client, "coord1", code).status_code == 302

    other = app.test_client()
    response = login_with_code(other, "coord1", code)
    assert response.status_code == 200 and field_errors(response, "code") == [WRONG_CODE]
    # Nor does the code of the step before (still in the window) once a later one was used.
    response = second_step(other, code_for("coord1", clock.step - 1))
    assert field_errors(response, "code") == [WRONG_CODE]
    assert not is_logged_in(other)
    clock.advance()
    assert second_step(other, code_for("coord1", clock.step)).status_code == 302
    assert is_logged_in(other)


def test_login_with_a_recovery_code(app, client, coordinator, clock):
    codes = enrol(coordinator, clock)
    typed = "  " + codes[3].upper().replace("-", " ") + " "  # case, spaces and hyphens do not matter
    response = login_with_code(client, "coord1", typed)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    home = text(client.get("/home"))
    assert "복구 코드로 로그인했습니다. 남은 복구 코드는 9개입니다." in home
    used = [row for row in recovery_codes_of(coordinator.id) if row.used_at is not None]
    assert len(used) == 1
    assert json.loads(audit_actions("login")[-1].details) == {"second_factor": "recovery_code"}

    other = app.test_client()
    response = login_with_code(other, "coord1", codes[3])
    assert field_errors(response, "code") == [WRONG_CODE]
    assert login_with_code(app.test_client(), "coord1", codes[4]).status_code == 302


def test_recovery_code_of_another_user_does_not_work(client, coordinator, make_user, clock):
    enrol(coordinator, clock)
    other_codes = enrol(make_user("other1"), clock)
    response = login_with_code(client, "coord1", other_codes[0])
    assert field_errors(response, "code") == [WRONG_CODE]


def test_wrong_codes_count_toward_the_lock(app, client, coordinator, clock):
    enrol(coordinator, clock)
    login(client, "coord1")
    for _ in range(3):
        assert field_errors(second_step(client, "000000"), "code") == [WRONG_CODE]
    # A right password in between does not reset the count: only a complete login does.
    login(client, "coord1")
    assert field_errors(second_step(client, "000000"), "code") == [WRONG_CODE]
    assert field_errors(second_step(client, "000000"), "code") == [WRONG_CODE]
    assert throttle("coord1").locked_until is not None

    response = second_step(client, code_for("coord1", clock.step))
    assert field_errors(response, "code") == [LOCK_MESSAGE]
    assert not is_logged_in(client)
    response = login(app.test_client(), "coord1")
    assert response.status_code == 200 and LOCK_MESSAGE in text(response)
    failed = audit_actions("login.failed")
    assert [json.loads(e.details)["reason"] for e in failed] == ["second_factor"] * 5
    assert [e.actor_name for e in audit_actions("login.lock")] == ["coord1"]


def test_a_complete_login_resets_the_count(client, coordinator, clock):
    enrol(coordinator, clock)
    login(client, "coord1")
    for _ in range(4):
        second_step(client, "000000")
    assert second_step(client, code_for("coord1", clock.step)).status_code == 302
    assert throttle("coord1").failures == 0


@pytest.mark.parametrize("code, message", [
    ("", "인증 코드를 입력하세요."),
    ("   ", "인증 코드를 입력하세요."),
    ("12345", WRONG_CODE),
    ("1234567", WRONG_CODE),
    ("abcdef", WRONG_CODE),
    ("١٢٣٤٥٦", WRONG_CODE),
    ("x" * 100_000, WRONG_CODE),
    ("a" * 64, WRONG_CODE),
    ("\x01\x02", WRONG_CODE),
    ("' OR 1=1 --", WRONG_CODE),
    ("<b>1</b>", WRONG_CODE),
], ids=["empty", "blank", "short", "long-digits", "letters", "arabic-digits", "huge", "64-letters", "control",
        "sql", "markup"])
def test_odd_codes_get_the_generic_message(client, coordinator, clock, code, message):
    enrol(coordinator, clock)
    login(client, "coord1")
    response = second_step(client, code)
    assert response.status_code == 200
    assert field_errors(response, "code") == [message]
    assert "<b>1</b>" not in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_expired_second_step_starts_over(client, coordinator, clock):
    enrol(coordinator, clock)
    login(client, "coord1")
    with client.session_transaction() as session:
        key = session["two_factor_login"]["key"]
    pending = db.session.get(LoginSession, hashlib.sha256(key.encode()).hexdigest())
    pending.created_at -= timedelta(minutes=5, seconds=1)  # TWO_FACTOR_PENDING_MINUTES on the server's clock
    db.session.commit()
    response = second_step(client, code_for("coord1", clock.step))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert EXPIRED_FLASH in text(client.get("/login"))
    assert not is_logged_in(client)
    assert second_step(client, code_for("coord1", clock.step)).headers["Location"] == "/login"
    assert audit_actions("login") == []


@pytest.mark.parametrize("change", ["password reset", "deactivation", "two-factor reset"])
def test_second_step_is_void_after_a_change_to_the_account(client, admin, coordinator, clock, change):
    enrol(coordinator, clock)
    login(client, "coord1")
    user = fresh_user("coord1")
    if change == "password reset":
        user.end_all_sessions()
    elif change == "deactivation":
        user.is_active_account = False
    else:
        two_factor.disable(user, by=admin, reason="reset")
    db.session.commit()
    response = second_step(client, code_for("coord1", clock.step) if user.totp_secret else "123456")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_logged_in(client)


@pytest.mark.parametrize("next_url, expected", [("/account", "/account"), ("https://evil.example/", "/home"),
                                                ("//evil.example", "/home")])
def test_next_is_followed_after_the_second_step(client, coordinator, clock, next_url, expected):
    enrol(coordinator, clock)
    response = login_with_code(client, "coord1", code_for("coord1", clock.step), next=next_url)
    assert response.headers["Location"] == expected


# --- managing one's own two-factor login ------------------------------------------------------------


def test_disabling_needs_the_current_password(app, client, coordinator, clock):
    enrol(coordinator, clock)
    login_with_code(client, "coord1", code_for("coord1", clock.step))
    response = client.post("/account/two-factor/disable", data={"disable-current_password": "not-the-password"})
    assert response.status_code == 200
    assert field_errors(response, "disable-current_password") == ["현재 비밀번호가 올바르지 않습니다."]
    assert fresh_user("coord1").totp_enabled_at is not None

    clock.advance()
    other_device = app.test_client()
    login_with_code(other_device, "coord1", code_for("coord1", clock.step))
    response = client.post("/account/two-factor/disable", data={"disable-current_password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    user = fresh_user("coord1")
    assert (user.totp_enabled_at, user.totp_secret, user.totp_last_step) == (None, "", 0)
    assert recovery_codes_of(user.id) == []
    [event] = audit_actions("two_factor.disable")
    assert event.actor_id == user.id
    assert is_logged_in(client)
    assert not is_logged_in(other_device)
    client.post("/logout")
    assert login(client, "coord1").headers["Location"] == "/home"


def test_regenerating_recovery_codes_voids_the_old_ones(app, client, coordinator, clock):
    old_codes = enrol(coordinator, clock)
    login_with_code(client, "coord1", old_codes[0])
    response = client.post("/account/two-factor/recovery-codes", data={"codes-current_password": "wrong-password"})
    assert field_errors(response, "codes-current_password") == ["현재 비밀번호가 올바르지 않습니다."]
    assert len(recovery_codes_of(coordinator.id)) == 10

    response = client.post("/account/two-factor/recovery-codes", data={"codes-current_password": PASSWORD})
    assert response.status_code == 200
    new_codes = RECOVERY_CODE.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    rows = recovery_codes_of(coordinator.id)
    assert len(rows) == 10 and all(row.used_at is None for row in rows)
    [event] = audit_actions("two_factor.recovery_codes")
    assert json.loads(event.details) == {"count": 10}

    assert field_errors(login_with_code(app.test_client(), "coord1", old_codes[1]), "code") == [WRONG_CODE]
    assert login_with_code(app.test_client(), "coord1", new_codes[1]).status_code == 302


@pytest.mark.parametrize("url", ["/account/two-factor/disable", "/account/two-factor/recovery-codes"])
def test_managing_needs_two_factor_switched_on(client, coordinator, url):
    login(client, "coord1")
    response = client.post(url, data={"disable-current_password": PASSWORD, "codes-current_password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    assert audit_actions("two_factor.disable") == audit_actions("two_factor.recovery_codes") == []


def csrf_token_of(client, url) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def account_state(username: str) -> tuple:
    user = fresh_user(username)
    codes = tuple(row.code_hash for row in recovery_codes_of(user.id) if row.used_at is None)
    actions = tuple(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    logins = tuple(db.session.execute(db.select(LoginSession.id, LoginSession.ended_at)
                                      .where(LoginSession.user_id == user.id).order_by(LoginSession.id)))
    return user.totp_secret, user.totp_enabled_at, user.totp_last_step, logins, codes, actions


@pytest.mark.parametrize("url, state, field", [
    ("/account/two-factor/start", "off", None),
    ("/account/two-factor", "started", "code"),
    ("/account/two-factor/disable", "on", "disable-current_password"),
    ("/account/two-factor/recovery-codes", "on", "codes-current_password"),
    ("/login/two-factor", "on", "code"),
])
def test_two_factor_forms_need_the_csrf_token(database_uri, app, coordinator, clock, url, state, field):
    protected = make_app(database_uri, WTF_CSRF_ENABLED=True)
    try:
        if state == "started":
            two_factor.start_enrolment(coordinator)
            db.session.commit()
        elif state == "on":
            enrol(coordinator, clock)
        client = protected.test_client()
        client.post("/login", data={"username": "coord1", "password": PASSWORD,
                                    "csrf_token": csrf_token_of(client, "/login")})
        if state == "on" and url != "/login/two-factor":
            client.post("/login/two-factor", data={"code": code_for("coord1", clock.step),
                                                   "csrf_token": csrf_token_of(client, "/login/two-factor")})
            clock.advance()
        assert is_logged_in(client) is (url != "/login/two-factor")
        before = account_state("coord1")

        value = code_for("coord1", clock.step) if field == "code" else PASSWORD
        response = client.post(url, data={field: value} if field else {})
        assert response.status_code == 400
        assert account_state("coord1") == before
    finally:
        with protected.app_context():
            db.engine.dispose()


# --- admins ----------------------------------------------------------------------------------------


@pytest.fixture
def required(app):
    app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] = True


def test_admins_are_held_by_default_and_the_switch_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-key")
    assert create_app().config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] is True
    monkeypatch.setenv("CONFERENCE_TWO_FACTOR_REQUIRED_FOR_ADMINS", "false")
    assert create_app().config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] is False


def test_an_admin_is_warned_on_the_home_page_while_the_requirement_is_off(app, client, admin, coordinator, clock):
    enrol(admin, clock)
    login_with_code(client, "admin1", code_for("admin1", clock.step))
    assert TWO_FACTOR_OFF_WARNING in text(client.get("/home"))
    app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] = True
    assert TWO_FACTOR_OFF_WARNING not in text(client.get("/home"))
    # Only admins are told: the setting is theirs to change.
    app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] = False
    other = app.test_client()
    login(other, "coord1")
    assert TWO_FACTOR_OFF_WARNING not in text(other.get("/home"))


@pytest.mark.parametrize("url", ["/home", "/account", "/admin/users", "/admin/audit", "/cases", "/notifications",
                                 "/account/password"])
def test_admin_without_two_factor_is_held_on_the_enrolment_page(client, admin, required, url):
    assert login(client, "admin1").headers["Location"] == "/home"
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    assert MUST_ENROL_FLASH in text(client.get("/account/two-factor"))


def test_admin_held_for_enrolment_may_log_out_and_switch_language(client, admin, required):
    login(client, "admin1")
    assert client.post("/language/en", data={"next": "/account/two-factor"}).headers["Location"] == "/account/two-factor"
    assert client.post("/logout").headers["Location"] == "/login"
    assert not is_logged_in(client)


def test_admin_enrols_and_may_go_on(client, admin, required, clock):
    login(client, "admin1")
    assert client.post("/account/two-factor/start").headers["Location"] == "/account/two-factor"
    response = confirm_enrolment(client, code_for("admin1", clock.step))
    assert response.status_code == 200 and len(RECOVERY_CODE.findall(response.get_data(as_text=True))) == 10
    assert client.get("/admin/users").status_code == 200
    # and cannot switch it off again while the rule is on
    page = text(client.get("/account/two-factor"))
    assert "관리자 계정은 2단계 인증을 끌 수 없습니다." in page
    response = client.post("/account/two-factor/disable", data={"disable-current_password": PASSWORD})
    assert response.status_code == 200 and "관리자 계정은 2단계 인증을 끌 수 없습니다." in text(response)
    assert audit_actions("two_factor.disable") == []
    assert fresh_user("admin1").totp_enabled_at is not None


def test_a_password_change_comes_before_enrolment(client, make_user, required):
    make_user("newadmin", Role.ADMIN, must_change_password=True)
    login(client, "newadmin")
    assert client.get("/account/two-factor").headers["Location"] == "/account/password"


def test_other_roles_are_not_held(client, coordinator, required):
    login(client, "coord1")
    assert client.get("/home").status_code == 200


def test_admin_resets_a_users_two_factor(app, client, admin, coordinator, clock):
    enrol(coordinator, clock)
    target = app.test_client()
    login_with_code(target, "coord1", code_for("coord1", clock.step))
    old_cookie = target.get_cookie("session").value

    login(client, "admin1")
    page = text(client.get(f"/admin/users/{coordinator.id}"))
    assert f'action="/admin/users/{coordinator.id}/two-factor/reset"' in page
    response = client.post(f"/admin/users/{coordinator.id}/two-factor/reset")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{coordinator.id}"
    user = fresh_user("coord1")
    assert (user.totp_enabled_at, user.totp_secret) == (None, "")
    assert recovery_codes_of(user.id) == []
    [event] = audit_actions("two_factor.reset")
    assert (event.actor_id, event.object_id) == (admin.id, str(user.id))

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    assert not is_logged_in(replay)
    assert login(app.test_client(), "coord1").headers["Location"] == "/home"
    assert 'two-factor/reset"' not in text(client.get(f"/admin/users/{coordinator.id}"))


def test_only_admins_reset_two_factor(client, coordinator, make_user, clock):
    target = make_user("target1")
    enrol(target, clock)
    login(client, "coord1")
    assert client.post(f"/admin/users/{target.id}/two-factor/reset").status_code == 403
    assert fresh_user("target1").totp_enabled_at is not None
    assert audit_actions("two_factor.reset") == []


def test_reset_of_an_unknown_user_is_404(client, admin):
    login(client, "admin1")
    assert client.post("/admin/users/999999/two-factor/reset").status_code == 404
