"""Finding cases: the one search rule (part of a case number, a given name, the 행정동) within what the user may see,
and the agenda picker's list of cases waiting for a meeting."""
import re
from datetime import timedelta

import pytest
from factories import MEETING_DAY, load, past_meeting, text
from sqlalchemy import update

from conference.cases.queries import CaseFilters, case_list_query
from conference.core.formatting import today_local
from conference.extensions import db
from conference.meetings import queries as meeting_queries
from conference.models import AgendaItem, Household, Role, Sector


@pytest.fixture
def agencies(make_agency):
    return {"mental": make_agency("정신건강복지센터", Sector.MENTAL_HEALTH),
            "school": make_agency("동두천초등학교", Sector.SCHOOL)}


def set_case(case, **values):
    """Put a household straight into a stage (the services walk every stage in between)."""
    db.session.execute(update(Household).where(Household.id == case.id).values(**values))
    db.session.commit()


def picker(client, meeting_id: int, query: str = "") -> str:
    response = client.get(f"/meetings/{meeting_id}/agenda/new" + (f"?q={query}" if query else ""))
    assert response.status_code == 200
    return text(response)


def found(page: str) -> list[str]:
    """The case numbers a picker page offers to choose, in order."""
    return re.findall(r"<tr><td>(\d{4}-\d{4,})</td>", page)


def waiting_numbers(page: str) -> list[str]:
    table = re.search(r'<table class="data" id="waiting">(.*?)</table>', page, re.DOTALL)
    assert table, "no list of waiting cases"
    return found(table[1])


# --- the search ----------------------------------------------------------------------------------------

def test_the_picker_finds_by_part_of_a_case_number_a_given_name_and_the_district(staff, make_meeting, make_case):
    today = today_local()
    meeting = make_meeting()
    kim = make_case("김민수", district="중앙동")
    park = make_case("박영희", district="송내동")
    year = str(today.year)
    assert (kim.case_number, park.case_number) == (f"{year}-0001", f"{year}-0002")

    assert found(picker(staff, meeting.id, "0002")) == [park.case_number]
    assert found(picker(staff, meeting.id, f"{year[2:]}-00")) == [park.case_number, kim.case_number]
    by_given_name = picker(staff, meeting.id, "민수")
    assert found(by_given_name) == [kim.case_number]
    assert "김○○" in by_given_name and "김민수" not in by_given_name  # masked as before
    assert found(picker(staff, meeting.id, "송내")) == [park.case_number]
    assert found(picker(staff, meeting.id, "영")) == [park.case_number]
    assert found(picker(staff, meeting.id, "%")) == []


def test_the_case_list_finds_by_given_name_case_number_part_and_district(staff, make_case):
    kim = make_case("김민수", district="중앙동")
    park = make_case("남궁영희", district="송내동")
    for query, expected in (("민수", [kim]), ("영희", [park]), ("0002", [park]), ("송내동", [park]),
                            ("중앙", [kim])):
        page = text(staff.get(f"/cases?q={query}"))
        assert [c.case_number for c in expected] == re.findall(r">(\d{4}-\d{4})<", page), query


def test_a_practitioner_search_never_reaches_a_case_out_of_reach(app, make_user, make_meeting, make_case, add_item,
                                                                 agencies):
    today = today_local()
    mental = make_user("mh1", Role.PRACTITIONER, agency=agencies["mental"])
    shared = make_case("김민수", consent=[agencies["mental"]], district="중앙동")
    hidden = make_case("이민수", consent=[agencies["school"]], district="중앙동")
    not_covered = make_case("박민수", consent=[agencies["school"]], district="중앙동")
    meeting = make_meeting([agencies["mental"]])
    add_item(meeting.id, shared)
    # On the agenda of a meeting 정신건강복지센터 is invited to, but the consent does not name it (written straight
    # to the database: the service refuses it without a reason).
    db.session.add(AgendaItem(meeting_id=meeting.id, household_id=not_covered.id, position=9))
    db.session.commit()
    other = make_meeting([agencies["school"]], day=MEETING_DAY + timedelta(days=7))
    add_item(other.id, hidden)

    def search(user, query):
        return [db.session.get(Household, i).case_number
                for i in db.session.execute(case_list_query(user, CaseFilters(q=query), upto=100)).scalars()]

    for query in ("민수", "중앙", "0002", "0003", hidden.case_number, f"{str(today.year)[2:]}-0", "수"):
        assert set(search(mental, query)) <= {shared.case_number}, query
        assert [row.case_number for row in meeting_queries.candidate_households(mental, query)] == \
            search(mental, query), query
    assert search(mental, "민수") == [shared.case_number]
    waiting = meeting_queries.waiting_households(mental, load(other.id))
    assert hidden.case_number not in [w.row.case_number for w in waiting.cases]


