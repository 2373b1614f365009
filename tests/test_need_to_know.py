"""Need-to-know after the packet: each agency's version of the minutes (page and Word), drafts marked as drafts,
no minutes for a meeting not held, packets frozen at the start, approved minutes cut by the policy at approval."""
import hashlib
import io
from datetime import timedelta

import docx
import pytest
from factories import MEETING_DAY, docx_text, flashes, load, pledge, signed_in, text
from sqlalchemy import select

from conference.extensions import db
from conference.meetings import packets
from conference.meetings import services as meeting_services
from conference.minutes import services as minutes_services
from conference.shared.disclosure import Grant
from conference.models import (ActionItem, AgencyInput, CaseRecord, Consent, Meeting, MeetingStatus, Minutes, Role,
                               RootCause, Sector)

#: Texts and who may read them in the setting below (case A: consent without sensitive data; B: with it).
MH_FACTS_A = "우울 증상으로 치료했으나 중단됨 SNT-MH-A"
MH_OPINION_A = "정신건강 사례관리 연계 필요 SNT-MHOP-A"
CHARITY_FACTS_A = "후원물품 지원 이력 SNT-CH-A"
DISCUSSION_A = "주거 위기와 체납 논의 SNT-DISC-A"
INTERNAL_A = "시 내부 판단: 긴급 개입 검토 SNT-INT-A"
CAUSE_A = "치료 중단으로 인한 우울 SNT-CAUSE-A"
MH_TASK_A = "정신건강 상담 재개 SNT-TASK-MH-A"
CHARITY_TASK_A = "후원물품 연계 SNT-TASK-CH-A"
MH_FACTS_B = "외상 반응 관찰 SNT-MH-B"
KEY_QUESTION_A = "정신건강 치료 연계가 여러 번 중단되었습니다 SNT-KQ-A"


@pytest.fixture
def meeting_day(make_user, make_agency, make_meeting, make_case, add_item, coordinator):
    """A started meeting: 정신건강복지센터, 천사운동본부 and 드림스타트 invited; case A's consent covers all three
    without sensitive data, case B's with it. Inputs, a case record and actions are written with their levels."""
    agencies = {"mh": make_agency("정신건강복지센터", Sector.MENTAL_HEALTH),
                "angel": make_agency("천사운동본부", Sector.PRIVATE, is_public=False),
                "dream": make_agency("드림스타트", Sector.DREAM_START)}
    users = {key: make_user(key, Role.PRACTITIONER, agency=agency) for key, agency in agencies.items()}
    chair = make_user("chair1", Role.CHAIR)
    invited = list(agencies.values())
    meeting = make_meeting(invited, chair=chair)
    case_a = make_case("김민수", consent=invited, covers_sensitive=False, children=1)
    case_b = make_case("이영희", consent=invited, covers_sensitive=True, children=1)
    item_a = add_item(meeting.id, case_a, key_question=KEY_QUESTION_A)
    item_b = add_item(meeting.id, case_b, key_question="아동 돌봄 공백 대책")
    for user in users.values():
        pledge(meeting.id, user)
    ids = {key: agency.id for key, agency in agencies.items()}
    item = db.session.get(type(load(meeting.id).agenda_items[0]), item_a)
    item.key_question_level = "sensitive"
    db.session.add_all([
        AgencyInput(agenda_item_id=item_a, agency_id=ids["mh"], state="submitted", facts=MH_FACTS_A,
                    facts_level="sensitive", opinion=MH_OPINION_A, opinion_level="shared"),
        AgencyInput(agenda_item_id=item_a, agency_id=ids["angel"], state="submitted", facts=CHARITY_FACTS_A),
        AgencyInput(agenda_item_id=item_b, agency_id=ids["mh"], state="submitted", facts=MH_FACTS_B,
                    facts_level="sensitive")])
    db.session.commit()
    for step in (MeetingStatus.SHARING, MeetingStatus.IN_PROGRESS):
        meeting_services.change_status(load(meeting.id), by=coordinator, to_status=step.value)
        db.session.commit()
    record = CaseRecord(agenda_item_id=item_a, discussion=DISCUSSION_A, decisions=INTERNAL_A,
                        decisions_level="internal", version=1,
                        root_causes=[RootCause(domain="health", cause=CAUSE_A, level="sensitive")])
    db.session.add_all([
        record, CaseRecord(agenda_item_id=item_b, discussion="B 논의", version=1),
        ActionItem(household_id=case_a.id, meeting_id=meeting.id, agenda_item_id=item_a, task=MH_TASK_A,
                   task_level="sensitive", domain="health", agency_id=ids["mh"], person="서마음",
                   due_on=MEETING_DAY + timedelta(days=30)),
        ActionItem(household_id=case_a.id, meeting_id=meeting.id, agenda_item_id=item_a, task=CHARITY_TASK_A,
                   domain="economy", agency_id=ids["angel"], person="나눔이", due_on=MEETING_DAY + timedelta(days=20))])
    minutes_services.record_attendance(minutes_services.load_for_minutes(meeting.id), by=coordinator,
                                       rows=[("서마음", ids["mh"], "팀장"), ("나눔이", ids["angel"], "사무국장")])
    db.session.commit()
    return {"meeting": meeting, "ids": ids, "chair": chair, "coordinator": coordinator, "cases": (case_a, case_b)}


