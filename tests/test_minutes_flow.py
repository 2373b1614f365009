"""Meeting day and minutes over the web: attendance, case records, actions, review, 결재, corrections, Word."""
import io
import json
import re
from datetime import date, timedelta

import docx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm.attributes import set_committed_value

from factories import audit_actions
from factories_world import login

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.formatting import today_local
from conference.extensions import db
from conference.minutes.services import load_for_minutes, set_schedule
from conference.models import (ActionItem, Agency, ActionReview, AgendaItem, AuditEvent, Household, Meeting,
                               MeetingStatus, Minutes, MinutesRevision, Notification, Stage, User)

def meeting_actions(meeting_id):
    """The actions decided at this meeting (the demo's 2021 meeting has its own)."""
    db.session.expire_all()
    return db.session.execute(select(ActionItem).where(ActionItem.meeting_id == meeting_id)).scalars().all()


def start(client, meeting_id):
    """Start the meeting as its coordinator does on any day: from the run page, confirming the day."""
    client.post(f"/meetings/{meeting_id}/run/start", data={"confirm_day": "1"})
    assert db.session.get(Meeting, meeting_id).status == MeetingStatus.IN_PROGRESS.value


def agency_ids():
    return {a.name: a.id for a in db.session.execute(select(Agency)).scalars()}


def items(meeting_id):
    db.session.expire_all()
    return load_for_minutes(meeting_id).agenda_items


def attend(client, meeting_id):
    ids = agency_ids()
    data = {"attendee-0-name": "서마음", "attendee-0-agency": ids["정신건강복지센터"], "attendee-0-position": "팀장",
            "attendee-1-name": "문복지", "attendee-1-agency": ids["중앙동 행정복지센터"], "attendee-1-position": "주무관",
            "next_meeting": (today_local() + timedelta(days=60)).isoformat(),
            "next_check": (today_local() + timedelta(days=30)).isoformat()}
    return client.post(f"/meetings/{meeting_id}/run", data=data)


def record(client, meeting_id, item, **extra):
    ids = agency_ids()
    due = (today_local() + timedelta(days=40)).isoformat()
    data = {"version": extra.pop("version", 0), "discussion": "반복 폭력의 근본원인 논의",
            "decisions": "안전계획 수립", "goals": "3개월 내 안전 확보", "classification": "고난도",
            "status_to": "", "track": "", "closure_reason": "",
            "cause-0-domain": "safety", "cause-0-text": "가해자의 음주",
            "action-0-task": "안전계획 수립과 긴급 연락망", "action-0-domain": "safety",
            "action-0-agency": ids["중앙동 행정복지센터"], "action-0-person": "문복지", "action-0-due": due,
            "action-0-resource_public": "1", "action-0-resource_kind": "긴급복지 주거지원"}
    data.update(extra)
    return client.post(f"/meetings/{meeting_id}/run/{item.id}", data=data)


def approve(client, meeting_id):
    """결재, confirming it although reviews are missing (the approval page's button)."""
    return client.post(f"/meetings/{meeting_id}/minutes/approve", data={"confirm": "reviews-missing"})


