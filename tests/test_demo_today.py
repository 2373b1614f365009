"""The demo is alive on the day it is seeded (issue point 5): 2021 is history, the current quarter is under way.

Seeded on a fixed clock, the story is fixed: the 2021 meeting keeps its date and number and all its actions are done;
around today there is a meeting five weeks ago (approved, its actions done, late by days or weeks, or still to do),
last week's (minutes in review, waiting for the chair's 결재) and next week's (in preparation, input partly in).
"""
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from factories_world import login, upcoming_meeting_id
from sqlalchemy import select

from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.main import todo
from conference.models import (ActionEvent, ActionItem, ActionStatus, AgencyInput, AgendaItem, Attendee, InputState,
                               Invitation, Meeting, MeetingStatus, Minutes, MinutesStatus, Notification,
                               ReviewResponse, User)
from conference.seed import demo

#: Wednesday 20 May 2026, 10:00 in Seoul.
A_WEDNESDAY = datetime(2026, 5, 20, 1, 0, tzinfo=UTC)
#: Other days the story must hold on: a Sunday (next week's deadline still ahead) and the first Monday of a year
#: whose last week's meeting was held the year before.
OTHER_DAYS = [datetime(2026, 5, 24, 1, 0, tzinfo=UTC), datetime(2027, 1, 4, 1, 0, tzinfo=UTC)]
FINISHED = {ActionStatus.DONE.value, ActionStatus.CHANGED.value, ActionStatus.NOT_DONE.value}
ACTIVE = {ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value}


def seed_on(moment: datetime):
    """Seed the demo with the clock at ``moment`` (ticking, so logins work); yield the city's day."""
    with time_machine.travel(moment, tick=True):
        demo.seed(demo.DEFAULT_PASSWORD)
        db.session.commit()
        yield today_local()


@pytest.fixture
def today(app):
    yield from seed_on(A_WEDNESDAY)


@pytest.fixture(params=[A_WEDNESDAY, *OTHER_DAYS], ids=["wednesday", "sunday", "new-year-monday"])
def any_day(app, request):
    yield from seed_on(request.param)


def meetings() -> list[Meeting]:
    return db.session.execute(select(Meeting).order_by(Meeting.starts_at)).scalars().all()


def day_of(meeting: Meeting) -> date:
    return meeting.starts_at.astimezone(KST).date()


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def actions(*statuses: str) -> list[ActionItem]:
    query = select(ActionItem).order_by(ActionItem.id)
    if statuses:
        query = query.where(ActionItem.status.in_(statuses))
    return db.session.execute(query).scalars().all()


def test_no_action_is_overdue_by_years_and_the_mix_is_an_offices(any_day):
    today = any_day
    late = [today - a.due_on for a in actions(*ACTIVE) if a.due_on < today]
    soon = [a for a in actions(*ACTIVE) if today <= a.due_on <= today + timedelta(days=14)]
    done = actions(ActionStatus.DONE.value)
    assert late and max(late) <= timedelta(days=60)
    assert any(days < timedelta(days=10) for days in late) and any(days >= timedelta(days=14) for days in late)
    assert soon and len(done) >= 5
    this_quarter = [a for a in actions() if a.meeting_id != meetings()[0].id and a.status != "planned"]
    finished_or_on_time = [a for a in this_quarter if a.status in FINISHED or a.due_on >= today]
    assert len(finished_or_on_time) > 2 * len(late)  # most on time or done
    assert {a.status for a in this_quarter} >= {"done", "open", "in_progress"}


def test_the_2021_meeting_keeps_its_date_and_number_and_every_action_of_2021_is_done(today):
    first, *later = meetings()
    assert (first.year, first.number, day_of(first)) == (2021, 3, date(2021, 3, 24))
    assert first.title == "2021년도 제3회 민관협력 통합사례회의" and first.status == MeetingStatus.FINALISED.value
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == first.id)).scalar_one()
    assert minutes.status == MinutesStatus.FINAL.value and minutes.content_hash
    assert minutes.finalised_at.astimezone(KST).date() == date(2021, 3, 26)
    of_2021 = db.session.execute(select(ActionItem).where(ActionItem.meeting_id == first.id)).scalars().all()
    assert len(of_2021) == 5 and {a.status for a in of_2021} <= FINISHED
    events = db.session.execute(select(ActionEvent).where(ActionEvent.action_id.in_([a.id for a in of_2021])))
    days = [e.happened_on for e in events.scalars()]
    assert len(days) >= len(of_2021) and {d.year for d in days} == {2021}
    assert all(m.year == today.year for m in later)


