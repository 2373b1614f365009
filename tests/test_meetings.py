"""Meetings: scheduling and numbering, invitations and deadlines, the agenda behind the consent gate,
need-to-know defaults, status steps, the calendar file, the practitioner's home page and who may open what.

Packets, pledges, the access log and the Word file are in test_packets.py.
"""
import json
import re
from datetime import date, time, timedelta

import pytest
from conftest import POSTGRES_URL
from factories import (
    MEETING_DAY,
    audit_actions,
    count,
    field_errors,
    flashes,
    form_errors,
    has_hangul,
    invitation_of,
    items_in_order,
    kst,
    load,
    past_meeting,
    pledge,
    selected_option,
    text,
)
from sqlalchemy import select

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.formatting import today_local
from conference.extensions import db
from conference.meetings import queries as meeting_queries
from conference.meetings import rules
from conference.meetings import services as meeting_services
from conference.models import (
    AgendaItem,
    Invitation,
    Meeting,
    MeetingStatus,
    PacketSection,
    Role,
    SectionVisibility,
    Sector,
)
from conference.shared import disclosure
from conference.shared.rules import RuleError

YEAR = MEETING_DAY.year
ALL_SECTIONS = {s.value for s in PacketSection}


@pytest.fixture
def agencies(make_agency):
    """Two partner agencies as the real meeting has them."""
    return {
        "mental": make_agency("정신건강복지센터", Sector.MENTAL_HEALTH),
        "charity": make_agency("천사운동본부", Sector.PRIVATE, is_public=False),
        "dream": make_agency("드림스타트", Sector.DREAM_START),
        "police": make_agency("동두천경찰서", Sector.POLICE),
    }


def meeting_form(**overrides) -> dict:
    data = {"kind": "integrated", "number": "", "day": MEETING_DAY.isoformat(), "start_time": "14:00",
            "duration_minutes": "120", "place": "시청 별관 3층 회의실", "chair_id": "0", "coordinator_id": "",
            "agency_ids": []}
    data.update(overrides)
    return data


def meetings() -> list[Meeting]:
    return db.session.execute(select(Meeting).order_by(Meeting.id)).scalars().all()


def sections_of(item_id: int) -> dict[int, set[str]]:
    rows = db.session.execute(select(SectionVisibility).where(SectionVisibility.agenda_item_id == item_id)).scalars()
    return {row.agency_id: row.section_set for row in rows}


# --- rules -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("day, count_, holidays, expected", [
    (date(2021, 3, 22), 3, (), date(2021, 3, 17)),        # Monday → previous Wednesday
    (date(2021, 3, 24), 3, (), date(2021, 3, 19)),        # Wednesday → previous Friday
    (date(2021, 3, 26), 3, (), date(2021, 3, 23)),        # Friday → Tuesday
    (date(2021, 3, 28), 3, (), date(2021, 3, 24)),        # Sunday → Wednesday
    (date(2021, 3, 22), 1, (), date(2021, 3, 19)),        # Monday, one day → Friday
    (date(2021, 3, 22), 0, (), date(2021, 3, 22)),
    # 삼일절 2021-03-01 was a Monday: a Thursday meeting asks by the Friday before (not Monday).
    (date(2021, 3, 4), 3, (date(2021, 3, 1),), date(2021, 2, 26)),
    # 설날 2021-02-11..13 (Thu, Fri, Sat): a Monday meeting asks by the Monday before (not Wednesday).
    (date(2021, 2, 15), 3, (date(2021, 2, 11), date(2021, 2, 12), date(2021, 2, 13)), date(2021, 2, 8)),
    # A holiday on the meeting day itself changes nothing.
    (date(2021, 3, 1), 3, (date(2021, 3, 1),), date(2021, 2, 24)),
])
def test_working_days_before(day, count_, holidays, expected):
    assert rules.working_days_before(day, count_, frozenset(holidays)) == expected


@pytest.mark.parametrize("sector, has_children, expected", [
    (Sector.PRIVATE, True, {"summary", "household"}),
    (Sector.PRIVATE, False, {"summary", "household"}),
    (Sector.DREAM_START, False, {"summary"}),
    (Sector.DREAM_START, True, ALL_SECTIONS),
    (Sector.SCHOOL, False, {"summary"}),
    (Sector.SCHOOL, True, {"summary", "household"}),
    (Sector.POLICE, False, {"summary", "needs"}),
    (Sector.MENTAL_HEALTH, False, ALL_SECTIONS),
    (Sector.COMMUNITY_CENTRE, False, ALL_SECTIONS),
    (Sector.OTHER, True, {"summary"}),
])
def test_default_sections_per_sector(sector, has_children, expected):
    assert disclosure.default_sections(sector.value, has_children=has_children) == expected


# --- creating and editing meetings -----------------------------------------------------------------

def test_meetings_are_numbered_per_year_and_kind(staff, coordinator, agencies):
    first = staff.post("/meetings/new", data=meeting_form(coordinator_id=coordinator.id))
    assert first.status_code == 302, text(first)
    second = staff.post("/meetings/new", data=meeting_form(
        coordinator_id=coordinator.id, day=(MEETING_DAY + timedelta(days=28)).isoformat()))
    assert second.status_code == 302
    other_kind = staff.post("/meetings/new", data=meeting_form(coordinator_id=coordinator.id, kind="solution"))
    assert other_kind.status_code == 302

    rows = meetings()
    assert [(m.kind, m.year, m.number) for m in rows] == [
        ("integrated", YEAR, 1), ("integrated", YEAR, 2), ("solution", YEAR, 1)]
    assert rows[0].title == f"{YEAR}년도 제1회 민관협력 통합사례회의"
    assert rows[1].title == f"{YEAR}년도 제2회 민관협력 통합사례회의"
    assert first.headers["Location"] == f"/meetings/{rows[0].id}"
    page = staff.get(first.headers["Location"])
    assert f"{YEAR}년도 제1회 민관협력 통합사례회의" in text(page)
    assert [e.action for e in audit_actions("meeting.create")] == ["meeting.create"] * 3


def test_an_explicit_number_is_honoured_and_the_next_one_follows_it(staff, coordinator, make_user):
    chair = make_user("chair1", Role.CHAIR, display_name="박위원장")
    response = staff.post("/meetings/new", data=meeting_form(
        coordinator_id=coordinator.id, number="5", chair_id=chair.id, duration_minutes="90", place="송내동 주민센터"))
    assert response.status_code == 302
    created = meetings()[0]
    assert (created.chair_id, created.coordinator_id, created.duration_minutes, created.place) == (
        chair.id, coordinator.id, 90, "송내동 주민센터")
    staff.post("/meetings/new", data=meeting_form(coordinator_id=coordinator.id,
                                                  day=(MEETING_DAY + timedelta(days=1)).isoformat()))
    assert [m.number for m in meetings()] == [5, 6]


def test_a_duplicate_number_is_refused_next_to_the_field(staff, coordinator, make_meeting):
    make_meeting(number=3)
    response = staff.post("/meetings/new", data=meeting_form(coordinator_id=coordinator.id, number="3"))
    assert response.status_code == 200
    assert field_errors(response, "number") == ["같은 해 같은 종류의 회의에 이미 쓰인 회차입니다."]
    assert len(meetings()) == 1


