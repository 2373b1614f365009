"""The demo coordinator's journey in a real browser: login, home, language switch, logout."""
import re
from pathlib import Path

from babel.messages.pofile import read_po
from playwright.sync_api import expect

from conference.seed import demo

ROOT = Path(__file__).resolve().parents[2]
EN_PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def english(msgid: str) -> str:
    """What the English catalogue says for msgid now (the msgid itself while still untranslated)."""
    with EN_PO.open("rb") as f:
        message = read_po(f).get(msgid)
    return (message.string if message is not None and message.string else msgid)


def log_in(page, base_url, username, password):
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()


def test_coordinator_logs_in_switches_language_and_logs_out(live_server, page):
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page).to_have_title(re.compile(r"^로그인"))
    expect(page.locator("main h1")).to_have_text("로그인")

    log_in(page, live_server, "coordinator", demo.DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator("main h1")).to_contain_text("한사례님")
    expect(page.locator("main")).to_contain_text("무한돌봄센터")
    logout = page.locator("header form button[type=submit]", has_text="로그아웃")
    expect(logout).to_be_visible()

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "home.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0

    switch = page.locator("form.language-switch")
    switch.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(switch.locator(".current-language")).to_have_text("English")
    logout_button = page.locator("header form[action$='/logout'] button")
    expect(logout_button).to_have_text(english("로그아웃"))

    switch.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(logout_button).to_have_text("로그아웃")
    expect(page.locator("main h1")).to_contain_text("한사례님")

    logout_button.click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("main h1")).to_have_text("로그인")
    expect(page.locator(".flash")).to_have_text("로그아웃되었습니다.")
    page.goto(live_server + "/home")
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))


def test_wrong_password_shows_generic_error_and_stays_on_login(live_server, page):
    log_in(page, live_server, "coordinator", "not-the-password")
    expect(page).to_have_url(re.compile(r"/login$"))
    error = page.locator("main form .form-errors[role=alert]")
    expect(error).to_have_text("아이디 또는 비밀번호가 올바르지 않습니다.")
    expect(page.locator("main h1")).to_have_text("로그인")
    expect(page.locator("input[name=password]")).to_have_value("")
