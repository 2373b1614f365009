"""Demo data from the 동두천시 setting of the news reports. Idempotent: adds only what is missing.

Every person here is fictional. Texts carry the disclosure level their writers would choose (``level_for``): the
mental-health centre's words, the health domain and anything about mental health, alcohol or violence are 민감정보.
The consents show each case an agency can be in: 김민수's household names every agency but 천사운동본부 and covers
sensitive data (the charity reads it through a recorded override, without sensitive data), 이영희's names every
agency without sensitive data, 박철호's names every agency with it, and 한미숙 withdrew hers.

The story is dated from the day it is seeded (``today_local``): the 2021 meeting of the news report is history, its
actions done that spring; around today a meeting five weeks ago is approved and its actions followed up (most done or
on time, two late by days and weeks), last week's minutes wait for review and 결재, and next week's meeting is being
prepared. Everything is made through the features' services, on the days it happened where a service takes a day.
"""
from datetime import date, datetime, time, timedelta, UTC
from typing import NamedTuple

from conference import audit
from conference.admin import services as account_services
from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.inputs import services as input_services
from conference.meetings import services as meeting_services
from conference.models import (ActionItem, AgendaItem, Agency, Disclosure, Household, Invitation, Meeting, MeetingKind,
                               MeetingStatus, NeedDomain, Notification, Role, Sector, Stage, Track, User)
from conference.shared import disclosure

DEFAULT_PASSWORD = "conference-demo"  # nosec B105  # the documented demo password, used only when seeding demo data

#: name, public?, sector
AGENCIES = [
    ("동두천시 복지정책과", True, Sector.WELFARE_DIVISION),
    ("무한돌봄센터", True, Sector.CASE_MANAGEMENT_CENTRE),
    ("중앙동 행정복지센터", True, Sector.COMMUNITY_CENTRE),
    ("정신건강복지센터", True, Sector.MENTAL_HEALTH),
    ("드림스타트", True, Sector.DREAM_START),
    ("천사운동본부", False, Sector.PRIVATE),
]

#: username, name, position, agency, role
USERS = [
    ("admin", "정보관", "주무관", "동두천시 복지정책과", Role.ADMIN),
    ("coordinator", "한사례", "통합사례관리사", "무한돌봄센터", Role.COORDINATOR),
    ("chair", "윤팀장", "희망복지팀장", "동두천시 복지정책과", Role.CHAIR),
    ("mh", "서마음", "정신건강전문요원", "정신건강복지센터", Role.PRACTITIONER),
    ("dream", "조아동", "아동통합사례관리사", "드림스타트", Role.PRACTITIONER),
    ("dong", "문복지", "맞춤형복지팀 주무관", "중앙동 행정복지센터", Role.PRACTITIONER),
    ("angel", "나눔이", "사무국장", "천사운동본부", Role.PRACTITIONER),
]


def seed(password: str) -> int:
    """Create the demo agencies and accounts that do not exist yet; return how many were added."""
    added = 0
    agencies = {a.name: a for a in db.session.execute(db.select(Agency)).scalars()}
    for name, is_public, sector in AGENCIES:
        if name not in agencies:
            agencies[name] = Agency(name=name, is_public=is_public, sector=sector.value)
            db.session.add(agencies[name])
            added += 1
    db.session.flush()
    existing = set(db.session.execute(db.select(User.username)).scalars())
    for username, display_name, position, agency_name, role in USERS:
        if username in existing:
            continue
        account_services.create_user(by=None, username=username, display_name=display_name,
                                     position=position, agency_id=agencies[agency_name].id,
                                     role=role.value, password=password, must_change_password=False)
        added += 1
    db.session.flush()
    coordinator = db.session.execute(db.select(User).where(User.username == "coordinator")).scalar_one()
    added += seed_households(coordinator, agencies)
    chair = db.session.execute(db.select(User).where(User.username == "chair")).scalar_one()
    added += seed_meetings(coordinator, chair, agencies)
    return added


#: head name, birth, sex, district, route, discovered, signals, size, members, final stage, classification
HOUSEHOLDS = [
    ("김민수", "1968-03-02", "남", "중앙동", "복지사각지대 발굴시스템", date(2021, 1, 12), "단전;건강보험료 체납", 3,
     [("이순자", "배우자", "1970", "여"), ("김하늘", "자녀", "2012-05-09", "여")], Stage.SELECTED, "고난도"),
    ("이영희", "1975-11-20", "여", "생연1동", "복지사각지대 발굴시스템", date(2021, 1, 15), "단수;통신비 체납", 4,
     [("박준호", "자녀", "2010-02-11", "남"), ("박서연", "자녀", "2013-08-30", "여")], Stage.SELECTED, "일반"),
    ("박철호", "1952-07-14", "남", "보산동", "복지사각지대 발굴시스템", date(2021, 2, 3), "공동주택 관리비 체납", 1,
     [], Stage.SELECTED, "일반"),
    ("최은정", "1983-01-05", "여", "불현동", "찾아가는 복지상담", date(2021, 2, 17), "금융 연체;실직", 2,
     [("최유나", "자녀", "2015-04-22", "여")], Stage.ASSESSMENT, ""),
    ("정대현", "1961", "남", "소요동", "이웃·주민 제보", date(2021, 3, 2), "고독사 위험;단전", 1,
     [], Stage.INTAKE, ""),
    ("한미숙", "1958-09-13", "여", "상패동", "기관 의뢰", date(2021, 3, 9), "건강보험료 체납", 2,
     [("한동수", "자녀", "1986", "남")], Stage.NOT_SELECTED, ""),
    ("오세훈", "1979-06-30", "남", "생연2동", "본인 신청", date(2021, 3, 22), "실직;월세 체납", 3,
     [("오지민", "자녀", "2009-12-01", "남"), ("장은비", "배우자", "1981", "여")], Stage.COUNSELLING, ""),
    ("윤정란", "1947-02-19", "여", "송내동", "복지사각지대 발굴시스템", date(2021, 4, 6), "단전;단수", 1,
     [], Stage.DISCOVERED, ""),
]