def test_a_past_date_is_refused_and_nothing_is_saved(staff, coordinator, agencies):
    today = today_local()
    response = staff.post("/meetings/new", data=meeting_form(
        coordinator_id=coordinator.id, day=(today - timedelta(days=1)).isoformat(),
        agency_ids=[agencies["mental"].id]))
    assert response.status_code == 200
    errors = field_errors(response, "day")
    assert errors and all(has_hangul(e) for e in errors)
    assert meetings() == [] and count(Invitation) == 0
    assert audit_actions("meeting.create") == []


def test_an_unknown_agency_is_refused_and_nothing_is_saved(staff, coordinator, agencies):
    response = staff.post("/meetings/new", data=meeting_form(
        coordinator_id=coordinator.id, agency_ids=[agencies["mental"].id, 9999]))
    assert response.status_code == 200
    assert "없거나 사용이 중지된 기관이 있습니다." in form_errors(response)
    assert meetings() == [] and count(Invitation) == 0
    # What the coordinator ticked is still ticked.
    assert re.search(rf'value="{agencies["mental"].id}" checked', text(response))


def test_an_agency_id_no_database_holds_is_unknown(staff, coordinator, agencies):
    """Found by tests/test_fuzz.py: the id reached the database and failed there (OverflowError, 500)."""
    response = staff.post("/meetings/new", data=meeting_form(
        coordinator_id=coordinator.id, agency_ids=[agencies["mental"].id, "99999999999999999999"]))
    assert response.status_code == 200
    assert "없거나 사용이 중지된 기관이 있습니다." in form_errors(response)
    assert meetings() == []


@pytest.mark.parametrize("field, value, message", [
    ("duration_minutes", "1" * 400, "15~600분 사이로 입력하세요."),
    ("number", "9" * 309, "회차는 1~999 사이입니다."),
])
def test_a_number_beyond_any_float_gets_the_fields_message(staff, coordinator, field, value, message):
    """Found by tests/test_fuzz.py: WTForms' NumberRange turned it into a float first (OverflowError, 500)."""
    response = staff.post("/meetings/new", data=meeting_form(coordinator_id=coordinator.id, **{field: value}))
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    assert meetings() == []


def test_an_inactive_agency_cannot_be_invited(staff, coordinator, make_agency):
    closed = make_agency("폐지된 기관", is_active=False)
    response = staff.post("/meetings/new", data=meeting_form(coordinator_id=coordinator.id, agency_ids=[closed.id]))
    assert response.status_code == 200 and meetings() == []


def test_invitations_get_the_default_deadline_three_working_days_before(staff, coordinator, agencies):
    assert MEETING_DAY.weekday() == 0  # a Monday
    staff.post("/meetings/new", data=meeting_form(
        coordinator_id=coordinator.id, agency_ids=[agencies["mental"].id, agencies["charity"].id]))
    meeting = meetings()[0]
    invitations = db.session.execute(select(Invitation).where(Invitation.meeting_id == meeting.id)).scalars().all()
    assert {i.agency_id for i in invitations} == {agencies["mental"].id, agencies["charity"].id}
    wednesday = MEETING_DAY - timedelta(days=5)
    assert wednesday.weekday() == 2
    assert {i.deadline for i in invitations} == {wednesday}
    assert meeting.starts_at == kst(MEETING_DAY)


def test_a_meeting_can_be_edited(staff, coordinator, make_meeting, make_user, agencies):
    chair = make_user("chair1", Role.CHAIR, display_name="박위원장")
    meeting = make_meeting([agencies["mental"]])
    form = staff.get(f"/meetings/{meeting.id}/edit")
    assert form.status_code == 200
    assert 'value="시청 별관 3층 회의실"' in text(form) and f'value="{MEETING_DAY.isoformat()}"' in text(form)

    response = staff.post(f"/meetings/{meeting.id}/edit", data=meeting_form(
        number="1", start_time="10:30", place="중앙동 행정복지센터 2층", chair_id=chair.id,
        coordinator_id=coordinator.id, duration_minutes="90"))
    assert response.status_code == 302
    saved = db.session.get(Meeting, meeting.id)
    assert (saved.place, saved.duration_minutes, saved.chair_id) == ("중앙동 행정복지센터 2층", 90, chair.id)
    assert saved.starts_at == kst(MEETING_DAY, time(10, 30))
    changed = audit_actions("meeting.update")
    assert len(changed) == 1 and "place" in changed[0].details and "starts_at" in changed[0].details


def test_editing_to_a_taken_number_is_refused(staff, coordinator, make_meeting):
    make_meeting(number=1)
    second = make_meeting(number=2, day=MEETING_DAY + timedelta(days=7))
    response = staff.post(f"/meetings/{second.id}/edit", data=meeting_form(
        number="1", coordinator_id=coordinator.id, day=(MEETING_DAY + timedelta(days=7)).isoformat()))
    assert response.status_code == 200
    assert field_errors(response, "number") == ["같은 해 같은 종류의 회의에 이미 쓰인 회차입니다."]
    assert db.session.get(Meeting, second.id).number == 2


def test_moving_a_meeting_before_a_deadline_is_refused(staff, coordinator, make_meeting, agencies):
    meeting = make_meeting([agencies["mental"]])
    earlier = MEETING_DAY - timedelta(days=7)
    response = staff.post(f"/meetings/{meeting.id}/edit", data=meeting_form(
        number="1", coordinator_id=coordinator.id, day=earlier.isoformat()))
    assert response.status_code == 200
    assert field_errors(response, "day") == ["정보 요청 기한이 회의일보다 늦은 기관이 있습니다. 기한을 먼저 바꾸세요."]
    assert db.session.get(Meeting, meeting.id).starts_at == kst(MEETING_DAY)


# --- invitations -----------------------------------------------------------------------------------

def test_inviting_an_agency_with_deadline_and_invitees(staff, make_meeting, agencies):
    meeting = make_meeting([agencies["mental"]])
    deadline = MEETING_DAY - timedelta(days=10)
    response = staff.post(f"/meetings/{meeting.id}/invitations", data={
        "agency_id": agencies["charity"].id, "deadline": deadline.isoformat(), "invitees": "서마음 팀장"})
    assert response.status_code == 302
    invitation = invitation_of(meeting.id, agencies["charity"].id)
    assert (invitation.deadline, invitation.invitees) == (deadline, "서마음 팀장")
    page = text(staff.get(f"/meetings/{meeting.id}"))
    assert "서마음 팀장" in page and "천사운동본부" in page
    assert len(audit_actions("meeting.invite")) == 1


def test_inviting_without_a_deadline_uses_the_default(staff, make_meeting, agencies):
    meeting = make_meeting()
    staff.post(f"/meetings/{meeting.id}/invitations", data={"agency_id": agencies["police"].id, "deadline": ""})
    assert invitation_of(meeting.id, agencies["police"].id).deadline == MEETING_DAY - timedelta(days=5)


