"""Two browsers saving the same record at the same moment (found by bench/load_test.py on PostgreSQL).

The second save must be refused with the conflict page (409), never stored over the first one and never a 500.
Each test runs the other browser's whole request in the middle of the first one: after the first request has read
the record and before it writes. On PostgreSQL both requests really overlap; on SQLite a writing request holds the
write lock from its first statement (BEGIN IMMEDIATE), so the other one could only wait: these tests need
PostgreSQL (CONFERENCE_TEST_DATABASE_URL; CI runs them).
"""
import contextvars
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from conftest import POSTGRES_URL
from conference.extensions import db
from conference.inputs import services as input_services
from conference.meetings import views as meeting_views
from conference.minutes import services as minutes_services
from conference.minutes import views as minutes_views
from conference.models import AgencyInput, AuditEvent, CaseRecord, Minutes, Pledge, User
from conference.models.inputs import InputRevision
from conference.seed import demo

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="SQLite runs one writing request at a time (BEGIN "
                                                         "IMMEDIATE); the overlap needs PostgreSQL")


def browser(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": demo.DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def meanwhile(client, url, data):
    """The other browser's request, run to its commit inside the current one (its own app context and session)."""
    def send():
        return contextvars.Context().run(FlaskClient.open, client, url, method="POST", data=data)
    return send


def interleave(monkeypatch, target, name, other_request):
    """Run ``other_request`` once, right after the first call of ``target.name`` returns."""
    original, answers, started = getattr(target, name), [], []

    def first_then_other(*args, **kwargs):
        result = original(*args, **kwargs)
        if not started:
            started.append(True)  # the other request calls this too
            answers.append(other_request())
        return result

    monkeypatch.setattr(target, name, first_then_other)
    return answers


def item_of(meeting_id, head_name):
    db.session.rollback()
    meeting = minutes_services.load_for_minutes(meeting_id)
    return next(i for i in meeting.agenda_items if i.household.members[0].name == head_name)


def input_form(opinion, version):
    return {"facts": "기관 기록", "opinion": opinion, "version": str(version), "save": "1"}


@pytest.mark.parametrize(("head", "version"), [("김민수", 1), ("이영희", 0)], ids=["existing-input", "new-input"])
def test_two_overlapping_input_saves_store_the_first_and_refuse_the_second(app, seeded, monkeypatch, head, version):
    item = item_of(seeded, head)
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    url = f"/meetings/{seeded}/inputs/{item.id}"
    first, second = browser(app, "mh"), browser(app, "mh")
    answers = interleave(monkeypatch, input_services, "snapshot",  # after the version check, before the write
                         meanwhile(second, url, input_form("둘째 탭의 의견", version)))

    response = first.post(url, data=input_form("첫째 탭의 의견", version))

    assert answers[0].status_code == 302  # the other tab's save went through while the first was running
    assert response.status_code == 409
    assert "다른 사람이 그사이 이 의견을 저장했습니다" in response.get_data(as_text=True)
    assert re.search(rf'name="version"[^>]*value="{version + 1}"', response.get_data(as_text=True))
    db.session.rollback()
    stored = db.session.execute(select(AgencyInput).where(AgencyInput.agenda_item_id == item.id,
                                                          AgencyInput.agency_id == mh.agency_id)).scalar_one()
    assert (stored.opinion, stored.version) == ("둘째 탭의 의견", version + 1)
    revisions = db.session.execute(select(InputRevision.version, InputRevision.snapshot)
                                   .where(InputRevision.agency_input_id == stored.id)).all()
    assert sorted(v for v, _ in revisions) == list(range(1, version + 2))
    assert json.loads(max(revisions)[1])["opinion"] == "둘째 탭의 의견"


def case_record_form(discussion, version):
    return {"version": str(version), "discussion": discussion, "decisions": "", "goals": "", "classification": "",
            "status_to": "", "track": "", "closure_reason": ""}


@pytest.mark.parametrize("existing", [True, False], ids=["existing-record", "new-record"])
def test_two_overlapping_case_record_saves_store_the_first_and_refuse_the_second(app, seeded, monkeypatch, existing):
    first, second = browser(app, "coordinator"), browser(app, "coordinator")
    assert first.post(f"/meetings/{seeded}/run/start", data={"confirm_day": "1"}).status_code == 302  # next week's
    item = item_of(seeded, "김민수")
    url = f"/meetings/{seeded}/run/{item.id}"
    if existing:
        assert first.post(url, data=case_record_form("처음 기록", 0)).status_code == 302
    version = 1 if existing else 0
    answers = interleave(monkeypatch, minutes_services, "_check_actions",  # after the version check
                         meanwhile(second, url, case_record_form("둘째 사람의 기록", version)))

    response = first.post(url, data=case_record_form("첫째 사람의 기록", version))

    assert answers[0].status_code == 302
    assert response.status_code == 409
    assert "다른 사람이 그사이 이 사례 기록을 저장했습니다" in response.get_data(as_text=True)
    db.session.rollback()
    stored = db.session.execute(select(CaseRecord).where(CaseRecord.agenda_item_id == item.id)).scalar_one()
    assert (stored.discussion, stored.version) == ("둘째 사람의 기록", version + 1)
    saves = db.session.execute(select(AuditEvent.details).where(AuditEvent.action == "minutes.case")).scalars()
    assert sorted(json.loads(d)["version"] for d in saves if json.loads(d)["meeting_id"] == seeded) \
        == list(range(1, version + 2))


def test_two_overlapping_pledges_of_one_person_are_one_pledge(app, seeded, monkeypatch):
    url = f"/meetings/{seeded}/pledge"
    first, second = browser(app, "mh"), browser(app, "mh")
    answers = interleave(monkeypatch, meeting_views, "get_meeting", meanwhile(second, url, {"accept": "y"}))

    response = first.post(url, data={"accept": "y"})

    assert answers[0].status_code == 302
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{seeded}/packet")
    mh = db.session.execute(select(User).where(User.username == "mh")).scalar_one()
    db.session.rollback()
    assert db.session.execute(select(func.count(Pledge.id)).where(
        Pledge.meeting_id == seeded, Pledge.user_id == mh.id)).scalar_one() == 1


def test_two_overlapping_first_saves_of_the_meeting_schedule_make_one_minutes_row(app, seeded, monkeypatch):
    first, second = browser(app, "coordinator"), browser(app, "coordinator")
    assert first.post(f"/meetings/{seeded}/run/start", data={"confirm_day": "1"}).status_code == 302  # next week's
    url = f"/meetings/{seeded}/run"
    answers = interleave(monkeypatch, minutes_views, "get_meeting",  # both read the meeting without minutes
                         meanwhile(second, url, {"next_meeting": "2031-03-03", "next_check": ""}))

    response = first.post(url, data={"next_meeting": "2031-04-04", "next_check": ""})

    assert answers[0].status_code == 302 and response.status_code == 302
    db.session.rollback()
    stored = db.session.execute(select(Minutes).where(Minutes.meeting_id == seeded)).scalars().all()
    assert [m.next_meeting.isoformat() for m in stored] == ["2031-04-04"]  # one row, the later save's schedule
