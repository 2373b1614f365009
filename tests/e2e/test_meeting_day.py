"""Meeting day in the browser, on the demo's meeting of next week: started early with the confirmation the run page
asks for, one case put off to the next meeting with its reason (refused without one), and what that leaves on the
agenda list and in the minutes."""
import re

from playwright.sync_api import expect

from conference.seed import demo
from e2e.test_browser import log_in

REASON = "가구원 입원으로 다음 회의에서 논의"


def test_a_case_is_postponed_from_its_screen_with_a_reason(live_server, page):
    log_in(page, live_server, "coordinator", demo.DEFAULT_PASSWORD)
    page.goto(live_server + "/meetings")
    upcoming = page.locator("main tbody tr").filter(
        has=page.locator(".badge", has_text=re.compile(r"^(준비|자료 공유)$")))
    expect(upcoming).to_have_count(1)
    upcoming.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/meetings/\d+$"))
    page.locator("main .page-head").get_by_role("link", name="회의 진행").click()
    expect(page.locator("#start-day-warning")).to_be_visible()
    page.get_by_role("checkbox", name="회의일이 아닌 날에 시작하는 것을 확인합니다.").check()
    page.get_by_role("button", name="회의 시작 (회의 중으로)").click()
    page.wait_for_url(re.compile(r"/meetings/\d+/run$"))
    run_url = page.url

    agenda = page.locator("main tbody tr").filter(has=page.locator("a[href*='/run/']"))
    expect(agenda).to_have_count(3)
    first = agenda.first.locator("a[href*='/run/']")
    case = first.inner_text().split()[0]
    first.click()
    page.wait_for_url(re.compile(r"/meetings/\d+/run/\d+$"))
    postpone = page.locator("#postpone").get_by_role("button", name="다음 회의로 보류")
    postpone.click()
    expect(page.locator("#postpone_reason-error")).to_have_text("보류 사유를 적으세요.")
    expect(page.locator("#postpone_reason")).to_have_attribute("aria-invalid", "true")
    page.fill("#postpone_reason", REASON)
    postpone.click()
    expect(page.locator("#postponed")).to_contain_text(REASON)
    expect(page.locator("#postpone").get_by_role("button", name="보류 취소")).to_be_visible()

    page.goto(run_url)
    row = page.locator("main tbody tr", has_text=case)
    expect(row).to_contain_text(f"보류 {REASON}")
    page.locator("main .page-head").get_by_role("link", name="회의록", exact=True).click()
    page.wait_for_url(re.compile(r"/meetings/\d+/minutes$"))
    expect(page.locator("main article")).to_contain_text(f"보류 (다음 회의로): {REASON}")