def test_a_deadline_after_the_meeting_is_refused(staff, make_meeting, agencies):
    meeting = make_meeting()
    response = staff.post(f"/meetings/{meeting.id}/invitations", data={
        "agency_id": agencies["charity"].id, "deadline": (MEETING_DAY + timedelta(days=1)).isoformat()},
        follow_redirects=True)
    assert ("error", "정보 요청 기한은 회의일 이후일 수 없습니다.") in flashes(response)
    assert invitation_of(meeting.id, agencies["charity"].id) is None
    assert audit_actions("meeting.invite") == []


def test_inviting_twice_is_refused(staff, make_meeting, agencies):
    meeting = make_meeting([agencies["charity"]])
    response = staff.post(f"/meetings/{meeting.id}/invitations", data={"agency_id": agencies["charity"].id},
                          follow_redirects=True)
    assert ("error", "이미 초대한 기관입니다.") in flashes(response)
    assert count(Invitation, Invitation.meeting_id == meeting.id) == 1


@pytest.mark.parametrize("agency_id", ["99999999999999999999", "2147483648", "-1"])
def test_inviting_an_agency_id_no_database_holds_is_refused(staff, make_meeting, agencies, agency_id):
    """Found by tests/test_fuzz.py: the id reached the database and failed there (OverflowError, 500)."""
    meeting = make_meeting()
    response = staff.post(f"/meetings/{meeting.id}/invitations", data={"agency_id": agency_id},
                          follow_redirects=True)
    assert ("error", "없거나 사용이 중지된 기관이 있습니다.") in flashes(response)
    assert count(Invitation, Invitation.meeting_id == meeting.id) == 0


def test_a_household_id_no_database_holds_is_not_found(staff, make_meeting):
    """Found by tests/test_fuzz.py: the agenda form's household_id went to the database unchecked."""
    meeting = make_meeting()
    response = staff.post(f"/meetings/{meeting.id}/agenda/new?household_id=99999999999999999999",
                          data={"key_question": "x", "minutes_allotted": "15"})
    assert response.status_code == 200
    assert count(AgendaItem, AgendaItem.meeting_id == meeting.id) == 0


def test_editing_an_invitation_deadline(staff, make_meeting, agencies):
    meeting = make_meeting([agencies["mental"]])
    invitation = invitation_of(meeting.id, agencies["mental"].id)
    url = f"/meetings/{meeting.id}/invitations/{invitation.id}"
    assert staff.get(url).status_code == 200
    new_deadline = MEETING_DAY - timedelta(days=14)
    response = staff.post(url, data={"deadline": new_deadline.isoformat(), "invitees": "김팀장"})
    assert response.status_code == 302
    assert (invitation_of(meeting.id, agencies["mental"].id).deadline, invitation_of(
        meeting.id, agencies["mental"].id).invitees) == (new_deadline, "김팀장")

    too_late = staff.post(url, data={"deadline": (MEETING_DAY + timedelta(days=3)).isoformat(), "invitees": ""})
    assert too_late.status_code == 200
    assert field_errors(too_late, "deadline") == ["정보 요청 기한은 회의일 이후일 수 없습니다."]
    assert invitation_of(meeting.id, agencies["mental"].id).deadline == new_deadline


def test_an_invitation_of_another_meeting_is_404(staff, make_meeting, agencies):
    first = make_meeting([agencies["mental"]])
    second = make_meeting([agencies["charity"]], day=MEETING_DAY + timedelta(days=7))
    other = invitation_of(second.id, agencies["charity"].id)
    assert staff.get(f"/meetings/{first.id}/invitations/{other.id}").status_code == 404


def test_withdrawing_an_invitation_removes_it_and_its_need_to_know_rows(staff, make_meeting, make_case, add_item,
                                                                       agencies):
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    case = make_case(consent=[agencies["mental"], agencies["charity"]])
    item_id = add_item(meeting.id, case)
    assert set(sections_of(item_id)) == {agencies["mental"].id, agencies["charity"].id}
    invitation = invitation_of(meeting.id, agencies["charity"].id)
    response = staff.post(f"/meetings/{meeting.id}/invitations/{invitation.id}/delete")
    assert response.status_code == 302
    assert invitation_of(meeting.id, agencies["charity"].id) is None
    assert set(sections_of(item_id)) == {agencies["mental"].id}
    assert len(audit_actions("meeting.uninvite")) == 1


def test_inviting_an_agency_a_case_has_no_consent_for_is_refused_unless_overridden(
        staff, make_meeting, make_case, add_item, agencies):
    meeting = make_meeting([agencies["mental"]])
    covered = make_case(consent=[agencies["mental"], agencies["police"]])
    uncovered = make_case(consent=[agencies["mental"]])
    add_item(meeting.id, covered)
    add_item(meeting.id, uncovered)
    response = staff.post(f"/meetings/{meeting.id}/invitations", data={"agency_id": agencies["police"].id},
                          follow_redirects=True)
    messages = [m for kind, m in flashes(response) if kind == "error"]
    assert len(messages) == 1 and uncovered.case_number in messages[0] and covered.case_number not in messages[0]
    assert invitation_of(meeting.id, agencies["police"].id) is None

    # With an override reason on the item the agency can be invited and gets need-to-know rows.
    other = make_meeting([agencies["mental"]], day=MEETING_DAY + timedelta(days=7))
    item_id = add_item(other.id, uncovered)
    db.session.execute(AgendaItem.__table__.update().where(AgendaItem.id == item_id)
                       .values(consent_override_reason="아동 안전 우려로 경찰 공유 필요"))
    db.session.commit()
    response = staff.post(f"/meetings/{other.id}/invitations", data={"agency_id": agencies["police"].id})
    assert response.status_code == 302
    assert invitation_of(other.id, agencies["police"].id) is not None
    assert sections_of(item_id)[agencies["police"].id] == {"summary", "needs"}


# --- the agenda ------------------------------------------------------------------------------------

def agenda_form(case, **overrides) -> dict:
    data = {"household_id": case.id, "key_question": "주거 위기 해소 방안", "presenting_agency_id": "0",
            "minutes_allotted": "15", "consent_override_reason": ""}
    data.update(overrides)
    return data


def test_finding_households_by_case_number_and_name_prefix(staff, make_meeting, make_case):
    meeting = make_meeting()
    kim = make_case("김민수")
    park = make_case("박영희")
    by_number = text(staff.get(f"/meetings/{meeting.id}/agenda/new?q={park.case_number}"))
    assert park.case_number in by_number and kim.case_number not in by_number
    assert "박○○" in by_number and "박영희" not in by_number

    by_name = text(staff.get(f"/meetings/{meeting.id}/agenda/new?q=김민"))
    assert kim.case_number in by_name and park.case_number not in by_name
    assert "김○○" in by_name and "김민수" not in by_name

    nothing = text(staff.get(f"/meetings/{meeting.id}/agenda/new?q=최"))
    assert "찾는 사례가 없습니다." in nothing