def test_the_whole_cycle_to_approved_minutes(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    assert attend(client, seeded).status_code == 302
    for item in items(seeded):
        assert record(client, seeded, item).status_code == 302
    assert len(meeting_actions(seeded)) == 3
    assert {a.status for a in meeting_actions(seeded)} == {"planned"}
    deadline = (today_local() + timedelta(days=3)).isoformat()
    client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": deadline})
    assert db.session.get(Meeting, seeded).status == MeetingStatus.REVIEW.value
    notified = db.session.execute(select(func.count(Notification.id)).where(
        Notification.kind == "minutes.review")).scalar_one()
    assert notified >= 2  # the attendees with accounts and the chair

    login(client, "mh")
    page = client.get(f"/meetings/{seeded}/minutes")
    assert page.status_code == 200 and "반복 폭력의 근본원인 논의" in page.get_data(as_text=True)
    client.post(f"/meetings/{seeded}/minutes/respond", data={"confirmed": "y", "comment": ""})

    login(client, "coordinator")
    refused = client.post(f"/meetings/{seeded}/minutes/approve")
    assert refused.status_code == 403

    login(client, "chair")
    approve(client, seeded)
    db.session.expire_all()
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == seeded)).scalar_one()
    assert minutes.status == "final" and len(minutes.content_hash) == 64
    assert db.session.get(Meeting, seeded).status == MeetingStatus.FINALISED.value
    assert {a.status for a in meeting_actions(seeded)} == {"open"}
    kim = next(i.household for i in items(seeded) if i.household.members[0].name == "김민수")
    assert kim.classification == "고난도"
    assert "minutes.finalise" in set(db.session.execute(select(AuditEvent.action)).scalars())

    download = client.post(f"/meetings/{seeded}/minutes.docx", data={"purpose": "결재 보고"})
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    document = docx.Document(io.BytesIO(download.data))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "회의록" in document.paragraphs[0].text and "김○○" in body and "김민수" not in body
    footer = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert minutes.content_hash in footer and minutes.content_hash not in body  # the hash is in the footer now
    action_table = next(t for t in document.tables if t.rows[0].cells[0].text == "과제")
    assert action_table.rows[1].cells[0].text == "안전계획 수립과 긴급 연락망"


def test_locked_minutes_cannot_be_edited_and_a_correction_keeps_the_approved_revision(client, seeded):
    test_the_whole_cycle_to_approved_minutes(client, seeded)
    login(client, "coordinator")
    item = items(seeded)[0]
    refused = record(client, seeded, item, version=1, discussion="몰래 고침")
    assert refused.status_code == 200 and "확정되어" in refused.get_data(as_text=True)
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == seeded)).scalar_one()
    approved_hash = minutes.content_hash
    assert "몰래 고침" not in minutes.snapshot
    empty = client.post(f"/meetings/{seeded}/minutes/correct", data={"reason": ""})
    assert empty.status_code == 302
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).status == "final"
    client.post(f"/meetings/{seeded}/minutes/correct", data={"reason": "참석자 직위 오기"})
    db.session.expire_all()
    minutes = db.session.get(Minutes, minutes.id)
    assert minutes.status == "draft" and minutes.revision == 2
    kept = db.session.execute(select(MinutesRevision)).scalar_one()
    assert kept.content_hash == approved_hash and kept.correction_reason == "참석자 직위 오기"


