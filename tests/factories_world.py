"""A realistic world for permission and leak tests: the demo city plus an uninvited agency and a second chair.

Ask for the ``world`` fixture (conftest.py registers this module for every test); to add rows of your own,
call ``seed_world(extra=…)`` from a fixture instead.

``conference.seed.demo`` seeds the 동두천시 setting: a finalised 2021 meeting (minutes, actions of four agencies, all
done), and around today a finalised meeting five weeks ago (its actions done, late or still to do), last week's
(minutes in review) and next week's (three cases, agency input), all chaired by ``chair`` and inviting 정신건강복지센터
(``mh``), 드림스타트 (``dream``), 중앙동 행정복지센터 (``dong``) and 천사운동본부 (``angel``). On top of it:
``police`` works at an agency invited to nothing, ``chair2`` chairs nothing, every practitioner has pledged
confidentiality for every meeting their agency is invited to (the demo's attendees did so for the meetings held),
and the coordinator has two uploads waiting for
confirmation.
``unchaired`` is an internal meeting without a chair whose (empty) minutes wait for approval.

``seeded`` is the demo city alone, its accounts with the demo's own password: sign in to it with ``login``.
"""
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from conftest import PASSWORD
from flask import current_app
from sqlalchemy import select, text

from conference.admin import services as account_services
from conference.cases.importer import ImportRow
from conference.core.formatting import today_local
from conference.extensions import db
from conference.seed import demo
from conference.models import (ActionItem, AgendaItem, Agency, Consent, Household, ImportBatch, Invitation, Meeting,
                               MeetingKind, MeetingStatus, Member, Minutes, MinutesStatus, Notification, Pledge, Role, Sector,
                               User)

PRACTITIONERS = ["mh", "dream", "dong", "angel", "police"]


@dataclass
class World:
    #: Values for the URL templates of the tables, e.g. ``/meetings/{upcoming}/agenda/{item}``.
    ids: dict[str, int]
    #: Case number of each household by head name, for checks that a page does not mention it.
    case_numbers: dict[str, str]

    def url(self, template: str) -> str:
        return template.format(**self.ids)


#: What each seeding found and left, by its key and the city's day: every table's rows, and what it returned.
_SEEDED: dict[tuple, tuple[dict[str, list[dict]], dict[str, list[dict]], object]] = {}


def seed_once(key: tuple, seed):
    """Run ``seed()`` on this test's fresh database, or write the rows it wrote the last time it ran on a fresh
    database in this test process on the same day (the demo's story is dated from the day it is seeded); return
    what it returned.

    Seeding the demo through the services takes a second or more and a quarter of the tests ask for it; writing
    its rows back takes a few milliseconds. ``seed`` must return plain values (ids), not rows of the session.
    A database that is not as the migrations left it (a fixture wrote first) is seeded as usual.
    """
    config = current_app.config
    key = (*key, today_local(), config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"])
    tables = db.metadata.sorted_tables
    found = table_rows(db.session.connection(), tables, limit=_FRESH_ROWS)
    if any(len(rows) == _FRESH_ROWS for rows in found.values()):
        return seed()
    if key in _SEEDED and _SEEDED[key][0] == found:
        _found, left, result = _SEEDED[key]
        write_rows(db.session.connection(), [table for table in tables if left[table.name] != found[table.name]], left)
        return result
    result = seed()
    db.session.flush()
    _SEEDED[key] = (found, table_rows(db.session.connection(), tables), result)
    return result


#: A table with this many rows is not as the migrations left it (they write one row, of data_version).
_FRESH_ROWS = 10


def table_rows(connection, tables, limit: int | None = None) -> dict[str, list[dict]]:
    return {table.name: [dict(row) for row in connection.execute(
        select(table).order_by(*table.primary_key.columns).limit(limit)).mappings()] for table in tables}


def seed_demo(password: str = PASSWORD) -> None:
    """``demo.seed(password)`` once per test process and day (``seed_once``); not committed."""
    seed_once(("demo", password), lambda: demo.seed(password))


def write_rows(connection, tables, rows: dict[str, list[dict]]) -> None:
    """Replace the rows of ``tables`` (parents before children) with ``rows``, ids included; on PostgreSQL, set
    each id sequence to the largest id."""
    for table in reversed(tables):
        connection.execute(table.delete())
    for table in tables:
        if rows[table.name]:
            connection.execute(table.insert(), rows[table.name])
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        column = table.autoincrement_column  # login_session's key is a hash: no sequence
        if column is not None:
            name = connection.dialect.identifier_preparer.format_table(table)
            # is_called true past the last id (so _empty_postgres sees it moved), false at the start when empty
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, :column), coalesce(last, 1), "
                                    f"last IS NOT NULL) FROM (SELECT max({column.name}) AS last FROM {name}) AS ids"),
                               {"table": name, "column": column.name})


def _one(query):
    return db.session.execute(query).scalars().first()


def seed_world(password: str = PASSWORD, *, extra=None) -> World:
    """Seed the demo and the extras described in the module docstring; commit; return the ids.

    ``extra`` (called with no arguments right after the demo, before the outsiders exist) may add more; the
    same ``extra`` function is called once per test process and day (``seed_once``).
    """
    what = (extra.__module__, extra.__qualname__) if extra is not None else None
    world = seed_once(("world", password, what), lambda: _seed_world(password, extra))
    db.session.commit()
    return world