def test_adding_a_case_to_the_agenda(staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    case = make_case(consent=[agencies["mental"], agencies["charity"]])
    chosen = staff.get(f"/meetings/{meeting.id}/agenda/new?household_id={case.id}")
    assert chosen.status_code == 200 and case.case_number in text(chosen) and case.head_name not in text(chosen)
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(
        case, presenting_agency_id=agencies["mental"].id, minutes_allotted="20"))
    assert response.status_code == 302
    item = db.session.execute(select(AgendaItem)).scalar_one()
    assert (item.meeting_id, item.household_id, item.position, item.key_question, item.presenting_agency_id,
            item.minutes_allotted, item.consent_override_reason) == (
        meeting.id, case.id, 1, "주거 위기 해소 방안", agencies["mental"].id, 20, "")
    # Need-to-know defaults by sector: the private charity gets summary and household only.
    assert sections_of(item.id) == {agencies["mental"].id: ALL_SECTIONS,
                                    agencies["charity"].id: {"summary", "household"}}
    assert audit_actions("consent.override") == []
    page = text(staff.get(f"/meetings/{meeting.id}"))
    assert case.case_number in page and "주거 위기 해소 방안" in page and case.head_name not in page


def test_dream_start_sees_only_the_summary_of_a_case_without_children(staff, make_meeting, make_case, add_item,
                                                                      agencies):
    meeting = make_meeting([agencies["dream"]])
    adults = make_case(consent=[agencies["dream"]])
    family = make_case(consent=[agencies["dream"]], children=1)
    assert sections_of(add_item(meeting.id, adults)) == {agencies["dream"].id: {"summary"}}
    assert sections_of(add_item(meeting.id, family)) == {agencies["dream"].id: ALL_SECTIONS}


def test_a_closed_case_cannot_be_put_on_the_agenda(staff, make_meeting, make_case):
    meeting = make_meeting()
    closed = make_case(stage="closed")
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(closed))
    assert response.status_code == 200
    assert "종결되었거나 사후관리 중인 사례는 안건에 올릴 수 없습니다." in text(response)
    assert count(AgendaItem) == 0


def test_a_case_cannot_be_on_the_agenda_twice(staff, make_meeting, make_case, add_item):
    meeting = make_meeting()
    case = make_case()
    add_item(meeting.id, case)
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case))
    assert response.status_code == 200
    assert "이미 이 회의 안건에 있는 사례입니다." in text(response)
    assert count(AgendaItem) == 1


def test_consent_gate_refuses_a_case_whose_consent_does_not_cover_an_invited_agency(
        staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    case = make_case(consent=[agencies["mental"]])
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case))
    assert response.status_code == 200
    errors = field_errors(response, "consent_override_reason")
    assert len(errors) == 1 and "천사운동본부" in errors[0] and "정신건강복지센터" not in errors[0]
    assert count(AgendaItem) == 0 and count(SectionVisibility) == 0
    assert audit_actions("agenda.add") == [] and audit_actions("consent.override") == []


def test_consent_gate_without_any_consent_names_every_invited_agency(staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    case = make_case(consent=None)
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case))
    errors = field_errors(response, "consent_override_reason")
    assert len(errors) == 1 and "천사운동본부" in errors[0] and "정신건강복지센터" in errors[0]
    assert count(AgendaItem) == 0


def test_a_withdrawn_consent_counts_as_no_consent(staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"]])
    case = make_case(consent=[agencies["mental"]], withdrawn=True)
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case))
    errors = field_errors(response, "consent_override_reason")
    assert len(errors) == 1 and "정신건강복지센터" in errors[0]
    assert count(AgendaItem) == 0


def test_consent_override_is_stored_shown_and_logged(staff, coordinator, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    case = make_case(consent=[agencies["mental"]])
    reason = "긴급 생계지원 연계를 위해 후원기관 공유가 필요함 (팀장 승인)"
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(
        case, consent_override_reason=reason))
    assert response.status_code == 302
    item = db.session.execute(select(AgendaItem)).scalar_one()
    assert item.consent_override_reason == reason
    events = audit_actions("consent.override")
    assert len(events) == 1
    assert (events[0].object_type, events[0].object_id, events[0].actor_id) == ("household", str(case.id),
                                                                                coordinator.id)
    assert reason in events[0].details and str(agencies["charity"].id) in events[0].details
    page = text(staff.get(f"/meetings/{meeting.id}"))
    assert f"동의 범위 예외 사유: {reason}" in page


def test_an_override_reason_is_not_kept_when_consent_covers_everyone(staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"]])
    case = make_case(consent=[agencies["mental"]])
    staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case, consent_override_reason="필요 없음"))
    assert db.session.execute(select(AgendaItem.consent_override_reason)).scalar_one() == ""
    assert audit_actions("consent.override") == []


def test_reordering_the_agenda(staff, make_meeting, make_case, add_item):
    meeting = make_meeting()
    a, b, c = make_case(), make_case(), make_case()
    items = [add_item(meeting.id, case) for case in (a, b, c)]
    assert items_in_order(meeting.id) == [(1, a.id), (2, b.id), (3, c.id)]
    staff.post(f"/meetings/{meeting.id}/agenda/{items[2]}/up")
    assert items_in_order(meeting.id) == [(1, a.id), (2, c.id), (3, b.id)]
    staff.post(f"/meetings/{meeting.id}/agenda/{items[0]}/down")
    assert items_in_order(meeting.id) == [(1, c.id), (2, a.id), (3, b.id)]
    # At the ends nothing moves.
    staff.post(f"/meetings/{meeting.id}/agenda/{items[2]}/up")
    staff.post(f"/meetings/{meeting.id}/agenda/{items[1]}/down")
    assert items_in_order(meeting.id) == [(1, c.id), (2, a.id), (3, b.id)]


def test_children_first_keeps_the_order_otherwise(staff, make_meeting, make_case, add_item):
    meeting = make_meeting()
    adult1, child1, adult2, child2 = make_case(), make_case(children=1), make_case(), make_case(children=2)
    for case in (adult1, child1, adult2, child2):
        add_item(meeting.id, case)
    response = staff.post(f"/meetings/{meeting.id}/agenda/children-first", follow_redirects=True)
    assert ("success", "아동이 있는 가구를 앞으로 옮겼습니다.") in flashes(response)
    assert items_in_order(meeting.id) == [(1, child1.id), (2, child2.id), (3, adult1.id), (4, adult2.id)]


def test_a_member_turning_18_is_no_longer_a_child(staff, make_meeting, make_case, add_item, coordinator):
    today = today_local()
    meeting = make_meeting()
    adult = make_case()
    teen = make_case()
    household = load_case_file(teen.id)
    case_services.add_member(household, by=coordinator, name="김청년", relation="자녀", birth_year=today.year - 18,
                             birth_date=today.replace(year=today.year - 18) if (today.month, today.day) != (2, 29)
                             else date(today.year - 18, 2, 28), sex="남", has_disability=False)
    db.session.commit()
    add_item(meeting.id, adult)
    add_item(meeting.id, teen)
    staff.post(f"/meetings/{meeting.id}/agenda/children-first")
    assert items_in_order(meeting.id) == [(1, adult.id), (2, teen.id)]