#: Which stages lead to each final stage, in order.
PATHS = {
    Stage.DISCOVERED: [],
    Stage.COUNSELLING: [Stage.COUNSELLING],
    Stage.INTAKE: [Stage.COUNSELLING, Stage.INTAKE],
    Stage.ASSESSMENT: [Stage.COUNSELLING, Stage.INTAKE, Stage.ASSESSMENT],
    Stage.SELECTED: [Stage.COUNSELLING, Stage.INTAKE, Stage.ASSESSMENT, Stage.SELECTED],
    Stage.NOT_SELECTED: [Stage.COUNSELLING, Stage.INTAKE, Stage.ASSESSMENT, Stage.NOT_SELECTED],
}

#: Words that make a demo text 민감정보 wherever it is written: mental health, suicide risk, alcohol, violence.
SENSITIVE_WORDS = ("우울", "정신건강 치료", "자살", "자해", "외상", "음주", "알코올", "폭력", "피해자", "치료 재개",
                   "치료 중단", "정서 불안")


def level_for(text: str, *, domain: str | None = None, sector: str | None = None) -> str:
    """The level the writer of a demo text gives it: the sector and domain defaults, and 민감정보 for any text about
    mental health, alcohol or violence."""
    if disclosure.default_level(domain=domain, sector=sector) == Disclosure.SENSITIVE \
            or any(word in text for word in SENSITIVE_WORDS):
        return Disclosure.SENSITIVE.value
    return Disclosure.SHARED.value


#: The 고난도 household of the news report: domestic violence with needs in 안전, 건강, 가족관계, 생활환경.
DV_RATINGS = {NeedDomain.SAFETY: ("위기", "배우자의 반복적 폭력, 경찰 신고 2회"),
              NeedDomain.HEALTH: ("위기", "우울 증상, 치료 중단"),
              NeedDomain.FAMILY: ("위기", "자녀 정서 불안, 부부 갈등"),
              NeedDomain.ENVIRONMENT: ("취약", "단전 예고, 주거 위생 불량"),
              NeedDomain.ECONOMY: ("취약", "건강보험료 6개월 체납")}
DV_SUMMARY = "배우자의 반복적 폭력과 우울 증상으로 안전 확보와 치료 재개가 함께 필요함."
#: Agencies each consenting household leaves out, and whether its consent covers sensitive data.
CONSENTS = {"김민수": (["천사운동본부"], True), "이영희": ([], False), "박철호": ([], True)}
#: 한미숙 agreed to share after the needs assessment and withdrew when she declined case management.
WITHDRAWN_CONSENT = ("한미숙", date(2021, 3, 21), date(2021, 3, 30))


def seed_households(coordinator: User, agencies: dict[str, Agency]) -> int:
    """Fictional households of 2021's first quarter, in several stages; only into an empty register."""
    if db.session.execute(db.select(Household.id).limit(1)).first() is not None:
        return 0
    for (name, birth, sex, district, route, discovered, signals, size, members, final, classification) \
            in HOUSEHOLDS:
        year, birth_date = (int(birth), None) if len(birth) == 4 else (int(birth[:4]), date.fromisoformat(birth))
        household = case_services.register_household(
            by=coordinator, head=case_services.HeadOfHousehold(name=name, birth_year=year, birth_date=birth_date,
                                                               sex=sex),
            district=district, address=f"경기도 동두천시 {district} 예시로 {len(name) * 7}",
            discovery_route=route, discovered_on=discovered, household_size=size,
            extraction_round="2021-1" if route == "복지사각지대 발굴시스템" else "",
            crisis_signals=signals, coordinator_id=coordinator.id, phone="010-0000-" + str(1000 + size * 111))
        household.status_changes[0].changed_at = datetime.combine(discovered, time(9), UTC)
        for member_name, relation, member_birth, member_sex in members:
            member_year = int(member_birth[:4])
            case_services.add_member(household, by=coordinator, name=member_name, relation=relation,
                                     birth_year=member_year,
                                     birth_date=date.fromisoformat(member_birth) if len(member_birth) > 4 else None,
                                     sex=member_sex, has_disability=False)
        for step, stage in enumerate(PATHS[final], start=1):
            if stage == Stage.ASSESSMENT:
                ratings = DV_RATINGS if classification == "고난도" else {
                    NeedDomain.ECONOMY: ("취약", ""), NeedDomain.HEALTH: ("적정", "")}
                summary = DV_SUMMARY if classification == "고난도" else ""
                assessment = case_services.record_assessment(household, by=coordinator, assessed_on=discovered,
                                                             ratings={d.value: r for d, r in ratings.items()},
                                                             summary=summary)
                assessment.summary_level = level_for(summary)
                for rating in assessment.ratings:
                    rating.notes_level = level_for(rating.notes, domain=rating.domain)
            change = case_services.change_status(
                household, by=coordinator, to_status=stage.value, reason="데모: 통합사례관리 절차 진행",
                track=Track.CASE_MANAGEMENT.value if stage == Stage.SELECTED else "",
                classification=classification if stage == Stage.SELECTED else None)
            change.changed_at = datetime.combine(discovered + timedelta(days=4 * step), time(9), UTC)
        if final == Stage.SELECTED:
            left_out, sensitive = CONSENTS[name]
            case_services.record_consent(household, by=coordinator, consented_on=discovered,
                                         agency_ids=[a.id for n, a in agencies.items() if n not in left_out],
                                         covers_sensitive=sensitive)
        if name == WITHDRAWN_CONSENT[0]:
            consent = case_services.record_consent(household, by=coordinator, consented_on=WITHDRAWN_CONSENT[1],
                                                   agency_ids=[a.id for a in agencies.values()],
                                                   covers_sensitive=False, note="본인 요청으로 철회")
            case_services.withdraw_consent(consent, by=coordinator, withdrawn_on=WITHDRAWN_CONSENT[2])
    return len(HOUSEHOLDS)


