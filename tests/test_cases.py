"""The case register: registration, list, case file, stages, consent, assessment, members, counts, masking.

Every request runs in its own app context, so it gets its own database session as in production (the
test client would otherwise share the test's session and its identity map with the view).
"""
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import POSTGRES_URL
from factories import (
    TOMORROW,
    CityYear,
    audit_actions,
    count,
    counting_queries,
    field_errors,
    flashes,
    form_errors,
    has_hangul,
    on_the_day,
    selected_option,
    text,
)
from flask import current_app
from sqlalchemy import select, update

from conference.cases import queries, services
from conference.core import masking
from conference.core.formatting import today_local
from conference.extensions import db
from conference.models import (
    Assessment,
    AuditEvent,
    Consent,
    DomainRating,
    Household,
    Member,
    NeedDomain,
    Role,
    Stage,
    StatusChange,
    User,
)
from conference.shared.rules import RuleError

RRN = "680302-1234567"
EXTRACTION = "복지사각지대 발굴시스템"


# --- helpers ---------------------------------------------------------------------------------------

def listed_case_numbers(response) -> list[str]:
    """Case numbers of the rows of the case list, in order."""
    return re.findall(r'<a href="/cases/\d+">(\d{4}-\d{4})</a>', text(response))


def section(response, start_id: str, end_id: str | None = None) -> str:
    page = text(response)
    part = page.split(f'id="{start_id}"', 1)[1]
    return part.split(f'id="{end_id}"', 1)[0] if end_id else part


def database_dump() -> str:
    """Every row of every table as text, to prove a value is stored nowhere."""
    rows = []
    for table in db.metadata.sorted_tables:
        rows.extend(repr(tuple(row)) for row in db.session.execute(table.select()))
    return "\n".join(rows)


def status_changes(household_id: int) -> list[StatusChange]:
    return db.session.execute(select(StatusChange).where(StatusChange.household_id == household_id)
                              .order_by(StatusChange.id)).scalars().all()


def household_form(**overrides) -> dict:
    """The registration form as a browser submits it."""
    data = {"head_name": "김민수", "head_birth": "1968-03-02", "head_sex": "남", "district": "중앙동",
            "address": "경기도 동두천시 중앙로 101", "phone": "010-2345-6789", "household_size": "3",
            "discovery_route": "이웃·주민 제보", "discovered_on": "2021-02-03", "extraction_round": "",
            "crisis_signals": "단전; 건강보험료 체납; 단전", "referring_agency_id": "0", "coordinator_id": "0",
            "note": "이웃 제보, 자녀 있음"}
    data.update(overrides)
    return data


def assessment_form(assessed_on="2021-03-01", summary="", **ratings) -> dict:
    """rating_<domain> for every domain; ``ratings`` maps a domain to a rating or (rating, notes)."""
    data = {"assessed_on": assessed_on, "summary": summary}
    for domain in NeedDomain:
        value = ratings.get(domain.value, "")
        rating, notes = value if isinstance(value, tuple) else (value, "")
        data[f"rating_{domain.value}"] = rating
        data[f"notes_{domain.value}"] = notes
    return data


def status_form(to_status, reason="사례회의 결과", track="", classification="", closure_reason="") -> dict:
    return {"to_status": to_status, "reason": reason, "track": track, "classification": classification,
            "closure_reason": closure_reason}


def move(household, by, *stages, track="case_management"):
    """Move a household through ``stages`` with the service and commit."""
    fresh = db.session.get(Household, household.id)
    for stage in stages:
        services.change_status(fresh, by=by, to_status=stage.value, reason=f"{stage.label}",
                               track=track if stage == Stage.SELECTED else "",
                               classification=fresh.classification)
    db.session.commit()
    return fresh


def reload(household_id: int) -> Household:
    db.session.rollback()
    return queries.load_case_file(household_id)


# --- registration ----------------------------------------------------------------------------------

def test_register_creates_household_head_stage_and_audit(staff, coordinator, make_agency):
    agency = make_agency("중앙동 행정복지센터")
    response = staff.post("/cases/new", data=household_form(referring_agency_id=str(agency.id),
                                                             coordinator_id=str(coordinator.id)))
    assert response.status_code == 302
    household = db.session.execute(select(Household)).scalar_one()
    assert response.headers["Location"] == f"/cases/{household.id}"
    assert household.case_number == "2021-0001"
    assert (household.district, household.discovery_route, household.discovered_on) == (
        "중앙동", "이웃·주민 제보", date(2021, 2, 3))
    assert household.household_size == 3
    assert household.crisis_signals == "단전;건강보험료 체납"  # trimmed, repeats dropped
    assert household.referring_agency_id == agency.id and household.coordinator_id == coordinator.id
    assert household.status == Stage.DISCOVERED.value

    members = db.session.execute(select(Member)).scalars().all()
    assert [(m.name, m.relation, m.is_head, m.birth_year, m.birth_date, m.sex) for m in members] == [
        ("김민수", "본인", True, 1968, date(1968, 3, 2), "남")]

    [change] = status_changes(household.id)
    assert (change.from_status, change.to_status, change.changed_by_id) == ("", "discovered", coordinator.id)

    [created] = audit_actions("household.create")
    assert (created.object_type, created.object_id, created.actor_id) == ("household", str(household.id),
                                                                          coordinator.id)
    assert "2021-0001" in created.details

    page = text(staff.get(f"/cases/{household.id}"))
    assert "사례 2021-0001을(를) 등록했습니다." in page


def test_birth_year_alone_is_accepted(staff):
    assert staff.post("/cases/new", data=household_form(head_birth="1952")).status_code == 302
    head = db.session.execute(select(Member)).scalar_one()
    assert (head.birth_year, head.birth_date) == (1952, None)


def test_case_numbers_are_consecutive_per_year_and_restart_each_year(staff):
    for discovered_on in ("2021-02-03", "2021-05-01", "2020-12-31", "2021-01-02", "2020-01-01"):
        assert staff.post("/cases/new", data=household_form(discovered_on=discovered_on)).status_code == 302
    numbers = db.session.execute(select(Household).order_by(Household.id)).scalars().all()
    assert [h.case_number for h in numbers] == ["2021-0001", "2021-0002", "2020-0001", "2021-0003", "2020-0002"]


def test_extraction_route_with_round_is_accepted(staff):
    response = staff.post("/cases/new", data=household_form(discovery_route=EXTRACTION, extraction_round="2021-1"))
    assert response.status_code == 302
    assert db.session.execute(select(Household.extraction_round)).scalar_one() == "2021-1"


BAD_INPUT = [
    # (field, value, part of the message shown next to the field)
    ("head_name", "", "필수 항목"),
    ("head_name", "   ", "필수 항목"),
    ("head_birth", "1968-13-40", "생년월일은 YYYY-MM-DD"),
    ("head_birth", TOMORROW, "생년월일은 YYYY-MM-DD"),
    ("head_birth", CityYear(1), "생년월일은 YYYY-MM-DD"),
    ("head_birth", "", "필수 항목"),
    ("district", "서울특별시", "올바르지 않은 선택"),
    ("district", "", "필수 항목"),
    ("discovery_route", "길거리 제보", "올바르지 않은 선택"),
    ("household_size", "0", "가구원수는 1~30"),
    ("household_size", "abc", "가구원수"),
    ("household_size", "", "가구원수를 숫자로"),
    ("household_size", "1" * 400, "가구원수는 1~30"),  # found by test_fuzz.py: NumberRange failed (OverflowError)
    ("phone", "abc", "연락처는 숫자와 하이픈"),
    ("discovered_on", TOMORROW, "오늘 이후 날짜"),
    ("discovered_on", "2021-02-30", "날짜"),
    ("extraction_round", "2021-13", "추출회차는 2021-1 처럼"),
    ("signals_level", "public", "공개 범위는 참석기관 공유, 민감정보, 시 내부 중에서 고르세요."),
]


@pytest.mark.parametrize("field, value, message", BAD_INPUT, ids=[f"{f}={v!r}" for f, v, _m in BAD_INPUT])
def test_bad_input_rerenders_with_a_korean_message_and_creates_nothing(staff, field, value, message):
    data = household_form(**{field: on_the_day(value)})
    response = staff.post("/cases/new", data=data)
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and any(message in e for e in errors), errors
    assert all(has_hangul(e) for e in errors), errors
    page = text(response)
    for kept in ("address", "phone", "note"):  # what was typed is still there
        if kept != field:
            assert data[kept] in page
    if field != "head_name":
        assert 'value="김민수"' in page
    assert count(Household) == count(Member) == count(StatusChange) == 0
    assert audit_actions("household.create") == []