def test_removing_an_item_renumbers_the_rest(staff, make_meeting, make_case, add_item):
    meeting = make_meeting()
    a, b, c = make_case(), make_case(), make_case()
    items = [add_item(meeting.id, case) for case in (a, b, c)]
    response = staff.post(f"/meetings/{meeting.id}/agenda/{items[0]}/delete")
    assert response.status_code == 302
    assert items_in_order(meeting.id) == [(1, b.id), (2, c.id)]
    assert count(SectionVisibility, SectionVisibility.agenda_item_id == items[0]) == 0
    assert len(audit_actions("agenda.remove")) == 1


def agenda_rows(page: str) -> dict[str, str]:
    """The rows of the meeting page's agenda table, by case number."""
    agenda = page.split('id="agenda"', 1)[1]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", agenda, re.DOTALL):
        number = re.search(r"\d{4}-\d{4}", row)
        if number:
            rows[number[0]] = row
    return rows


def test_cases_discussed_in_the_last_12_months_are_marked_as_repeats(staff, coordinator, make_meeting, make_case,
                                                                     add_item):
    meeting = make_meeting()
    recent, old, new = make_case(), make_case(), make_case()
    past_meeting(coordinator, 200, [recent])
    past_meeting(coordinator, 400, [old])
    for case in (recent, old, new):
        add_item(meeting.id, case)
    rows = agenda_rows(text(staff.get(f"/meetings/{meeting.id}")))
    assert "재상정" in rows[recent.case_number]
    assert "재상정" not in rows[old.case_number]
    assert "재상정" not in rows[new.case_number]


def test_editing_an_item_and_its_need_to_know_sections(staff, make_meeting, make_case, add_item, agencies):
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    case = make_case(consent=[agencies["mental"], agencies["charity"]])
    item_id = add_item(meeting.id, case)
    form = text(staff.get(f"/meetings/{meeting.id}/agenda/{item_id}"))
    assert re.search(rf'name="sections-{agencies["charity"].id}" value="household"[^>]* checked', form)
    assert not re.search(rf'name="sections-{agencies["charity"].id}" value="needs"[^>]* checked', form)

    response = staff.post(f"/meetings/{meeting.id}/agenda/{item_id}", data={
        "key_question": "바뀐 질문", "presenting_agency_id": agencies["charity"].id, "minutes_allotted": "12",
        f"sections-{agencies['mental'].id}": ["summary", "needs"],
        f"sections-{agencies['charity'].id}": ["summary", "needs", "history"]})
    assert response.status_code == 302
    item = db.session.get(AgendaItem, item_id)
    assert (item.key_question, item.presenting_agency_id, item.minutes_allotted) == (
        "바뀐 질문", agencies["charity"].id, 12)
    assert sections_of(item_id) == {agencies["mental"].id: {"summary", "needs"},
                                    agencies["charity"].id: {"summary", "needs", "history"}}
    assert len(audit_actions("agenda.sections")) == 1


def test_unknown_sections_are_refused(staff, make_meeting, make_case, add_item, agencies):
    meeting = make_meeting([agencies["charity"]])
    case = make_case(consent=[agencies["charity"]])
    item_id = add_item(meeting.id, case)
    response = staff.post(f"/meetings/{meeting.id}/agenda/{item_id}", data={
        "key_question": "", "presenting_agency_id": "0", "minutes_allotted": "15",
        f"sections-{agencies['charity'].id}": ["summary", "secret_file"]})
    assert response.status_code == 200
    assert "초대하지 않은 기관이나 알 수 없는 항목입니다." in form_errors(response)
    assert sections_of(item_id) == {agencies["charity"].id: {"summary", "household"}}


# --- disclosure level of the key question (issue 14) ----------------------------------------------

def test_key_question_level_is_chosen_next_to_it_saved_and_shown_again(staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["mental"]])
    case = make_case(consent=[agencies["mental"]])
    new_form = staff.get(f"/meetings/{meeting.id}/agenda/new?household_id={case.id}")
    assert selected_option(new_form, "key_question_level") == "shared"  # 참석기관 공유 unless chosen
    page = text(new_form)
    assert "공개 범위" in page and "민감정보까지 동의한 기관만 읽습니다." in page and "시 담당자와 회의 주재자만" in page

    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(
        case, key_question="정신건강 치료 연계가 여러 번 중단되었습니다", key_question_level="sensitive"))
    assert response.status_code == 302
    item = db.session.execute(select(AgendaItem)).scalar_one()
    assert item.key_question_level == "sensitive"
    [added] = audit_actions("agenda.add")
    assert json.loads(added.details)["key_question_level"] == "sensitive"

    url = f"/meetings/{meeting.id}/agenda/{item.id}"
    assert selected_option(staff.get(url), "key_question_level") == "sensitive"
    response = staff.post(url, data={"key_question": "바뀐 질문", "key_question_level": "internal",
                                     "presenting_agency_id": "0", "minutes_allotted": "15",
                                     f"sections-{agencies['mental'].id}": ["summary"]})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).key_question_level == "internal"
    assert selected_option(staff.get(url), "key_question_level") == "internal"
    [updated] = audit_actions("agenda.update")
    assert json.loads(updated.details)["key_question_level"] == "internal"
    agenda = text(staff.get(f"/meetings/{meeting.id}")).split('id="agenda"')[1]
    assert re.search(r'바뀐 질문 <span class="tag level-internal"[^>]*>시 내부</span>', agenda)


def test_a_key_question_posted_without_a_level_is_shared(staff, make_meeting, make_case, agencies):
    meeting = make_meeting([agencies["charity"]])
    case = make_case(consent=[agencies["charity"]])
    assert staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case)).status_code == 302
    assert db.session.execute(select(AgendaItem.key_question_level)).scalar_one() == "shared"


def test_an_unknown_key_question_level_is_refused_and_changes_nothing(staff, make_meeting, make_case, add_item,
                                                                     agencies, coordinator):
    meeting = make_meeting([agencies["charity"]])
    case = make_case(consent=[agencies["charity"]])
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(case, key_question_level="public"))
    assert response.status_code == 200
    errors = field_errors(response, "key_question_level")
    assert errors == ["공개 범위는 참석기관 공유, 민감정보, 시 내부 중에서 고르세요."]
    assert "주거 위기 해소 방안" in text(response)  # what was typed is kept
    assert count(AgendaItem) == 0 and audit_actions("agenda.add") == []

    item_id = add_item(meeting.id, case, key_question="처음 질문")
    response = staff.post(f"/meetings/{meeting.id}/agenda/{item_id}", data={
        "key_question": "바뀐 질문", "key_question_level": "everyone", "presenting_agency_id": "0",
        "minutes_allotted": "15", f"sections-{agencies['charity'].id}": ["summary"]})
    assert response.status_code == 200
    assert field_errors(response, "key_question_level") == errors
    db.session.expire_all()
    item = db.session.get(AgendaItem, item_id)
    assert (item.key_question, item.key_question_level) == ("처음 질문", "shared")
    assert audit_actions("agenda.update") == []
    # The service refuses it too, whoever calls it.
    loaded = next(i for i in load(meeting.id).agenda_items if i.id == item_id)
    with pytest.raises(RuleError) as refused:
        meeting_services.update_agenda_item(loaded, by=coordinator, key_question="", presenting_agency_id=None,
                                            minutes_allotted=15, key_question_level="everyone")
    assert refused.value.field == "key_question_level"