def test_finalising_needs_attendance_and_a_record_of_every_case(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    deadline = (today_local() + timedelta(days=3)).isoformat()
    response = client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": deadline}, follow_redirects=True)
    assert "참석자를 기록하세요." in response.get_data(as_text=True)
    # Every problem at once, each case by its number (it was one problem at a time, the cases in one line).
    for item in items(seeded):
        assert f"사례 {item.household.case_number}: 논의 기록이 없습니다." in response.get_data(as_text=True)
    attend(client, seeded)
    response = client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": deadline}, follow_redirects=True)
    assert "참석자를 기록하세요." not in response.get_data(as_text=True)
    assert "논의 기록이 없습니다" in response.get_data(as_text=True)
    assert db.session.get(Meeting, seeded).status == MeetingStatus.IN_PROGRESS.value


@pytest.mark.parametrize("field, value, message", [
    ("action-0-agency", "", "담당기관을 고르세요"),
    ("action-0-due", "", "기한을 회의일 이후 날짜로"),
    ("action-0-domain", "", "욕구영역을 고르세요"),
    ("status_to", "closed", "종결 사유를 고르세요"),
    ("status_to", "selected", "사례관리 또는 서비스연계"),
    ("classification", "없는구분", "설정되지 않은 사례 구분"),
])
def test_bad_case_record_keeps_what_was_typed_and_saves_nothing(client, seeded, field, value, message):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    response = record(client, seeded, item, **{field: value, "discussion": "입력한 논의 내용 그대로"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert "입력한 논의 내용 그대로" in page
    assert meeting_actions(seeded) == []


def test_a_stale_version_is_refused_with_the_typing_kept(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    assert record(client, seeded, item).status_code == 302
    conflict = record(client, seeded, item, version=0, discussion="늦게 저장한 내 글")
    assert conflict.status_code == 409
    assert "늦게 저장한 내 글" in conflict.get_data(as_text=True)
    assert items(seeded)[0].record.discussion == "반복 폭력의 근본원인 논의"


def test_open_actions_are_reviewed_at_the_next_meeting_with_a_reason(client, seeded):
    test_the_whole_cycle_to_approved_minutes(client, seeded)
    login(client, "coordinator")
    household_id = items(seeded)[0].household_id
    day = today_local() + timedelta(days=90)
    chair_id = db.session.execute(select(User.id).where(User.username == "chair")).scalar_one()
    client.post("/meetings/new", data={"kind": "integrated", "day": day.isoformat(), "start_time": "14:00",
                                       "duration_minutes": 120, "place": "소회의실", "chair_id": chair_id,
                                       "coordinator_id": db.session.execute(select(Meeting.coordinator_id)).scalars().first()})
    next_meeting = db.session.execute(select(Meeting).order_by(Meeting.id.desc())).scalars().first()
    added = client.post(f"/meetings/{next_meeting.id}/agenda/new", data={
        "household_id": household_id, "minutes_allotted": 15, "presenting_agency_id": 0, "key_question": "점검"})
    assert added.status_code == 302, added.get_data(as_text=True)
    start(client, next_meeting.id)
    item = items(next_meeting.id)[0]
    page = client.get(f"/meetings/{next_meeting.id}/run/{item.id}").get_data(as_text=True)
    assert "이전 실행과제 점검" in page and "안전계획 수립과 긴급 연락망" in page
    action = next(a for a in meeting_actions(seeded) if a.household_id == household_id)
    no_reason = record(client, next_meeting.id, item, **{f"review-{action.id}-outcome": "not_done"})
    assert "사유를 적으세요" in no_reason.get_data(as_text=True)
    later = (day + timedelta(days=30)).isoformat()
    saved = record(client, next_meeting.id, item, **{f"review-{action.id}-outcome": "changed",
                                                    f"review-{action.id}-note": "전출 예정", "action-0-due": later})
    assert saved.status_code == 302
    review = db.session.execute(select(ActionReview).where(ActionReview.meeting_id == next_meeting.id)).scalar_one()
    assert (review.outcome, review.note) == ("changed", "전출 예정")


def test_status_decisions_take_effect_only_when_finalised(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    attend(client, seeded)
    for item in items(seeded):
        record(client, seeded, item, status_to="closed", closure_reason="목표 달성")
    statuses = {h.status for h in db.session.execute(select(Household)).scalars()}
    assert Stage.CLOSED.value not in statuses
    client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": today_local().isoformat()})
    login(client, "chair")
    approve(client, seeded)
    db.session.expire_all()
    closed = [i.household for i in items(seeded)]
    assert {h.status for h in closed} == {Stage.CLOSED.value}
    assert {h.closure_reason for h in closed} == {"목표 달성"}


@pytest.mark.parametrize("username, expected", [("dream", 403), ("angel", 403), ("chair", 403)])
def test_only_coordinators_run_the_meeting(client, seeded, username, expected):
    login(client, username)
    assert client.get(f"/meetings/{seeded}/run").status_code in (expected, 404)


def test_a_review_deadline_of_today_means_today_in_seoul(after_midnight_in_seoul, client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    attend(client, seeded)
    for item in items(seeded):
        record(client, seeded, item)
    yesterday = client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": "2026-11-24"},
                            follow_redirects=True)
    assert "검토 기한은 오늘 이후" in yesterday.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, seeded).status == MeetingStatus.IN_PROGRESS.value
    assert client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": "2026-11-25"}).status_code == 302
    db.session.expire_all()
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == seeded)).scalar_one()
    assert minutes.review_deadline == date(2026, 11, 25)


def test_practitioners_read_minutes_only_once_sent_for_review(client, seeded):
    login(client, "mh")
    assert client.get(f"/meetings/{seeded}/minutes").status_code == 403


def test_full_name_export_is_for_coordinators_and_logged(client, seeded):
    test_the_whole_cycle_to_approved_minutes(client, seeded)
    login(client, "mh")
    refused = client.post(f"/meetings/{seeded}/minutes.docx", data={"purpose": "보관", "full_names": "y"})
    assert refused.status_code == 403
    login(client, "coordinator")
    no_purpose = client.post(f"/meetings/{seeded}/minutes.docx", data={"purpose": "", "full_names": "y"})
    assert no_purpose.status_code == 302
    full = client.post(f"/meetings/{seeded}/minutes.docx", data={"purpose": "사례관리 기록 보관", "full_names": "y"})
    body = "\n".join(p.text for p in docx.Document(io.BytesIO(full.data)).paragraphs)
    assert "김민수" in body
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "minutes.download")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert '"full_names": true' in event.details and "사례관리 기록 보관" in event.details


def test_attendance_sheet_download(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    attend(client, seeded)
    response = client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "서명"})
    table = docx.Document(io.BytesIO(response.data)).tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["연번", "성명", "소속기관", "직위", "서명"]
    assert "서마음" in [row.cells[1].text for row in table.rows]  # the sheet now starts with the chair
    [event] = audit_actions("attendance.download")
    assert (event.object_id, json.loads(event.details)) == (str(seeded), {"purpose": "서명", "format": "docx"})


