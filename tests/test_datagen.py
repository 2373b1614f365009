"""The bulk generator behind ``seed-demo --households N``: linked, consistent, realistic, and the app opens it."""
import hashlib
import io
from collections import Counter
from datetime import UTC, datetime

import docx
import pytest
import time_machine
from conftest import POSTGRES_URL, _copy_sqlite, _empty_postgres, make_app
from factories_world import login, seed_once, table_rows
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.orm.attributes import set_committed_value

from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.minutes import services as minutes_services
from conference.minutes import snapshot
from conference.seed import datagen_phrases as phrases
from conference.seed import datagen, demo
from conference.seed.datagen import SUMMARY, generate
from conference.models import (ActionEvent, ActionItem, ActionStatus, Agency, AgencyInput, AgendaItem, Assessment,
                               Attendee, CaseRecord, Consent, Disclosure, DomainRating, Household, InputState,
                               Invitation, Meeting, MeetingStatus, Minutes, MinutesStatus, MonitoringEntry, NeedDomain,
                               RootCause, Sector, User)
from conference.models.cases import MONITORING_METHODS, consent_agency

PASSWORD = demo.DEFAULT_PASSWORD
HOUSEHOLDS = 200


def _users():
    return {u.username: u for u in db.session.execute(select(User)).scalars()}


def _generate(app, seed=3):
    demo.seed(PASSWORD)
    db.session.commit()
    users = _users()
    written = generate(HOUSEHOLDS, config=app.config, coordinator_id=users["coordinator"].id,
                       chair_id=users["chair"].id, seed=seed)
    db.session.commit()
    return written


@pytest.fixture
def generated(app):
    written = seed_once(("generated", HOUSEHOLDS, 3), lambda: _generate(app))
    db.session.commit()
    return written


def _generated_meetings():
    """The generated meetings: those whose agenda holds generated households (the demo's hold the eight demo ones)."""
    return db.session.execute(select(Meeting).where(Meeting.id.in_(
        select(AgendaItem.meeting_id).where(AgendaItem.household_id > 8))).order_by(Meeting.starts_at)).scalars().all()


def test_summary_counts_the_rows_written(generated):
    written = generated
    assert written["household"] == HOUSEHOLDS
    assert HOUSEHOLDS // 25 <= written["meeting"] <= HOUSEHOLDS // 25 + 2  # one per 25 households, two coming up
    assert 4 * HOUSEHOLDS // 25 <= written["agenda_item"] <= 8 * (HOUSEHOLDS // 25 + 2)
    for table in ("invitation", "agency_input", "attendee", "minutes", "case_record", "action_item", "action_event",
                  "monitoring_entry", "root_cause"):
        assert written[table] > 0, table
    assert written["meeting"] == db.session.execute(select(func.count(Meeting.id))).scalar() - 4  # + the demo's