def test_extraction_route_requires_a_round(staff):
    response = staff.post("/cases/new", data=household_form(discovery_route=EXTRACTION, extraction_round=""))
    assert response.status_code == 200
    assert field_errors(response, "extraction_round") == ["복지사각지대 발굴시스템으로 발굴한 가구는 추출회차가 필요합니다."]
    assert count(Household) == 0


@pytest.mark.parametrize("field, value", [
    ("head_birth", RRN), ("head_birth", "6803021234567"), ("note", f"주민번호 {RRN} 확인함"),
    ("address", f"중앙로 1 ({RRN})"), ("crisis_signals", f"단전; {RRN}"), ("phone", RRN), ("head_name", RRN)])
def test_resident_registration_number_is_refused_and_stored_nowhere(staff, field, value):
    response = staff.post("/cases/new", data=household_form(**{field: value}))
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and "주민등록번호" in errors[0], errors
    assert count(Household) == 0
    dump = database_dump()
    assert "1234567" not in dump and "680302" not in dump


def test_edit_updates_household_and_audit_says_only_that_personal_fields_changed(staff, coordinator, make_household):
    household = make_household("김민수", by=coordinator, birth_date=date(1968, 3, 2), address="중앙로 1")
    assert staff.get(f"/cases/{household.id}/edit").status_code == 200
    response = staff.post(f"/cases/{household.id}/edit", data=household_form(
        head_name="김민호", address="생연로 55", district="생연1동", household_size="4"))
    assert response.status_code == 302
    household = reload(household.id)
    assert (household.members[0].name, household.address, household.district, household.household_size) == (
        "김민호", "생연로 55", "생연1동", 4)
    assert household.case_number == "2021-0001"  # the discovery date did not change the number
    [updated] = audit_actions("household.update")
    assert "생연로 55" not in updated.details and "김민호" not in updated.details
    assert "생연1동" in updated.details


def test_crisis_signals_level_is_chosen_saved_and_shown_again(staff, coordinator, make_household):
    assert selected_option(staff.get("/cases/new"), "signals_level") == "shared"  # 참석기관 공유 unless chosen
    response = staff.post("/cases/new", data=household_form(crisis_signals="단전; 자살 시도 이력",
                                                             signals_level="sensitive"))
    assert response.status_code == 302
    household = db.session.execute(select(Household)).scalar_one()
    assert household.signals_level == "sensitive"
    edit_url = f"/cases/{household.id}/edit"
    assert selected_option(staff.get(edit_url), "signals_level") == "sensitive"
    summary = section(staff.get(f"/cases/{household.id}"), "summary", "members")
    assert re.search(r'자살 시도 이력</span> <span class="tag level-sensitive"[^>]*>민감정보</span>', summary)

    assert staff.post(edit_url, data=household_form(crisis_signals="단전; 자살 시도 이력",
                                                    signals_level="internal")).status_code == 302
    assert reload(household.id).signals_level == "internal"
    assert selected_option(staff.get(edit_url), "signals_level") == "internal"
    [updated] = audit_actions("household.update")
    assert '"signals_level": ["sensitive", "internal"]' in updated.details


def test_crisis_signals_without_a_level_are_shared_and_an_edit_without_one_keeps_it(staff, make_household):
    imported = make_household(crisis_signals="단전")  # as the importer registers a household: no level given
    assert reload(imported.id).signals_level == "shared"
    assert staff.post("/cases/new", data=household_form()).status_code == 302
    registered = db.session.execute(select(Household).order_by(Household.id.desc())).scalars().first()
    assert registered.signals_level == "shared"
    marked = make_household(crisis_signals="단전", signals_level="sensitive")
    assert staff.post(f"/cases/{marked.id}/edit", data=household_form(crisis_signals="단전; 단수")).status_code == 302
    assert (reload(marked.id).crisis_signals, reload(marked.id).signals_level) == ("단전;단수", "sensitive")


def test_an_unknown_signals_level_on_edit_is_refused_and_changes_nothing(staff, make_household):
    household = make_household(crisis_signals="단전", signals_level="sensitive")
    response = staff.post(f"/cases/{household.id}/edit", data=household_form(crisis_signals="단수",
                                                                             signals_level="everyone"))
    assert response.status_code == 200
    assert field_errors(response, "signals_level") == ["공개 범위는 참석기관 공유, 민감정보, 시 내부 중에서 고르세요."]
    household = reload(household.id)
    assert (household.crisis_signals, household.signals_level) == ("단전", "sensitive")
    assert audit_actions("household.update") == []
    with pytest.raises(RuleError):
        services.update_household(household, by=None, head=services.HeadOfHousehold("김가구", 1968),
                                  signals_level="everyone")


# --- the list --------------------------------------------------------------------------------------

def test_list_masks_names_and_hides_contact_details(staff, coordinator, make_household):
    make_household("김민수", phone="010-2345-6789", address="경기도 동두천시 중앙로 101")
    make_household("이영희", district="송내동")
    make_household("남궁", district="송내동")
    response = staff.get("/cases")
    assert response.status_code == 200
    page = text(response)
    assert "김○○" in page and "이○○" in page and "남○" in page
    for secret in ("김민수", "이영희", "남궁", "010-2345-6789", "중앙로 101"):
        assert secret not in page
    assert "3건" in page
    assert 'placeholder="None"' not in response.get_data(as_text=True)


@pytest.fixture
def four_cases(coordinator, make_user, make_household):
    """Four households that differ in every filtered column."""
    other = make_user("coord2", Role.COORDINATOR, display_name="박담당")
    h1 = make_household("김민수", district="중앙동", discovered_on=date(2021, 2, 3),
                        coordinator_id=coordinator.id)
    h2 = make_household("이영희", district="송내동", discovery_route=EXTRACTION, extraction_round="2021-1",
                        discovered_on=date(2021, 5, 10), coordinator_id=other.id)
    h3 = make_household("박철수", district="중앙동", discovery_route="기관 의뢰", discovered_on=date(2020, 11, 20))
    h4 = make_household("최지훈", district="보산동", discovery_route="본인 신청", discovered_on=date(2021, 3, 15))
    fresh = db.session.get(Household, h3.id)
    services.change_status(fresh, by=coordinator, to_status=Stage.COUNSELLING.value, reason="초기상담",
                           classification="고난도")
    db.session.commit()
    assert [h.case_number for h in (h1, h2, h3, h4)] == ["2021-0001", "2021-0002", "2020-0001", "2021-0003"]
    return {"coordinator": coordinator.id, "other": other.id}


@pytest.mark.parametrize("query, expected", [
    ("", ["2021-0003", "2021-0002", "2021-0001", "2020-0001"]),
    ("status=counselling", ["2020-0001"]),
    ("status=discovered", ["2021-0003", "2021-0002", "2021-0001"]),
    ("classification=고난도", ["2020-0001"]),
    ("route=기관 의뢰", ["2020-0001"]),
    (f"route={EXTRACTION}", ["2021-0002"]),
    ("district=중앙동", ["2021-0001", "2020-0001"]),
    ("coordinator={coordinator}", ["2021-0001"]),
    ("coordinator={other}", ["2021-0002"]),
    ("quarter=2021-1", ["2021-0003", "2021-0001"]),
    ("quarter=2020-4", ["2020-0001"]),
    ("quarter=2021-2", ["2021-0002"]),
    ("q=2021-0003", ["2021-0003"]),
    ("q=2021-3", ["2021-0003"]),
    ("q= 2021-0003 ", ["2021-0003"]),
    ("q=이영", ["2021-0002"]),
    ("q=김", ["2021-0001"]),
    ("q=민수", ["2021-0001"]),  # the given name, without the family name
    ("q=철", ["2020-0001"]),
    ("q=0002", ["2021-0002"]),  # part of a case number
    ("q=21-00", ["2021-0003", "2021-0002", "2021-0001"]),
    ("q=0001", ["2021-0001", "2020-0001"]),
    ("q=20-0001", ["2020-0001"]),
    ("q=2021-00", ["2021-0003", "2021-0002", "2021-0001"]),
    ("q=송내", ["2021-0002"]),  # the 행정동
    ("q=중앙동", ["2020-0001", "2021-0001"]),  # a 행정동 found by a name search: in case number order
    ("q=%", []),
    ("q=_", []),
    ("q=9999", []),
    ("district=중앙동&quarter=2021-1", ["2021-0001"]),
])
def test_filters_narrow_the_list(staff, four_cases, query, expected):
    response = staff.get("/cases?" + query.format(**four_cases))
    assert response.status_code == 200
    assert listed_case_numbers(response) == expected
    if not expected:
        assert "조건에 맞는 사례가 없습니다." in text(response)