def test_export_minutes_command_writes_the_approved_minutes(client, seeded, runner, tmp_path):
    test_the_whole_cycle_to_approved_minutes(client, seeded)
    target = tmp_path / "minutes.docx"
    result = runner.invoke(args=["export-minutes", str(seeded), "-o", str(target)])
    assert result.exit_code == 0, result.output
    document = docx.Document(str(target))
    body = "\n".join(p.text for p in document.paragraphs)
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == seeded)).scalar_one()
    footer = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert minutes.content_hash in footer and "김○○" in body
    sheet = tmp_path / "sheet.docx"
    assert runner.invoke(args=["export-minutes", str(seeded), "-o", str(sheet), "--attendance-sheet"]).exit_code == 0
    assert docx.Document(str(sheet)).tables[-1].rows[0].cells[-1].text == "서명"
    assert runner.invoke(args=["export-minutes", "9999", "-o", str(target)]).exit_code != 0


def test_coordinator_only_notes_reach_coordinators_but_not_the_chair(client, seeded):
    from conference.inputs import services as input_services
    from conference.models import User

    item = items(seeded)[0]
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    existing = input_services.find_input(item, mh.agency_id)
    input_services.save_input(item, agency_id=mh.agency_id, by=mh, submit=True,
                              base_version=existing.version if existing else 0, today=today_local(),
                              values=input_services.InputValues(opinion="공유 의견",
                                                                coordinator_note="담당자만 보는 메모"))
    db.session.commit()
    login(client, "coordinator")
    assert "담당자만 보는 메모" in client.get(f"/meetings/{seeded}/packet").get_data(as_text=True)
    login(client, "chair")
    page = client.get(f"/meetings/{seeded}/packet").get_data(as_text=True)
    assert "공유 의견" in page and "담당자만 보는 메모" not in page


def test_open_actions_are_carried_into_the_next_packets(client, seeded):
    """The minutes approved five weeks ago left actions open for 2021-0001; the upcoming meeting's packets show them."""
    login(client, "coordinator")
    page = client.get(f"/meetings/{seeded}/packet").get_data(as_text=True)
    assert "진행 중인 실행과제" in page and "자녀 정서 지원 프로그램 연계" in page and "overdue" in page
    mh_agency = next(a for n, a in agency_ids().items() if n == "정신건강복지센터")
    download = client.post(f"/meetings/{seeded}/packet.docx?agency={mh_agency}", data={"purpose": "회의 준비"})
    tables = docx.Document(io.BytesIO(download.data)).tables
    carried = [t for t in tables if t.rows[0].cells[0].text == "과제"]
    assert carried and "정신건강 치료 재개와 주 1회 상담" in [r.cells[0].text for t in carried for r in t.rows]