PARTNERS = ["정신건강복지센터", "드림스타트", "중앙동 행정복지센터", "천사운동본부"]
KEY_QUESTIONS = {
    "김민수": "가정폭력이 반복되고 정신건강 치료 연계가 여러 번 중단되었습니다. 피해자가 분리를 원하지 않아 "
             "안전계획과 기관별 역할을 정해 주세요.",
    "이영희": "자녀 돌봄 공백과 체납 해소를 위해 연계할 수 있는 민간 자원이 있을까요?",
    "박철호": "독거 어르신의 고립 위험: 정기 안부 확인을 누가 맡을지 논의가 필요합니다.",
}
#: Why 김민수's case is shared with 천사운동본부, which the household's consent does not name.
OVERRIDE_REASON = ("천사운동본부: 생필품·난방비 후원과 주거 정리 지원을 정하는 데 필요한 가구 상황만 공유함. "
                   "가구주 구두 동의, 서면 동의는 다음 방문 때 보완 예정.")


def _override_for(household: Household) -> str:
    """The override reason a household on the demo agendas needs (its consent leaves out an invited partner)."""
    return OVERRIDE_REASON if CONSENTS.get(household.members[0].name, ([], False))[0] else ""


def _households_by_head() -> dict[str, Household]:
    return {h.members[0].name: h for h in (
        load_case_file(household_id) for household_id in db.session.execute(db.select(Household.id)).scalars())}


def seed_meetings(coordinator: User, chair: User, agencies: dict[str, Agency]) -> int:
    """The 2021 third integrated meeting of the news report, its actions done by the spring, and the current
    quarter around the day of seeding: a meeting five weeks ago (approved, its actions followed up since), last
    week's (minutes in review) and next week's (in preparation)."""
    if db.session.execute(db.select(Meeting.id).limit(1)).first() is not None:
        return 0
    households = _households_by_head()
    partner_ids = [agencies[name].id for name in PARTNERS]
    past = Meeting(kind=MeetingKind.INTEGRATED.value, year=2021, number=3, place="동두천시청 소회의실",
                   starts_at=datetime(2021, 3, 24, 5, 0, tzinfo=UTC), duration_minutes=120,
                   chair_id=chair.id, coordinator_id=coordinator.id, status=MeetingStatus.MINUTES.value)
    past.invitations, past.agenda_items = [], []
    db.session.add(past)
    for agency_id in partner_ids:
        past.invitations.append(Invitation(agency_id=agency_id, deadline=date(2021, 3, 19)))
    db.session.flush()
    for position, (name, minutes) in enumerate((("김민수", 30), ("이영희", 15)), start=1):
        household = households[name]
        past.agenda_items.append(AgendaItem(
            household=household, position=position, key_question=KEY_QUESTIONS[name],
            key_question_level=level_for(KEY_QUESTIONS[name]), minutes_allotted=minutes,
            consent_override_reason=_override_for(household)))
        if _override_for(household):
            audit.record("consent.override", household, actor=coordinator, details={
                "meeting_id": past.id, "agencies": [agencies["천사운동본부"].id], "reason": OVERRIDE_REASON})
    db.session.flush()
    seed_past_minutes(past.id, coordinator, chair, agencies)
    finish_2021(past.id, coordinator, agencies)

    days = quarter_days(today_local())
    seed_held_meeting(days.earlier, EARLIER_MEETING, coordinator, chair, agencies, today=days.today)
    seed_held_meeting(days.held, HELD_MEETING, coordinator, chair, agencies, today=days.today)
    seed_checks(days, coordinator)
    households = _households_by_head()  # loaded again: the approvals and reviews expired what was loaded
    upcoming = meeting_services.create_meeting(
        by=coordinator, kind=MeetingKind.INTEGRATED.value, place="동두천시청 소회의실",
        starts_at=datetime.combine(days.upcoming, time(14), KST), chair_id=chair.id,
        coordinator_id=coordinator.id, agency_ids=partner_ids)
    for name in ("김민수", "이영희", "박철호"):
        item = meeting_services.add_agenda_item(upcoming, by=coordinator, household=households[name],
                                                key_question=KEY_QUESTIONS[name], minutes_allotted=15,
                                                consent_override_reason=_override_for(households[name]))
        item.key_question_level = level_for(KEY_QUESTIONS[name])
    meeting_services.put_children_first(upcoming, by=coordinator)
    seed_inputs(upcoming, agencies)
    return 4


#: The 2021 meeting as the news report tells it: agency, opinion on the domestic-violence case.
PAST_INPUTS = [
    ("정신건강복지센터", "우울 증상으로 2020년 치료했으나 중단됨.", "폭력 피해로 인한 외상 반응. 치료 재개와 위기 개입이 필요함."),
    ("드림스타트", "자녀(중1) 정서 불안, 결석 증가.", "아동 보호 관점에서 정서 지원과 학습 지원을 연계하겠음."),
    ("중앙동 행정복지센터", "긴급복지 생계지원 1회, 건강보험료 6개월 체납.", "주거 위생 개선과 체납 해소를 위한 공적 지원 검토."),
    ("천사운동본부", "후원 대상 등록 전.", "생필품과 난방비 후원, 자원봉사 주거 정리를 지원할 수 있음."),
]