def test_invalid_quarter_shows_a_korean_error_and_does_not_fail(staff, four_cases):
    response = staff.get("/cases?quarter=2021-9")
    assert response.status_code == 200
    assert "분기는 2021-1 처럼 '연도-분기(1~4)'로 입력하세요." in text(response)


@pytest.mark.parametrize("query", ["status=unknown", "coordinator=abc", "route=없는경로", "sort=id;drop",
                                   "direction=sideways", "quarter=abcd-1", "q=" + "가" * 80])
def test_junk_filters_never_fail(staff, four_cases, query):
    assert staff.get("/cases?" + query).status_code == 200


@pytest.mark.parametrize("query, expected", [
    ("sort=case&direction=desc", ["2021-0003", "2021-0002", "2021-0001", "2020-0001"]),
    ("sort=case&direction=asc", ["2020-0001", "2021-0001", "2021-0002", "2021-0003"]),
    ("sort=discovered&direction=asc", ["2020-0001", "2021-0001", "2021-0003", "2021-0002"]),
    ("sort=discovered&direction=desc", ["2021-0002", "2021-0003", "2021-0001", "2020-0001"]),
    ("sort=status&direction=asc", ["2020-0001", "2021-0001", "2021-0002", "2021-0003"]),
    ("sort=district&direction=asc", ["2021-0003", "2021-0002", "2020-0001", "2021-0001"]),
])
def test_sort_and_direction(staff, four_cases, query, expected):
    assert listed_case_numbers(staff.get("/cases?" + query)) == expected


def test_a_name_search_lists_by_name_unless_another_order_is_chosen(staff, make_household):
    for name in ("김하나", "김다라", "김가나", "이가나"):
        make_household(name)
    by_name = staff.get("/cases?q=김")
    assert listed_case_numbers(by_name) == ["2021-0003", "2021-0002", "2021-0001"]  # 김가나, 김다라, 김하나
    assert listed_case_numbers(staff.get("/cases?q=김&direction=desc")) == ["2021-0001", "2021-0002", "2021-0003"]
    assert listed_case_numbers(staff.get("/cases?q=김&sort=case")) == ["2021-0003", "2021-0002", "2021-0001"]
    assert listed_case_numbers(staff.get("/cases?q=김&sort=case&direction=asc")) == [
        "2021-0001", "2021-0002", "2021-0003"]
    assert listed_case_numbers(staff.get("/cases")) == ["2021-0004", "2021-0003", "2021-0002", "2021-0001"]


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads SQLite's query plan; PostgreSQL plans by its statistics")
def test_a_name_search_reads_one_index_range_for_each_place_the_text_may_start(staff, make_household):
    """No walk over every head's name and no sort of every match: each part of the search (the text at the 1st to
    8th character, in a longer name, in the 행정동) reads its own index in order; only their pages are merged."""
    make_household("김가나", district="김촌동")
    with counting_queries() as statements:
        staff.get("/cases?q=김")
    page_query = next(s for s in statements if "ORDER BY" in s and "LIMIT" in s)
    with db.engine.connect() as connection:
        plan = [row[1:] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + page_query.replace("?", "'김'", page_query.count("?") - 2), (50, 0))]
    details = " ".join(detail for _, _, detail in plan)
    for place in range(1, 9):
        assert f"USING INDEX ix_member_head_name_from_{place} (<expr>>? AND <expr><?)" in details, details
    assert "ix_member_head_long_name" in details and "ix_household_district_case" in details, details
    assert "SCAN household_member" not in details.replace("SCAN household_member USING INDEX ix_member_head_long_name",
                                                          ""), details
    assert [parent for parent, _, detail in plan if "TEMP B-TREE" in detail] == [0], details  # the merge only


#: Heads named so that 민수 is found at each place a name search reads, and one found through the 행정동.
SEARCHED = {"민수진": "중앙동", "민수민수": "중앙동", "김민수": "중앙동", "이민수민": "중앙동", "남궁민수": "중앙동",
            "제갈공민수": "중앙동", "응우옌티민수": "중앙동", "아나스타시아페트로바민수": "중앙동", "박철수": "민수동",
            "박영희": "중앙동"}
#: The list's order for 민수: names starting with it, then by the place it starts at (up to the 8th character), the
#: longer names, the 행정동.
SEARCH_ORDER = ["민수민수", "민수진", "김민수", "이민수민", "남궁민수", "제갈공민수", "응우옌티민수",
                "아나스타시아페트로바민수", "박철수"]


def test_a_name_search_finds_any_part_of_a_name_once_in_the_order_of_where_it_starts(app, staff, make_household):
    numbers = {name: make_household(name, district=district).case_number for name, district in SEARCHED.items()}
    listed = listed_case_numbers(staff.get("/cases?q=민수"))
    assert listed == [numbers[name] for name in SEARCH_ORDER]
    descending = listed_case_numbers(staff.get("/cases?q=민수&sort=name&direction=desc"))
    assert descending == listed[::-1]
    by_case = listed_case_numbers(staff.get("/cases?q=민수&sort=case"))
    assert sorted(by_case, reverse=True) == by_case and set(by_case) == set(listed)
    app.config["CASE_LIST_PAGE_SIZE"] = 3
    pages = [staff.get(f"/cases?q=민수&page={n}") for n in (1, 2, 3)]
    assert sum((listed_case_numbers(page) for page in pages), []) == listed  # pages run across the parts
    assert "9건" in text(pages[0]) and "1 / 3" in text(pages[0])


def test_a_name_search_ignores_case_and_counts_each_household_once(staff, make_household):
    numbers = {name: make_household(name).case_number for name in ("Kim Minsu", "MINSU Park", "Lee Sumin")}
    assert listed_case_numbers(staff.get("/cases?q=minsu")) == [numbers["MINSU Park"], numbers["Kim Minsu"]]
    assert listed_case_numbers(staff.get("/cases?q=KIM")) == [numbers["Kim Minsu"]]
    response = staff.get("/cases?q=m")  # every name, each once, though some hold "m" more than once
    assert sorted(listed_case_numbers(response)) == sorted(numbers.values()) and "3건" in text(response)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads SQLite's query plan; PostgreSQL plans by its statistics")
@pytest.mark.parametrize("sort", ["case", "name", "discovered", "status", "district"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_sort_of_the_case_list_reads_an_index_in_order(staff, make_household, sort, direction):
    """A page of 50 is read off an index in the order asked, never by sorting every household first."""
    make_household()
    with counting_queries() as statements:
        staff.get(f"/cases?sort={sort}&direction={direction}")
    page_query = next(s for s in statements if "ORDER BY" in s and "LIMIT" in s)
    with db.engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + page_query, (50, 0)))
    assert "TEMP B-TREE" not in plan, plan  # not even "FOR RIGHT PART OF ORDER BY": that sorts whole groups


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads SQLite's query plan; PostgreSQL plans by its statistics")
@pytest.mark.parametrize("sort", ["", "discovered"])
def test_a_list_filtered_by_stage_and_district_reads_one_index(staff, make_household, sort):
    """Stage and 행정동 together: the page comes off one index, in case order or sorted from the index alone."""
    make_household()
    user = db.session.execute(select(User).where(User.role == Role.COORDINATOR.value)).scalars().first()
    query = queries.case_list_query(user, queries.CaseFilters(status="selected", district="중앙동", sort=sort), upto=50)
    statement = query.limit(50).compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(row[3] for row in db.session.execute(db.text(f"EXPLAIN QUERY PLAN {statement}")))
    assert "COVERING INDEX ix_household_status_district_case" in plan, plan
    assert sort or "TEMP B-TREE" not in plan, plan


def test_pagination(app, staff, make_household):
    app.config["CASE_LIST_PAGE_SIZE"] = 5
    for day in range(1, 13):
        make_household(discovered_on=date(2021, 1, day))
    first = staff.get("/cases?district=중앙동")
    assert listed_case_numbers(first) == [f"2021-{n:04d}" for n in range(12, 7, -1)]
    assert "12건" in text(first) and "1 / 3" in text(first)
    next_link = re.search(r'<a href="([^"]+)">다음</a>', text(first))[1]
    assert "page=2" in next_link and "district=" in next_link  # filters survive paging
    assert listed_case_numbers(staff.get("/cases?page=2")) == [f"2021-{n:04d}" for n in range(7, 2, -1)]
    third = staff.get("/cases?page=3")
    assert listed_case_numbers(third) == ["2021-0002", "2021-0001"]
    assert "다음</a>" not in text(third) and "이전</a>" in text(third)