def minutes_docx(client, meeting_id, **query):
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    response = client.post(f"/meetings/{meeting_id}/minutes.docx{suffix}", data={"purpose": "회의 결과 공유"})
    assert response.status_code == 200, response.status_code
    return response.data


def header_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    return " ".join(p.text for section in document.sections for p in section.header.paragraphs)


def to_review(setting):
    minutes_services.request_review(minutes_services.load_for_minutes(setting["meeting"].id), by=setting["coordinator"], deadline=MEETING_DAY,
                                    today=MEETING_DAY)
    db.session.commit()


def approve(setting):
    to_review(setting)
    minutes_services.finalise(minutes_services.load_for_minutes(setting["meeting"].id), by=setting["chair"])
    db.session.commit()


READS = {
    # reader: (texts it reads, texts it must not read)
    "angel": ({MH_OPINION_A, CHARITY_FACTS_A, DISCUSSION_A, CHARITY_TASK_A},
              {MH_FACTS_A, INTERNAL_A, CAUSE_A, MH_TASK_A, KEY_QUESTION_A, MH_FACTS_B}),
    # Its own words in full, even where case A's consent leaves out sensitive data; everyone else's by level.
    "mh": ({MH_FACTS_A, MH_OPINION_A, MH_TASK_A, DISCUSSION_A, MH_FACTS_B, CHARITY_FACTS_A, CHARITY_TASK_A},
           {INTERNAL_A, CAUSE_A, KEY_QUESTION_A}),
}


@pytest.mark.parametrize("reader", ["angel", "mh"])
def test_an_agency_reads_its_own_version_of_the_minutes_on_the_page_and_in_word(app, client, meeting_day, reader):
    """The charity's packet holds summary and household only: no other agency's input; sensitive text only
    where consent covers it; 시 내부 text for nobody outside the city; its own input and actions in full."""
    meeting = meeting_day["meeting"]
    to_review(meeting_day)
    client = signed_in(app, reader)
    page = text(client.get(f"/meetings/{meeting.id}/minutes"))
    content = minutes_docx(client, meeting.id)
    file = docx_text(content)
    reads, withheld = READS[reader]
    if reader == "angel":  # no 다른 기관 의견 section in its settings: other agencies' inputs stay out
        reads, withheld = reads - {MH_OPINION_A}, withheld | {MH_OPINION_A}
    for shown in (page, file):
        for sentinel in reads:
            assert sentinel in shown, (reader, sentinel)
        for sentinel in withheld:
            assert sentinel not in shown, (reader, sentinel)
        assert "비공개" in shown
    agency = {"angel": "천사운동본부", "mh": "정신건강복지센터"}[reader]
    assert f"{agency} 열람용" in header_text(content) and f"{agency} 열람용" in page
    assert f"{agency} 열람용" in docx.Document(io.BytesIO(content)).core_properties.title


def test_the_city_reads_the_full_minutes(app, client, meeting_day):
    meeting = meeting_day["meeting"]
    to_review(meeting_day)
    every = set().union(*(reads | withheld for reads, withheld in READS.values()))
    for username in ("coord1", "chair1"):
        client = signed_in(app, username)
        page = text(client.get(f"/meetings/{meeting.id}/minutes"))
        file = docx_text(minutes_docx(client, meeting.id))
        for sentinel in every:
            assert sentinel in page and sentinel in file, (username, sentinel)
        assert "열람용" not in header_text(minutes_docx(client, meeting.id))