def seed_past_minutes(meeting_id: int, coordinator: User, chair: User, agencies: dict[str, Agency]) -> None:
    """Inputs, attendance, case records, actions and the approved minutes of the 2021 meeting."""
    from conference.minutes import services as minutes_services

    meeting = minutes_services.load_for_minutes(meeting_id)
    kim, lee = meeting.agenda_items
    authors = {u.agency_id: u for u in db.session.execute(
        db.select(User).where(User.role == Role.PRACTITIONER.value)).scalars()}
    for agency_name, facts, opinion in PAST_INPUTS:
        agency = agencies[agency_name]
        saved = input_services.save_input(kim, agency_id=agency.id, by=authors[agency.id], submit=True,
                                          base_version=0, today=date(2021, 3, 18), values=input_services.InputValues(
                                              facts=facts, opinion=opinion, domains=("safety", "family")))
        _set_input_levels(saved, agency)
    minutes_services.record_attendance(meeting, by=coordinator, rows=[
        (u.display_name, u.agency_id, u.position) for u in authors.values()] + [
        (coordinator.display_name, coordinator.agency_id, coordinator.position)])
    actions = [
        ("안전계획 수립과 긴급 연락망 구성", "safety", "중앙동 행정복지센터", "문복지", date(2021, 4, 7), True, "긴급복지 주거지원"),
        ("정신건강 치료 재개와 주 1회 상담", "health", "정신건강복지센터", "서마음", date(2021, 4, 14), True, "치료비 지원"),
        ("자녀 정서 지원 프로그램 연계", "family", "드림스타트", "조아동", date(2021, 4, 21), True, "드림스타트 서비스"),
        ("주거 정리와 난방비 후원", "environment", "천사운동본부", "나눔이", date(2021, 4, 30), False, "후원물품"),
    ]
    minutes_services.save_case_record(kim, minutes_services.CaseRecordDraft(
        discussion="피해자가 분리를 원하지 않아 안전계획을 먼저 세우기로 함. 기관별 역할을 나눔.",
        decisions="고난도 사례로 집중 관리", goals="3개월 안에 안전 확보와 치료 재개", classification="고난도",
        root_causes=[("safety", "배우자의 음주와 반복 폭력"), ("health", "치료 중단으로 인한 우울 악화"),
                     ("family", "부부 갈등이 자녀 정서에 영향"), ("environment", "체납으로 인한 단전 위기")],
        actions=[minutes_services.ActionDraft(task, domain, agencies[agency].id, person, due, public, kind)
                 for task, domain, agency, person, due, public, kind in actions]),
        by=coordinator, base_version=0, earlier=[])
    minutes_services.save_case_record(lee, minutes_services.CaseRecordDraft(
        discussion="돌봄 공백과 체납 해소 방안 논의.", decisions="서비스연계 유지", goals="체납 해소",
        root_causes=[("economy", "실직 후 소득 단절")],
        actions=[minutes_services.ActionDraft("방과후 돌봄 연계", "education", agencies["드림스타트"].id, "조아동",
                                              date(2021, 4, 14), True, "지역아동센터")]),
        by=coordinator, base_version=0, earlier=[])
    for item in (kim, lee):
        _set_record_levels(item)
    minutes_services.set_schedule(meeting, by=coordinator, next_meeting=date(2021, 4, 28), next_check=date(2021, 4, 7))
    minutes_services.request_review(meeting, by=coordinator, deadline=date(2021, 3, 26), today=date(2021, 3, 24))
    db.session.flush()
    db.session.expire_all()
    meeting = minutes_services.load_for_minutes(meeting_id)
    minutes_services.finalise(meeting, by=chair, at=datetime(2021, 3, 26, 2, 0, tzinfo=UTC))
    db.session.flush()


#: agency, case head, submit?, facts, opinion, domains, resources (public?, kind)
UPCOMING_INPUTS = [
    ("정신건강복지센터", "김민수", True, "2020년 우울증 진단 후 3개월 상담, 이후 중단.\n최근 재상담 요청 없음.",
     "배우자의 폭력으로 인한 외상 반응이 의심됩니다. 치료 재개와 위기 시 연락 체계가 필요합니다.",
     ("health", "safety"), [(True, "정신건강 사례관리·치료비 지원")]),
    ("중앙동 행정복지센터", "김민수", True, "긴급복지 생계지원 1회 지급(2021. 1.). 건강보험료 체납 6개월.",
     "주거 위생이 나빠 생활환경 개선과 단전 해소가 급합니다.", ("environment", "economy"),
     [(True, "긴급복지 주거지원"), (True, "에너지바우처")]),
    ("드림스타트", "김민수", False, "아동(14세) 학교 결석 잦음.", "", ("education", "family"), []),
]


def _set_input_levels(agency_input, agency: Agency) -> None:
    """The levels the agency's practitioner gives its input."""
    agency_input.facts_level = level_for(agency_input.facts, sector=agency.sector)
    agency_input.opinion_level = level_for(agency_input.opinion, sector=agency.sector)
    agency_input.risk_level = level_for(agency_input.risk_concerns, sector=agency.sector)


def _set_record_levels(item: AgendaItem) -> None:
    """The levels the coordinator gives the case record, its root causes and actions; an action for an agency the
    household's consent does not name carries the agenda's override."""
    record = item.record
    record.discussion_level = level_for(record.discussion)
    record.decisions_level = level_for(f"{record.decisions} {record.goals}")
    for cause in record.root_causes:
        cause.level = level_for(cause.cause, domain=cause.domain)
    consent = case_services.current_consent(item.household)
    covered = {a.id for a in consent.agencies} if consent else set()
    for action in db.session.execute(db.select(ActionItem).where(ActionItem.agenda_item_id == item.id)).scalars():
        action.task_level = level_for(action.task, domain=action.domain)
        if action.agency_id not in covered:
            action.consent_override_reason = item.consent_override_reason


