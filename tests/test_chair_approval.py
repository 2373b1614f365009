"""Decisions checked where they are made, and the chair's path to 결재: queue, minutes, review summary, confirmation."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from factories import field_errors, text
from factories_world import login

from conference.cases.services import stage_path
from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.minutes import services as minutes_services
from conference.shared.rules import RuleError
from conference.models import (Household, Meeting, MeetingStatus, Minutes, MinutesStatus, Role, Stage,
                               StatusChange, User)
from test_minutes_flow import approve, attend, items, record, start

CONFIRM = {"confirm": "reviews-missing"}


def deadline() -> str:
    return (today_local() + timedelta(days=3)).isoformat()


def set_stage(household_id: int, stage: Stage) -> None:
    db.session.execute(update(Household).where(Household.id == household_id).values(status=stage.value, track=""))
    db.session.commit()


def minutes_of(meeting_id: int) -> Minutes:
    db.session.expire_all()
    return db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting_id)).scalar_one()


def in_review(client, meeting_id: int, **decisions) -> None:
    """The coordinator runs the meeting, records every case (``decisions`` on the first) and asks for review."""
    login(client, "coordinator")
    start(client, meeting_id)
    assert attend(client, meeting_id).status_code == 302
    for n, item in enumerate(items(meeting_id)):
        assert record(client, meeting_id, item, **(decisions if n == 0 else {})).status_code == 302
    assert client.post(f"/meetings/{meeting_id}/minutes/review", data={"deadline": deadline()}).status_code == 302
    assert minutes_of(meeting_id).status == MinutesStatus.REVIEW.value


# --- 1. decisions checked where they are made ---------------------------------------------------------------

def test_the_stage_path_follows_the_one_rule_of_allowed_steps():
    assert stage_path(Stage.DISCOVERED, Stage.SELECTED) == [Stage.INTAKE, Stage.ASSESSMENT, Stage.SELECTED]
    assert stage_path(Stage.ASSESSMENT, Stage.SELECTED) == [Stage.SELECTED]
    assert stage_path(Stage.CLOSED, Stage.CLOSED) == []


def test_a_discovered_case_decided_selected_moves_through_the_stages_with_reasons(client, seeded):
    item = items(seeded)[0]
    set_stage(item.household_id, Stage.DISCOVERED)
    login(client, "coordinator")
    start(client, seeded)
    page = text(client.get(f"/meetings/{seeded}/run/{item.id}"))
    assert "선정 (접수 → 욕구조사 → 선정)" in page  # the screen says what the decision implies
    in_review(client, seeded, status_to="selected", track="case_management")
    login(client, "chair")
    approved = approve(client, seeded)
    assert approved.status_code == 302
    assert minutes_of(seeded).status == MinutesStatus.FINAL.value
    household = db.session.get(Household, item.household_id)
    assert (household.status, household.track) == (Stage.SELECTED.value, "case_management")
    title = db.session.get(Meeting, seeded).title
    steps = db.session.execute(select(StatusChange).where(StatusChange.household_id == item.household_id)
                               .order_by(StatusChange.id)).scalars().all()[-3:]
    assert [(s.from_status, s.to_status) for s in steps] == [
        ("discovered", "intake"), ("intake", "assessment"), ("assessment", "selected")]
    assert all(s.reason.startswith(f"{title} 결정") for s in steps)
    assert steps[-1].reason == f"{title} 결정" and "선정 결정에 따른 단계 이동" in steps[0].reason


def test_a_decision_the_case_cannot_take_is_refused_next_to_the_field_naming_the_case(client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    item = items(seeded)[0]
    case_number = item.household.case_number
    response = record(client, seeded, item, status_to="closed", closure_reason="")
    assert response.status_code == 200
    assert field_errors(response, "closure_reason") == [f"사례 {case_number}: 종결 사유를 고르세요."]
    assert items(seeded)[0].record is None


def test_the_review_request_lists_every_problem_with_its_case_number(app, client, seeded):
    login(client, "coordinator")
    start(client, seeded)
    first, *rest = items(seeded)
    first_number, rest_numbers = first.household.case_number, [i.household.case_number for i in rest]
    assert record(client, seeded, first, status_to="closed", closure_reason="목표 달성").status_code == 302
    app.config["CLOSURE_REASONS"] = [r for r in app.config["CLOSURE_REASONS"] if r != "목표 달성"]
    meeting = minutes_services.load_for_minutes(seeded)
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    with pytest.raises(RuleError) as refused:  # NotReady: a RuleError, so the views show it as any refusal
        minutes_services.request_review(meeting, by=coordinator, deadline=today_local(), today=today_local())
    db.session.rollback()
    messages = [str(p.message) for p in refused.value.problems]
    assert "참석자를 기록하세요." in messages
    assert f"사례 {first_number}: 종결 사유를 고르세요." in messages
    assert [f"사례 {number}: 논의 기록이 없습니다." for number in rest_numbers] == \
        [m for m in messages if "논의 기록" in m]
    assert len(messages) == 2 + len(rest_numbers)
    assert all(p.case_number in str(refused.value.message) for p in refused.value.problems)
    # The web shows them all, on the minutes page too.
    page = text(client.post(f"/meetings/{seeded}/minutes/review", data={"deadline": deadline()},
                            follow_redirects=True))
    for message in messages:
        assert message in page
    assert db.session.get(Meeting, seeded).status == MeetingStatus.IN_PROGRESS.value


def test_approval_gives_the_chair_the_problems_and_who_fixes_them_never_a_bare_error(app, client, seeded):
    in_review(client, seeded, status_to="closed", closure_reason="목표 달성")
    case_number = items(seeded)[0].household.case_number
    app.config["CLOSURE_REASONS"] = ["사망"]  # changed since the review request
    login(client, "chair")
    response = approve(client, seeded)
    page = text(response)
    assert response.status_code == 200
    assert f"사례 {case_number}: 종결 사유를 고르세요." in page
    assert "고칠 사람: 회의 담당자 한사례" in page
    assert "검토가 빠진 채로 결재" not in page  # nothing to confirm until it is fixed
    assert minutes_of(seeded).status == MinutesStatus.REVIEW.value


def test_a_stage_changed_by_hand_since_the_decision_does_not_stop_the_approval(client, seeded):
    in_review(client, seeded, status_to="selected", track="service_link")
    household_id = items(seeded)[0].household_id
    set_stage(household_id, Stage.CLOSED)  # the coordinator closed the case meanwhile
    login(client, "chair")
    assert approve(client, seeded).status_code == 302
    assert minutes_of(seeded).status == MinutesStatus.FINAL.value
    assert db.session.get(Household, household_id).status == Stage.SELECTED.value


# --- 2. the chair's path --------------------------------------------------------------------------------------

def test_the_chairs_home_lists_exactly_their_minutes_in_review(client, seeded, make_user, make_meeting):
    login(client, "chair")
    waiting = db.session.execute(select(Meeting).join(Minutes).where(
        Minutes.status == MinutesStatus.REVIEW.value)).scalars().all()  # the demo's meeting held last week
    listed = [(f"/meetings/{m.id}/minutes", f"{m.title} 회의록") for m in waiting]
    queue = text(client.get("/home")).split('id="approval-queue"')[1].split("</section>")[0]
    assert re.findall(r"<tr><td><a href=\"([^\"]+)\">([^<]+)</a>", queue) == listed
    other_chair = make_user("chair9", Role.CHAIR)
    other = make_meeting(chair=other_chair, day=today_local() + timedelta(days=200))
    db.session.add(Minutes(meeting_id=other.id, status=MinutesStatus.REVIEW.value))
    db.session.commit()
    in_review(client, seeded)
    meeting = db.session.get(Meeting, seeded)
    login(client, "chair")
    page = text(client.get("/home"))
    queue = page.split('id="approval-queue"')[1].split("</section>")[0]
    rows = re.findall(r"<tr><td><a href=\"([^\"]+)\">([^<]+)</a>", queue)
    assert rows == [*listed, (f"/meetings/{seeded}/minutes", f"{meeting.title} 회의록")]  # oldest meeting first
    assert other.title not in page
    assert "0 / 2명 검토" in queue.split(meeting.title)[1]  # 서마음 and 문복지 have accounts; nobody answered yet
    deadline_shown = (today_local() + timedelta(days=3))
    assert f"{deadline_shown.year}. {deadline_shown.month}. {deadline_shown.day}." in queue
    login(client, "mh")
    client.post(f"/meetings/{seeded}/minutes/respond", data={"confirmed": "y", "comment": ""})
    login(client, "chair")
    assert "1 / 2명 검토" in text(client.get("/home")).split(meeting.title)[1]


def test_the_waiting_count_links_to_the_queue(client, seeded):
    in_review(client, seeded)
    login(client, "chair")
    page = text(client.get("/notifications"))
    assert re.search(r'<a href="/home#approval-queue">결재를 기다리는 회의록</a>: <strong>2</strong>', page), page
    # (the demo's meeting held last week waits too)


@pytest.mark.parametrize("username", ["chair", "mh"])
def test_a_meeting_opens_on_its_minutes_once_they_are_in_review(client, seeded, username):
    login(client, username)
    assert client.get(f"/meetings/{seeded}").headers["Location"].endswith(f"/meetings/{seeded}/packet")
    in_review(client, seeded)
    login(client, username)
    assert client.get(f"/meetings/{seeded}").headers["Location"].endswith(f"/meetings/{seeded}/minutes")
    login(client, "coordinator")
    assert client.get(f"/meetings/{seeded}").status_code == 200  # the coordinator's meeting page as before


def test_the_minutes_page_shows_who_reviewed_and_who_has_not(client, seeded):
    in_review(client, seeded)
    login(client, "mh")
    client.post(f"/meetings/{seeded}/minutes/respond", data={"confirmed": "", "comment": "2번 사례 기한 확인 필요"})
    login(client, "chair")
    page = text(client.get(f"/meetings/{seeded}/minutes"))
    summary = page.split('id="review-summary"')[1].split("</section>")[0]
    assert "검토 2건 중 1건 들어옴" in summary
    reviewed = re.findall(r'<tr class="reviewed"><td>(.*?)</td><td>(.*?)</td>\s*<td>(\S+)', summary)
    assert reviewed == [("서마음", "정신건강복지센터", "의견")]
    assert "2번 사례 기한 확인 필요" in summary
    assert re.findall(r'<tr class="waiting"><td>(.*?)</td><td>(.*?)</td>', summary) == [("문복지", "중앙동 행정복지센터")]


def test_approval_with_reviews_missing_needs_the_confirmation(client, seeded):
    in_review(client, seeded)
    login(client, "mh")
    client.post(f"/meetings/{seeded}/minutes/respond", data={"confirmed": "y", "comment": ""})
    login(client, "chair")
    asked = client.post(f"/meetings/{seeded}/minutes/approve")
    page = text(asked)
    assert asked.status_code == 200
    assert "검토 2건 중 1건만 들어왔습니다." in page and "아직 검토하지 않은 사람: 문복지" in page
    assert 'name="confirm" type="hidden" value="reviews-missing"' in page
    assert minutes_of(seeded).status == MinutesStatus.REVIEW.value
    assert client.post(f"/meetings/{seeded}/minutes/approve", data={"confirm": "yes"}).status_code == 200
    assert minutes_of(seeded).status == MinutesStatus.REVIEW.value
    done = client.post(f"/meetings/{seeded}/minutes/approve", data=CONFIRM)
    assert done.status_code == 302
    assert minutes_of(seeded).status == MinutesStatus.FINAL.value


def test_approval_with_every_review_in_needs_no_extra_step(client, seeded):
    in_review(client, seeded)
    for username in ("mh", "dong"):
        login(client, username)
        client.post(f"/meetings/{seeded}/minutes/respond", data={"confirmed": "y", "comment": ""})
    login(client, "chair")
    assert client.post(f"/meetings/{seeded}/minutes/approve").status_code == 302
    assert minutes_of(seeded).status == MinutesStatus.FINAL.value



def test_the_minutes_page_shows_the_sign_off_box_the_end_time_and_the_head_count(client, seeded):
    """As the Word file does (작성 · 검토 · 결재 with 직위, 성명, 일자; 일시 with its end; 참석 인원)."""
    held = db.session.execute(select(Meeting).where(Meeting.status == MeetingStatus.FINALISED.value)
                              .order_by(Meeting.starts_at.desc())).scalars().first()
    chair = db.session.execute(select(User).where(User.username == "chair")).scalar_one()
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    login(client, "chair")
    page = text(client.get(f"/meetings/{held.id}/minutes"))
    sign_off = page.split('<table class="data compact sign-off">')[1].split("</table>")[0]
    assert re.findall(r'<th scope="col">(.*?)</th>', sign_off) == ["구분", "작성", "검토", "결재"]
    rows = {label: re.findall(r"<td>(.*?)</td>", cells)
            for label, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', sign_off, re.S)}
    assert rows["직위"][0] == coordinator.position and rows["직위"][2] == chair.position
    assert rows["성명"][0] == coordinator.display_name and rows["성명"][2] == chair.display_name
    assert all(re.fullmatch(r"\d{4}\. \d{1,2}\. \d{1,2}\.", day) for day in (rows["일자"][0], rows["일자"][2]))
    end = (held.starts_at + timedelta(minutes=held.duration_minutes)).astimezone(KST)
    assert f"~ {end:%H:%M}</dd>" in page
    table = page.split("<h2>참석자</h2>")[1].split("</table>")[0]
    attendees = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>", table)  # the chair is among them
    agencies = len({agency for _name, agency in attendees})
    assert len(attendees) >= 5 and "윤팀장" in dict(attendees)
    assert f"<strong>참석 인원:</strong> {agencies}개 기관 {len(attendees)}명" in page
