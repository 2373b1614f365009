"""The three journeys of issue 6 in a real browser, one user per browser context, through the real UI:

1. the coordinator prepares a meeting and its packets;
2. a practitioner pledges, reads the packet and submits the agency's input;
3. the coordinator runs the meeting, the chair approves the minutes, the coordinator downloads them as Word.

The journeys build on each other (one meeting), so they run in order inside one test.
"""
import re
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import docx
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from conference.core.formatting import KST
from conference.seed import demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = demo.DEFAULT_PASSWORD
CASE = "2021-0001"
MASKED = "김○○"
FULL_NAME = "김민수"
INVITED = ["정신건강복지센터", "드림스타트", "중앙동 행정복지센터"]
KEY_QUESTION = "학교 밖 위기 신호가 늘었습니다. 기관별 역할을 나눠 주세요."
FACTS = "2020년 우울증 진단 후 3개월 상담.\n<b>태그</b> 그대로 보여야 함"
OPINION = "치료 재개가 필요합니다.\n위기 시 연락 체계를 정해 주세요."
ATTENDEES = [("한사례", "무한돌봄센터", "통합사례관리사"), ("서마음", "정신건강복지센터", "정신건강전문요원")]
CHAIR = ("윤팀장", "동두천시 복지정책과", "희망복지팀장")
DISCUSSION = "피해자 안전 확보를 우선하고 치료를 다시 시작하기로 함."
CAUSE = "반복되는 가정폭력과 치료 중단"
TASK = "정신건강 치료 재개 연계"
PERSON = "서마음"
RESOURCE = "정신건강 사례관리"
HASH = re.compile(r"^[0-9a-f]{64}$")


def new_page(browser, stack):
    """A fresh browser context (its own cookies) for one user, closed when the test ends."""
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", accept_downloads=True)
    context.set_default_timeout(10_000)
    stack.callback(context.close)
    return context.new_page()


def log_in(page, base, username):
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/home$"))


def flash(page):
    return page.locator("main .flash")


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path


def prepare_meeting(page, base, meeting_day):
    """Journey 1: create the meeting, invite three agencies, put 2021-0001 on the agenda, check a packet, share."""
    log_in(page, base, "coordinator")
    page.goto(base + "/meetings")
    page.get_by_role("link", name="회의 만들기").click()
    page.wait_for_url(re.compile(r"/meetings/new$"))
    page.fill("input[name=day]", meeting_day.isoformat())
    page.fill("input[name=start_time]", "10:00")
    page.fill("input[name=place]", "중앙동 행정복지센터 2층 회의실")
    page.select_option("select[name=chair_id]", label="윤팀장 (동두천시 복지정책과)")
    for agency in INVITED:
        page.get_by_role("checkbox", name=agency, exact=True).check()
    page.locator("main form").get_by_role("button", name="저장", exact=True).click()
    page.wait_for_url(re.compile(r"/meetings/\d+$"))
    meeting_id = int(page.url.rsplit("/", 1)[1])
    title = page.locator("main h1").inner_text().strip()
    assert re.fullmatch(r"\d{4}년도 제\d+회 .+", title), title
    expect(flash(page)).to_contain_text("만들었습니다")
    expect(page.locator("main .page-head .badge")).to_have_text("준비")
    invitations = page.locator("#invitations tbody tr")
    expect(invitations).to_have_count(3)
    for agency in INVITED:
        expect(page.locator("#invitations tbody td:first-child", has_text=agency)).to_have_count(1)

    # Agenda: find the case by number, pick it, say what the meeting should decide.
    page.get_by_role("link", name="사례 추가").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/agenda/new$"))
    page.fill("main input[name=q]", CASE)
    page.get_by_role("button", name="찾기").click()
    page.wait_for_url(re.compile(r"/agenda/new\?q=2021-0001$"))
    row = page.locator("main table.data tbody tr", has_text=CASE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(MASKED)
    row.get_by_role("link", name="고르기").click()
    page.wait_for_url(re.compile(r"/agenda/new\?household_id=\d+$"))
    expect(page.locator("main h2")).to_contain_text(f"{CASE} {MASKED}")
    page.fill("textarea[name=key_question]", KEY_QUESTION)
    page.get_by_role("button", name="안건에 올리기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}#agenda$"))
    expect(flash(page)).to_have_text(f"사례 {CASE}을(를) 안건에 올렸습니다.")
    agenda = page.locator("#agenda tbody tr")
    expect(agenda).to_have_count(1)
    expect(agenda).to_contain_text(f"{CASE} {MASKED}")
    expect(agenda).to_contain_text(KEY_QUESTION)

    # The mental-health centre's packet: marked for that reader, names masked.
    page.locator("#invitations tbody tr", has_text="정신건강복지센터").get_by_role("link", name="기관용 자료").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/packet\?agency=\d+$"))
    expect(page.locator("main .confidential")).to_have_text("대외비 · 개인정보 포함 · 정신건강복지센터 열람용")
    expect(page.locator("main .packet-case h2")).to_contain_text(f"{CASE} {MASKED}")
    expect(page.locator("main")).to_contain_text(KEY_QUESTION)
    expect(page.locator("body")).not_to_contain_text(FULL_NAME)

    page.goto(f"{base}/meetings/{meeting_id}")
    page.get_by_role("button", name="다음 단계로: 자료 공유").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}$"))
    expect(flash(page)).to_have_text("회의 상태를 '자료 공유'(으)로 바꿨습니다.")
    expect(page.locator("main .page-head .badge")).to_have_text("자료 공유")
    return meeting_id, title