# --- meeting status --------------------------------------------------------------------------------

def status_of(meeting_id) -> str:
    return db.session.get(Meeting, meeting_id).status


def start(staff, meeting_id):
    """Start the meeting as its coordinator does before its day: from the run page, confirming the day."""
    staff.post(f"/meetings/{meeting_id}/run/start", data={"confirm_day": "1"})


def on_the_day(meeting_id):
    today = today_local()
    meeting = db.session.get(Meeting, meeting_id)
    meeting.starts_at = meeting.starts_at.replace(year=today.year, month=today.month, day=today.day)


def test_status_moves_one_step_at_a_time(staff, make_meeting, make_case, add_item, make_user):
    meeting = make_meeting()
    url = f"/meetings/{meeting.id}/status"

    empty = staff.post(url, data={"to": "sharing"}, follow_redirects=True)
    assert ("error", "안건이 없는 회의는 자료를 공유할 수 없습니다.") in flashes(empty)
    assert status_of(meeting.id) == "preparing"

    add_item(meeting.id, make_case())
    skip = staff.post(url, data={"to": "in_progress"}, follow_redirects=True)
    assert ("error", "회의 상태는 한 단계씩만 바꿀 수 있습니다.") in flashes(skip)
    assert status_of(meeting.id) == "preparing"

    junk = staff.post(url, data={"to": "nonsense"}, follow_redirects=True)
    assert ("error", "알 수 없는 회의 상태입니다.") in flashes(junk)

    # The chair approves the minutes and cannot be named after the start, so there is no start without one.
    assert staff.post(url, data={"to": "sharing"}).status_code == 302
    chairless = staff.post(url, data={"to": "in_progress"}, follow_redirects=True)
    assert ("error", "주재(결재권자)를 정한 뒤에 회의를 시작하세요. 회의 수정에서 정할 수 있습니다.") in flashes(chairless)
    assert status_of(meeting.id) == "sharing"
    db.session.get(Meeting, meeting.id).chair_id = make_user("chair1", Role.CHAIR).id
    on_the_day(meeting.id)  # on another day, 회의 중 asks for a confirmation first (test_meeting_day.py)
    db.session.commit()

    for step in ("preparing", "sharing", "in_progress", "minutes", "in_progress", "minutes"):
        assert staff.post(url, data={"to": step, "reason": "결정사항 재논의"}).status_code == 302
        assert status_of(meeting.id) == step
    review = staff.post(url, data={"to": "review"}, follow_redirects=True)
    assert ("error", "검토 요청은 회의록 화면에서 기한을 정해 보냅니다.") in flashes(review)
    final = staff.post(url, data={"to": "finalised"}, follow_redirects=True)
    assert ("error", "회의록 확정은 결재로만 합니다.") in flashes(final)
    assert status_of(meeting.id) == "minutes"


@pytest.mark.parametrize("reason", ["", "   ", "가", "가" * 201])
def test_going_back_from_minutes_to_the_meeting_needs_a_reason(staff, make_meeting, make_case, add_item, make_user,
                                                               reason):
    meeting = make_meeting(chair=make_user("chair1", Role.CHAIR))
    add_item(meeting.id, make_case())
    url = f"/meetings/{meeting.id}/status"
    start(staff, meeting.id)
    staff.post(url, data={"to": "minutes"})
    assert "되돌리는 사유" in text(staff.get(f"/meetings/{meeting.id}"))  # the field sits by the button

    refused = staff.post(url, data={"to": "in_progress", "reason": reason})
    assert refused.status_code == 200
    assert re.findall(r'<p class="error" id="reason-error">(.*?)</p>', text(refused)) == [
        "회의 중으로 되돌리는 사유를 2~200자로 적으세요."]
    assert status_of(meeting.id) == "minutes"
    assert [e.details for e in audit_actions("meeting.status")][-1] == '{"from": "in_progress", "to": "minutes"}'

    assert staff.post(url, data={"to": "in_progress", "reason": "  기관 의견 누락,\n 다시 논의 "}).status_code == 302
    assert status_of(meeting.id) == "in_progress"
    last = json.loads(audit_actions("meeting.status")[-1].details)
    assert last == {"from": "minutes", "to": "in_progress", "reason": "기관 의견 누락, 다시 논의"}


def test_a_started_meeting_cannot_go_back_to_preparation(staff, make_meeting, make_case, add_item, make_user):
    meeting = make_meeting(chair=make_user("chair1", Role.CHAIR))
    add_item(meeting.id, make_case())
    url = f"/meetings/{meeting.id}/status"
    start(staff, meeting.id)
    back = staff.post(url, data={"to": "sharing"}, follow_redirects=True)
    assert ("error", "회의 상태는 한 단계씩만 바꿀 수 있습니다.") in flashes(back)
    assert status_of(meeting.id) == "in_progress"
    assert [e.details for e in audit_actions("meeting.status")][:2] == [
        '{"from": "preparing", "to": "sharing"}', '{"from": "sharing", "to": "in_progress"}']


def test_the_agenda_and_invitations_are_frozen_once_the_meeting_has_started(staff, make_meeting, make_case,
                                                                            add_item, agencies, make_user):
    meeting = make_meeting([agencies["mental"]], chair=make_user("chair1", Role.CHAIR))
    first = make_case(consent=[agencies["mental"]])
    item_id = add_item(meeting.id, first)
    start(staff, meeting.id)
    assert status_of(meeting.id) == MeetingStatus.IN_PROGRESS.value
    frozen = "회의가 시작된 뒤에는 안건과 초대를 바꿀 수 없습니다."

    late = make_case(consent=[agencies["mental"]])
    response = staff.post(f"/meetings/{meeting.id}/agenda/new", data=agenda_form(late))
    assert response.status_code == 200 and frozen in form_errors(response)
    response = staff.post(f"/meetings/{meeting.id}/agenda/{item_id}/delete", follow_redirects=True)
    assert ("error", frozen) in flashes(response)
    response = staff.post(f"/meetings/{meeting.id}/agenda/{item_id}", data={
        "key_question": "x", "presenting_agency_id": "0", "minutes_allotted": "15"})
    assert response.status_code == 200 and frozen in form_errors(response)
    response = staff.post(f"/meetings/{meeting.id}/invitations", data={"agency_id": agencies["police"].id},
                          follow_redirects=True)
    assert ("error", frozen) in flashes(response)
    assert items_in_order(meeting.id) == [(1, first.id)]
    assert invitation_of(meeting.id, agencies["police"].id) is None


# --- calendar file ---------------------------------------------------------------------------------