def test_the_linked_data_is_consistent(generated):
    meetings = _generated_meetings()
    finalised = {m.id for m in meetings if m.status == MeetingStatus.FINALISED.value}
    in_review = {m.id for m in meetings if m.status == MeetingStatus.REVIEW.value}
    coming = [m for m in meetings if m.status in (MeetingStatus.PREPARING.value, MeetingStatus.SHARING.value)]
    assert len(finalised) >= 5 and len(in_review) == 1 and len(coming) == 2
    today = today_local()
    assert all(m.starts_at.date() < today for m in meetings if m.id in finalised | in_review)
    assert all(m.starts_at.date() > today for m in coming)

    # Numbered per year in date order, with 3–5 invited agencies, a chair and 4–8 cases on the agenda.
    by_year = {}
    for meeting in meetings:
        by_year.setdefault(meeting.year, []).append(meeting.number)
        assert meeting.chair_id is not None and meeting.coordinator_id is not None
        invited = db.session.execute(select(func.count()).where(Invitation.meeting_id == meeting.id)).scalar()
        assert 3 <= invited <= 5
        items = db.session.execute(select(func.count()).where(AgendaItem.meeting_id == meeting.id)).scalar()
        assert 1 <= items <= 8
    assert all(numbers == sorted(numbers) and len(set(numbers)) == len(numbers) for numbers in by_year.values())

    # Every agenda item's household exists and its consent covers every invited agency, or the item records why
    # the case is shared with an agency it does not name (the agenda's consent gate).
    orphans = db.session.execute(select(func.count()).select_from(AgendaItem).outerjoin(
        Household, Household.id == AgendaItem.household_id).where(Household.id.is_(None))).scalar()
    assert orphans == 0
    latest = dict(db.session.execute(select(Consent.household_id, func.max(Consent.id))
                                     .group_by(Consent.household_id)).all())
    consented = set(db.session.execute(select(consent_agency.c.consent_id, consent_agency.c.agency_id)).all())
    invited_on_agenda = db.session.execute(select(
        AgendaItem.household_id, Invitation.agency_id, AgendaItem.consent_override_reason).join(
        Invitation, Invitation.meeting_id == AgendaItem.meeting_id)).all()
    assert all((latest.get(household_id), agency_id) in consented or override
               for household_id, agency_id, override in invited_on_agenda)
    assert any(override for _, _, override in invited_on_agenda)

    # Inputs only from invited agencies.
    uninvited = db.session.execute(select(func.count()).select_from(AgencyInput)
                                   .join(AgendaItem, AgendaItem.id == AgencyInput.agenda_item_id)
                                   .outerjoin(Invitation, (Invitation.meeting_id == AgendaItem.meeting_id)
                                              & (Invitation.agency_id == AgencyInput.agency_id))
                                   .where(Invitation.id.is_(None))).scalar()
    assert uninvited == 0

    # Actions: on an agenda item of their meeting, for that item's household; in effect only once approved.
    for action, item in db.session.execute(select(ActionItem, AgendaItem).join(
            AgendaItem, AgendaItem.id == ActionItem.agenda_item_id).where(ActionItem.household_id > 8)):
        assert (action.meeting_id, action.household_id) == (item.meeting_id, item.household_id)
        if action.meeting_id in finalised:
            assert action.status != ActionStatus.PLANNED.value
        else:
            assert action.meeting_id in in_review and action.status == ActionStatus.PLANNED.value
    assert db.session.execute(select(func.count()).where(ActionItem.agenda_item_id.is_(None))).scalar() == 0

    # Held meetings have attendance and a record of every case; finalised minutes are final, hashed and
    # exactly what the chair's approval would have locked.
    chair = _users()["chair"]
    for meeting_id in finalised | in_review:
        assert db.session.execute(select(func.count()).where(Attendee.meeting_id == meeting_id)).scalar() >= 2
        records = db.session.execute(select(func.count()).select_from(AgendaItem).join(
            CaseRecord, CaseRecord.agenda_item_id == AgendaItem.id).where(AgendaItem.meeting_id == meeting_id)).scalar()
        assert records == db.session.execute(select(func.count()).where(AgendaItem.meeting_id == meeting_id)).scalar()
        minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting_id)).scalar_one()
        if meeting_id in in_review:
            assert minutes.status == MinutesStatus.REVIEW.value and not minutes.snapshot
            continue
        assert minutes.status == MinutesStatus.FINAL.value and minutes.approved_by_id == chair.id
        assert minutes.content_hash == hashlib.sha256(minutes.snapshot.encode()).hexdigest()
        meeting = minutes_services.load_for_minutes(meeting_id)
        as_approved(meeting, minutes.finalised_at.astimezone(KST).date())
        assert snapshot.to_json(minutes_services.minutes_data(meeting, approver=chair)) == minutes.snapshot
        db.session.expunge_all()


def as_approved(meeting, approved_on):
    """Put the consents of the meeting's households back as they stood when its minutes were approved: a consent
    withdrawn since was still in force then (in memory only; nothing is written)."""
    for item in meeting.agenda_items:
        for consent in item.household.consents:
            if consent.withdrawn_on is not None and consent.withdrawn_on > approved_on:
                set_committed_value(consent, "withdrawn_on", None)