def test_removing_a_case_with_agency_input_asks_first(client, seeded):
    from conference.models import AgencyInput

    login(client, "coordinator")
    item_id = next(i.id for i in items(seeded) if i.household.members[0].name == "김민수")  # demo inputs
    first = client.post(f"/meetings/{seeded}/agenda/{item_id}/delete")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "기관 의견이 이미 있습니다" in page and "정신건강복지센터" in page
    assert any(i.id == item_id for i in items(seeded))
    confirmed = client.post(f"/meetings/{seeded}/agenda/{item_id}/delete", data={"confirm": "1"})
    assert confirmed.status_code == 302
    assert not any(i.id == item_id for i in items(seeded))
    assert db.session.execute(select(func.count(AgencyInput.id)).where(
        AgencyInput.agenda_item_id == item_id)).scalar_one() == 0
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "agenda.remove")).scalars().first()
    assert '"inputs_deleted": 3' in event.details


def test_an_agency_reads_only_the_cases_it_may_see_in_the_minutes(client, seeded):
    from conference.cases import services as case_services
    from conference.models import User

    past = db.session.execute(select(Meeting).where(Meeting.year == 2021)).scalar_one()
    meeting = load_for_minutes(past.id)
    numbers = [item.household.case_number for item in meeting.agenda_items]
    # A case shared under no override: its consent alone decides (an item's override opens it to every invited
    # agency its consent does not name).
    hidden = next(item.household for item in meeting.agenda_items if not item.consent_override_reason)
    mental_health = db.session.execute(select(Agency).where(Agency.name == "정신건강복지센터")).scalar_one()
    others = [a.id for a in db.session.execute(select(Agency)).scalars() if a.id != mental_health.id]
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    case_services.record_consent(hidden, by=coordinator, consented_on=date(2021, 3, 1), agency_ids=others,
                                 covers_sensitive=False, note="정신건강복지센터 제외")
    db.session.commit()

    login(client, "mh")
    page = client.get(f"/meetings/{past.id}/minutes").get_data(as_text=True)
    assert hidden.case_number not in page
    assert all(number in page for number in numbers if number != hidden.case_number)
    word = client.post(f"/meetings/{past.id}/minutes.docx", data={"purpose": "기관 보관"})
    document = docx.Document(io.BytesIO(word.data))
    text = "\n".join([p.text for p in document.paragraphs]
                     + [cell.text for table in document.tables for row in table.rows for cell in row.cells])
    assert hidden.case_number not in text
    assert all(number in text for number in numbers if number != hidden.case_number)
    login(client, "coordinator")
    assert hidden.case_number in client.get(f"/meetings/{past.id}/minutes").get_data(as_text=True)


def test_minutes_another_request_made_meanwhile_are_used_not_made_twice(client, seeded):
    """The first save of the run form makes the minutes row. If another request made it after this one read the
    meeting (PostgreSQL runs both at once; tests/test_concurrent_saves.py overlaps two real requests), the insert
    is refused by the unique meeting id and the save goes on with that row instead of answering 500."""
    login(client, "coordinator")
    start(client, seeded)
    db.session.rollback()  # no transaction of the test's own holds the write lock
    with db.engine.begin() as other_request:
        other_request.execute(insert(Minutes).values(meeting_id=seeded, status="draft"))
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    meeting = load_for_minutes(seeded)
    set_committed_value(meeting, "minutes", None)  # as read before the other request's commit

    next_meeting = today_local() + timedelta(days=60)
    set_schedule(meeting, by=coordinator, next_meeting=next_meeting, next_check=None)
    db.session.commit()

    stored = db.session.execute(select(Minutes).where(Minutes.meeting_id == seeded)).scalars().all()
    assert len(stored) == 1 and stored[0].next_meeting == next_meeting


# --- disclosure levels and the consent gate of actions ---------------------------------------------

def selected(page: str, name: str) -> str:
    """The value chosen in the ``<select name=...>`` of a page ("" when none is marked)."""
    options = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)[1]
    chosen = re.search(r'<option value="([^"]*)"[^>]*\sselected', options)
    return chosen[1] if chosen else ""


def due_date() -> str:
    return (today_local() + timedelta(days=40)).isoformat()