def test_calendar_file(staff, make_meeting, make_case, add_item, agencies):
    meeting = make_meeting([agencies["mental"]])
    case = make_case("홍길동", consent=[agencies["mental"]])
    add_item(meeting.id, case)
    response = staff.get(f"/meetings/{meeting.id}/invitation.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"  # one charset, not two
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    unfolded = body.replace("\r\n ", "")
    assert "BEGIN:VEVENT" in unfolded and "END:VEVENT" in unfolded
    assert body.endswith("\r\n") and all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    # 14:00 in Seoul is 05:00 UTC.
    assert f"DTSTART:{MEETING_DAY:%Y%m%d}T050000Z" in unfolded
    assert f"DTEND:{MEETING_DAY:%Y%m%d}T070000Z" in unfolded
    assert f"SUMMARY:{YEAR}년도 제1회 민관협력 통합사례회의" in unfolded
    assert "홍길동" not in unfolded and "홍○○" not in unfolded and case.case_number not in unfolded


def test_calendar_file_carries_no_household_names_case_numbers_or_agenda_text(web, make_user, make_meeting, make_case,
                                                                            add_item, agencies, coordinator):
    """An invitation leaves the system (mail, phone calendars): whoever downloads it, it names no household,
    case or agenda text, not even masked, whatever the consent."""
    worker = make_user("worker1", Role.PRACTITIONER, agency=agencies["charity"])
    meeting = make_meeting([agencies["mental"], agencies["charity"]])
    covered = make_case("홍길동", consent=[agencies["mental"], agencies["charity"]], children=1)
    outside = make_case("김영수", consent=[agencies["mental"]])
    add_item(meeting.id, covered, key_question="가정폭력 반복과 우울 치료 중단, 안전계획 논의")
    add_item(meeting.id, outside, key_question="체납 해소 방안", override="긴급 지원에 필요한 최소 정보만 공유")
    pledge(meeting.id, worker)
    secrets = ["홍길동", "홍○○", "김영수", "김○○", covered.case_number, outside.case_number,
               covered.household_sentinel, outside.household_sentinel, covered.summary_sentinel,
               covered.health_sentinel, covered.needs_sentinel, "김아이", "가정폭력", "우울", "체납 해소",
               "긴급 지원에 필요한", "중앙로", "010-"]
    for username in ("coord1", "worker1"):
        web.login(username)
        response = web.get(f"/meetings/{meeting.id}/invitation.ics")
        assert response.status_code == 200
        body = response.get_data(as_text=True).replace("\r\n ", "")
        assert "SUMMARY:" in body and "LOCATION:시청 별관 3층 회의실" in body
        assert [secret for secret in secrets if secret in body] == []


def test_a_place_with_a_bare_carriage_return_or_control_characters_stays_one_line(staff, make_meeting):
    """Found by tests/test_fuzz.py: a lone CR (or another control character) in the place went into the file
    as it was, and a calendar may read a CR as the start of a new property line."""
    meeting = make_meeting(place="시청\rATTENDEE:mailto:x@example.com\x0b\x1f 회의실")
    body = staff.get(f"/meetings/{meeting.id}/invitation.ics").get_data(as_text=True).replace("\r\n ", "")
    assert "LOCATION:시청\\nATTENDEE:mailto:x@example.com 회의실\r\n" in body
    assert "\r" not in body.replace("\r\n", "")


# --- the practitioner's home page ------------------------------------------------------------------

def test_practitioner_home_lists_only_invited_meetings_with_deadline_and_pledge(web, make_user, make_meeting,
                                                                                agencies):
    today = today_local()
    worker = make_user("worker1", Role.PRACTITIONER, agency=agencies["mental"])
    invited = make_meeting([agencies["mental"], agencies["charity"]])
    later = make_meeting([agencies["mental"]], day=MEETING_DAY + timedelta(days=14))
    other = make_meeting([agencies["charity"]], day=MEETING_DAY + timedelta(days=7))
    # The first one's deadline has passed; the worker pledged for the later one.
    db.session.execute(Invitation.__table__.update().where(Invitation.meeting_id == invited.id)
                       .values(deadline=today - timedelta(days=1)))
    db.session.commit()
    pledge(later.id, worker)

    web.login("worker1")
    page = text(web.get("/home"))
    assert invited.title in page and later.title in page
    assert other.title not in page
    rows = {title: row for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)
            for title in (invited.title, later.title) if title in row}
    assert "기한 지남" in rows[invited.title] and 'class="overdue"' in rows[invited.title]
    assert "기한 지남" not in rows[later.title]
    assert "서약 전" in rows[invited.title] and "서약함" in rows[later.title]
    wednesday = MEETING_DAY + timedelta(days=14) - timedelta(days=5)
    assert f"{wednesday.year}. {wednesday.month}. {wednesday.day}." in rows[later.title]


def test_practitioner_home_leaves_out_past_meetings(web, make_user, coordinator, agencies):
    today = today_local()
    make_user("worker1", Role.PRACTITIONER, agency=agencies["mental"])
    old = past_meeting(coordinator, (MEETING_DAY - today).days + 30)
    db.session.add(Invitation(meeting_id=old.id, agency_id=agencies["mental"].id, deadline=today - timedelta(days=40)))
    db.session.commit()
    web.login("worker1")
    assert old.title not in text(web.get("/home"))


# --- who may open what -----------------------------------------------------------------------------

@pytest.fixture
def matrix_meeting(make_user, make_meeting, make_case, add_item, coordinator, agencies):
    """One meeting with a chair, an invited and an uninvited agency, and cases on and off its agenda."""
    today = today_local()
    invited, uninvited = agencies["mental"], agencies["charity"]
    make_user("admin1", Role.ADMIN)
    chair = make_user("chair1", Role.CHAIR, display_name="박위원장")
    make_user("chair2", Role.CHAIR, display_name="최위원장")
    worker = make_user("worker1", Role.PRACTITIONER, agency=invited)
    make_user("outsider", Role.PRACTITIONER, agency=uninvited)
    meeting = make_meeting([invited], chair=chair)
    covered = make_case(consent=[invited])
    overridden = make_case(consent=[agencies["police"]])
    withdrawn = make_case(consent=[invited])
    off_agenda = make_case(consent=[invited])
    items = {"covered": add_item(meeting.id, covered),
             "override": add_item(meeting.id, overridden, override="학대 의심, 정신건강 개입 필요"),
             "withdrawn": add_item(meeting.id, withdrawn)}
    # Consent withdrawn after the case was put on the agenda.
    household = load_case_file(withdrawn.id)
    case_services.withdraw_consent(household.consents[0], by=coordinator, withdrawn_on=today)
    db.session.commit()
    pledge(meeting.id, worker)
    invitation = invitation_of(meeting.id, invited.id)
    return {"meeting": meeting.id, "title": meeting.title, "invitation": invitation.id, "item": items["covered"],
            "cases": {"covered": covered.id, "override": overridden.id, "withdrawn": withdrawn.id,
                      "off": off_agenda.id}, "police": agencies["police"].id}


LOGINS = {"anonymous": None, "admin": "admin1", "coordinator": "coord1", "chair": "chair1", "other_chair": "chair2",
          "invited": "worker1", "uninvited": "outsider"}