@pytest.mark.parametrize("page, expected_rows", [("abc", 5), ("-1", 5), ("0", 5), ("9999", 0), ("", 5),
                                                 ("1e9", 5), ("99999999999999999999", 0)])
def test_junk_page_numbers_never_fail(app, staff, make_household, page, expected_rows):
    app.config["CASE_LIST_PAGE_SIZE"] = 5
    for day in range(1, 8):
        make_household(discovered_on=date(2021, 1, day))
    response = staff.get(f"/cases?page={page}")
    assert response.status_code == 200
    assert len(listed_case_numbers(response)) == expected_rows


# --- number of queries -----------------------------------------------------------------------------

def statements_for(web, url) -> list[str]:
    """The statements of a view rendered in full (kept pages off: tests/test_pagecache.py counts those)."""
    current_app.config["PAGE_CACHE_SIZE"] = 0
    web.get(url)  # warm up: template compilation, first-use queries
    with counting_queries() as statements:
        assert web.get(url).status_code == 200
    return statements


def test_case_list_queries_do_not_grow_with_households(staff, coordinator, make_household):
    for _ in range(3):
        make_household(coordinator_id=coordinator.id)
    few = statements_for(staff, "/cases")
    for _ in range(27):
        make_household(coordinator_id=coordinator.id)
    many = statements_for(staff, "/cases")
    assert len(listed_case_numbers(staff.get("/cases"))) == 30
    assert len(many) == len(few), "\n".join(many)


def fill_case_file(household, by, agencies, times: int):
    """``times`` members, consents, assessments and status changes (counting those already there)."""
    fresh = db.session.get(Household, household.id)
    for n in range(times - 1):
        services.add_member(fresh, by=by, name=f"가구원{n}", relation="자녀", birth_year=2010, birth_date=None,
                            sex="여", has_disability=n % 2 == 0)
        services.change_status(fresh, by=by, to_status=fresh.status, reason=f"재분류 {n}",
                               classification="고난도" if n % 2 == 0 else "일반")
    for n in range(times):
        services.record_consent(fresh, by=by, consented_on=date(2021, 3, 1), agency_ids=[a.id for a in agencies],
                                covers_sensitive=n % 2 == 0)
        services.record_assessment(fresh, by=by, assessed_on=date(2021, 3, 1) + timedelta(days=n),
                                   ratings={"safety": (["위기", "취약", "적정"][n % 3], "메모"),
                                            "health": ("취약", "")})
    db.session.commit()


def test_case_file_queries_do_not_grow_with_its_contents(staff, coordinator, make_household, make_agency):
    agencies = [make_agency(), make_agency()]
    small = make_household(by=coordinator, coordinator_id=coordinator.id, referring_agency_id=agencies[0].id)
    large = make_household(by=coordinator, coordinator_id=coordinator.id, referring_agency_id=agencies[0].id)
    fill_case_file(small, coordinator, agencies, 1)
    fill_case_file(large, coordinator, agencies, 10)
    large_file = reload(large.id)
    assert (len(large_file.members), len(large_file.consents), len(large_file.assessments),
            len(large_file.status_changes)) == (10, 10, 10, 10)
    few = statements_for(staff, f"/cases/{small.id}")
    many = statements_for(staff, f"/cases/{large.id}")
    assert len(many) == len(few), "\n".join(many)


# --- the case file ---------------------------------------------------------------------------------

def test_case_file_shows_identity_members_consent_assessment_and_history(staff, coordinator, make_household,
                                                                         make_agency):
    year = today_local().year
    household = make_household("김민수", by=coordinator, birth_date=date(year - 50, 1, 1), sex="남",
                               has_disability=True, phone="010-2345-6789", address="경기도 동두천시 중앙로 101",
                               coordinator_id=coordinator.id)
    fresh = db.session.get(Household, household.id)
    services.add_member(fresh, by=coordinator, name="김하늘", relation="자녀", birth_year=year - 10,
                        birth_date=date(year - 10, 1, 1), sex="여", has_disability=False)
    services.add_member(fresh, by=coordinator, name="김순자", relation="모", birth_year=year - 70,
                        birth_date=None, sex="여", has_disability=False)
    mental_health = make_agency("정신건강복지센터")
    services.record_consent(fresh, by=coordinator, consented_on=date(2021, 3, 1), agency_ids=[mental_health.id],
                            covers_sensitive=True)
    services.record_assessment(fresh, by=coordinator, assessed_on=date(2021, 3, 2),
                               ratings={"safety": ("위기", "가정폭력 의심")})
    services.change_status(fresh, by=coordinator, to_status=Stage.COUNSELLING.value, reason="행정복지센터 방문 상담")
    db.session.commit()

    response = staff.get(f"/cases/{household.id}")
    assert response.status_code == 200
    page = text(response)
    assert "김민수" in page and "010-2345-6789" in page and "중앙로 101" in page

    members = section(response, "members", "consent")
    rows = {name: row for row in re.findall(r"<tr>(.*?)</tr>", members, re.DOTALL)
            for name in ("김민수", "김하늘", "김순자") if name in row}
    assert "본인" in rows["김민수"] and "50세" in rows["김민수"] and "장애" in rows["김민수"]
    assert "아동" not in rows["김민수"] and "노인" not in rows["김민수"]
    assert "10세" in rows["김하늘"] and "아동" in rows["김하늘"] and "장애" not in rows["김하늘"]
    assert "70세" in rows["김순자"] and "노인" in rows["김순자"] and "아동" not in rows["김순자"]
    assert "/delete" not in rows["김민수"] and "/delete" in rows["김하늘"]  # the head has no delete button

    consent = section(response, "consent", "assessment")
    assert "2021-03-01 동의" in consent and "민감정보 포함" in consent and "정신건강복지센터" in consent
    assert "유효한 정보제공 동의가 없습니다" not in consent

    assessment = section(response, "assessment", "status")
    assert re.search(r'<th scope="row">안전</th>\s*<td>—</td>\s*<td><strong>위기</strong></td>\s*'
                     r'<td class="change-new">신규</td>\s*'
                     r'<td>가정폭력 의심 <span class="tag level-shared"[^>]*>참석기관 공유</span></td>', assessment)

    history = section(response, "status")
    assert "발굴 → 초기상담" in history and "행정복지센터 방문 상담" in history and "Coord1" in history


def test_viewing_a_case_file_is_recorded(staff, coordinator, make_household):
    household = make_household()
    assert audit_actions("household.view") == []
    assert staff.get(f"/cases/{household.id}").status_code == 200
    [viewed] = audit_actions("household.view")
    assert (viewed.object_type, viewed.object_id, viewed.actor_id) == ("household", str(household.id),
                                                                       coordinator.id)
    assert '"identity": "full"' in viewed.details


def test_missing_case_is_404(staff):
    assert staff.get("/cases/999").status_code == 404


@pytest.mark.parametrize("birth, today, age, child, older", [
    (date(2003, 6, 1), date(2021, 5, 31), 17, True, False),
    (date(2003, 6, 1), date(2021, 6, 1), 18, False, False),
    (date(1956, 6, 1), date(2021, 5, 31), 64, False, False),
    (date(1956, 6, 1), date(2021, 6, 1), 65, False, True),
    (None, date(2021, 1, 1), 65, False, True),  # birth year 1956 only
])
def test_member_age_and_flags(birth, today, age, child, older):
    member = Member(name="김", birth_year=1956 if birth is None else birth.year, birth_date=birth)
    assert (member.age(today), member.is_child(today), member.is_older(today)) == (age, child, older)


# --- permissions -----------------------------------------------------------------------------------

PAGES = {
    "list": "/cases", "stats": "/cases/stats", "new": "/cases/new", "detail": "/cases/{id}",
    "edit": "/cases/{id}/edit", "status": "/cases/{id}/status", "members/new": "/cases/{id}/members/new",
    "consents/new": "/cases/{id}/consents/new", "assessments/new": "/cases/{id}/assessments/new",
    "members/edit": "/cases/{id}/members/{member}", "consents/withdraw": "/cases/{id}/consents/{consent}/withdraw",
}