def practitioner_input(page, base, meeting_id, title):
    """Journey 2: the mental-health centre's practitioner pledges, reads the packet and submits input."""
    log_in(page, base, "mh")
    row = page.locator("main table.data tbody tr", has_text=title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("서약 전")
    row.get_by_role("link", name="서약하고 자료 보기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/pledge$"))
    page.get_by_role("checkbox", name="위 내용을 읽었으며 비밀유지를 서약합니다.").check()
    page.get_by_role("button", name="서약하고 자료 보기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/packet$"))
    expect(flash(page)).to_have_text("비밀유지 서약을 기록했습니다.")
    expect(page.locator("main .confidential")).to_have_text("대외비 · 개인정보 포함 · 정신건강복지센터 열람용")
    expect(page.locator("main h1")).to_have_text(f"{title} 사전 공유자료")
    expect(page.locator("main .packet-case h2")).to_contain_text(f"{CASE} {MASKED}")
    expect(page.locator("body")).not_to_contain_text(FULL_NAME)

    page.get_by_role("link", name="기관 의견 쓰기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/inputs$"))
    row = page.locator("main table.data tbody tr", has_text=CASE)
    expect(row).to_contain_text("미제출")
    row.get_by_role("link", name="의견 쓰기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/inputs/\d+$"))
    expect(page.locator("main h1")).to_have_text(f"{CASE} {MASKED} · 정신건강복지센터")
    page.fill("textarea[name=facts]", FACTS)
    page.fill("textarea[name=opinion]", OPINION)
    page.get_by_role("button", name="제출", exact=True).click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/inputs$"))
    expect(flash(page)).to_have_text("기관 의견을 제출했습니다.")
    row = page.locator("main table.data tbody tr", has_text=CASE)
    expect(row.locator("td").nth(3)).to_have_text("제출")

    # What was typed comes back as literal text with its line break, never as markup.
    row.get_by_role("link", name="고치기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/inputs/\d+$"))
    expect(page.locator("textarea[name=facts]")).to_have_value(FACTS)
    page.get_by_role("link", name="수정 이력").click()
    page.wait_for_url(re.compile(r"/inputs/\d+/history\?agency=\d+$"))
    facts = page.locator("main details[open] dd.pre").first
    expect(facts).to_have_text(FACTS)
    assert facts.inner_text() == FACTS  # the line break is shown, the tag is text
    expect(page.locator("main dd b")).to_have_count(0)