#: object → (method, url, form data)
OBJECTS = {
    "list": ("GET", "/meetings", None),
    "meeting": ("GET", "/meetings/{m}", None),
    "packet": ("GET", "/meetings/{m}/packet", None),
    "docx": ("POST", "/meetings/{m}/packet.docx", {"purpose": "회의 준비"}),
    "pledge": ("GET", "/meetings/{m}/pledge", None),
    "ics": ("GET", "/meetings/{m}/invitation.ics", None),
    "edit": ("GET", "/meetings/{m}/edit", None),
    "invite": ("POST", "/meetings/{m}/invitations", {"agency_id": "{police}"}),
    "invitation_edit": ("GET", "/meetings/{m}/invitations/{inv}", None),
    "invitation_delete": ("POST", "/meetings/{m}/invitations/{inv}/delete", {}),
    "agenda_new": ("GET", "/meetings/{m}/agenda/new?q=김", None),
    "agenda_edit": ("GET", "/meetings/{m}/agenda/{item}", None),
    "agenda_delete": ("POST", "/meetings/{m}/agenda/{item}/delete", {}),
    "agenda_up": ("POST", "/meetings/{m}/agenda/{item}/down", {}),
    "children_first": ("POST", "/meetings/{m}/agenda/children-first", {}),
    "status": ("POST", "/meetings/{m}/status", {"to": "sharing"}),
    "case_covered": ("GET", "/cases/{covered}", None),
    "case_override": ("GET", "/cases/{override}", None),
    "case_withdrawn": ("GET", "/cases/{withdrawn}", None),
    "case_off_agenda": ("GET", "/cases/{off}", None),
    "case_list": ("GET", "/cases", None),
}
MANAGEMENT = ["edit", "invite", "invitation_edit", "invitation_delete", "agenda_new", "agenda_edit", "agenda_delete",
              "agenda_up", "children_first", "status"]
MANAGEMENT_OK = {name: (302 if OBJECTS[name][0] == "POST" else 200) for name in MANAGEMENT}
STAFF = {"list": 200, "meeting": 200, "packet": 200, "docx": 200, "pledge": 200, "ics": 200, **MANAGEMENT_OK,
         "case_covered": 200, "case_override": 200, "case_withdrawn": 200, "case_off_agenda": 200, "case_list": 200}
EXPECTED = {
    "anonymous": {name: "login" for name in OBJECTS},
    # The admin reads no case data: every page answers 403 for the role.
    "admin": {name: 403 for name in OBJECTS},
    "coordinator": STAFF,
    # The chair reads the meeting's full packet and its cases, and changes nothing.
    "chair": {"list": 200, "meeting": "packet", "packet": 200, "docx": 200, "pledge": 200, "ics": 200,
              **{name: 403 for name in MANAGEMENT},
              "case_covered": 200, "case_override": 200, "case_withdrawn": 200, "case_off_agenda": 404,
              "case_list": 403},
    "other_chair": {**{name: 404 for name in OBJECTS}, "list": 200, "case_list": 403},
    # Pledged already (see ``matrix_meeting``); a case only within consent or an override.
    "invited": {"list": 200, "meeting": "packet", "packet": 200, "docx": 200, "pledge": 200, "ics": 200,
                **{name: 403 for name in MANAGEMENT},
                "case_covered": 200, "case_override": 200, "case_withdrawn": 404, "case_off_agenda": 404,
                "case_list": 403},
    "uninvited": {**{name: 404 for name in OBJECTS}, "list": 200, "case_list": 403},
}
#: Whether the meeting shows up in /meetings.
LISTED = {"admin": False, "coordinator": True, "chair": True, "other_chair": False, "invited": True,
          "uninvited": False}



@pytest.mark.parametrize("role, name", [pytest.param(role, name, id=f"{role}-{name}")
                                        for role in LOGINS for name in OBJECTS])
def test_who_may_open_what(web, matrix_meeting, role, name):
    if LOGINS[role]:
        web.login(LOGINS[role])
    method, url, data = OBJECTS[name]
    values = {"m": matrix_meeting["meeting"], "inv": matrix_meeting["invitation"], "item": matrix_meeting["item"],
              "police": matrix_meeting["police"], **matrix_meeting["cases"]}
    url = url.format(**values)
    data = {k: v.format(**values) for k, v in data.items()} if data is not None else None
    response = web.open(method, url, data=data)
    expected = EXPECTED[role][name]
    if expected == "login":
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    elif expected == "packet":
        assert (response.status_code == 302
                and response.headers["Location"] == f"/meetings/{matrix_meeting['meeting']}/packet")
    elif expected == 302:
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"/meetings/{matrix_meeting['meeting']}")
    else:
        assert response.status_code == expected, text(response)[:2000]
    if name == "list" and role in LISTED:
        assert (matrix_meeting["title"] in text(response)) is LISTED[role]


def test_an_invitation_cannot_be_changed_once_the_meeting_has_started_and_says_why(staff, make_meeting, make_case,
                                                                                  add_item, agencies, make_user):
    meeting = make_meeting([agencies["mental"]], chair=make_user("chair1", Role.CHAIR))
    add_item(meeting.id, make_case(consent=[agencies["mental"]]))
    start(staff, meeting.id)
    invitation = invitation_of(meeting.id, agencies["mental"].id)
    before = invitation.deadline
    response = staff.post(f"/meetings/{meeting.id}/invitations/{invitation.id}", data={
        "deadline": (MEETING_DAY - timedelta(days=20)).isoformat(), "invitees": ""})
    assert response.status_code == 200
    assert "회의가 시작된 뒤에는 안건과 초대를 바꿀 수 없습니다." in text(response)
    assert invitation_of(meeting.id, agencies["mental"].id).deadline == before
    withdraw = staff.post(f"/meetings/{meeting.id}/invitations/{invitation.id}/delete", follow_redirects=True)
    assert ("error", "회의가 시작된 뒤에는 안건과 초대를 바꿀 수 없습니다.") in flashes(withdraw)
    assert invitation_of(meeting.id, agencies["mental"].id) is not None


def test_meeting_list_is_paginated_newest_first(app, client, auth, coordinator):
    from datetime import UTC, datetime, timedelta

    from conference.models import Meeting, MeetingKind

    app.config["MEETING_LIST_PAGE_SIZE"] = 3
    start = datetime(2021, 1, 5, 5, tzinfo=UTC)
    for number in range(1, 8):
        db.session.add(Meeting(kind=MeetingKind.INTEGRATED.value, year=2021, number=number, place="소회의실",
                               starts_at=start + timedelta(days=7 * number), coordinator_id=coordinator.id))
    db.session.commit()
    auth.login(coordinator.username)
    first = client.get("/meetings").get_data(as_text=True)
    assert "제7회" in first and "제5회" in first and "제4회" not in first and "page=2" in first
    last = client.get("/meetings?page=3").get_data(as_text=True)
    assert "제1회" in last and "제2회" not in last and "page=4" not in last
    assert client.get("/meetings?page=-5").status_code == 200


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads SQLite's query plan; PostgreSQL plans by its statistics")
def test_the_current_meetings_are_found_through_indexes_not_by_reading_every_meeting(make_meeting):
    """The home pages' meetings (ahead, or with minutes not yet approved) are a few among years of meetings: each
    half of the condition reads its own index."""
    make_meeting()
    statement = select(Meeting.id).where(meeting_queries._current()).compile(
        db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(row[3] for row in db.session.execute(db.text(f"EXPLAIN QUERY PLAN {statement}")))
    assert "INDEX ix_meeting_starts_at" in plan and "INDEX ix_meeting_status" in plan, plan
    assert "SCAN meeting" not in plan, plan