def test_the_coordinator_can_open_an_agencys_version(app, client, meeting_day):
    meeting, ids = meeting_day["meeting"], meeting_day["ids"]
    client = signed_in(app, "coord1")
    page = text(client.get(f"/meetings/{meeting.id}/minutes?agency={ids['angel']}"))
    assert CHARITY_FACTS_A in page and MH_FACTS_A not in page and "천사운동본부 열람용" in page
    assert "천사운동본부 열람용" in header_text(minutes_docx(client, meeting.id, agency=ids["angel"]))


def test_drafts_say_so_on_every_page_until_approved(app, client, meeting_day):
    meeting = meeting_day["meeting"]
    client = signed_in(app, "coord1")
    draft = minutes_docx(client, meeting.id)
    document = docx.Document(io.BytesIO(draft))
    assert "초안 · 결재 전" in document.paragraphs[0].text and "초안 · 결재 전" in header_text(draft)
    assert all(not section.different_first_page_header_footer for section in document.sections)
    assert "초안 · 결재 전" in text(client.get(f"/meetings/{meeting.id}/minutes"))

    approve(meeting_day)
    final = minutes_docx(client, meeting.id)
    assert "초안" not in header_text(final) and "초안" not in docx.Document(io.BytesIO(final)).paragraphs[0].text
    assert "초안 · 결재 전" not in text(client.get(f"/meetings/{meeting.id}/minutes"))


def test_minutes_of_a_meeting_not_started_are_refused(app, client, runner, make_meeting, make_user):
    meeting = make_meeting(chair=make_user("chair1", Role.CHAIR))
    client = signed_in(app, "coord1")
    page = client.get(f"/meetings/{meeting.id}/minutes")
    assert page.status_code == 200 and "아직 열리지 않은 회의라 회의록이 없습니다" in text(page)
    assert "불참기관" not in text(page)
    response = client.post(f"/meetings/{meeting.id}/minutes.docx", data={"purpose": "보고"})
    assert response.status_code == 302 and "application/vnd" not in response.headers.get("Content-Type", "")
    assert any("아직 열리지 않은 회의" in message for _, message in flashes(client.get(response.headers["Location"])))
    result = runner.invoke(args=["export-minutes", str(meeting.id), "-o", "/dev/null"])
    assert result.exit_code != 0 and "아직 열리지 않은 회의" in result.output


def test_approved_minutes_keep_the_policy_at_approval_and_a_later_withdrawal_hides_the_case(app, client, meeting_day):
    meeting = meeting_day["meeting"]
    case_a = meeting_day["cases"][0]
    approve(meeting_day)
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
    assert minutes.content_hash == hashlib.sha256(minutes.snapshot.encode("utf-8")).hexdigest()
    assert MH_FACTS_A in minutes.snapshot and INTERNAL_A in minutes.snapshot  # the full version is what is hashed

    # Loosening a level after approval changes nothing in the approved text of any version.
    db.session.execute(db.update(AgencyInput).values(facts_level="shared"))
    db.session.commit()
    client = signed_in(app, "angel")
    assert MH_FACTS_A not in text(client.get(f"/meetings/{meeting.id}/minutes"))

    consent = db.session.execute(select(Consent).where(Consent.household_id == case_a.id)).scalar_one()
    consent.withdrawn_on = MEETING_DAY
    db.session.commit()
    page = text(client.get(f"/meetings/{meeting.id}/minutes"))
    file = docx_text(minutes_docx(client, meeting.id))
    for shown in (page, file):
        assert case_a.case_number not in shown and CHARITY_FACTS_A not in shown and DISCUSSION_A not in shown
    client = signed_in(app, "coord1")
    assert case_a.case_number in text(client.get(f"/meetings/{meeting.id}/minutes"))


def test_the_packet_is_kept_as_it_was_when_the_meeting_started(app, client, meeting_day):
    meeting = meeting_day["meeting"]
    client = signed_in(app, "mh")
    before = text(client.get(f"/meetings/{meeting.id}/packet"))
    assert CHARITY_FACTS_A in before
    db.session.execute(db.update(AgencyInput).where(AgencyInput.facts == CHARITY_FACTS_A)
                       .values(facts="나중에 고친 내용 SNT-LATER"))
    db.session.commit()
    after = text(client.get(f"/meetings/{meeting.id}/packet"))
    assert CHARITY_FACTS_A in after and "SNT-LATER" not in after
    assert "SNT-LATER" not in docx_text(client.post(f"/meetings/{meeting.id}/packet.docx",
                                                    data={"purpose": "회의 준비"}).data)