@pytest.fixture
def case_with_parts(coordinator, make_household, make_agency):
    household = make_household("김민수", by=coordinator)
    fresh = db.session.get(Household, household.id)
    member = services.add_member(fresh, by=coordinator, name="김하늘", relation="자녀", birth_year=2012,
                                 birth_date=None, sex="", has_disability=False)
    consent = services.record_consent(fresh, by=coordinator, consented_on=date(2021, 3, 1),
                                      agency_ids=[make_agency().id], covers_sensitive=False)
    db.session.commit()
    return {"id": household.id, "member": member.id, "consent": consent.id}


@pytest.mark.parametrize("role", ["admin", "coordinator", "chair", "practitioner"])
@pytest.mark.parametrize("page", list(PAGES))
def test_who_may_open_case_pages(web, make_user, case_with_parts, role, page):
    make_user(f"{role}9", role)
    web.login(f"{role}9")
    response = web.get(PAGES[page].format(**case_with_parts))
    if role == "coordinator":
        expected = 200
    elif role == "admin" or "{id}" not in PAGES[page]:
        expected = 403  # the admin reads no case data, not even whether a case exists
    elif "{id}" in PAGES[page]:
        expected = 404  # a case the user may not see is not even confirmed to exist
    else:
        expected = 403
    assert response.status_code == expected
    assert "김민수" not in text(response) or expected == 200


@pytest.mark.parametrize("role", ["chair", "practitioner"])
def test_hidden_cases_look_exactly_like_missing_ones(web, make_user, case_with_parts, role):
    make_user("other9", role)
    web.login("other9")
    hid = case_with_parts["id"]
    existing, missing = web.get(f"/cases/{hid}"), web.get("/cases/999999")
    assert existing.status_code == missing.status_code == 404
    token = re.compile(r'name="csrf_token" value="[^"]*"')  # signed with the second it was made in
    assert token.sub("", text(existing).replace(f"/cases/{hid}", "/cases/999999")) == token.sub("", text(missing))
    assert audit_actions("household.view") == []


@pytest.mark.parametrize("role", ["chair", "practitioner"])
def test_others_cannot_change_a_case(web, make_user, make_agency, case_with_parts, role):
    make_user("other9", role)
    web.login("other9")
    hid = case_with_parts["id"]
    posts = [
        (f"/cases/{hid}/status", status_form("counselling")),
        (f"/cases/{hid}/edit", household_form(head_name="바뀐이름")),
        (f"/cases/{hid}/members/new", {"name": "박", "relation": "자녀", "birth": "2010", "sex": ""}),
        (f"/cases/{hid}/members/{case_with_parts['member']}/delete", {}),
        (f"/cases/{hid}/consents/new", {"consented_on": "2021-03-01", "agency_ids": [make_agency().id]}),
        (f"/cases/{hid}/consents/{case_with_parts['consent']}/withdraw", {"withdrawn_on": "2021-03-02"}),
        (f"/cases/{hid}/assessments/new", assessment_form(safety="위기")),
        ("/cases/new", household_form()),
    ]
    for url, data in posts:
        assert web.post(url, data=data).status_code in (403, 404), url
    household = reload(hid)
    assert household.status == "discovered" and household.members[0].name == "김민수"
    assert (len(household.members), len(household.consents), len(household.assessments)) == (2, 1, 0)
    assert household.consents[0].withdrawn_on is None
    assert count(Household) == 1


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_is_sent_to_login(web, case_with_parts, page):
    response = web.get(PAGES[page].format(**case_with_parts))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- stages ----------------------------------------------------------------------------------------

def test_allowed_transitions_are_recorded_with_who_and_why(staff, coordinator, make_household):
    household = make_household(by=coordinator)
    steps = [("counselling", {}), ("intake", {}), ("assessment", {}),
             ("selected", {"track": "case_management"}), ("closed", {"closure_reason": "목표 달성"}),
             ("aftercare", {})]
    for to_status, extra in steps:
        response = staff.post(f"/cases/{household.id}/status", data=status_form(to_status, f"{to_status} 사유", **extra))
        assert response.status_code == 302, field_errors(response, "to_status")
    changes = status_changes(household.id)
    assert [(c.from_status, c.to_status, c.reason, c.changed_by_id) for c in changes[1:]] == [
        ("discovered", "counselling", "counselling 사유", coordinator.id),
        ("counselling", "intake", "intake 사유", coordinator.id),
        ("intake", "assessment", "assessment 사유", coordinator.id),
        ("assessment", "selected", "selected 사유", coordinator.id),
        ("selected", "closed", "closed 사유", coordinator.id),
        ("closed", "aftercare", "aftercare 사유", coordinator.id)]
    assert changes[4].track == "case_management"
    household = reload(household.id)
    assert (household.status, household.track, household.closure_reason) == ("aftercare", "case_management",
                                                                              "목표 달성")
    assert len(audit_actions("household.status")) == 6


def test_status_form_offers_only_the_next_stages(staff, make_household):
    household = make_household()
    form = text(staff.get(f"/cases/{household.id}/status"))
    offered = re.findall(r'<option (?:selected )?value="(\w+)"', form.split('name="to_status"')[1].split("</select>")[0])
    assert offered == ["discovered", "counselling", "intake", "not_selected", "closed"]


def assert_unchanged(household_id, status="discovered", classification="", changes=1):
    household = reload(household_id)
    assert (household.status, household.classification) == (status, classification)
    assert len(status_changes(household_id)) == changes
    assert household.track == "" and household.closure_reason == ""


def test_illegal_jump_is_refused_in_korean(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status",
                          data=status_form("selected", track="case_management"))
    assert response.status_code == 200
    assert field_errors(response, "to_status") == ["발굴 단계에서 선정 단계로 바로 갈 수 없습니다."]
    assert_unchanged(household.id)


def test_unknown_stage_is_refused(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status", data=status_form("heaven"))
    assert response.status_code == 200
    assert field_errors(response, "to_status") == ["알 수 없는 단계입니다."]
    assert_unchanged(household.id)


def test_selection_needs_a_track(staff, coordinator, make_household):
    household = make_household()
    move(household, coordinator, Stage.INTAKE, Stage.ASSESSMENT)
    response = staff.post(f"/cases/{household.id}/status", data=status_form("selected", track=""))
    assert response.status_code == 200
    assert field_errors(response, "track") == ["선정할 때는 사례관리 또는 서비스연계를 고르세요."]
    assert_unchanged(household.id, status="assessment", changes=3)


@pytest.mark.parametrize("closure_reason, message", [("", "종결 사유를 고르세요."), ("이사", "올바르지 않은 선택")])
def test_closing_needs_a_configured_reason(staff, make_household, closure_reason, message):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status",
                          data=status_form("closed", closure_reason=closure_reason))
    assert response.status_code == 200
    errors = field_errors(response, "closure_reason")
    assert errors and message in errors[0]
    assert_unchanged(household.id)