def seed_inputs(meeting: Meeting, agencies: dict[str, Agency]) -> None:
    """Partly submitted agency input for the upcoming meeting, written as each agency's practitioner."""
    items = {item.household.members[0].name: item for item in meeting.agenda_items}
    authors = {u.agency_id: u for u in db.session.execute(
        db.select(User).where(User.role == Role.PRACTITIONER.value)).scalars()}
    for agency_name, head, submit, facts, opinion, domains, resources in UPCOMING_INPUTS:
        agency = agencies[agency_name]
        saved = input_services.save_input(
            items[head], agency_id=agency.id, by=authors[agency.id], submit=submit, base_version=0,
            today=today_local(), values=input_services.InputValues(
                facts=facts, opinion=opinion, domains=domains,
                resources=tuple((public, kind, "") for public, kind in resources)))
        _set_input_levels(saved, agency)


# --- how 2021 ended --------------------------------------------------------------------------------------------

#: What each agency did about the 2021 meeting's actions, by task: (kind, day, text, result or new due date).
#: Every one was finished by the spring; the coordinator confirmed each.
FOLLOW_UP_2021 = {
    "안전계획 수립과 긴급 연락망 구성": [
        ("progress", date(2021, 3, 31), "가구 방문, 안전계획 함께 작성", "긴급 연락망 3곳 등록"),
        ("propose", date(2021, 4, 6), "안전계획 수립과 연락망 구성 마침", ""),
        ("confirm", date(2021, 4, 7), "", "")],
    "정신건강 치료 재개와 주 1회 상담": [
        ("progress", date(2021, 4, 2), "초기 상담 1회", "치료 재개 동의"),
        ("progress", date(2021, 4, 9), "주 1회 상담 2회째", "우울 척도 소폭 호전"),
        ("propose", date(2021, 4, 13), "치료 재개, 월 1회 점검으로 전환", ""),
        ("confirm", date(2021, 4, 14), "", "")],
    "자녀 정서 지원 프로그램 연계": [
        ("due", date(2021, 4, 19), "프로그램 개강이 5월로 미뤄짐", date(2021, 5, 12)),
        ("progress", date(2021, 5, 3), "정서 지원 프로그램 등록", "주 1회 참여 시작"),
        ("propose", date(2021, 5, 10), "프로그램 연계 마침", ""),
        ("confirm", date(2021, 5, 11), "", "")],
    "주거 정리와 난방비 후원": [
        ("progress", date(2021, 4, 17), "자원봉사자 6명 주거 정리", "폐기물 1톤 처리"),
        ("propose", date(2021, 4, 28), "난방비 후원금 전달", ""),
        ("confirm", date(2021, 4, 29), "", "")],
    "방과후 돌봄 연계": [
        ("confirm", date(2021, 4, 12), "지역아동센터 등록 확인(주 5일)", "")],
}
#: The coordinator's last check of 2021 on the households of the meeting: 정기 점검 마침 (no next check).
CHECKS_2021 = {"김민수": (date(2021, 12, 15), "visit", "안전계획 유지, 치료 월 1회 지속. 정기 점검을 마침."),
               "이영희": (date(2021, 12, 15), "phone", "체납 해소, 자녀 돌봄 안정. 정기 점검을 마침.")}


def _practitioners() -> dict[int, User]:
    """The demo's practitioner of each partner agency, by agency id."""
    return {u.agency_id: u for u in db.session.execute(
        db.select(User).where(User.role == Role.PRACTITIONER.value)).scalars()}


def _follow_up(action: ActionItem, steps, coordinator: User, authors: dict[int, User]) -> None:
    """Record what happened to an action, on the days it happened, through the action services."""
    from conference.actions import services as action_services

    author = authors[action.agency_id]
    for kind, day, text, extra in steps:
        if kind == "progress":
            action_services.record_progress(action, by=author, checked_on=day, content=text, result=extra, today=day)
        elif kind == "due":
            action_services.change_due(action, by=author, new_due=extra, reason=text, today=day)
        elif kind == "propose":
            action_services.propose_completion(action, by=author, note=text, today=day)
            action.completion_proposed_at = datetime.combine(day, time(17), KST)
        else:
            action_services.confirm_completion(action, by=coordinator, note=text, today=day)


def _date_review_requests(meeting_id: int, *, sent: datetime, read: datetime | None,
                          readers: set[int] | None = None) -> None:
    """Date the requests to review a held meeting's minutes as they were sent, and read by ``readers`` (everyone by
    default): they were not sent on the day the demo is seeded."""
    requests = db.select(Notification.id).where(Notification.link == f"/meetings/{meeting_id}/minutes")
    db.session.execute(db.update(Notification).where(Notification.id.in_(requests)).values(created_at=sent))
    if read is not None:
        if readers is not None:
            requests = requests.where(Notification.user_id.in_(readers))
        db.session.execute(db.update(Notification).where(Notification.id.in_(requests)).values(read_at=read))