def run_meeting(page, chair_page, base, meeting_id, title, meeting_day, today, tmp_path):
    """Journey 3: record the meeting, have the minutes approved, download them as Word."""
    page.goto(f"{base}/meetings/{meeting_id}")
    # Three weeks early: the meeting page sends the start to the run page, which asks to confirm the day.
    expect(page.get_by_role("button", name="다음 단계로: 회의 중")).to_have_count(0)
    page.locator("#start-day-warning").get_by_role("link", name="회의 진행 화면에서 확인하고 시작하기").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run#start$"))
    start = page.get_by_role("button", name="회의 시작 (회의 중으로)")
    start.click()
    expect(page.locator("#confirm_day-error")).to_contain_text("그래도 시작하려면 확인란을 고르세요")
    page.get_by_role("checkbox", name="회의일이 아닌 날에 시작하는 것을 확인합니다.").check()
    start.click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run$"))
    expect(page.locator("main .page-head .badge")).to_have_text("회의 중")
    page.goto(f"{base}/meetings/{meeting_id}")
    expect(page.locator("#invitations tbody tr", has_text="정신건강복지센터")).to_contain_text("서마음")

    page.locator("main .page-head").get_by_role("link", name="회의 진행").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run$"))
    # Attendance starts from the people expected (chair, coordinator, whoever pledged): ticked when present.
    suggested = page.locator("main tr.suggested")
    expect(suggested.filter(has=page.locator("input[value='윤팀장']"))).to_have_count(1)
    for name, agency, position in ATTENDEES:
        row = suggested.filter(has=page.locator(f"input[value='{name}']"))
        expect(row).to_have_count(1)
        expect(row.locator("select option:checked")).to_have_text(agency)
        row.get_by_role("checkbox").check()
        row.locator("input[name$='-position']").fill(position)
    page.get_by_role("button", name="참석자·일정 저장").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run$"))
    expect(flash(page)).to_have_text("참석자와 일정을 저장했습니다.")
    for n, (name, _agency, position) in enumerate(ATTENDEES):
        expect(page.locator(f"input[name=attendee-{n}-name]")).to_have_value(name)
        expect(page.locator(f"input[name=attendee-{n}-position]")).to_have_value(position)
    expect(page.locator("main tbody tr", has=page.locator("input[name=attendee-1-name]"))).to_contain_text("서약함")

    page.get_by_role("link", name=f"{CASE} {MASKED}").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run/\d+$"))
    expect(page.locator("main h1")).to_have_text(f"1. {CASE} {MASKED}")
    submitted = page.locator("main .input-line", has_text="정신건강복지센터")
    expect(submitted).to_contain_text("<b>태그</b>")
    expect(submitted.locator("b")).to_have_count(0)
    # A decision the case cannot take as chosen (종결 with no reason) is refused by its field, naming the case.
    page.select_option("select[name=status_to]", label="종결")
    page.get_by_role("button", name="이 사례 기록 저장").click()
    expect(page.locator("#closure_reason-error")).to_have_text(f"사례 {CASE}: 종결 사유를 고르세요.")
    expect(page.locator("select[name=status_to]")).to_have_value("closed")
    page.select_option("select[name=status_to]", value="")
    page.fill("textarea[name=discussion]", DISCUSSION)
    page.select_option("select[name=cause-0-domain]", label="안전")
    page.fill("input[name=cause-0-text]", CAUSE)
    page.select_option("select[name=classification]", label="집중")
    page.fill("textarea[name=action-0-task]", TASK)
    page.select_option("select[name=action-0-domain]", label="건강")
    page.select_option("select[name=action-0-agency]", label="정신건강복지센터")
    page.fill("input[name=action-0-person]", PERSON)
    page.fill("input[name=action-0-due]", (meeting_day + timedelta(days=30)).isoformat())
    page.select_option("select[name=action-0-resource_public]", label="공공")
    page.fill("input[name=action-0-resource_kind]", RESOURCE)
    page.get_by_role("button", name="이 사례 기록 저장").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run/\d+$"))
    expect(flash(page)).to_have_text(f"사례 {CASE} 기록을 저장했습니다.")
    expect(page.locator("textarea[name=discussion]")).to_have_value(DISCUSSION)
    expect(page.locator("textarea[name=action-0-task]")).to_have_value(TASK)
    expect(page.locator("select[name=classification]")).to_have_value("집중")
    shot(page, "journey-meeting-case.png")

    page.get_by_role("link", name="안건 목록").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/run$"))
    expect(page.locator("main tbody tr", has_text=CASE)).to_contain_text("기록함")
    page.locator("main .page-head").get_by_role("link", name="회의록", exact=True).click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(page.locator("main h1")).to_have_text(f"{title} 회의록 초안 · 결재 전")
    page.fill("input[name=deadline]", (today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="참석자에게 검토 요청").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(flash(page)).to_have_text("참석자에게 회의록 검토를 요청했습니다.")
    expect(page.locator("main .page-head .badge")).to_have_text("검토 요청")

    # The chair: home → 결재 queue → the minutes → 결재, confirmed on the page that says which review is missing.
    log_in(chair_page, base, "chair")
    queue = chair_page.locator("#approval-queue tbody tr")
    expect(queue).to_have_count(2)  # and the demo's meeting held last week
    ours = queue.filter(has_text=title)
    expect(ours).to_contain_text("0 / 1명 검토")  # 서마음; the coordinator wrote the minutes
    ours.get_by_role("link", name=f"{title} 회의록").click()
    chair_page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(chair_page.locator("#review-summary tr.waiting")).to_contain_text("서마음")
    chair_page.get_by_role("button", name="결재 (회의록 확정)").click()
    chair_page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes/approve$"))
    expect(chair_page.locator("#missing-reviews")).to_contain_text("검토 1건 중 0건만 들어왔습니다.")
    expect(chair_page.locator("main .page-head")).to_contain_text(title)
    chair_page.get_by_role("button", name="검토가 빠진 채로 결재").click()
    chair_page.wait_for_url(re.compile(rf"/meetings/{meeting_id}/minutes$"))
    expect(flash(chair_page)).to_contain_text("결재했습니다. 회의록이 확정되었습니다")
    expect(chair_page.locator("main .page-head .badge")).to_have_text("확정")
    content_hash = chair_page.locator("main .page-head code").inner_text().strip()
    assert HASH.match(content_hash), content_hash
    expect(flash(chair_page)).to_contain_text(content_hash[:12])
    expect(chair_page.get_by_role("button", name="결재 (회의록 확정)")).to_have_count(0)
    shot(chair_page, "journey-minutes-final.png")

    page.reload()
    expect(page.locator("main .page-head .badge")).to_have_text("확정")
    page.fill("input[name=purpose]", "결재 보고")
    with page.expect_download() as info:
        page.get_by_role("button", name="Word로 내려받기").click()
    download = info.value
    assert download.suggested_filename == f"{title} 회의록.docx"
    path = tmp_path / "minutes.docx"
    download.save_as(path)
    check_minutes_docx(path, title, content_hash)


def table_rows(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def check_minutes_docx(path, title, content_hash):
    document = docx.Document(str(path))
    paragraphs = document.paragraphs
    assert paragraphs[0].text == f"{title} 회의록"
    tables = {tuple(table_rows(t)[0]): table_rows(t)[1:] for t in document.tables}
    assert tables[("성명", "소속기관", "직위")] == [list(a) for a in [CHAIR, *ATTENDEES]]  # the chair leads the list
    headings = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert f"1. {CASE} {MASKED}" in headings, headings
    actions = tables[("과제", "욕구영역", "담당기관", "담당자", "기한", "연계자원")]
    assert len(actions) == 1
    assert actions[0][:4] == [TASK, "건강", "정신건강복지센터", PERSON]
    assert RESOURCE in actions[0][5]
    header = document.sections[0].header
    assert "대외비 · 개인정보 포함 — 외부 유출 금지" in [p.text for p in header.paragraphs]
    assert any(content_hash in p.text for p in document.sections[0].footer.paragraphs)  # in the footer, small
    everything = "\n".join([p.text for p in paragraphs] + [p.text for p in header.paragraphs] +
                           [cell.text for t in document.tables for row in t.rows for cell in row.cells])
    assert DISCUSSION in everything and CAUSE in everything
    assert FULL_NAME not in everything


@pytest.mark.slow
def test_prepare_share_input_run_approve_and_download(live_server, browser, tmp_path):
    today = datetime.now(KST).date()
    meeting_day = today + timedelta(days=21)
    with ExitStack() as stack:
        coordinator, practitioner, chair = (new_page(browser, stack) for _ in range(3))
        try:
            meeting_id, title = prepare_meeting(coordinator, live_server, meeting_day)
            practitioner_input(practitioner, live_server, meeting_id, title)
            run_meeting(coordinator, chair, live_server, meeting_id, title, meeting_day, today, tmp_path)
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            for who, page in (("coordinator", coordinator), ("practitioner", practitioner), ("chair", chair)):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"FAILED-journey-{who}.png"), full_page=True)
                except PlaywrightError as error:  # never hide the real failure
                    print(f"could not save a failure screenshot of the {who}: {error}")
            raise