def test_the_mix_is_realistic(generated):
    today = today_local()
    statuses = dict(db.session.execute(select(ActionItem.status, func.count()).where(
        ActionItem.household_id > 8, ActionItem.status != ActionStatus.PLANNED.value).group_by(ActionItem.status)).all())
    total = sum(statuses.values())
    assert statuses[ActionStatus.DONE.value] > total / 2
    overdue = db.session.execute(select(func.count()).where(
        ActionItem.household_id > 8, ActionItem.due_on < today,
        ActionItem.status.in_([ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value]))).scalar()
    assert 0 < overdue < total / 4
    assert db.session.execute(select(func.count()).where(ActionEvent.kind == "progress")).scalar() > 0

    states = dict(db.session.execute(select(AgencyInput.state, func.count()).group_by(AgencyInput.state)).all())
    assert states[InputState.SUBMITTED.value] > states.get(InputState.DRAFT.value, 0)
    sharing = db.session.execute(select(Meeting).where(Meeting.status == MeetingStatus.SHARING.value)).scalars().all()
    assert sharing, "an upcoming meeting shares its packets"

    methods = set(db.session.execute(select(MonitoringEntry.method)).scalars())
    assert methods and methods <= set(MONITORING_METHODS)
    checks = db.session.execute(select(Household.next_check_on).where(Household.next_check_on.is_not(None))).scalars()
    checks = list(checks)
    assert any(day <= today for day in checks) and any(day > today for day in checks)
    assert db.session.execute(select(func.count()).where(Household.next_check_on.is_not(None),
                                                         Household.status != "selected",
                                                         Household.status != "aftercare",
                                                         Household.id > 8)).scalar() == 0


def test_texts_carry_the_levels_their_writers_would_give(generated):
    """Mental-health, suicide-risk, alcohol and violence phrases are 민감정보 wherever they are written; so is the
    health domain and whatever a mental-health or health centre writes; a few coordinator notes are 시 내부."""
    sensitive_or_internal = {Disclosure.SENSITIVE.value, Disclosure.INTERNAL.value}

    def check(rows, *, health=lambda row: False):
        levels = Counter()
        for text, level, *rest in rows:
            levels[level] += 1
            if any(phrase in (text or "") for phrase in phrases.MENTAL_HEALTH) or health(rest):
                assert level in sensitive_or_internal, (text, level)
        return levels

    generated_items = select(AgendaItem.id).where(AgendaItem.household_id > 8)
    key_questions = check(db.session.execute(select(AgendaItem.key_question, AgendaItem.key_question_level).where(
        AgendaItem.id.in_(generated_items))).all())
    discussions = check(db.session.execute(select(CaseRecord.discussion, CaseRecord.discussion_level).where(
        CaseRecord.agenda_item_id.in_(generated_items))).all())
    check(db.session.execute(select(CaseRecord.decisions + " " + CaseRecord.goals, CaseRecord.decisions_level)
                             .where(CaseRecord.agenda_item_id.in_(generated_items))).all())
    causes = check(db.session.execute(select(RootCause.cause, RootCause.level, RootCause.domain)).all(),
                   health=lambda rest: rest[0] == NeedDomain.HEALTH.value)
    tasks = check(db.session.execute(select(ActionItem.task, ActionItem.task_level, ActionItem.domain).where(
        ActionItem.household_id > 8)).all(), health=lambda rest: rest[0] == NeedDomain.HEALTH.value)
    notes = check(db.session.execute(select(DomainRating.notes, DomainRating.notes_level, DomainRating.domain).join(
        Assessment, Assessment.id == DomainRating.assessment_id).where(Assessment.household_id > 8)).all(),
                  health=lambda rest: rest[0] == NeedDomain.HEALTH.value)
    check(db.session.execute(select(Assessment.summary, Assessment.summary_level).where(
        Assessment.household_id > 8)).all())
    health_sectors = {Sector.MENTAL_HEALTH.value, Sector.HEALTH_CENTRE.value}
    inputs = Counter()
    for row in db.session.execute(select(AgencyInput, Agency.sector).join(Agency, Agency.id == AgencyInput.agency_id)
                                  .where(AgencyInput.agenda_item_id.in_(generated_items))):
        agency_input, sector = row
        for text, level in ((agency_input.facts, agency_input.facts_level),
                            (agency_input.opinion, agency_input.opinion_level),
                            (agency_input.risk_concerns, agency_input.risk_level)):
            check([(text, level, sector)], health=lambda rest: rest[0] in health_sectors)
            inputs[level] += bool(text)
    assert inputs[Disclosure.SENSITIVE.value] and inputs[Disclosure.SHARED.value] > inputs[Disclosure.SENSITIVE.value]
    for levels in (key_questions, discussions, causes, tasks, notes):
        assert levels[Disclosure.SENSITIVE.value] and levels[Disclosure.SHARED.value], levels
    assert key_questions[Disclosure.INTERNAL.value] + discussions[Disclosure.INTERNAL.value] > 0
    assert not (causes[Disclosure.INTERNAL.value] or tasks[Disclosure.INTERNAL.value]
                or inputs[Disclosure.INTERNAL.value])  # 시 내부 is the city's own notes only