def _seed_world(password: str, extra) -> World:
    demo.seed(password)
    db.session.flush()
    if extra is not None:
        extra()
        db.session.flush()
    police = Agency(name="동두천경찰서", sector=Sector.POLICE.value, is_public=True)
    db.session.add(police)
    db.session.flush()
    for username, name, agency_id, role in (("police", "강경찰", police.id, Role.PRACTITIONER),
                                            ("chair2", "최위원", _one(select(Agency.id).where(
                                                Agency.name == "동두천시 복지정책과")), Role.CHAIR)):
        account_services.create_user(by=None, username=username, display_name=name, agency_id=agency_id,
                                     role=role.value, password=password, must_change_password=False)
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    past = _one(select(Meeting).where(Meeting.year == 2021, Meeting.number == 3))
    upcoming = _one(select(Meeting).where(Meeting.starts_at > past.starts_at).order_by(Meeting.starts_at.desc()))
    pledged = set(db.session.execute(select(Pledge.meeting_id, Pledge.user_id)).tuples())
    for invitation in db.session.execute(select(Invitation)).scalars():
        for username in PRACTITIONERS:
            if users[username].agency_id == invitation.agency_id \
                    and (invitation.meeting_id, users[username].id) not in pledged:
                db.session.add(Pledge(meeting_id=invitation.meeting_id, user_id=users[username].id, ip="127.0.0.1"))
    unchaired = Meeting(kind=MeetingKind.INTERNAL.value, year=2021, number=1, place="시청",
                        starts_at=past.starts_at - timedelta(days=7), coordinator_id=users["coordinator"].id,
                        status=MeetingStatus.REVIEW.value)
    db.session.add(unchaired)
    db.session.flush()
    db.session.add(Minutes(meeting_id=unchaired.id, status=MinutesStatus.REVIEW.value,
                           review_deadline=past.starts_at.date()))
    heads = {m.name: m for m in db.session.execute(select(Member).where(Member.is_head.is_(True))).scalars()}
    kim, hidden = heads["김민수"], heads["최은정"]  # on both agendas / on none (no consent either)
    repeat = ImportRow(row=2, extraction_round="2021-2", district="중앙동", name="김민수", birth_year=1968,
                       birth_date=None, sex="남", phone="", address="경기도 동두천시 중앙동 예시로 21",
                       household_size=3, crisis_signals=["단전"], discovery_route="복지사각지대 발굴시스템", note="")
    batches = []
    for _ in range(2):
        batch = ImportBatch(uploaded_by_id=users["coordinator"].id, filename="발굴명단.xlsx", status="pending",
                            payload=json.dumps({"rows": [repeat.to_json()], "warnings": []}, ensure_ascii=False))
        db.session.add(batch)
        batches.append(batch)
    db.session.flush()

    def item_of(meeting, member):
        return _one(select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id,
                                                AgendaItem.household_id == member.household_id))

    def invitation_of(meeting, username):
        return _one(select(Invitation.id).where(Invitation.meeting_id == meeting.id,
                                                Invitation.agency_id == users[username].agency_id))

    def action_of(username):
        """The agency's first action still to do: of the meeting five weeks ago (the 2021 ones are done)."""
        return _one(select(ActionItem.id).where(ActionItem.agency_id == users[username].agency_id,
                                                ActionItem.status.in_(["open", "in_progress"]))
                    .order_by(ActionItem.id))

    reminder = Notification(user_id=users["mh"].id, kind="input.reminder", message="의견 제출 요청", link="/actions",
                            params=json.dumps({"meeting": upcoming.title}, ensure_ascii=False))
    db.session.add(reminder)
    db.session.flush()

    ids = {
        "upcoming": upcoming.id, "past": past.id, "unchaired": unchaired.id,
        "case": kim.household_id, "hidden_case": hidden.household_id, "head": kim.id,
        "consent": _one(select(Consent.id).where(Consent.household_id == kim.household_id)),
        "item": item_of(upcoming, kim), "past_item": item_of(past, kim),
        "invitation": invitation_of(upcoming, "mh"), "past_invitation": invitation_of(past, "mh"),
        "own_action": action_of("mh"), "other_action": action_of("dream"),
        "mh_agency": users["mh"].agency_id, "police_agency": police.id, "mh_user": users["mh"].id,
        "batch": batches[0].id, "cancel_batch": batches[1].id, "mh_notification": reminder.id,
    }
    assert all(ids.values()), ids
    case_numbers = {head: db.session.get(Household, member.household_id).case_number
                    for head, member in heads.items()}
    db.session.commit()
    return World(ids=ids, case_numbers=case_numbers)


@pytest.fixture
def world(app) -> World:
    return seed_world()


@pytest.fixture
def seeded(app) -> int:
    """The demo city alone (``conference.demo.seed`` with ``demo.DEFAULT_PASSWORD``); the id of its upcoming meeting.

    That meeting (next week, in preparation) invites four agencies and has inputs of some of them (version 1).
    """
    seed_demo(demo.DEFAULT_PASSWORD)
    db.session.commit()
    return upcoming_meeting_id()


def upcoming_meeting_id() -> int:
    """The demo's meeting in preparation (next week's)."""
    return db.session.execute(select(Meeting.id).where(Meeting.status == MeetingStatus.PREPARING.value)).scalar_one()


def login(client, username: str) -> None:
    """Sign ``client`` out, then in as ``username`` of the ``seeded`` demo city; the login must succeed."""
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": demo.DEFAULT_PASSWORD}).status_code == 302