def test_disclosure_levels_are_saved_and_shown_again_selected(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    saved = record(client, seeded, item, **{
        "discussion_level": "internal", "decisions_level": "sensitive", "cause-0-level": "internal",
        "cause-1-domain": "health", "cause-1-text": "치료 중단", "cause-1-level": "shared",
        "action-0-level": "sensitive"})
    assert saved.status_code == 302
    kept = items(seeded)[0].record
    assert (kept.discussion_level, kept.decisions_level) == ("internal", "sensitive")
    assert {c.cause: c.level for c in kept.root_causes} == {"가해자의 음주": "internal", "치료 중단": "shared"}
    assert [a.task_level for a in meeting_actions(seeded)] == ["sensitive"]

    page = client.get(f"/meetings/{seeded}/run/{item.id}").get_data(as_text=True)
    assert selected(page, "discussion_level") == "internal" and selected(page, "decisions_level") == "sensitive"
    assert [selected(page, f"cause-{n}-level") for n in range(3)] == ["internal", "shared", ""]
    assert selected(page, "action-0-level") == "sensitive" and selected(page, "action-1-level") == ""
    assert "시 담당자와 회의 주재자만 읽습니다." in page  # the chosen level's one-line help beside it


def test_health_rows_default_to_sensitive_and_the_rest_to_shared(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    mental_health = agency_ids()["정신건강복지센터"]
    saved = record(client, seeded, item, **{
        "cause-1-domain": "health", "cause-1-text": "우울 치료 중단", "cause-1-level": "",
        "action-1-task": "정신건강 상담 재개", "action-1-domain": "health", "action-1-agency": mental_health,
        "action-1-due": due_date(), "action-1-level": ""})
    assert saved.status_code == 302
    kept = items(seeded)[0].record
    assert (kept.discussion_level, kept.decisions_level) == ("shared", "shared")
    assert {c.cause: c.level for c in kept.root_causes} == {"가해자의 음주": "shared", "우울 치료 중단": "sensitive"}
    assert {a.task: a.task_level for a in meeting_actions(seeded)} == {
        "안전계획 수립과 긴급 연락망": "shared", "정신건강 상담 재개": "sensitive"}


@pytest.mark.parametrize("field, message", [
    ("discussion_level", "논의 내용의 공개 범위를 목록에서 고르세요."),
    ("decisions_level", "결정사항의 공개 범위를 목록에서 고르세요."),
    ("cause-0-level", "1번째 근본원인: 공개 범위를 목록에서 고르세요."),
    ("action-0-level", "1번째 과제: 공개 범위를 목록에서 고르세요."),
])
def test_an_unknown_disclosure_level_is_refused_and_nothing_saved(client, seeded, field, message):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    response = record(client, seeded, item, **{field: "public", "discussion": "입력한 논의 내용 그대로"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page and "입력한 논의 내용 그대로" in page
    assert items(seeded)[0].record is None and meeting_actions(seeded) == []


def test_chosen_levels_and_reasons_stay_after_a_refused_save(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    response = record(client, seeded, item, **{
        "action-0-due": "", "discussion_level": "internal", "decisions_level": "sensitive",
        "cause-0-level": "sensitive", "action-0-level": "internal", "action-0-override": "적어 둔 예외 사유"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "기한을 회의일 이후 날짜로" in page
    assert (selected(page, "discussion_level"), selected(page, "decisions_level")) == ("internal", "sensitive")
    assert (selected(page, "cause-0-level"), selected(page, "action-0-level")) == ("sensitive", "internal")
    assert "적어 둔 예외 사유" in page


def item_of(meeting_id, head: str):
    """The agenda item of the household whose head is ``head``."""
    return next(item for item in items(meeting_id) if item.household.members[0].name == head)


def change_consent(household_id: int, *, leave_out: tuple[str, ...], withdrawn: bool = False) -> None:
    """A newer consent of the household naming every agency but ``leave_out`` (then withdrawn, if asked)."""
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    household = load_case_file(household_id)
    names = agency_ids()
    consent = case_services.record_consent(
        household, by=coordinator, consented_on=today_local(), covers_sensitive=True,
        agency_ids=[agency_id for name, agency_id in names.items() if name not in leave_out])
    if withdrawn:
        case_services.withdraw_consent(consent, by=coordinator, withdrawn_on=today_local())
    db.session.commit()


OVERRIDE = "후원 연계에 필요한 최소 정보만 공유 (보호자 구두 동의, 서면 동의 예정)"


@pytest.mark.parametrize("withdrawn", [False, True], ids=["agency-not-named", "consent-withdrawn"])
def test_an_action_outside_the_consent_needs_a_written_and_logged_reason(client, seeded, withdrawn):
    login(client, "coordinator")
    start(client, seeded)
    item = item_of(seeded, "이영희")  # shared under no override: its consent alone decides
    change_consent(item.household_id, leave_out=("천사운동본부",), withdrawn=withdrawn)
    angel = agency_ids()["천사운동본부"]
    page = client.get(f"/meetings/{seeded}/run/{item.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{angel}"[^>]*>천사운동본부 · 동의 범위 밖</option>', page)

    refused = record(client, seeded, item, **{"action-0-agency": angel, "discussion": "입력한 논의 내용 그대로"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "입력한 논의 내용 그대로" in page
    assert "1번째 과제: 담당기관이 이 가구의 정보제공 동의 범위 밖입니다." in page
    assert item_of(seeded, "이영희").record is None and meeting_actions(seeded) == []

    saved = record(client, seeded, item, **{"action-0-agency": angel, "action-0-override": OVERRIDE})
    assert saved.status_code == 302
    (action,) = meeting_actions(seeded)
    assert (action.agency_id, action.consent_override_reason) == (angel, OVERRIDE)
    (event,) = audit_actions("action.consent_override")
    details = json.loads(event.details)
    assert (event.object_type, event.object_id) == ("household", str(item.household_id))
    assert (details["agency_id"], details["action_id"], details["reason"]) == (angel, action.id, OVERRIDE)

    assert OVERRIDE in client.get(f"/meetings/{seeded}/run/{item.id}").get_data(as_text=True)
    again = record(client, seeded, item, version=1, **{"action-0-agency": angel, "action-0-override": OVERRIDE,
                                                        "discussion": "고쳐 쓴 논의"})
    assert again.status_code == 302
    assert len(audit_actions("action.consent_override")) == 1  # the same override is not logged at every save


def test_no_reason_is_needed_or_kept_for_an_agency_the_consent_covers(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = item_of(seeded, "이영희")  # shared under no override: its consent alone decides
    angel = agency_ids()["천사운동본부"]
    page = client.get(f"/meetings/{seeded}/run/{item.id}").get_data(as_text=True)
    assert "동의 범위 밖" not in page.split('name="action-0-agency"')[1].split("</select>")[0]
    saved = record(client, seeded, item, **{"action-0-agency": angel, "action-0-override": "필요 없는 사유"})
    assert saved.status_code == 302
    assert [a.consent_override_reason for a in meeting_actions(seeded)] == [""]
    assert audit_actions("action.consent_override") == []


def test_the_agenda_items_override_covers_the_invited_agencies_only(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    change_consent(item.household_id, leave_out=("천사운동본부", "무한돌봄센터"))
    db.session.get(AgendaItem, item.id).consent_override_reason = "안건에 적은 예외 사유"
    db.session.commit()
    ids = agency_ids()
    page = client.get(f"/meetings/{seeded}/run/{item.id}").get_data(as_text=True)
    assert ">무한돌봄센터 · 동의 범위 밖</option>" in page and ">천사운동본부</option>" in page

    not_invited = record(client, seeded, item, **{"action-0-agency": ids["무한돌봄센터"]})
    assert "1번째 과제: 담당기관이 이 가구의 정보제공 동의 범위 밖입니다." in not_invited.get_data(as_text=True)
    assert meeting_actions(seeded) == []

    invited = record(client, seeded, item, **{"action-0-agency": ids["천사운동본부"]})
    assert invited.status_code == 302
    assert [a.consent_override_reason for a in meeting_actions(seeded)] == ["안건에 적은 예외 사유"]
    assert audit_actions("action.consent_override") == []  # logged when the case was put on the agenda