def test_consents_put_invited_agencies_in_every_case(generated):
    """On the agenda, an invited agency is named by the consent with sensitive data, named without, or not named
    (shared through the recorded override, and so are its actions); some households withdraw after their last
    meeting, and none of those is on a meeting still to approve or to come."""
    latest = dict(db.session.execute(select(Consent.household_id, func.max(Consent.id))
                                     .group_by(Consent.household_id)).all())
    consents = {c.id: c for c in db.session.execute(select(Consent)).scalars()}
    named = set(db.session.execute(select(consent_agency.c.consent_id, consent_agency.c.agency_id)).all())
    seen = Counter()
    for household_id, agency_id, override in db.session.execute(select(
            AgendaItem.household_id, Invitation.agency_id, AgendaItem.consent_override_reason).join(
            Invitation, Invitation.meeting_id == AgendaItem.meeting_id).where(AgendaItem.household_id > 8)):
        consent = consents[latest[household_id]]
        if (consent.id, agency_id) not in named:
            assert override
            seen["not named"] += 1
        else:
            seen["with sensitive" if consent.covers_sensitive else "without sensitive"] += 1
    assert seen["not named"] and seen["with sensitive"] and seen["without sensitive"], seen
    for action in db.session.execute(select(ActionItem).where(ActionItem.household_id > 8)).scalars():
        consent = consents[latest[action.household_id]]
        invited = db.session.execute(select(Invitation.id).where(Invitation.meeting_id == action.meeting_id,
                                                                 Invitation.agency_id == action.agency_id)).first()
        assert bool(action.consent_override_reason) == bool(invited and (consent.id, action.agency_id) not in named)
    withdrawn = [c for c in consents.values() if c.withdrawn_on is not None and c.household_id > 8]
    assert withdrawn
    for consent in withdrawn:
        meetings = db.session.execute(select(Meeting).join(AgendaItem, AgendaItem.meeting_id == Meeting.id).where(
            AgendaItem.household_id == consent.household_id)).scalars().all()
        assert meetings and all(m.status == MeetingStatus.FINALISED.value for m in meetings)
        assert consent.withdrawn_on > max(m.starts_at.astimezone(KST).date() for m in meetings)


def test_the_chair_approves_the_generated_minutes_in_review(client, generated):
    meeting = next(m for m in _generated_meetings() if m.status == MeetingStatus.REVIEW.value)
    login(client, "chair")
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 200
    assert client.post(f"/meetings/{meeting.id}/minutes/approve", data={"confirm": "reviews-missing"}).status_code == 302
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
    assert minutes.status == MinutesStatus.FINAL.value and minutes.content_hash
    planned = db.session.execute(select(func.count()).where(ActionItem.meeting_id == meeting.id,
                                                            ActionItem.status == ActionStatus.PLANNED.value)).scalar()
    assert planned == 0


@pytest.mark.skipif(bool(POSTGRES_URL), reason="compares two SQLite databases")
def test_the_same_seed_gives_the_same_data(app, template_database, tmp_path):
    def fingerprint():
        hashes = db.session.execute(select(Minutes.content_hash).order_by(Minutes.id)).scalars().all()
        actions = db.session.execute(select(ActionItem.task, ActionItem.due_on, ActionItem.status)
                                     .order_by(ActionItem.id)).all()
        return hashes, actions

    _generate(app)
    first = fingerprint()
    path = tmp_path / "again.sqlite"
    _copy_sqlite(template_database, path)
    other = make_app(f"sqlite:///{path}")
    with other.app_context():
        _generate(other)
        second = fingerprint()
        db.session.remove()
        db.engine.dispose()
    assert first == second and len(first[0]) > 5


