"""Monitoring: contacts with the household, the next check date and the list of checks due (issue 7, part 3)."""
from datetime import timedelta

import pytest
from factories import CityDay, on_the_day
from sqlalchemy import select

from conference.core.formatting import today_local
from conference.extensions import db
from conference.models import AuditEvent, Household, Meeting, Member, Minutes, MonitoringEntry
from conference.seed import demo

PASSWORD = demo.DEFAULT_PASSWORD


@pytest.fixture
def as_coordinator(client, seeded):
    """The ``seeded`` demo city with ``client`` signed in as its coordinator."""
    assert client.post("/login", data={"username": "coordinator", "password": PASSWORD}).status_code == 302
    return client


def household(name: str) -> Household:
    db.session.expire_all()
    return db.session.execute(select(Household).join(Member).where(Member.name == name, Member.is_head)).scalar_one()


def entries_of(household: Household) -> list[MonitoringEntry]:
    """The household's contacts so far (the demo has logged some)."""
    return db.session.execute(select(MonitoringEntry).where(MonitoringEntry.household_id == household.id)
                              .order_by(MonitoringEntry.id)).scalars().all()


def post(client, household_id, **values):
    today = today_local()
    data = {"contacted_on": today.isoformat(), "method": "phone", "content": "안부 전화, 치료 일정 확인",
            "next_check_on": (today + timedelta(days=30)).isoformat()}
    data.update(values)
    return client.post(f"/cases/{household_id}/monitoring", data=data)


def test_a_contact_is_logged_and_sets_the_next_check(client, as_coordinator):
    today = today_local()
    kim = household("김민수")
    earlier = entries_of(kim)
    assert post(client, kim.id).status_code == 302
    kim = household("김민수")
    assert kim.next_check_on == today + timedelta(days=30)
    *kept, entry = entries_of(kim)
    assert kept == earlier
    assert (entry.method, entry.content) == ("phone", "안부 전화, 치료 일정 확인")
    page = client.get(f"/cases/{kim.id}").get_data(as_text=True)
    assert "안부 전화, 치료 일정 확인" in page and "전화" in page
    assert "household.monitoring" in set(db.session.execute(select(AuditEvent.action)).scalars())


@pytest.mark.parametrize("values, message", [
    ({"next_check_on": CityDay(-1)}, "다음 점검일은 내일 이후여야 합니다."),
    ({"next_check_on": CityDay(0)}, "다음 점검일은 내일 이후여야 합니다."),
    ({"contacted_on": CityDay(1)}, "점검한 날짜는 오늘 이후일 수 없습니다."),
    ({"method": "letter"}, "점검 방법을 고르세요."),
    ({"content": "  "}, "점검 내용을 4000자 이하로 적으세요."),
])
def test_bad_monitoring_input_changes_nothing(client, as_coordinator, values, message):
    kim = household("김민수")
    before, entries = kim.next_check_on, len(entries_of(kim))
    response = post(client, kim.id, **on_the_day(values))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert household("김민수").next_check_on == before
    assert len(entries_of(kim)) == entries


def test_checks_due_lists_overdue_cases_first(client, as_coordinator):
    today = today_local()
    kim, lee, park = household("김민수"), household("이영희"), household("박철호")
    kim.next_check_on = today - timedelta(days=3)
    lee.next_check_on = today + timedelta(days=2)
    park.next_check_on = today + timedelta(days=40)
    db.session.commit()
    page = client.get("/cases/checks").get_data(as_text=True)
    assert page.index("2021-0001") < page.index("2021-0002")
    assert "2021-0003" not in page
    assert "김○○" in page and "김민수" not in page


def test_the_approved_minutes_set_the_next_check_of_their_cases(client, as_coordinator):
    # The demo's minutes approved five weeks ago set 다음 점검일 (two days ago) for the cases they discussed;
    # 박철호's has not been checked since, the others have (a contact sets the next check).
    today = today_local()
    next_check = db.session.execute(select(Minutes.next_check).join(Meeting, Meeting.id == Minutes.meeting_id).where(
        Minutes.status == "final").order_by(Meeting.starts_at.desc())).scalars().first()
    assert household("박철호").next_check_on == next_check == today - timedelta(days=2)
    assert household("김민수").next_check_on > today


@pytest.mark.parametrize("username", ["mh", "chair"])
def test_only_case_staff_log_monitoring(client, as_coordinator, username):
    client.post("/logout")
    client.post("/login", data={"username": username, "password": PASSWORD})
    kim = household("김민수")
    entries = len(entries_of(kim))
    assert post(client, kim.id).status_code in (403, 404)
    assert client.get("/cases/checks").status_code == 403
    assert len(entries_of(kim)) == entries