def test_meetings_are_numbered_from_one_in_each_year_in_date_order(any_day):
    by_year: dict[int, list[int]] = {}
    for meeting in meetings():
        assert meeting.year == day_of(meeting).year
        by_year.setdefault(meeting.year, []).append(meeting.number)
    assert by_year.pop(2021) == [3]
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in by_year.values()), by_year
    assert by_year[any_day.year][0] == 1


def test_next_weeks_meeting_is_in_preparation_with_input_partly_in(any_day):
    today = any_day
    meeting = db.session.get(Meeting, upcoming_meeting_id())
    assert meeting.status == MeetingStatus.PREPARING.value
    assert week_of(day_of(meeting)) == week_of(today) + timedelta(days=7)
    deadlines = db.session.execute(select(Invitation.deadline).where(Invitation.meeting_id == meeting.id)).scalars()
    assert all(today < deadline <= day_of(meeting) for deadline in deadlines)
    invited = set(db.session.execute(select(Invitation.agency_id).where(Invitation.meeting_id == meeting.id))
                  .scalars())
    submitted = set(db.session.execute(
        select(AgencyInput.agency_id).join(AgendaItem, AgendaItem.id == AgencyInput.agenda_item_id)
        .where(AgendaItem.meeting_id == meeting.id, AgencyInput.state == InputState.SUBMITTED.value)).scalars())
    assert submitted and invited - submitted, (invited, submitted)


def test_last_weeks_meeting_waits_for_review_and_the_chairs_approval(any_day):
    today = any_day
    [meeting] = [m for m in meetings() if week_of(day_of(m)) == week_of(today) - timedelta(days=7)]
    assert meeting.status == MeetingStatus.REVIEW.value
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
    assert minutes.status == MinutesStatus.REVIEW.value and not minutes.content_hash and minutes.finalised_at is None
    attendees = set(db.session.execute(select(Attendee.user_id).where(
        Attendee.meeting_id == meeting.id, Attendee.user_id.is_not(None))).scalars())
    reviewed = set(db.session.execute(select(ReviewResponse.user_id).where(ReviewResponse.minutes_id == minutes.id))
                   .scalars())
    assert reviewed and reviewed < attendees  # some attendees confirmed, some not yet
    chair = db.session.execute(select(User).where(User.username == "chair")).scalar_one()
    assert [t.count for t in todo.for_user(chair, today) if t.endpoint == "main.home"] == [1]  # the 결재 queue


def test_the_coordinators_pages_show_nothing_years_overdue(client, today):
    login(client, "coordinator")
    home = client.get("/home").get_data(as_text=True)
    assert "2021" not in home and "2026년도 제2회" in home and "2026년도 제3회" in home
    overdue = client.get("/actions?due=overdue").get_data(as_text=True)
    assert "2026. 5. 14." in overdue  # 정신건강복지센터's, six days late
    assert "2021." not in overdue and "2025." not in overdue
    checks = client.get("/cases/checks").get_data(as_text=True)
    assert "2026. 5. 18." in checks and "2021." not in checks  # 박철호's check, two days late
    unread = db.session.execute(select(Notification.message).where(Notification.read_at.is_(None))).scalars().all()
    assert unread and not [message for message in unread if "2021" in message]  # 2021's were read in 2021


def test_a_practitioner_sees_a_days_late_action_and_next_weeks_request(client, today):
    login(client, "mh")
    home = client.get("/home").get_data(as_text=True)
    assert "기한 지남 1건" in home and "2021" not in home
    assert "2026년도 제3회" in home and "2026. 5. 25." in home  # next week's meeting, input due on Monday