def test_empty_reason_is_refused(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status", data=status_form("counselling", reason="  "))
    assert response.status_code == 200
    assert field_errors(response, "reason") == ["변경 사유를 입력하세요."]
    assert_unchanged(household.id)


def test_classification_alone_is_recorded(staff, coordinator, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status",
                          data=status_form("discovered", reason="가정폭력 의심", classification="고난도"))
    assert response.status_code == 302
    assert_unchanged(household.id, classification="고난도", changes=2)
    change = status_changes(household.id)[-1]
    assert (change.from_status, change.to_status, change.classification, change.reason, change.changed_by_id) == (
        "discovered", "discovered", "고난도", "가정폭력 의심", coordinator.id)
    # the form now starts from the new classification, so moving on keeps it
    form = text(staff.get(f"/cases/{household.id}/status"))
    assert '<option selected value="고난도">' in form


def test_selected_household_is_reclassified_without_choosing_the_track_again(staff, coordinator, make_household):
    household = make_household()
    move(household, coordinator, Stage.INTAKE, Stage.ASSESSMENT, Stage.SELECTED, track="service_link")
    form = text(staff.get(f"/cases/{household.id}/status"))
    assert '<option selected value="service_link">' in form  # the form starts from the current track
    response = staff.post(f"/cases/{household.id}/status",
                          data=status_form("selected", reason="솔루션회의 결과", classification="고난도"))
    assert response.status_code == 302, field_errors(response, "track")
    household = reload(household.id)
    assert (household.status, household.track, household.classification) == ("selected", "service_link", "고난도")
    change = status_changes(household.id)[-1]
    assert (change.from_status, change.to_status, change.track) == ("selected", "selected", "service_link")
    # changing only the track is a change too
    assert staff.post(f"/cases/{household.id}/status", data=status_form(
        "selected", track="case_management", classification="고난도")).status_code == 302
    assert reload(household.id).track == "case_management"


def test_nothing_changed_is_refused(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status", data=status_form("discovered"))
    assert response.status_code == 200
    assert field_errors(response, "to_status") == ["바뀐 내용이 없습니다."]
    assert_unchanged(household.id)


def test_unconfigured_classification_is_refused(staff, coordinator, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/status",
                          data=status_form("discovered", classification="긴급"))
    assert response.status_code == 200
    errors = field_errors(response, "classification")
    assert errors and has_hangul(errors[0])
    assert_unchanged(household.id)
    with pytest.raises(RuleError) as raised:
        services.change_status(db.session.get(Household, household.id), by=coordinator, to_status="discovered",
                               reason="사유", classification="긴급")
    assert raised.value.field == "classification"
    db.session.rollback()
    assert_unchanged(household.id)


def test_configured_classifications_are_read_from_config(app, staff, make_household):
    app.config["CLASSIFICATIONS"] = ["일반", "고난도", "집중", "솔루션"]
    household = make_household()
    assert staff.post(f"/cases/{household.id}/status",
                      data=status_form("discovered", classification="솔루션")).status_code == 302
    assert reload(household.id).classification == "솔루션"


@pytest.mark.parametrize("url, data, field", [
    ("/cases/{id}/status", status_form("counselling", reason=f"주민번호 {RRN}"), "reason"),
    ("/cases/{id}/consents/new", {"consented_on": "2021-03-01", "agency_ids": "AGENCY", "note": RRN}, "note"),
    ("/cases/{id}/assessments/new", assessment_form(safety=("위기", RRN)), "notes_safety"),
    ("/cases/{id}/assessments/new", assessment_form(safety="위기", summary=RRN), "summary"),
    ("/cases/{id}/members/new", {"name": "김하늘", "relation": RRN, "birth": "2012", "sex": ""}, "relation"),
    ("/cases/{id}/members/new", {"name": RRN, "relation": "자녀", "birth": "2012", "sex": ""}, "name"),
    ("/cases/{id}/edit", household_form(note=RRN), "note"),
])
def test_no_free_text_field_stores_a_resident_registration_number(staff, make_household, make_agency, url, data,
                                                                   field):
    household = make_household()
    if data.get("agency_ids") == "AGENCY":
        data = {**data, "agency_ids": make_agency().id}
    response = staff.post(url.format(id=household.id), data=data)
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and "주민등록번호" in errors[0], errors
    assert "1234567" not in database_dump()


# --- consent ---------------------------------------------------------------------------------------

@pytest.fixture
def agencies(make_agency):
    return [make_agency("드림스타트"), make_agency("정신건강복지센터"), make_agency("천사운동본부", is_public=False)]


def test_consent_records_agencies_and_sensitive_flag(staff, coordinator, make_household, agencies):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/consents/new", data={
        "consented_on": "2021-03-01", "agency_ids": [agencies[0].id, agencies[1].id], "covers_sensitive": "y",
        "note": "서면 동의"})
    assert response.status_code == 302
    consent = reload(household.id).consents[0]
    assert {a.name for a in consent.agencies} == {"드림스타트", "정신건강복지센터"}
    assert (consent.consented_on, consent.covers_sensitive, consent.note, consent.recorded_by_id) == (
        date(2021, 3, 1), True, "서면 동의", coordinator.id)
    assert len(audit_actions("consent.record")) == 1
    page = section(staff.get(f"/cases/{household.id}"), "consent", "assessment")
    assert "민감정보 포함" in page and "드림스타트" in page and "천사운동본부" not in page


def test_consent_without_sensitive_flag(staff, make_household, agencies):
    household = make_household()
    staff.post(f"/cases/{household.id}/consents/new",
               data={"consented_on": "2021-03-01", "agency_ids": [agencies[2].id]})
    assert reload(household.id).consents[0].covers_sensitive is False


@pytest.mark.parametrize("data, field, message", [
    ({"consented_on": "2021-03-01"}, "agency_ids", "기관을 하나 이상"),
    ({"consented_on": TOMORROW, "agency_ids": "AGENCY"}, "consented_on", "오늘 이후"),
    ({"consented_on": "", "agency_ids": "AGENCY"}, "consented_on", "YYYY-MM-DD"),
    ({"consented_on": "2021-03-01", "agency_ids": "99999"}, "agency_ids", "선택"),
])
def test_bad_consent_is_refused(staff, make_household, agencies, data, field, message):
    household = make_household()
    data = on_the_day(data)
    if data.get("agency_ids") == "AGENCY":
        data = {**data, "agency_ids": agencies[0].id}
    response = staff.post(f"/cases/{household.id}/consents/new", data=data)
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and message in errors[0], errors
    assert count(Consent) == 0


def test_forms_and_rules_use_the_city_day_after_midnight(after_midnight_in_seoul, staff, make_household, agencies):
    assert datetime.now(UTC).date() == date(2026, 11, 24) and today_local() == date(2026, 11, 25)
    page = text(staff.get("/cases/new"))
    assert re.search(r'name="discovered_on"[^>]*value="2026-11-25"', page), "the new case form offers the city's day"
    household = make_household()
    refused = staff.post(f"/cases/{household.id}/consents/new",
                         data={"consented_on": "2026-11-26", "agency_ids": [agencies[0].id]})
    assert "오늘 이후" in field_errors(refused, "consented_on")[0]
    accepted = staff.post(f"/cases/{household.id}/consents/new",
                          data={"consented_on": "2026-11-25", "agency_ids": [agencies[0].id]})
    assert accepted.status_code == 302, "a consent signed today in Seoul is not in the future"
    assert reload(household.id).consents[0].consented_on == date(2026, 11, 25)


def test_withdrawal_leaves_no_valid_consent(staff, make_household, agencies):
    household = make_household()
    staff.post(f"/cases/{household.id}/consents/new",
               data={"consented_on": "2021-03-01", "agency_ids": [agencies[0].id]})
    consent_id = reload(household.id).consents[0].id
    url = f"/cases/{household.id}/consents/{consent_id}/withdraw"
    assert staff.get(url).status_code == 200
    assert staff.post(url, data={"withdrawn_on": "2021-06-30"}).status_code == 302
    assert db.session.get(Consent, consent_id).withdrawn_on == date(2021, 6, 30)
    assert len(audit_actions("consent.withdraw")) == 1
    page = section(staff.get(f"/cases/{household.id}"), "consent", "assessment")
    assert "유효한 정보제공 동의가 없습니다" in page and "2021-06-30" in page

    again = staff.post(url, data={"withdrawn_on": "2021-07-01"})
    assert again.status_code == 200
    assert field_errors(again, "withdrawn_on") == ["이미 철회된 동의입니다."]
    assert db.session.get(Consent, consent_id).withdrawn_on == date(2021, 6, 30)


def test_withdrawing_the_newest_consent_does_not_revive_an_older_one(staff, make_household, agencies):
    household = make_household()
    for agency in agencies[:2]:
        staff.post(f"/cases/{household.id}/consents/new",
                   data={"consented_on": "2021-03-01", "agency_ids": [agency.id]})
    newest = reload(household.id).consents[0]
    assert services.current_consent(reload(household.id)).id == newest.id
    staff.post(f"/cases/{household.id}/consents/{newest.id}/withdraw", data={"withdrawn_on": "2021-04-01"})
    assert services.current_consent(reload(household.id)) is None
    page = section(staff.get(f"/cases/{household.id}"), "consent", "assessment")
    assert "유효한 정보제공 동의가 없습니다" in page


@pytest.mark.parametrize("withdrawn_on, message", [
    ("2021-02-28", "철회일은 동의일과 오늘 사이여야 합니다."), (TOMORROW, "오늘 이후")])
def test_withdrawal_date_must_be_between_consent_and_today(staff, make_household, agencies, withdrawn_on, message):
    household = make_household()
    staff.post(f"/cases/{household.id}/consents/new",
               data={"consented_on": "2021-03-01", "agency_ids": [agencies[0].id]})
    consent_id = reload(household.id).consents[0].id
    response = staff.post(f"/cases/{household.id}/consents/{consent_id}/withdraw",
                          data={"withdrawn_on": on_the_day(withdrawn_on)})
    assert response.status_code == 200
    errors = field_errors(response, "withdrawn_on")
    assert errors and message in errors[0]
    assert db.session.get(Consent, consent_id).withdrawn_on is None