def finish_2021(meeting_id: int, coordinator: User, agencies: dict[str, Agency]) -> None:
    """The 2021 meeting's actions done as the spring went, and the households' regular checks ended in December."""
    authors = _practitioners()
    for action in db.session.execute(db.select(ActionItem).where(ActionItem.meeting_id == meeting_id)
                                     .order_by(ActionItem.id)).scalars():
        _follow_up(action, FOLLOW_UP_2021[action.task], coordinator, authors)
    _date_review_requests(meeting_id, sent=datetime(2021, 3, 24, 17, 0, tzinfo=KST),
                          read=datetime(2021, 3, 25, 9, 0, tzinfo=KST))
    households = _households_by_head()
    for name, (day, method, content) in CHECKS_2021.items():
        case_services.record_monitoring(households[name], by=coordinator, contacted_on=day, method=method,
                                        content=content, next_check_on=None, today=day)
    db.session.flush()


# --- the current quarter ---------------------------------------------------------------------------------------

class QuarterDays(NamedTuple):
    """The days of the current quarter's story, from the day the demo is seeded."""

    today: date
    #: The meeting five weeks ago, approved; its actions are followed up since.
    earlier: date
    #: Last week's meeting, its minutes sent for review and waiting for the chair's approval.
    held: date
    #: Next week's meeting, in preparation, its agencies' input partly in.
    upcoming: date


def quarter_days(today: date) -> QuarterDays:
    """Meetings on Thursdays: last week's, four weeks before it, and next week's (whose Monday deadline is ahead)."""
    monday = today - timedelta(days=today.weekday())
    held = monday - timedelta(days=4)
    return QuarterDays(today=today, earlier=held - timedelta(days=28), held=held, upcoming=monday + timedelta(days=10))


class Due(NamedTuple):
    """A due date or event day counted from the meeting day ("meeting") or from the day of seeding ("today")."""

    anchor: str
    days: int

    def on(self, meeting_day: date, today: date) -> date:
        return (meeting_day if self.anchor == "meeting" else today) + timedelta(days=self.days)


class PlannedAction(NamedTuple):
    task: str
    domain: str
    agency: str
    person: str
    due: Due
    resource: tuple[bool, str] | None = None
    #: What happened afterwards: (kind, day, text, result), as in FOLLOW_UP_2021 but with ``Due`` days.
    follow_up: tuple = ()


class HeldCase(NamedTuple):
    head: str
    key_question: str
    #: agency, submitted?, facts, opinion, domains
    inputs: tuple
    discussion: str
    decisions: str
    goals: str
    root_causes: tuple
    actions: tuple
    #: The earlier open actions the meeting reviewed: task, outcome, note.
    reviews: tuple = ()


class HeldMeeting(NamedTuple):
    cases: tuple
    #: Usernames of the practitioners who confirmed the draft minutes.
    reviewed_by: tuple
    #: Whether the chair approved the minutes (three days after the meeting).
    approved: bool
    next_check: Due


def _done(task_days: int, note: str) -> tuple:
    """Reported done ``task_days`` after the meeting and confirmed by the coordinator the next day."""
    return (("propose", Due("meeting", task_days), note, ""), ("confirm", Due("meeting", task_days + 1), "", ""))


#: The meeting five weeks ago: 김민수's household referred again, 이영희's and 박철호's followed up. Of its actions
#: three are done, two are on the way and due soon, one is due later and two are late (by days and by weeks).
EARLIER_MEETING = HeldMeeting(cases=(
    HeldCase(
        "김민수", "재의뢰: 배우자의 음주 후 폭력이 다시 신고되었고 정신건강 치료가 중단되었습니다. 안전계획을 다시 "
                 "점검하고 치료 재개 방안을 정해 주세요.",
        (("정신건강복지센터", True, "재의뢰 뒤 초기 상담 1회. 우울 증상 재발, 치료 중단 상태.",
          "음주 후 폭력이 되풀이되어 외상 반응이 심해졌습니다. 치료 재개와 위기 개입이 필요합니다.", ("health", "safety")),
         ("중앙동 행정복지센터", True, "긴급복지 생계지원 상담, 에너지바우처 미신청.",
          "생계지원 신청과 에너지바우처 안내를 맡겠습니다.", ("economy", "environment")),
         ("드림스타트", True, "자녀 정서 불안으로 학교 상담 중.", "아동 정서 지원 프로그램을 다시 연계하겠습니다.",
          ("family", "education")),
         ("천사운동본부", True, "", "난방비와 생필품 후원을 지원할 수 있습니다.", ("economy",))),
        "재의뢰 사례. 안전계획을 다시 세우고 치료 재개를 먼저 돕기로 함.", "고난도 사례로 다시 집중 관리",
        "두 달 안에 치료 재개와 안전계획 재수립",
        (("safety", "배우자의 음주와 반복 폭력"), ("health", "치료 중단으로 인한 우울 재발")),
        (PlannedAction("정신건강 치료 재개와 주 1회 상담", "health", "정신건강복지센터", "서마음", Due("today", -6),
                       (True, "정신건강 사례관리")),
         PlannedAction("안전계획 점검과 긴급 연락망 갱신", "safety", "중앙동 행정복지센터", "문복지", Due("meeting", 14),
                       None, (("progress", Due("meeting", 5), "가구 방문, 안전계획 다시 작성", "연락망 2곳 갱신"),
                              *_done(12, "안전계획 점검과 연락망 갱신 마침"))),
         PlannedAction("자녀 정서 지원 프로그램 연계", "family", "드림스타트", "조아동", Due("today", 5),
                       (True, "드림스타트 서비스"),
                       (("progress", Due("today", -3), "정서 지원 프로그램 상담", "다음 달 개강반 등록"),)),
         PlannedAction("긴급복지 생계지원 신청과 에너지바우처 안내", "economy", "중앙동 행정복지센터", "문복지",
                       Due("meeting", 10), (True, "긴급복지 생계지원"),
                       (("confirm", Due("meeting", 8), "생계지원 결정, 에너지바우처 신청 접수", ""),)))),
    HeldCase(
        "이영희", "방과후 돌봄 공백과 관리비 체납: 기관별 역할을 나눠 주세요.",
        (("드림스타트", True, "방과후 돌봄 공백 주 3일.", "지역아동센터 연계가 가능합니다.", ("education",)),
         ("중앙동 행정복지센터", True, "공동주택 관리비 4개월 체납.", "분할 납부 상담과 긴급지원을 검토하겠습니다.",
          ("economy",))),
        "돌봄 공백과 관리비 체납 해소 방안 논의.", "서비스연계 유지", "체납 해소와 돌봄 공백 해소",
        (("economy", "근로시간 감소로 소득 감소"),),
        (PlannedAction("지역아동센터 방과후 돌봄 연계", "education", "드림스타트", "조아동", Due("meeting", 21),
                       (False, "지역아동센터"), _done(18, "지역아동센터 등록(주 5일)")),
         PlannedAction("체납 관리비 분할 납부 상담", "economy", "중앙동 행정복지센터", "문복지", Due("today", -19),
                       None, (("progress", Due("meeting", 7), "관리사무소와 분할 납부 상담", "납부 계획 협의 중"),)))),
    HeldCase(
        "박철호", "독거 어르신의 건강 악화와 고립 위험: 정기 안부 확인과 방문 건강관리를 누가 맡을지 정해 주세요.",
        (("중앙동 행정복지센터", True, "혼자 거주, 최근 2주간 외출 없음.", "주 1회 안부 확인을 맡겠습니다.", ("social",)),
         ("정신건강복지센터", True, "고혈압 약 복용 중단 의심.", "방문 건강관리와 복약 확인 연계가 필요합니다.",
          ("health",))),
        "고립 위험이 커서 안부 확인과 건강관리를 나누어 맡기로 함.", "서비스연계", "정기 안부 확인 체계 마련",
        (("social", "가족과 연락이 끊긴 독거"),),
        (PlannedAction("주 1회 안부 전화와 월 1회 방문", "social", "중앙동 행정복지센터", "문복지", Due("today", 30)),
         PlannedAction("방문 건강관리와 복약 확인", "health", "정신건강복지센터", "서마음", Due("today", 12),
                       (True, "방문건강관리")))),
), reviewed_by=("mh", "dream", "dong", "angel"), approved=True, next_check=Due("today", -2))

