"""Nothing typed is lost: a session that ended while the coordinator wrote the case record, and leaving
the page with unsaved changes (issue 6, meeting mode)."""
import contextlib
import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from conference.seed import demo

PASSWORD = demo.DEFAULT_PASSWORD
TYPED = "세션이 끝나기 직전에 적은 논의 내용"


def log_in(page, base, username="coordinator", next_path=""):
    page.goto(base + "/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()


def start_meeting(page, base):
    """Open the demo's upcoming meeting for recording and return the URL of its first case screen."""
    page.goto(base + "/meetings")
    page.locator("a", has_text="2026년도").or_(page.locator("a", has_text="년도 제1회")).first.click()
    page.goto(page.url.rstrip("/") + "/run")
    page.get_by_role("checkbox", name="회의일이 아닌 날에 시작하는 것을 확인합니다.").check()  # next week's meeting
    page.get_by_role("button", name="회의 시작 (회의 중으로)").click()
    page.wait_for_url(re.compile(r"/run$"))
    page.locator("table a", has_text="2021-").first.click()
    return page.url


def test_typing_survives_an_expired_session_and_is_offered_back(page, live_server):
    log_in(page, live_server)
    page.wait_for_url(re.compile(r"/home$"))
    case_url = start_meeting(page, live_server)
    page.fill("textarea[name=discussion]", TYPED)
    page.context.clear_cookies()  # the session ended meanwhile (idle timeout, logout on another device)
    with page.expect_navigation():
        page.locator("main form button.primary", has_text="저장").click()
    assert "/run/" not in page.url or page.locator("h1", has_text="400").count() == 1  # refused, not saved
    log_in(page, live_server)
    page.wait_for_url(re.compile(r"/home$"))
    page.goto(case_url)
    assert page.locator("textarea[name=discussion]").input_value() == ""
    offer = page.locator(".flash-warning", has_text="저장되지 않은 입력")
    expect(offer).to_be_visible()
    offer.locator("button").click()
    assert page.locator("textarea[name=discussion]").input_value() == TYPED
    page.locator("main form button.primary", has_text="저장").click()
    expect(page.locator(".flash-success")).to_be_visible()
    assert page.locator("textarea[name=discussion]").input_value() == TYPED
    page.reload()
    expect(page.locator(".flash-warning", has_text="저장되지 않은 입력")).to_have_count(0)


def test_leaving_with_unsaved_changes_asks_first(page, live_server):
    log_in(page, live_server)
    page.wait_for_url(re.compile(r"/home$"))
    case_url = start_meeting(page, live_server)
    page.fill("textarea[name=discussion]", "아직 저장하지 않은 글")
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    with contextlib.suppress(PlaywrightError):  # the navigation is cancelled in the dialog: that is the point
        page.goto(case_url.rsplit("/", 1)[0])  # away from the page, without saving
    assert asked == ["beforeunload"]
    assert page.url == case_url
    assert page.locator("textarea[name=discussion]").input_value() == "아직 저장하지 않은 글"
