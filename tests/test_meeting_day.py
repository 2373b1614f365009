"""Meeting day without dead ends: the start from the run page, suggested attendance, postponing a case, every error
at once and by its field, typed values kept, long text refused (never cut), controls shown only when they work,
notifications marked read when opened, and a completion proposal shown as such."""
import io
import re
from datetime import timedelta

import docx
from factories import audit_actions
from factories_world import login
from sqlalchemy import select
from test_minutes_flow import attend, items, record, start

from conference.core.formatting import today_local
from conference.extensions import db
from conference.inputs.forms import AgencyInputForm
from conference.models import ActionItem, Agency, AgencyInput, AgendaItem, Meeting, MeetingStatus, Notification, User


def page_of(response) -> str:
    return response.get_data(as_text=True)


def status_of(meeting_id) -> str:
    db.session.expire_all()
    return db.session.get(Meeting, meeting_id).status


# --- the start from the run page -----------------------------------------------------------------

def test_the_run_page_before_the_start_offers_it_with_a_warning_and_a_confirmation_off_the_day(client, seeded):
    login(client, "coordinator")
    page = page_of(client.get(f"/meetings/{seeded}/run"))
    assert "회의 시작 (회의 중으로)" in page and "회의 준비 화면에서 단계를 넘기세요" not in page
    assert 'id="start-day-warning"' in page and "오늘은 회의일" in page  # the demo's meeting is not today
    refused = client.post(f"/meetings/{seeded}/run/start")
    assert refused.status_code == 200 and status_of(seeded) == "preparing"
    assert re.search(r'<p class="error" id="confirm_day-error">오늘은 회의일\(.*?\)이 아닙니다', page_of(refused))
    started = client.post(f"/meetings/{seeded}/run/start", data={"confirm_day": "1"})
    assert started.status_code == 302 and status_of(seeded) == MeetingStatus.IN_PROGRESS.value
    steps = [e.details for e in audit_actions("meeting.status")]
    assert steps[-2:] == ['{"from": "preparing", "to": "sharing"}', '{"from": "sharing", "to": "in_progress"}']
    assert "회의 시작 (회의 중으로)" not in page_of(client.get(f"/meetings/{seeded}/run"))


def test_on_the_meeting_day_the_start_needs_no_confirmation(client, seeded):
    today = today_local()
    meeting = db.session.get(Meeting, seeded)
    meeting.starts_at = meeting.starts_at.replace(year=today.year, month=today.month, day=today.day)
    db.session.commit()
    login(client, "coordinator")
    page = page_of(client.get(f"/meetings/{seeded}/run"))
    assert "오늘은 회의일" not in page and 'name="confirm_day"' not in page
    assert client.post(f"/meetings/{seeded}/run/start").status_code == 302
    assert status_of(seeded) == MeetingStatus.IN_PROGRESS.value


def test_the_meeting_page_starts_a_meeting_off_its_day_only_through_the_confirmation(client, seeded):
    """The status buttons of the meeting page and the run page's start follow one rule (services.start_meeting)."""
    today = today_local()
    login(client, "coordinator")
    client.post(f"/meetings/{seeded}/status", data={"to": "sharing"})
    assert status_of(seeded) == MeetingStatus.SHARING.value
    page = page_of(client.get(f"/meetings/{seeded}"))
    assert 'id="start-day-warning"' in page and 'value="in_progress"' not in page
    assert f'href="/meetings/{seeded}/run#start"' in page
    refused = client.post(f"/meetings/{seeded}/status", data={"to": "in_progress"})  # a button kept from before
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/meetings/{seeded}/run#start")
    assert status_of(seeded) == MeetingStatus.SHARING.value
    assert "그래도 시작하려면 확인란을 고르세요" in page_of(client.get(f"/meetings/{seeded}/run"))
    meeting = db.session.get(Meeting, seeded)
    meeting.starts_at = meeting.starts_at.replace(year=today.year, month=today.month, day=today.day)
    db.session.commit()
    assert 'value="in_progress"' in page_of(client.get(f"/meetings/{seeded}"))  # on the day, the button starts it
    assert client.post(f"/meetings/{seeded}/status", data={"to": "in_progress"}).status_code == 302
    assert status_of(seeded) == MeetingStatus.IN_PROGRESS.value


def test_only_the_coordinator_starts_a_meeting(client, seeded):
    for username in ("chair", "mh"):
        login(client, username)
        assert client.post(f"/meetings/{seeded}/run/start", data={"confirm_day": "1"}).status_code in (403, 404)
    assert status_of(seeded) == "preparing"


# --- attendance suggested -------------------------------------------------------------------------