def test_a_partner_cannot_use_the_picker_at_all(app, web, make_user, make_meeting, agencies):
    make_user("mh1", Role.PRACTITIONER, agency=agencies["mental"])
    meeting = make_meeting([agencies["mental"]])
    web.login("mh1")
    assert web.get(f"/meetings/{meeting.id}/agenda/new?q=민수").status_code in (403, 404)
    assert web.get(f"/meetings/{meeting.id}/agenda/new").status_code in (403, 404)


# --- the cases waiting for a meeting -------------------------------------------------------------------

def test_the_picker_proposes_the_waiting_cases_before_any_search(staff, coordinator, make_meeting, make_case,
                                                                 add_item):
    today = today_local()
    meeting = make_meeting()
    later = make_meeting(day=MEETING_DAY + timedelta(days=28))
    day = MEETING_DAY
    waiting = make_case("김대기")
    set_case(waiting, status="selected", track="case_management")
    on_this = make_case("이이번")
    set_case(on_this, status="selected", track="case_management")
    add_item(meeting.id, on_this)
    on_later = make_case("박다음")
    set_case(on_later, status="selected", track="service_link")
    add_item(later.id, on_later)
    make_case("최발굴")  # 발굴: not selected, nothing due
    due = make_case("정점검")
    set_case(due, status="selected", track="service_link", next_check_on=day - timedelta(days=3))
    due_on_the_day = make_case("한당일")
    set_case(due_on_the_day, status="selected", track="case_management", next_check_on=day)
    not_yet = make_case("오나중")  # checked after the meeting: waits, after those due
    set_case(not_yet, status="selected", track="case_management", next_check_on=day + timedelta(days=1))
    after_care = make_case("서사후")  # 사후관리 and 종결 go on no agenda, even with a check due
    set_case(after_care, status="aftercare", next_check_on=day - timedelta(days=30))
    discussed = make_case("윤지난")
    set_case(discussed, status="selected", track="case_management")
    past_meeting(coordinator, 40, [discussed], relative_to=today)

    page = picker(staff, meeting.id)
    assert waiting_numbers(page) == [due.case_number, due_on_the_day.case_number, discussed.case_number,
                                     waiting.case_number, not_yet.case_number]
    assert "정○○" in page and "정점검" not in page
    assert "점검일" in page and "부터 대기" in page
    assert "id=\"waiting-capped\"" not in page
    # Once chosen for this meeting, a case no longer waits.
    add_item(meeting.id, waiting)
    assert waiting.case_number not in waiting_numbers(picker(staff, meeting.id))
    # A search shows what it found instead.
    searched = picker(staff, meeting.id, "김대기")
    assert 'id="waiting"' not in searched and found(searched) == [waiting.case_number]
    # And once a case is picked, the page is about that case.
    assert 'id="waiting"' not in text(staff.get(f"/meetings/{meeting.id}/agenda/new?household_id={discussed.id}"))


def test_the_waiting_list_is_capped_with_a_note(staff, make_meeting, make_case, monkeypatch):
    meeting = make_meeting()
    for name in ("김하나", "김두울", "김세엣"):
        set_case(make_case(name), status="selected", track="case_management")
    monkeypatch.setattr(meeting_queries, "WAITING_SHOWN", 2)
    page = picker(staff, meeting.id)
    assert len(waiting_numbers(page)) == 2
    assert "기다리는 사례 3건 가운데 먼저 다룰 2건만 보여 줍니다." in page


def test_no_waiting_case_says_so(staff, make_meeting, make_case):
    meeting = make_meeting()
    make_case("최발굴")
    page = picker(staff, meeting.id)
    assert waiting_numbers(page) == [] and "회의를 기다리는 사례가 없습니다." in page