def test_consent_of_another_household_is_404(staff, make_household, agencies):
    first, second = make_household(), make_household()
    staff.post(f"/cases/{first.id}/consents/new", data={"consented_on": "2021-03-01", "agency_ids": [agencies[0].id]})
    consent_id = reload(first.id).consents[0].id
    assert staff.post(f"/cases/{second.id}/consents/{consent_id}/withdraw",
                      data={"withdrawn_on": "2021-03-02"}).status_code == 404
    assert db.session.get(Consent, consent_id).withdrawn_on is None


# --- needs assessment ------------------------------------------------------------------------------

def test_assessment_is_recorded(staff, coordinator, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/assessments/new", data=assessment_form(
        summary="정신건강 위기", safety=("위기", "자해 위험"), health="취약", other=("", "메모만")))
    assert response.status_code == 302
    [assessment] = reload(household.id).assessments
    assert (assessment.assessed_on, assessment.summary, assessment.assessed_by_id) == (
        date(2021, 3, 1), "정신건강 위기", coordinator.id)
    assert {(r.domain, r.rating, r.notes) for r in assessment.ratings} == {
        ("safety", "위기", "자해 위험"), ("health", "취약", ""), ("other", "", "메모만")}
    assert len(audit_actions("assessment.record")) == 1


def test_assessment_with_no_rating_is_refused(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/assessments/new",
                          data=assessment_form(safety=("", "메모만 있음")))
    assert response.status_code == 200
    assert "적어도 한 영역의 위기도를 평가하세요." in form_errors(response)
    assert "메모만 있음" in text(response)  # what was typed is kept
    assert count(Assessment) == count(DomainRating) == 0


def test_off_scale_rating_is_refused_with_a_visible_message(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/assessments/new",
                          data=assessment_form(safety="심각", health="취약"))
    assert response.status_code == 200
    errors = field_errors(response, "rating_safety")
    assert errors and has_hangul(errors[0]), text(response)
    assert count(Assessment) == 0
    with pytest.raises(RuleError):
        services.record_assessment(db.session.get(Household, household.id), by=None, assessed_on=date(2021, 3, 1),
                                   ratings={"safety": ("심각", "")})


def test_future_assessment_date_is_refused(staff, make_household):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/assessments/new",
                          data=assessment_form(assessed_on=TOMORROW.written(), safety="위기"))
    assert response.status_code == 200
    assert field_errors(response, "assessed_on")
    assert count(Assessment) == 0


def test_reassessment_keeps_history_and_shows_the_change(staff, make_household):
    household = make_household()
    url = f"/cases/{household.id}/assessments/new"
    staff.post(url, data=assessment_form("2021-03-01", safety="위기", health="취약", economy="취약"))
    form = text(staff.get(url))  # the reassessment starts from the previous ratings
    assert "재사정" in form and re.search(r'<option selected value="위기">위기</option>',
                                         form.split('name="rating_safety"')[1].split("</select>")[0])
    staff.post(url, data=assessment_form("2021-06-01", safety="적정", health="위기", economy="취약",
                                         family="취약"))
    assert count(Assessment) == 2
    page = section(staff.get(f"/cases/{household.id}"), "assessment", "status")

    def row(label):
        return re.search(rf'<th scope="row">{label}</th>(.*?)</tr>', page, re.DOTALL)[1]

    assert "취약" in row("건강") and "악화" in row("건강") and 'class="change-worse"' in row("건강")
    assert "호전" in row("안전") and 'class="change-better"' in row("안전")
    assert "변화 없음" in row("경제")
    assert "신규" in row("가족관계")
    assert "이전 조사(2021-03-01)와 비교" in page and "조사 이력 (2회)" in page


def test_assessment_levels_default_to_sensitive_for_health_only(staff, coordinator, make_household):
    household = make_household()
    url = f"/cases/{household.id}/assessments/new"
    form = staff.get(url)
    assert selected_option(form, "notes_level_health") == "sensitive"
    assert {selected_option(form, f"notes_level_{d.value}") for d in NeedDomain if d != NeedDomain.HEALTH} == {
        "shared"}
    assert selected_option(form, "summary_level") == "shared"
    # Posted without levels (or recorded by the service without them), the defaults are kept.
    staff.post(url, data=assessment_form(summary="소견", health=("취약", "우울 치료 중단"), economy=("위기", "체납")))
    [assessment] = reload(household.id).assessments
    assert {r.domain: r.notes_level for r in assessment.ratings} == {"health": "sensitive", "economy": "shared"}
    assert assessment.summary_level == "shared"
    again = services.record_assessment(db.session.get(Household, household.id), by=coordinator,
                                       assessed_on=date(2021, 3, 2), ratings={"health": ("위기", "메모")})
    assert [r.notes_level for r in again.ratings] == ["sensitive"]


def test_assessment_levels_are_saved_shown_on_the_case_file_and_carried_into_the_reassessment(staff, make_household):
    household = make_household()
    url = f"/cases/{household.id}/assessments/new"
    response = staff.post(url, data={**assessment_form(
        summary="알코올 의존 의심, 가정폭력 정황", health=("취약", "투약 중단"), economy=("위기", "체납 6개월"),
        safety=("위기", "")), "notes_level_health": "shared", "notes_level_economy": "internal",
        "summary_level": "sensitive"})
    assert response.status_code == 302
    [assessment] = reload(household.id).assessments
    assert {r.domain: r.notes_level for r in assessment.ratings} == {
        "health": "shared", "economy": "internal", "safety": "shared"}
    assert assessment.summary_level == "sensitive"
    [recorded] = audit_actions("assessment.record")
    assert '"economy": "internal"' in recorded.details and '"summary": "sensitive"' in recorded.details

    page = section(staff.get(f"/cases/{household.id}"), "assessment", "status")
    assert re.search(r'투약 중단 <span class="tag level-shared"[^>]*>참석기관 공유</span>', page)
    assert re.search(r'체납 6개월 <span class="tag level-internal"[^>]*>시 내부</span>', page)
    assert re.search(r'가정폭력 정황 <span class="tag level-sensitive"[^>]*>민감정보</span>', page)
    assert "level-" not in re.search(r'<th scope="row">안전</th>(.*?)</tr>', page, re.DOTALL)[1]  # no notes, no tag

    form = staff.get(url)  # the reassessment starts from the previous notes and their levels
    assert selected_option(form, "notes_level_health") == "shared"
    assert selected_option(form, "notes_level_economy") == "internal"
    assert selected_option(form, "notes_level_family") == "shared"


@pytest.mark.parametrize("field", ["notes_level_health", "summary_level"])
def test_an_unknown_assessment_level_is_refused_and_records_nothing(staff, make_household, field):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/assessments/new", data={
        **assessment_form(summary="소견", health=("취약", "투약 중단")), field: "public"})
    assert response.status_code == 200
    assert field_errors(response, field) == ["공개 범위는 참석기관 공유, 민감정보, 시 내부 중에서 고르세요."]
    assert "투약 중단" in text(response)
    assert count(Assessment) == count(DomainRating) == 0
    with pytest.raises(RuleError) as refused:
        services.record_assessment(db.session.get(Household, household.id), by=None, assessed_on=date(2021, 3, 1),
                                   ratings={"health": ("취약", "")}, notes_levels={"health": "public"})
    assert refused.value.field == "notes_level_health"


def make_assessment(**ratings) -> Assessment:
    return Assessment(assessed_on=date(2021, 3, 1),
                      ratings=[DomainRating(domain=d, rating=r, notes="") for d, r in ratings.items()])


def test_compare_assessments(app):
    before = make_assessment(safety="위기", health="취약", economy="취약", family="적정", legal="위기")
    after = make_assessment(safety="적정", health="위기", economy="취약", social="취약", legal="")
    rows = {row.domain.value: row for row in services.compare_assessments(after, before)}
    assert [row.domain for row in services.compare_assessments(after, before)] == list(NeedDomain)
    assert (rows["safety"].before, rows["safety"].after, rows["safety"].direction) == ("위기", "적정", "better")
    assert (rows["health"].before, rows["health"].after, rows["health"].direction) == ("취약", "위기", "worse")
    assert rows["economy"].direction == "same"
    assert rows["social"].direction == "new"
    assert rows["education"].direction == ""
    assert rows["family"].after == "" and rows["family"].direction == ""  # no longer rated
    first = {row.domain.value: row.direction for row in services.compare_assessments(before, None)}
    assert first["safety"] == first["family"] == "new" and first["education"] == ""