def test_attendance_is_suggested_from_chair_coordinator_pledges_and_invitees_once_each(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    meeting = db.session.get(Meeting, seeded)
    invitation = db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == seeded)).scalars().first()
    assert invitation is not None
    chair = db.session.execute(select(User).where(User.username == "chair")).scalar_one()
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    from conference.models import Invitation
    mh_invitation = db.session.execute(select(Invitation).where(Invitation.meeting_id == seeded,
                                                                Invitation.agency_id == mh.agency_id)).scalar_one()
    mh_invitation.invitees = f"{mh.display_name} 팀장, 홍길동 주무관"
    db.session.commit()
    page = page_of(client.get(f"/meetings/{seeded}/run"))
    names = re.findall(r'name="attendee-(\d+)-name" value="([^"]*)"', page)
    suggested = [name for _n, name in names if name]
    assert chair.display_name in suggested and meeting.coordinator_id
    assert suggested.count(mh.display_name) == 1  # pledged and named on the invitation: once
    assert "홍길동" in suggested
    assert page.count('class="suggested"') == len(suggested)
    assert 'name="attendee-0-present"' in page and "checked" not in page.split('name="attendee-0-present"')[1][:40]

    # Saving without ticking records nobody; ticking records exactly those ticked.
    form = {f"attendee-{n}-{k}": v for n, name in names
            for k, v in (("name", name), ("source", "invitation" if name else ""))}
    for n, name in names:
        agency = re.search(rf'name="attendee-{n}-agency".*?<option value="(\d+)" selected', page, re.S)
        form[f"attendee-{n}-agency"] = agency.group(1) if agency and name else ""
    none = client.post(f"/meetings/{seeded}/run", data=form)
    assert none.status_code == 302
    assert load_attendees(seeded) == []
    hong = next(n for n, name in names if name == "홍길동")
    form[f"attendee-{hong}-present"] = "1"
    client.post(f"/meetings/{seeded}/run", data=form)
    assert load_attendees(seeded) == [("홍길동", mh.agency_id)]
    again = page_of(client.get(f"/meetings/{seeded}/run"))
    assert again.count('value="홍길동"') == 1  # recorded, no longer suggested


def load_attendees(meeting_id):
    from conference.models import Attendee
    db.session.expire_all()
    return [(a.name, a.agency_id) for a in db.session.execute(
        select(Attendee).where(Attendee.meeting_id == meeting_id)).scalars()]