def test_a_packet_of_a_meeting_started_before_freezing_is_read_as_of_its_day(app, meeting_day):
    """No action due after the meeting is shown as overdue in that meeting's packet, however late it is read."""
    meeting = meeting_day["meeting"]
    case_a = meeting_day["cases"][0]
    db.session.execute(db.delete(type(load(meeting.id).packet_snapshot)))
    earlier = Meeting(kind="internal", year=MEETING_DAY.year, number=90, starts_at=meeting.starts_at - timedelta(days=60),
                      place="시청", coordinator_id=meeting_day["coordinator"].id, status="finalised")
    db.session.add(earlier)
    db.session.flush()
    db.session.add(ActionItem(household_id=case_a.id, meeting_id=earlier.id, task="이전 회의 과제 SNT-EARLIER",
                              domain="economy", agency_id=meeting_day["ids"]["mh"], status="open",
                              due_on=MEETING_DAY + timedelta(days=1)))
    db.session.commit()
    with app.test_request_context():
        data = packets.reader_packet(load(meeting.id), None, coordinator_notes=True,
                                     today=MEETING_DAY + timedelta(days=400))
    line = next(a for c in data.cases for a in c.open_actions if "SNT-EARLIER" in a.task)
    assert not line.overdue


def test_the_agencys_input_pages_show_the_key_question_only_as_its_level_allows(app, client, meeting_day):
    meeting = meeting_day["meeting"]
    item_a = load(meeting.id).agenda_items[0]
    for username, shows in (("angel", False), ("coord1", True)):
        client = signed_in(app, username)
        form_url = f"/meetings/{meeting.id}/inputs/{item_a.id}"
        if username == "coord1":
            form_url += f"?agency={meeting_day['ids']['angel']}"
        pages = [text(client.get(form_url))]
        if username == "angel":
            pages.append(text(client.get(f"/meetings/{meeting.id}/inputs")))
        for page in pages:
            assert meeting_day["cases"][0].case_number in page
            assert (KEY_QUESTION_A in page) is shows, username


def test_review_comments_reach_the_city_and_the_commenting_agency_only(app, meeting_day):
    meeting = meeting_day["meeting"]
    to_review(meeting_day)
    mh = signed_in(app, "mh")
    mh.post(f"/meetings/{meeting.id}/minutes/respond", data={"comment": "김○○ 가구 자살 위험 재평가 필요 SNT-COMMENT"})
    for username, shows in (("mh", True), ("coord1", True), ("chair1", True), ("angel", False), ("dream", False)):
        page = text(signed_in(app, username).get(f"/meetings/{meeting.id}/minutes"))
        assert ("SNT-COMMENT" in page) is shows, username


def test_offered_resources_go_with_the_opinions_level():
    """제공 가능 자원 is part of what an agency thinks it can do: withheld with its opinion, and counted."""
    line = packets.InputLine(agency="정신건강복지센터", facts="", opinion="상담 SNT-OP", domains=[], risk_concerns="",
                             withheld="", resources=["공공 · 정신건강 상담: 주 1회 SNT-RES"], late=False, agency_id=1,
                             opinion_level="sensitive")
    case = packets.PacketCase(position=1, case_number="2026-0001", masked_name="김○○", district="중앙동",
                              key_question="", presenting_agency="", minutes_allotted=15, is_repeat=False,
                              consent_override_reason="", sections={"inputs"}, inputs=[line])
    full = packets.Packet(meeting_id=1, title="회의", starts_at=None, place="", chair="", coordinator="", agency_id=0,
                          agency_name="", deadline=None, agencies=[], cases=[case], readers={2: ("드림스타트", None)})
    for sensitive, shown in ((False, False), (True, True)):
        case.grants = {2: Grant(visible=True, sections=frozenset({"inputs"}), sensitive=sensitive)}
        copy = packets.for_reader(full, 2).cases[0]
        assert bool(copy.inputs[0].resources) is shown and bool(copy.inputs[0].opinion) is shown
        assert copy.not_shown == (0 if shown else 2)