#: Last week's meeting: its minutes wait for review (two attendees confirmed, two not yet) and for 결재.
HELD_MEETING = HeldMeeting(cases=(
    HeldCase(
        "김민수", "지난 회의 실행과제 점검: 치료 재개가 늦어지고 있습니다. 피해자 안전과 주거 환경 개선을 함께 "
                 "논의해 주세요.",
        (("정신건강복지센터", True, "상담 1회 뒤 치료 일정 미정.", "치료 재개가 늦어져 우울 증상 악화가 우려됩니다.",
          ("health",)),
         ("중앙동 행정복지센터", True, "긴급복지 생계지원 지급 완료.", "도배·장판 등 주거환경 개선 지원이 필요합니다.",
          ("environment",)),
         ("드림스타트", True, "자녀 정서 지원 프로그램 상담 마침.", "다음 달 개강반에 등록했습니다.", ("family",))),
        "치료 재개가 늦어지는 까닭(교통과 비용)을 확인함. 주거환경 개선을 함께 진행하기로 함.",
        "고난도 유지, 치료 동행 지원", "한 달 안에 치료 재개",
        (("health", "치료비와 교통 부담으로 치료 재개 지연"),),
        (PlannedAction("정신건강 치료 동행 지원", "health", "정신건강복지센터", "서마음", Due("meeting", 21),
                       (True, "치료비 지원")),
         PlannedAction("주거환경 개선(도배·장판) 지원 신청", "environment", "중앙동 행정복지센터", "문복지",
                       Due("meeting", 28), (True, "긴급복지 주거지원"))),
        (("정신건강 치료 재개와 주 1회 상담", "in_progress", "치료 일정 조율 중"),)),
    HeldCase(
        "박철호", "겨울철 난방과 식사: 노인맞춤돌봄서비스 신청과 민간 후원 연계를 정해 주세요.",
        (("중앙동 행정복지센터", True, "안부 전화 4회 모두 연결.", "겨울철 난방비 부담이 큽니다.", ("economy",)),
         ("정신건강복지센터", False, "방문 건강관리 일정 조율 중.", "", ("health",))),
        "겨울철 난방과 식사 지원 논의.", "서비스연계 유지", "겨울철 안전한 생활 유지",
        (("economy", "기초연금 외 소득 없음"),),
        (PlannedAction("노인맞춤돌봄서비스 신청", "daily_living", "중앙동 행정복지센터", "문복지", Due("meeting", 14),
                       (True, "노인맞춤돌봄서비스")),)),
), reviewed_by=("mh", "dong"), approved=False, next_check=Due("meeting", 14))

#: The coordinator's checks since the approved meeting: (head, contacted, method, content, next check).
CHECKS = [("이영희", Due("earlier", 14), "phone", "관리비 분할 납부 진행 확인", Due("today", 10)),
          ("김민수", Due("held", 2), "visit", "치료 동행 일정 안내, 안전계획 유지 확인", Due("today", 14))]