def test_a_bad_attendance_row_keeps_every_row_as_typed(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    agency = db.session.execute(select(Agency.id)).scalars().first()
    response = client.post(f"/meetings/{seeded}/run", data={
        "attendee-0-name": "가" * 51, "attendee-0-agency": agency, "attendee-1-name": "나참석",
        "attendee-1-agency": agency, "attendee-1-position": "주무관"})
    page = page_of(response)
    assert response.status_code == 200 and "성명(50자 이하)" in page
    assert 'value="' + "가" * 51 + '"' in page and 'value="나참석"' in page and 'value="주무관"' in page
    assert 'maxlength="50"' not in page


# --- postponement ---------------------------------------------------------------------------------

def test_a_postponed_case_shows_in_the_minutes_does_not_block_approval_and_comes_back(client, seeded):
    today = today_local()
    login(client, "coordinator")
    start(client, seeded)
    assert attend(client, seeded).status_code == 302
    agenda = items(seeded)
    postponed, others = agenda[0], agenda[1:]
    postponed_case, postponed_household = postponed.household.case_number, postponed.household_id
    other_cases = [item.household.case_number for item in others]
    url = f"/meetings/{seeded}/run/{postponed.id}/postpone"
    empty = client.post(url, data={"postpone_reason": "  "})
    assert empty.status_code == 200 and 'id="postpone_reason-error">보류 사유를 적으세요.' in page_of(empty)
    long = client.post(url, data={"postpone_reason": "긴" * 1001})
    assert "보류 사유는 1000자 이하로" in page_of(long) and "긴" * 1001 in page_of(long)
    assert client.post(url, data={"postpone_reason": "가구원 입원으로 다음 회의에서 논의"}).status_code == 302
    assert items(seeded)[0].postponed_reason == "가구원 입원으로 다음 회의에서 논의"
    assert "minutes.postpone" in [e.action for e in audit_actions("minutes.postpone")]
    run_page = page_of(client.get(f"/meetings/{seeded}/run"))
    assert "보류</span> 가구원 입원으로 다음 회의에서 논의" in run_page
    for item in others:
        assert record(client, seeded, item).status_code == 302
    deadline = (today + timedelta(days=3)).isoformat()
    client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": deadline})
    assert status_of(seeded) == MeetingStatus.REVIEW.value  # the postponed case has no record and does not block
    minutes_page = page_of(client.get(f"/meetings/{seeded}/minutes"))
    assert "보류 (다음 회의로): 가구원 입원으로 다음 회의에서 논의" in minutes_page

    login(client, "chair")
    client.post(f"/meetings/{seeded}/minutes/approve", data={"confirm": "reviews-missing"})  # no review came in
    assert status_of(seeded) == MeetingStatus.FINALISED.value
    download = client.post(f"/meetings/{seeded}/minutes.docx", data={"purpose": "결재 보고"})
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(download.data)).paragraphs)
    body += "\n".join(c.text for t in docx.Document(io.BytesIO(download.data)).tables for r in t.rows for c in r.cells)
    assert "보류 (다음 회의로): 가구원 입원으로 다음 회의에서 논의" in body

    # The next meeting's agenda proposal has it, until it is on an agenda again.
    login(client, "coordinator")
    day = today + timedelta(days=120)
    chair_id = db.session.execute(select(User.id).where(User.username == "chair")).scalar_one()
    coordinator_id = db.session.get(Meeting, seeded).coordinator_id
    client.post("/meetings/new", data={"kind": "integrated", "day": day.isoformat(), "start_time": "14:00",
                                       "duration_minutes": 120, "place": "소회의실", "chair_id": chair_id,
                                       "coordinator_id": coordinator_id})
    later = db.session.execute(select(Meeting).order_by(Meeting.id.desc())).scalars().first()
    proposal = page_of(client.get(f"/meetings/{later.id}/agenda/new"))
    waiting = proposal.split('id="waiting"')[1].split("</table>")[0]
    assert f'id="postponed-{postponed_household}">보류 (다음 회의로)</span> 가구원 입원으로 다음 회의에서 논의' in waiting
    assert waiting.count('id="postponed-') == 1  # the cases recorded at that meeting wait, not as postponed
    assert all(waiting.index(postponed_case) < waiting.index(case) for case in other_cases if case in waiting)
    added = client.post(f"/meetings/{later.id}/agenda/new", data={"household_id": postponed_household,
                                                                 "minutes_allotted": 15, "presenting_agency_id": 0})
    assert added.status_code == 302
    assert 'id="postponed-' not in page_of(client.get(f"/meetings/{later.id}/agenda/new"))  # taken up: proposed no more


def test_a_postponement_can_be_taken_back_and_then_the_case_needs_its_record(client, seeded):
    today = today_local()
    login(client, "coordinator")
    start(client, seeded)
    attend(client, seeded)
    first = items(seeded)[0]
    case_number = first.household.case_number
    client.post(f"/meetings/{seeded}/run/{first.id}/postpone", data={"postpone_reason": "자료 부족"})
    client.post(f"/meetings/{seeded}/run/{first.id}/postpone", data={"undo": "1"})
    assert items(seeded)[0].postponed_reason == ""
    response = client.post(f"/meetings/{seeded}/minutes/review",
                           data={"deadline": (today + timedelta(days=3)).isoformat()})
    assert f"사례 {case_number}: 논의 기록이 없습니다." in page_of(response)


# --- every error at once, by its field; typed values kept -----------------------------------------