def test_the_bulk_writer_writes_what_core_inserts_write(app, template_database, tmp_path, monkeypatch):
    """COPY (PostgreSQL) or executemany of plain tuples (SQLite), each batch written while the next is generated,
    leaves the same rows as Core ``insert`` batches: the same world, generated twice at the same moment, once each
    way."""
    monkeypatch.setattr(datagen, "BATCH", 500)  # batches written while the next is generated

    def world(bulk):
        """The generated rows (the demo's own are left out: on PostgreSQL their order varies from run to run)."""
        monkeypatch.setattr(datagen._Writer, "bulk", bulk)
        with time_machine.travel(datetime(2025, 6, 2, 1, 30, tzinfo=UTC), tick=False):
            demo.seed(PASSWORD)
            db.session.commit()
            tables = [table for table in db.metadata.sorted_tables if "id" in table.c]
            before = {table.name: db.session.execute(select(func.max(table.c.id))).scalar() or 0 for table in tables}
            users = _users()
            written = generate(60, config=app.config, coordinator_id=users["coordinator"].id,
                               chair_id=users["chair"].id, seed=5)
            db.session.commit()
        rows = table_rows(db.session.connection(), [db.metadata.tables[name] for name in written])
        return {name: [row for row in found if (row["id"] if "id" in row else row["consent_id"])
                       > before["consent" if name == "consent_agency" else name]] for name, found in rows.items()}

    inserted = world(bulk=False)
    if POSTGRES_URL:
        _empty_postgres()
        copied = world(bulk=True)
    else:
        path = tmp_path / "bulk.sqlite"
        _copy_sqlite(template_database, path)
        with make_app(f"sqlite:///{path}").app_context():
            copied = world(bulk=True)
            db.session.remove()
            db.engine.dispose()
    assert all(inserted[table] for table, _, _ in SUMMARY), [table for table, _, _ in SUMMARY if not inserted[table]]
    assert any(row["withdrawn_on"] for row in inserted["consent"])
    assert any(row["next_check_on"] for row in inserted["household"])
    for table in inserted:
        assert copied[table] == inserted[table], table


def _pages(meeting_id, household_id, upcoming_id, coordinator):
    pages = [f"/meetings/{meeting_id}/minutes", f"/meetings/{meeting_id}/packet", f"/cases/{household_id}",
             "/actions", "/actions?due=overdue", "/dashboard", "/home", "/meetings"]
    if coordinator:  # the case list and the meeting's own page are the staff's; others read the packet
        pages += ["/cases", "/cases/checks", f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/run",
                  f"/meetings/{upcoming_id}", f"/meetings/{upcoming_id}/inputs"]
    return pages


@pytest.mark.parametrize("username", ["coordinator", "mh", "chair"])
def test_the_app_opens_generated_meetings_minutes_and_cases(client, generated, username):
    user = _users()[username]
    meetings = _generated_meetings()
    finalised = [m for m in meetings if m.status == MeetingStatus.FINALISED.value]
    if user.role == "practitioner":
        invited = set(db.session.execute(select(Invitation.meeting_id).where(
            Invitation.agency_id == user.agency_id)).scalars())
        finalised = [m for m in finalised if m.id in invited]
    meeting = finalised[-1]
    later = select(AgendaItem.household_id).where(AgendaItem.meeting_id.not_in([m.id for m in finalised]))
    household_id = db.session.execute(select(AgendaItem.household_id).where(  # not yet on a meeting to come
        AgendaItem.meeting_id == meeting.id, AgendaItem.household_id.not_in(later))).scalars().first()
    upcoming = next(m for m in meetings if m.status == MeetingStatus.SHARING.value)
    login(client, username)
    for url in _pages(meeting.id, household_id, upcoming.id, username == "coordinator"):
        assert client.get(url).status_code == 200, url
    if username != "coordinator":  # others open an approved meeting on its minutes (before: its packet)
        assert client.get(f"/meetings/{meeting.id}").headers["Location"].endswith(f"/meetings/{meeting.id}/minutes")

    download = client.post(f"/meetings/{meeting.id}/minutes.docx", data={"purpose": "사례 점검"})
    assert download.status_code == 200
    word = docx.Document(io.BytesIO(download.data))
    body = "\n".join(p.text for p in word.paragraphs)
    footer = "\n".join(p.text for p in word.sections[0].footer.paragraphs)
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
    assert meeting.title in body and minutes.content_hash in footer and "○○" in body


@pytest.mark.skipif(not POSTGRES_URL, reason="VACUUM after a bulk load: PostgreSQL's visibility map")
def test_after_a_bulk_load_postgresql_tables_are_vacuumed_so_index_only_scans_skip_them(app):
    """``settle`` does what autovacuum would do some minutes later: the tables' pages are marked all-visible."""
    demo.seed(demo.DEFAULT_PASSWORD)
    db.session.commit()
    visible = select(sql("relallvisible")).select_from(sql("pg_class")).where(sql("relname = 'household'"))
    db.session.execute(sql("ANALYZE household"))
    db.session.commit()
    assert db.session.execute(visible).scalar() == 0
    datagen.settle()
    assert db.session.execute(visible).scalar() > 0