def seed_held_meeting(day: date, spec: HeldMeeting, coordinator: User, chair: User, agencies: dict[str, Agency],
                      *, today: date) -> int:
    """A meeting held on ``day``: prepared, run and recorded through the services, its minutes sent for review,
    approved if ``spec`` says so and its actions followed up since. A meeting in the past cannot be scheduled
    (``create_meeting`` refuses it), so its row is written as the 2021 one is; every step after goes through the
    services."""
    from flask import current_app

    from conference.meetings import packets, rules
    from conference.minutes import services as minutes_services

    kind = MeetingKind.INTEGRATED.value
    starts_at = datetime.combine(day, time(14), KST)
    meeting = Meeting(kind=kind, year=day.year, number=meeting_services.next_number(kind, day.year),
                      place="동두천시청 소회의실", starts_at=starts_at, duration_minutes=120, chair_id=chair.id,
                      coordinator_id=coordinator.id, status=MeetingStatus.PREPARING.value)
    meeting.invitations, meeting.agenda_items = [], []
    db.session.add(meeting)
    deadline = rules.working_days_before(day, current_app.config["INPUT_DEADLINE_WORKING_DAYS"])
    for name in PARTNERS:
        meeting.invitations.append(Invitation(agency=agencies[name], deadline=deadline))
    db.session.flush()
    audit.record("meeting.create", meeting, actor=coordinator, details={
        "title": meeting.title, "starts_at": starts_at, "agencies": sorted(agencies[n].id for n in PARTNERS)})
    households = _households_by_head()
    items = {}
    for case in spec.cases:
        household = households[case.head]
        items[case.head] = meeting_services.add_agenda_item(
            meeting, by=coordinator, household=household, key_question=case.key_question,
            key_question_level=level_for(case.key_question), consent_override_reason=_override_for(household))
    meeting_services.put_children_first(meeting, by=coordinator)
    meeting_services.change_status(meeting, by=coordinator, to_status=MeetingStatus.SHARING.value)
    authors = _practitioners()
    for case in spec.cases:
        for agency_name, submit, facts, opinion, domains in case.inputs:
            agency = agencies[agency_name]
            saved = input_services.save_input(
                items[case.head], agency_id=agency.id, by=authors[agency.id], submit=submit, base_version=0,
                today=deadline - timedelta(days=1),
                values=input_services.InputValues(facts=facts, opinion=opinion, domains=domains))
            _set_input_levels(saved, agency)
    packets.freeze_packet(meeting.id, day)  # the packet as it stood when the meeting started
    meeting_services.change_status(meeting, by=coordinator, to_status=MeetingStatus.IN_PROGRESS.value)
    meeting_id = meeting.id
    db.session.flush()
    db.session.expire_all()
    meeting = minutes_services.load_for_minutes(meeting_id)
    attendees = [authors[agencies[name].id] for name in PARTNERS]
    for user in attendees:
        meeting_services.accept_pledge(meeting, user=user, ip="")
    minutes_services.record_attendance(meeting, by=coordinator, rows=[
        (u.display_name, u.agency_id, u.position) for u in [*attendees, coordinator]])
    earlier = minutes_services.earlier_open_actions(meeting)
    for item in meeting.agenda_items:
        case = next(c for c in spec.cases if c.head == item.household.members[0].name)
        open_actions = earlier.get(item.household_id, [])
        reviews = {a.id: (outcome, note) for task, outcome, note in case.reviews for a in open_actions
                   if a.task == task}
        minutes_services.save_case_record(item, minutes_services.CaseRecordDraft(
            discussion=case.discussion, decisions=case.decisions, goals=case.goals,
            root_causes=list(case.root_causes), reviews=reviews, actions=[
                minutes_services.ActionDraft(a.task, a.domain, agencies[a.agency].id, a.person, a.due.on(day, today),
                                             a.resource[0] if a.resource else None, a.resource[1] if a.resource else "")
                for a in case.actions]), by=coordinator, base_version=0, earlier=open_actions)
        _set_record_levels(item)
    next_check = spec.next_check.on(day, today)
    minutes_services.set_schedule(meeting, by=coordinator, next_meeting=day + timedelta(days=28),
                                  next_check=next_check)
    meeting_services.change_status(meeting, by=coordinator, to_status=MeetingStatus.MINUTES.value)
    deadline = day + timedelta(days=6) if spec.approved else max(day + timedelta(days=6), today + timedelta(days=2))
    minutes_services.request_review(meeting, by=coordinator, deadline=deadline, today=day + timedelta(days=1))
    users = {u.username: u for u in attendees}
    for username in spec.reviewed_by:
        minutes_services.respond(meeting, user=users[username], confirmed=True, comment="")
    db.session.flush()
    _date_review_requests(meeting_id, sent=datetime.combine(day + timedelta(days=1), time(17), KST),
                          read=datetime.combine(day + timedelta(days=2), time(9), KST),
                          readers=None if spec.approved else {users[name].id for name in spec.reviewed_by})
    if spec.approved:
        db.session.expire_all()
        meeting = minutes_services.load_for_minutes(meeting_id)
        minutes_services.finalise(meeting, by=chair, at=datetime.combine(day + timedelta(days=3), time(10), KST))
        db.session.flush()
        follow_ups = {a.task: a.follow_up for case in spec.cases for a in case.actions}
        for action in db.session.execute(db.select(ActionItem).where(ActionItem.meeting_id == meeting_id)
                                         .order_by(ActionItem.id)).scalars():
            steps = [(kind, when.on(day, today), text, extra) for kind, when, text, extra in follow_ups[action.task]]
            _follow_up(action, steps, coordinator, _practitioners())
    db.session.flush()
    return meeting_id


def seed_checks(days: QuarterDays, coordinator: User) -> None:
    """The coordinator's recent checks (모니터링) of the households, each setting its next check."""
    households = _households_by_head()
    for name, contacted, method, content, next_check in CHECKS:
        day = getattr(days, contacted.anchor) + timedelta(days=contacted.days)
        case_services.record_monitoring(households[name], by=coordinator, contacted_on=day, method=method,
                                        content=content, next_check_on=next_check.on(day, days.today), today=day)
    db.session.flush()