def test_compare_assessments_follows_the_configured_scale(app):
    app.config["ASSESSMENT_SCALE"] = ["긴급", "위기", "취약", "적정"]
    rows = {row.domain.value: row.direction for row in services.compare_assessments(
        make_assessment(safety="긴급", health="취약"), make_assessment(safety="위기", health="긴급"))}
    assert (rows["safety"], rows["health"]) == ("worse", "better")


# --- members ---------------------------------------------------------------------------------------

def member_form(**overrides):
    return {"name": "김하늘", "relation": "자녀", "birth": "2012-05-05", "sex": "여", **overrides}


def test_add_edit_and_delete_a_member(staff, make_household):
    household = make_household("김민수")
    assert staff.get(f"/cases/{household.id}/members/new").status_code == 200
    assert staff.post(f"/cases/{household.id}/members/new", data=member_form()).status_code == 302
    child = db.session.execute(select(Member).where(Member.is_head.is_(False))).scalar_one()
    assert (child.name, child.relation, child.birth_date, child.sex, child.has_disability) == (
        "김하늘", "자녀", date(2012, 5, 5), "여", False)

    child_id = child.id
    url = f"/cases/{household.id}/members/{child_id}"
    assert 'value="김하늘"' in text(staff.get(url))
    assert staff.post(url, data=member_form(birth="2011", has_disability="y")).status_code == 302
    child = db.session.get(Member, child_id)
    assert (child.birth_year, child.birth_date, child.has_disability) == (2011, None, True)

    assert staff.post(f"{url}/delete").status_code == 302
    db.session.expunge_all()
    assert db.session.get(Member, child_id) is None
    assert [e.action for e in db.session.execute(select(AuditEvent).where(AuditEvent.action.like("member.%"))
                                                  .order_by(AuditEvent.id)).scalars()] == [
        "member.create", "member.update", "member.delete"]
    assert all("김하늘" not in e.details  # names never go to the audit trail
                for e in db.session.execute(select(AuditEvent)).scalars())


def test_head_cannot_be_deleted(staff, make_household):
    household = make_household("김민수")
    head = db.session.execute(select(Member)).scalar_one()
    response = staff.post(f"/cases/{household.id}/members/{head.id}/delete", follow_redirects=True)
    assert response.status_code == 200
    assert "세대주(본인)는 삭제할 수 없습니다." in [message for _, message in flashes(response)]
    assert db.session.get(Member, head.id) is not None


@pytest.mark.parametrize("data, field", [
    (member_form(name=""), "name"), (member_form(birth="2012-02-30"), "birth"),
    (member_form(birth=RRN), "birth"), (member_form(relation=""), "relation"),
    (member_form(birth=TOMORROW), "birth")])
def test_bad_member_is_refused(staff, make_household, data, field):
    household = make_household()
    response = staff.post(f"/cases/{household.id}/members/new", data=on_the_day(data))
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors and has_hangul(errors[0])
    assert count(Member) == 1


def test_member_of_another_household_is_404(staff, coordinator, make_household):
    first, second = make_household(), make_household()
    services.add_member(db.session.get(Household, first.id), by=coordinator, name="김하늘", relation="자녀",
                        birth_year=2012, birth_date=None, sex="", has_disability=False)
    db.session.commit()
    child = db.session.execute(select(Member).where(Member.is_head.is_(False))).scalar_one()
    assert staff.get(f"/cases/{second.id}/members/{child.id}").status_code == 404
    assert staff.post(f"/cases/{second.id}/members/{child.id}", data=member_form(name="바꿈")).status_code == 404
    assert staff.post(f"/cases/{second.id}/members/{child.id}/delete").status_code == 404
    child = db.session.get(Member, child.id)
    assert child is not None and child.name == "김하늘"


# --- quarterly counts ------------------------------------------------------------------------------

def select_at(household, by, when: datetime):
    """Select a household and date the selection ``when``."""
    fresh = move(household, by, Stage.INTAKE, Stage.ASSESSMENT, Stage.SELECTED)
    db.session.execute(update(StatusChange).where(StatusChange.household_id == fresh.id,
                                                  StatusChange.to_status == Stage.SELECTED.value)
                       .values(changed_at=when))
    db.session.commit()
    return fresh


def stats_rows(response) -> dict[str, list[int]]:
    page = text(response)
    rows = {route: [int(n) for n in re.findall(r"<td>(?:<strong>)?(\d+)", cells)]
            for route, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', page, re.DOTALL)}
    rows["합계"] = [int(n) for n in re.findall(r"<td>(?:<strong>)?(\d+)",
                                              re.search(r"<tfoot>(.*?)</tfoot>", page, re.DOTALL)[1])]
    return rows


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_quarterly_counts(staff, coordinator, make_household):
    a = make_household(discovered_on=date(2021, 1, 10))
    make_household(discovered_on=date(2021, 3, 31))
    c = make_household(discovery_route="기관 의뢰", discovered_on=date(2021, 2, 1))
    d = make_household(discovery_route=EXTRACTION, extraction_round="2021-2", discovered_on=date(2021, 4, 1))
    e = make_household(discovery_route="본인 신청", discovered_on=date(2020, 12, 31))
    make_household(discovery_route="찾아가는 복지상담", discovered_on=date(2021, 12, 31))
    select_at(a, coordinator, utc(2021, 2, 15, 3))
    select_at(d, coordinator, utc(2021, 6, 30, 12))
    select_at(e, coordinator, utc(2021, 1, 5, 3))
    select_at(c, coordinator, utc(2020, 12, 20, 3))
    # re-classifying a selected household is not a second selection
    services.change_status(db.session.get(Household, a.id), by=coordinator, to_status="selected", reason="재분류",
                           classification="고난도")
    db.session.commit()

    response = staff.get("/cases/stats?year=2021")
    assert response.status_code == 200
    rows = stats_rows(response)
    #                                d1 s1 d2 s2 d3 s3 d4 s4 total-d total-s
    assert rows["이웃·주민 제보"] == [2, 1, 0, 0, 0, 0, 0, 0, 2, 1]
    assert rows["기관 의뢰"] == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert rows[EXTRACTION] == [0, 0, 1, 1, 0, 0, 0, 0, 1, 1]
    assert rows["본인 신청"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert rows["찾아가는 복지상담"] == [0, 0, 0, 0, 0, 0, 1, 0, 1, 0]
    assert rows["합계"] == [3, 2, 1, 1, 0, 0, 1, 0, 5, 3]

    previous = stats_rows(staff.get("/cases/stats?year=2020"))
    assert previous["본인 신청"] == [0, 0, 0, 0, 0, 0, 1, 0, 1, 0]
    assert previous["기관 의뢰"] == [0, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    assert previous["합계"] == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


def test_selections_fall_into_quarters_of_korean_time(staff, coordinator, make_household):
    spring = make_household(discovered_on=date(2021, 3, 2))
    new_year = make_household(discovered_on=date(2021, 3, 3))
    select_at(spring, coordinator, utc(2021, 3, 31, 23, 30))  # 2021-04-01 08:30 in Korea: Q2
    select_at(new_year, coordinator, utc(2020, 12, 31, 16))  # 2021-01-01 01:00 in Korea: Q1 of 2021
    rows = stats_rows(staff.get("/cases/stats?year=2021"))
    assert rows["이웃·주민 제보"] == [2, 1, 0, 1, 0, 0, 0, 0, 2, 2]
    assert stats_rows(staff.get("/cases/stats?year=2020"))["합계"] == [0] * 10


@pytest.mark.parametrize("year", ["abc", "1800", "99999", ""])
def test_stats_with_a_junk_year_shows_this_year(staff, year):
    response = staff.get(f"/cases/stats?year={year}")
    assert response.status_code == 200
    assert f"{today_local().year}년 분기별 발굴·선정 가구" in text(response)


# --- masking ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, masked", [
    ("김민수", "김○○"), ("남궁민수", "남○○○"), ("이영", "이○"), ("김", "김○"), ("", ""), ("  ", ""),
    (None, ""), (" 김민수 ", "김○○")])
def test_mask_name(name, masked):
    assert masking.mask_name(name) == masked


@pytest.mark.parametrize("phone, masked", [
    ("010-2345-6789", "010-****-6789"), ("01023456789", "010-****-6789"), ("031-123-4567", "031-****-4567"),
    ("", ""), (None, ""), ("1234", "****")])
def test_mask_phone(phone, masked):
    assert masking.mask_phone(phone) == masked
    if phone and len(phone) > 4:
        assert "2345" not in masking.mask_phone(phone)


def test_mask_address_shows_only_the_district():
    assert masking.mask_address("경기도 동두천시 중앙로 101", "중앙동") == "중앙동"