def test_every_missing_field_of_every_action_row_shows_by_its_field_and_nothing_is_saved(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    response = record(client, seeded, item, **{
        "action-0-domain": "", "action-0-agency": "", "action-0-due": "",
        "action-1-task": "둘째 과제", "action-1-domain": "health",
        "action-5-task": "여섯째 줄 과제", "action-5-person": "담" * 51,
        "classification": "없는구분"})
    page = page_of(response)
    assert response.status_code == 200
    for field, message in (("action-0-domain", "1번째 과제: 욕구영역을 고르세요."),
                           ("action-0-agency", "1번째 과제: 담당기관을 고르세요."),
                           ("action-0-due", "1번째 과제: 기한을 회의일 이후 날짜로 적으세요."),
                           ("action-1-agency", "2번째 과제: 담당기관을 고르세요."),
                           ("action-1-due", "2번째 과제: 기한을 회의일 이후 날짜로 적으세요."),
                           ("action-5-domain", "3번째 과제: 욕구영역을 고르세요."),
                           ("action-5-person", "3번째 과제: 담당자는 50자 이하입니다.")):
        assert f'<p class="error" id="{field}-error">{message}</p>' in page, field
    assert "설정되지 않은 사례 구분입니다." in page
    # What was typed is all there, the sixth row included; nothing saved.
    assert "여섯째 줄 과제</textarea>" in page and 'value="' + "담" * 51 + '"' in page
    assert "둘째 과제</textarea>" in page
    assert db.session.execute(select(ActionItem).where(ActionItem.meeting_id == seeded)).first() is None


def test_a_bad_review_deadline_is_shown_again_as_typed_with_its_message(client, seeded):
    today = today_local()
    login(client, "coordinator")
    start(client, seeded)
    past = (today - timedelta(days=1)).isoformat()
    response = client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": "2024-13-45"})
    page = page_of(response)
    assert response.status_code == 200 and 'value="2024-13-45"' in page
    assert 'id="deadline-error"' in page
    attend(client, seeded)
    for item in items(seeded):
        record(client, seeded, item)
    response = client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": past})
    page = page_of(response)
    assert f'value="{past}"' in page and '<p class="error" id="deadline-error">검토 기한은 오늘 이후여야 합니다.' in page
    assert status_of(seeded) == MeetingStatus.IN_PROGRESS.value


# --- long text: counter, refused not cut ----------------------------------------------------------

def test_long_text_fields_carry_a_counter_and_no_maxlength_that_would_cut(client, seeded, app):
    with app.test_request_context():
        form = AgencyInputForm(meta={"csrf": False})
        rendered = form.opinion()
    assert 'data-maxlength="4000"' in rendered and "maxlength=\"4000\"" not in rendered.replace("data-maxlength", "")
    login(client, "coordinator")
    start(client, seeded)
    page = page_of(client.get(f"/meetings/{seeded}/run/{items(seeded)[0].id}"))
    assert 'data-maxlength="8000"' in page and "js/counter.js" in page
    assert ' maxlength="' not in page
    assert client.get("/static/js/counter.js").status_code == 200


def test_an_opinion_over_4000_characters_is_refused_with_a_message_not_cut(client, seeded):
    login(client, "mh")
    meeting = db.session.get(Meeting, seeded)
    item = items(seeded)[0]
    client.post(f"/meetings/{seeded}/pledge", data={"accept": "y"})
    url = f"/meetings/{seeded}/inputs/{item.id}"
    too_long = "의" * 4001
    response = client.post(url, data={"facts": "사실", "opinion": too_long, "facts_level": "shared",
                                      "opinion_level": "shared", "risk_level": "shared", "version": "0"})
    page = page_of(response)
    assert response.status_code == 200 and "4000자 이하로 적으세요." in page and too_long in page
    assert db.session.execute(select(AgencyInput)).scalars().all() == [] or all(
        len(i.opinion) <= 4000 and i.opinion != too_long[:4000] for i in db.session.execute(
            select(AgencyInput).where(AgencyInput.agenda_item_id == item.id)).scalars())
    assert meeting.id == seeded


# --- controls shown only when they work -----------------------------------------------------------

def test_after_the_start_invitations_and_the_agenda_show_no_controls_that_would_fail(client, seeded):
    login(client, "coordinator")
    before = page_of(client.get(f"/meetings/{seeded}"))
    assert "초대 취소" in before and 'aria-label="위로"' in before
    start(client, seeded)
    after = page_of(client.get(f"/meetings/{seeded}"))
    assert "초대 취소" not in after and 'aria-label="위로"' not in after and 'aria-label="아래로"' not in after
    assert "회의가 시작되어 초대와 정보 요청 기한은 더 바꿀 수 없습니다." in after
    assert "회의가 시작되어 안건의 순서와 내용은 논의한 그대로 남습니다." in after


def test_the_coordinator_reads_agency_input_read_only_unless_entering_it(client, seeded):
    item = next(i for i in items(seeded) if i.inputs)
    written = item.inputs[0]
    login(client, "coordinator")
    url = f"/meetings/{seeded}/inputs/{item.id}?agency={written.agency_id}"
    page = page_of(client.get(url))
    assert 'id="read-only"' in page and "<textarea" not in page and "회의에서 들은 의견 입력" in page
    entering = page_of(client.get(url + "&enter=1"))
    assert "<textarea" in entering and 'id="read-only"' not in entering


def test_a_finalised_meeting_shows_the_practitioner_the_input_read_only_with_the_reason(client, seeded):
    item = next(i for i in items(seeded) if i.inputs)
    written = item.inputs[0]
    username = db.session.execute(select(User.username).where(User.agency_id == written.agency_id,
                                                              User.role == "practitioner")).scalars().first()
    meeting = db.session.get(Meeting, seeded)
    meeting.status = MeetingStatus.FINALISED.value
    db.session.commit()
    login(client, username)
    page = page_of(client.get(f"/meetings/{seeded}/inputs/{item.id}"))
    assert "회의록이 확정되어 더는 의견을 고칠 수 없습니다." in page and "<textarea" not in page
    assert "회의에서 들은 의견 입력" not in page


# --- notifications ----------------------------------------------------------------------------------

def _notification(user_id, link):
    note = Notification(user_id=user_id, kind="input.request", message="요청", params="", link=link)
    db.session.add(note)
    db.session.commit()
    return note.id


def test_a_clicked_notification_is_marked_read_and_goes_only_inside_the_app(client, seeded):
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    chair = db.session.execute(select(User).where(User.username == "chair")).scalar_one()
    own = _notification(mh.id, f"/meetings/{seeded}/inputs")
    outside = _notification(mh.id, "https://evil.example/steal")
    sneaky = _notification(mh.id, "//evil.example")
    other = _notification(chair.id, "/home")
    login(client, "mh")
    listing = page_of(client.get("/notifications"))
    assert f'href="/notifications/{own}"' in listing
    opened = client.get(f"/notifications/{own}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/meetings/{seeded}/inputs")
    for note_id in (outside, sneaky):
        response = client.get(f"/notifications/{note_id}")
        assert response.headers["Location"].endswith("/notifications")
    assert client.get(f"/notifications/{other}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, own).read_at is not None
    assert db.session.get(Notification, other).read_at is None


# --- completion proposed ------------------------------------------------------------------------------

def test_a_completion_proposal_shows_as_proposed_on_the_action_and_the_list(client, seeded):
    login(client, "mh")
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    action = db.session.execute(select(ActionItem).where(ActionItem.agency_id == mh.agency_id,
                                                         ActionItem.status == "open")).scalars().first()
    client.post(f"/actions/{action.id}", data={"step": "propose", "note": "지원 완료"})
    detail = page_of(client.get(f"/actions/{action.id}"))
    assert '<span class="badge">완료 제안됨</span>' in detail
    login(client, "coordinator")
    listing = page_of(client.get("/actions"))
    row = next(r for r in listing.split("<tr") if f"/actions/{action.id}" in r)
    assert "완료 제안됨" in row and "진행 전" not in row
    client.post(f"/actions/{action.id}", data={"step": "confirm", "note": ""})
    assert '<span class="badge">완료</span>' in page_of(client.get(f"/actions/{action.id}"))


def test_a_huge_row_number_is_ignored_not_drawn(client, seeded):
    """action-999999999-task (typed into the address bar or a tampered form) must not make the page draw a billion
    rows: numbers past the form's limit are ignored, and the refusal page comes back at once."""
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    response = client.post(f"/meetings/{seeded}/run/{item.id}", data={
        "discussion": "논의", "action-999999999-task": "과제", "action-²-task": "과제", "cause-" + "9" * 5000: "x",
        "action-0-task": "과제"})  # row 0 lacks its domain, agency and due date: refused, shown again
    assert response.status_code == 200
    assert 'name="action-999999999-task"' not in page_of(response)
    assert items(seeded)[0].record is None


def test_an_agency_reads_that_a_case_was_postponed_but_not_why(client, seeded):
    """The reason for a postponement is free text nobody gave a disclosure level (it may name an illness): an
    agency's copy of the minutes says 보류 and leaves the reason out, counted as not shown."""
    today = today_local()
    login(client, "coordinator")
    start(client, seeded)
    assert attend(client, seeded).status_code == 302
    agenda = items(seeded)
    postponed, others = agenda[0], agenda[1:]
    client.post(f"/meetings/{seeded}/run/{postponed.id}/postpone", data={"postpone_reason": "어머니 정신과 입원"})
    for item in others:
        assert record(client, seeded, item).status_code == 302
    client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": (today + timedelta(days=3)).isoformat()})
    assert "보류 (다음 회의로): 어머니 정신과 입원" in page_of(client.get(f"/meetings/{seeded}/minutes"))
    login(client, "mh")
    agency_page = page_of(client.get(f"/meetings/{seeded}/minutes"))
    assert "보류 (다음 회의로)" in agency_page and "어머니 정신과 입원" not in agency_page
    download = client.post(f"/meetings/{seeded}/minutes.docx", data={"purpose": "검토"})
    word = docx.Document(io.BytesIO(download.data))
    everything = "\n".join([p.text for p in word.paragraphs] +
                           [c.text for t in word.tables for r in t.rows for c in r.cells])
    assert "보류 (다음 회의로)" in everything and "어머니 정신과 입원" not in everything
