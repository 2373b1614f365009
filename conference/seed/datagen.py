"""Realistic fictional data in bulk, for benchmarks and large demos (``flask seed-demo --households N``).

``generate`` builds households and their whole linked history: integrated case meetings with agendas,
invitations, agency input, attendance, case records, root causes, approved minutes (snapshot and content
hash as the chair's approval makes them), actions with their progress, and monitoring contacts.
``generate_households`` builds the case register alone.

Rows are written in batches with explicit ids (no ORM objects), with COPY on PostgreSQL and ``executemany`` on
SQLite, each batch by a thread of its own while the next is generated: 500,000 households with their history take
about seven minutes on PostgreSQL, six on SQLite (docs/PERFORMANCE.md). Every name is made up; text comes from the
phrase lists in ``conference.seed.datagen_phrases``. The same seed and the same day give the same data.

Every text gets the disclosure level its writer would choose (``_level``): 민감정보 for the health domain, for
whatever a mental-health or health centre writes, and for any phrase about mental health, suicide risk, alcohol
or violence; 시 내부 for a few of the coordinator's notes; else 참석기관 공유. Consents exercise every case an
agency can be in: named with sensitive data, named without, not named (the case is shared with it through a
recorded override, as the agenda demands), and withdrawn after the household's last meeting.
"""
import heapq
import json
import random
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import ARRAY, bindparam, func, insert, select, text, update

from conference.core.formatting import KST, today_local
from conference.core.masking import mask_name
from conference.extensions import db
from conference.meetings import rules
from conference.minutes import document, snapshot
from conference.minutes.services import case_summary, decided_text, decisions_text, position_of
from conference.models import (ActionStatus, Agency, Disclosure, Assessment, Consent, DomainRating, Household, InputState,
                               Meeting, MeetingKind, MeetingStatus, Member, MinutesStatus, NeedDomain, Role, Stage,
                               Track, User)
from conference.models.cases import MONITORING_METHODS, CaseNumberCounter, case_number, consent_agency
from conference.models.meetings import meeting_title
from conference.seed import datagen_phrases as phrases
from conference.shared import disclosure
from conference.shared import freshness

SHARED = Disclosure.SHARED.value
SENSITIVE = Disclosure.SENSITIVE.value
INTERNAL = Disclosure.INTERNAL.value


def _level(*parts: str, domain: str | None = None, sector: str | None = None) -> str:
    """The level a writer gives text made of ``parts``: 시 내부 if a part is a note for the city alone, 민감정보 in
    the health domain, from a health agency or with a mental-health phrase, else 참석기관 공유."""
    if any(part in INTERNAL_PHRASES for part in parts):
        return INTERNAL
    if disclosure.default_level(domain=domain, sector=sector) == Disclosure.SENSITIVE \
            or any(part in phrases.MENTAL_HEALTH for part in parts):
        return SENSITIVE
    return SHARED


def _head_name(household_id: int, korean: str) -> str:
    """The head's name: ``korean`` (drawn either way, so the rest of the data stays as it was), or one in forty a
    foreign-born head's longer name."""
    if household_id % FOREIGN_EVERY:
        return korean
    return FOREIGN_NAMES[household_id // FOREIGN_EVERY % len(FOREIGN_NAMES)]


def _strictest(*levels: str) -> str:
    return max(levels, key=[SHARED, SENSITIVE, INTERNAL].index)


INTERNAL_PHRASES = frozenset(phrases.INTERNAL_KEY_QUESTIONS + phrases.INTERNAL_NOTES)

SURNAMES = (["김"] * 21 + ["이"] * 15 + ["박"] * 8 + ["최"] * 5 + ["정"] * 5
            + list("강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나엄채원천방공현함변염여추도소석"))
GIVEN = ["민준", "서준", "도윤", "예준", "시우", "하준", "지호", "주원", "서연", "서윤", "지우", "서현", "민서", "하은",
         "영희", "철수", "영수", "순자", "영숙", "정숙", "옥순", "명숙", "성호", "영철", "정호", "광수", "동현", "은정",
         "미경", "현주", "대현", "민수", "은영", "경희", "정희", "미숙", "상훈", "성민", "재훈", "혜진", "수진"]
#: Heads of multicultural families (다문화가족), one in forty: names longer than a name search's indexed places.
FOREIGN_NAMES = ["응우옌티투", "쩐티투이린", "마리아산토스", "누르갈리예바", "응우옌반남", "팜티흐엉란", "로살린다크루즈",
                 "아이게림베코바"]
FOREIGN_EVERY = 40
SIGNALS = ["단전", "단수", "단가스", "건강보험료 체납", "통신비 체납", "공동주택 관리비 체납", "금융 연체", "실직",
           "주거 위기", "의료비 과다"]
RELATIONS = [("배우자", 0), ("자녀", 28), ("자녀", 32), ("부", -28), ("모", -26)]
#: Final stage of a generated household and how often it occurs.
STAGE_WEIGHTS = [(Stage.DISCOVERED, 20), (Stage.COUNSELLING, 10), (Stage.INTAKE, 8), (Stage.ASSESSMENT, 8),
                 (Stage.SELECTED, 30), (Stage.NOT_SELECTED, 10), (Stage.CLOSED, 10), (Stage.AFTERCARE, 4)]
PATH = [Stage.DISCOVERED, Stage.COUNSELLING, Stage.INTAKE, Stage.ASSESSMENT]
#: Rows held before they are written (all tables together, parents first).
BATCH = 20000
#: About one integrated case meeting per this many generated households.
HOUSEHOLDS_PER_MEETING = 25
#: Share of households with consent that leave one partner agency out of it (shared with it only by override).
DECLINING = 0.25
#: Share of households discussed only at approved meetings that withdraw their consent afterwards.
WITHDRAWING = 0.08
#: What ``generate`` reports, in this order: table, Korean label, English label.
SUMMARY = [("household", "가구", "households"), ("household_member", "가구원", "members"),
           ("household_status_change", "단계 이력", "stage changes"), ("consent", "정보제공 동의", "consents"),
           ("assessment", "욕구조사", "assessments"), ("meeting", "통합사례회의", "meetings"),
           ("invitation", "초대 기관", "invitations"), ("agenda_item", "안건", "agenda items"),
           ("agency_input", "기관 의견", "agency inputs"), ("attendee", "참석자", "attendees"),
           ("minutes", "회의록", "minutes"), ("case_record", "사례 기록", "case records"),
           ("root_cause", "근본원인", "root causes"), ("action_item", "실행과제", "actions"),
           ("action_event", "실행과제 점검 기록", "action events"),
           ("monitoring_entry", "모니터링", "monitoring entries")]


class _Writer:
    """Rows waiting to be written; all of them go out together, parent tables first, through the driver's bulk path.

    A full batch is written by a thread of its own while the next one is generated (the database works on the other
    core: on PostgreSQL, checking the foreign keys takes longer than sending the rows). Only that thread uses the
    connection until ``wait`` returns; everything else that reads or writes waits for it first.
    """

    #: False: Core ``insert`` batches instead of ``_bulk_insert``, one at a time (tests/test_datagen.py checks that
    #: both write the same).
    bulk = True

    def __init__(self):
        self.pending: dict[str, list[dict]] = defaultdict(list)
        self.waiting = 0
        self.written: Counter = Counter()
        self.last_ids: dict[str, int] = {}
        self.sending: _Sending | None = None

    def next_id(self, table: str) -> int:
        if table not in self.last_ids:
            self.wait()
            column = db.metadata.tables[table].c.id
            self.last_ids[table] = db.session.execute(select(func.max(column))).scalar() or 0
        self.last_ids[table] += 1
        return self.last_ids[table]

    def add(self, table: str, row: dict) -> dict:
        self.pending[table].append(row)
        self.waiting += 1
        if self.waiting >= BATCH:
            self.send()
        return row

    def send(self) -> None:
        """Start writing what is pending (once the batch before it is in)."""
        self.wait()
        batch = [(table, self.pending.pop(table.name)) for table in db.metadata.sorted_tables
                 if table.name in self.pending]
        self.waiting = 0
        if not batch:
            return
        for table, rows in batch:
            self.written[table.name] += len(rows)
        connection = db.session.connection()
        if self.bulk:
            self.sending = _Sending(connection.connection.dbapi_connection, connection.dialect, batch)
            self.sending.start()
        else:
            for table, rows in batch:
                connection.execute(insert(table), rows)

    def wait(self) -> None:
        """Return once the batch being written is in; raise what writing it raised."""
        sending, self.sending = self.sending, None
        if sending is not None:
            sending.join()
            if sending.error is not None:
                raise sending.error

    def flush(self) -> None:
        """Write everything pending, and wait for it."""
        self.send()
        self.wait()

    def update(self, column, rows: list[tuple[int, object]]) -> None:
        """Set ``column`` of the rows with the given ids: (id, value) pairs, after what is pending is written."""
        self.flush()
        if not rows:
            return
        connection, table = db.session.connection(), column.table
        if self.bulk and connection.dialect.name == "postgresql":  # one statement over two arrays
            ids, values = zip(*rows, strict=True)
            given = func.unnest(bindparam("ids", list(ids), ARRAY(table.c.id.type)),
                                bindparam("values", list(values), ARRAY(column.type)))
            given = given.table_valued("id", "value").render_derived()
            connection.execute(update(table).where(table.c.id == given.c.id).values({column: given.c.value}))
        else:
            connection.execute(update(table).where(table.c.id == bindparam("b_id"))
                               .values({column: bindparam("b_value")}),
                               [{"b_id": row_id, "b_value": value} for row_id, value in rows])

    def finish(self) -> Counter:
        """Write what is left, move PostgreSQL's sequences on, and mark dashboard figures and pages stale."""
        self.flush()
        _sync_sequences(*(name for name in self.written if "id" in db.metadata.tables[name].c))
        if self.written:
            freshness.raise_versions(db.session.connection())
        return self.written


class _Sending(threading.Thread):
    """Writes one batch, table by table, through ``_bulk_insert`` (the error, if any, is kept for ``_Writer.wait``)."""

    def __init__(self, dbapi_connection, dialect, batch: list[tuple]):
        super().__init__(name="datagen-writer")
        self.dbapi_connection, self.dialect, self.batch = dbapi_connection, dialect, batch
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for table, rows in self.batch:
                _bulk_insert(self.dbapi_connection, self.dialect, table, rows)
        except BaseException as error:  # noqa: BLE001  # handed to the generating thread
            self.error = error


def _bulk_insert(dbapi_connection, dialect, table, rows: list[dict]) -> None:
    """Write ``rows`` (dicts with the same columns) into ``table`` as Core ``insert`` would, only faster: COPY on
    PostgreSQL, ``executemany`` of plain tuples on SQLite. Each value is converted as SQLAlchemy binds it (UTC
    timestamps, dates, booleans); a column the rows leave out gets its Python default, or else its server default."""
    columns = [column for column in table.columns if column.name in rows[0] or column.default is not None]
    for column in columns:
        if column.name not in rows[0] and not (column.default.is_scalar or column.default.is_callable):
            raise ValueError(f"{table.name}.{column.name}: only Python defaults are filled in")
    processors = [(column.name in rows[0], column.name, column.default,
                   column.type.dialect_impl(dialect).bind_processor(dialect)) for column in columns]

    def values(row: dict) -> tuple:
        converted = []
        for given, name, default, process in processors:
            value = row[name] if given else default.arg if default.is_scalar else default.arg(None)
            converted.append(process(value) if process else value)
        return tuple(converted)

    if dialect.name == "postgresql":
        quote = dialect.identifier_preparer
        into = f"{quote.format_table(table)} ({', '.join(quote.format_column(column) for column in columns)})"
        with dbapi_connection.cursor() as cursor, cursor.copy(f"COPY {into} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values(row))
        return
    statement = insert(table).compile(dialect=dialect, column_keys=[column.name for column in columns])
    if list(statement.positiontup) != [column.name for column in columns]:
        raise ValueError(f"{table.name}: the INSERT's parameters are not the columns given")
    cursor = dbapi_connection.cursor()
    try:
        cursor.executemany(str(statement), [values(row) for row in rows])
    finally:
        cursor.close()


def _sync_sequences(*tables: str) -> None:
    """PostgreSQL: move each id sequence past the ids inserted explicitly."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for name in tables:
        table = db.metadata.tables[name]
        last_id = func.coalesce(select(func.max(table.c.id)).scalar_subquery(), 1)
        db.session.execute(select(func.setval(func.pg_get_serial_sequence(name, "id"), last_id)))


def _analyze() -> None:
    db.session.execute(text("ANALYZE"))  # fresh planner statistics after a bulk load


def settle() -> None:
    """After a committed bulk load on PostgreSQL, VACUUM the application's tables, as autovacuum would some minutes
    later: until then their visibility maps are empty and an index-only scan visits the table for every row (the case
    list filtered by stage and 행정동, 1.44× → 1.27× from 1,000 to 500,000 households). Runs outside a transaction."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        quote = connection.dialect.identifier_preparer.quote
        tables = ", ".join(quote(name) for name in db.metadata.tables)
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {tables}")


def generate(households: int, *, config, coordinator_id: int, chair_id: int | None, seed: int = 7,
             today: date | None = None) -> Counter:
    """Households discovered over the last three years and their whole linked history; rows written per table.

    For the command line and the benchmarks; adds the partner agencies of ``datagen_phrases`` when missing.
    """
    today = today or today_local()
    _add_partner_agencies()
    writer = _Writer()
    first_id = (db.session.execute(select(func.max(Household.id))).scalar() or 0) + 1
    _write_households(writer, households, config=config, coordinator_id=coordinator_id, seed=seed,
                      first_year=today.year - 2, last_year=today.year, today=today)
    writer.flush()
    _write_history(writer, first_id, config=config, coordinator_id=coordinator_id, chair_id=chair_id, today=today,
                   seed=seed + 1)
    written = writer.finish()
    _analyze()
    return written


def _add_partner_agencies() -> None:
    existing = set(db.session.execute(select(Agency.name)).scalars())
    for name, is_public, sector in phrases.PARTNER_AGENCIES:
        if name not in existing:
            db.session.add(Agency(name=name, is_public=is_public, sector=sector))
    db.session.flush()


def generate_households(count: int, *, config, coordinator_id: int | None, seed: int = 7,
                        first_year: int = 2019, last_year: int = 2021, today: date | None = None) -> int:
    """Insert ``count`` households with members, stage history, consent and an assessment; returns count.

    With ``today``, no household is discovered later than a month before it.
    """
    writer = _Writer()
    _write_households(writer, count, config=config, coordinator_id=coordinator_id, seed=seed,
                      first_year=first_year, last_year=last_year, today=today)
    writer.finish()
    _analyze()
    return count


def _write_households(writer: _Writer, count: int, *, config, coordinator_id: int | None, seed: int,
                      first_year: int, last_year: int, today: date | None) -> None:
    rng = random.Random(seed)  # nosec B311  # reproducible fictional data, not a secret
    agency_ids = list(db.session.execute(select(Agency.id).order_by(Agency.id)).scalars())
    seqs = dict(db.session.execute(select(Household.case_year, func.max(Household.case_seq))
                                   .group_by(Household.case_year)).all())
    latest = today - timedelta(days=30) if today else None
    now = datetime.now(UTC)
    stages, weights = zip(*STAGE_WEIGHTS, strict=True)
    for _ in range(count):
        household_id = writer.next_id("household")
        year = rng.randint(first_year, last_year)
        discovered = date(year, rng.randint(1, 12), rng.randint(1, 28))
        if latest is not None and discovered > latest:
            discovered = date.fromordinal(rng.randint(date(first_year, 1, 1).toordinal(), latest.toordinal()))
            year = discovered.year
        seqs[year] = seqs.get(year, 0) + 1
        final = rng.choices(stages, weights)[0]
        district = rng.choice(config["DISTRICTS"])
        route = rng.choice(config["DISCOVERY_ROUTES"])
        head_birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
        size = rng.randint(1, 5)
        writer.add("household", {
            "id": household_id, "case_year": year, "case_seq": seqs[year], "district": district,
            "address": f"경기도 동두천시 {district} {rng.randrange(1, 400)}",
            "phone": f"010-{rng.randrange(2000, 9999)}-{rng.randrange(0, 9999):04d}", "household_size": size,
            "discovery_route": route, "discovered_on": discovered,
            "extraction_round": f"{year}-{(discovered.month - 1) // 3 + 1}" if route == config["EXTRACTION_ROUTE"]
            else "", "crisis_signals": ";".join(rng.sample(SIGNALS, rng.randint(1, 3))),
            "referring_agency_id": None, "coordinator_id": coordinator_id, "status": final.value,
            "track": Track.CASE_MANAGEMENT.value if final == Stage.SELECTED else "",
            "classification": rng.choice(config["CLASSIFICATIONS"]) if final == Stage.SELECTED else "",
            "closure_reason": rng.choice(config["CLOSURE_REASONS"]) if final in (Stage.CLOSED, Stage.AFTERCARE)
            else "", "next_check_on": None, "note": "", "created_at": now, "updated_at": now})
        writer.add("household_member", {
            "id": writer.next_id("household_member"), "household_id": household_id, "is_head": True,
            "relation": "본인", "name": _head_name(household_id, rng.choice(SURNAMES) + rng.choice(GIVEN)),
            "birth_year": head_birth.year,
            "birth_date": head_birth, "sex": rng.choice("남여"), "has_disability": False})
        for relation, offset in rng.sample(RELATIONS, min(size - 1, len(RELATIONS))):
            born = max(1930, min(head_birth.year + offset + rng.randint(-3, 3), today_local().year))
            writer.add("household_member", {
                "id": writer.next_id("household_member"), "household_id": household_id, "is_head": False,
                "relation": relation, "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "birth_year": born,
                "birth_date": None, "sex": rng.choice("남여"), "has_disability": rng.random() < 0.05})
        path = PATH[:PATH.index(final) + 1] if final in PATH else PATH + [final]
        previous = ""
        for step, stage in enumerate(path):
            writer.add("household_status_change", {
                "id": writer.next_id("household_status_change"), "household_id": household_id,
                "from_status": previous, "to_status": stage.value,
                "track": Track.CASE_MANAGEMENT.value if stage == Stage.SELECTED else "", "classification": "",
                "reason": "생성된 자료", "changed_by_id": coordinator_id,
                "changed_at": datetime(discovered.year, discovered.month, discovered.day, tzinfo=UTC)
                + timedelta(days=5 * step)})
            previous = stage.value
        if Stage.ASSESSMENT in path:
            consent_id = writer.add("consent", {
                "id": writer.next_id("consent"), "household_id": household_id, "consented_on": discovered,
                "covers_sensitive": rng.random() < 0.5, "withdrawn_on": None, "note": "",
                "recorded_by_id": coordinator_id, "recorded_at": now})["id"]
            for agency_id in rng.sample(agency_ids, min(len(agency_ids), 4)):
                writer.add("consent_agency", {"consent_id": consent_id, "agency_id": agency_id})
            summary = rng.choice(phrases.ASSESSMENT_SUMMARIES) if rng.random() < 0.7 else ""
            assessment_id = writer.add("assessment", {
                "id": writer.next_id("assessment"), "household_id": household_id, "assessed_on": discovered,
                "summary": summary, "summary_level": _level(summary), "assessed_by_id": coordinator_id,
                "created_at": now})["id"]
            for domain in rng.sample(list(NeedDomain), 4):
                notes = rng.choice(phrases.RATING_NOTES[domain.value]) if rng.random() < 0.6 else ""
                writer.add("assessment_rating", {
                    "id": writer.next_id("assessment_rating"), "assessment_id": assessment_id,
                    "domain": domain.value, "rating": rng.choice(config["ASSESSMENT_SCALE"]), "notes": notes,
                    "notes_level": _level(notes, domain=domain.value)})
    writer.flush()
    for year, seq in seqs.items():
        counter = db.session.get(CaseNumberCounter, year)
        if counter is None:
            db.session.add(CaseNumberCounter(year=year, last_seq=seq))
        else:
            counter.last_seq = max(counter.last_seq, seq)


def _kst(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), KST).astimezone(UTC)


def _weekday(day: date, *, forward: bool = False) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1 if forward else -1)
    return day


@dataclass(slots=True)
class _Case:
    """A generated household as the history needs it."""

    id: int
    number: str
    status: str
    classification: str
    track: str
    closure_reason: str
    size: int
    signals: list[str]
    discovered: date
    head: str = ""
    children: bool = False
    consent_id: int = 0
    consent_agencies: set[int] = field(default_factory=set)
    covers_sensitive: bool = False
    #: Agencies the household would not have named in its consent: shared with only through an override.
    declined: set[int] = field(default_factory=set)
    #: (domain, rating, notes, notes level) of the latest assessment, in NeedDomain order.
    ratings: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: 종합 소견 of the latest assessment and its level.
    overview: str = ""
    overview_level: str = SHARED
    #: The last day a meeting discussed the case, and whether a meeting still to approve or to come holds it.
    last_discussed: date | None = None
    pending: bool = False
    #: Actions of earlier meetings not yet reviewed by a later one.
    open_actions: list[dict] = field(default_factory=list)
    closed: bool = False

    @property
    def ready(self) -> date:
        """When the case can first be discussed: after its needs assessment."""
        return self.discovered + timedelta(days=20)

    def domains(self, rng: random.Random, pressing: set[str]) -> list[str]:
        """Need domains to act on: those with a ``pressing`` rating (위기, 취약) first."""
        found = [d for d, rating, _, _ in self.ratings if rating in pressing]
        return found or [d for d, _, _, _ in self.ratings] or [rng.choice(list(NeedDomain)).value]


@dataclass(slots=True)
class _Item:
    id: int
    case: _Case
    follow_up: bool
    row: dict = field(default_factory=dict)
    #: Agency id → the sections it sees (the item's section_visibility rows).
    sections: dict[int, str] = field(default_factory=dict)
    inputs: list[dict] = field(default_factory=list)
    record: dict | None = None
    causes: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)


class _World:
    """What every stage of the history shares: the writer, the random generator, the day, the accounts and agencies.

    Every stage draws from the one generator in the order the history runs, so a seed and a day give the same data.
    """

    def __init__(self, writer: _Writer, *, config, coordinator_id: int, chair_id: int | None, today: date, seed: int):
        self.writer, self.config, self.today = writer, config, today
        #: Every rating of the scale but the last (적정) calls for action.
        self.pressing = set(config["ASSESSMENT_SCALE"][:-1])
        self.rng = random.Random(seed)  # nosec B311  # reproducible fictional data, not a secret
        self.agencies = {a.id: a for a in db.session.execute(
            select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.id)).scalars()}
        users = {u.id: u for u in db.session.execute(
            select(User).where(User.is_active_account.is_(True)).order_by(User.id)).scalars()}
        self.coordinator = users[coordinator_id]
        self.chair = users.get(chair_id) if chair_id else None
        self.practitioners: dict[int, list[User]] = defaultdict(list)
        for user in users.values():
            if user.role == Role.PRACTITIONER.value:
                self.practitioners[user.agency_id].append(user)
        #: A made-up contact person for agencies without an account.
        self.contacts = {agency_id: (self._name(), self.rng.choice(phrases.POSITIONS)) for agency_id in self.agencies}
        self.invitable = [a for a in self.agencies.values() if a.id != self.coordinator.agency_id]

    def _name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)


class _Stage:
    """One stage of the history, writing its tables with the shared ``_World``."""

    def __init__(self, world: _World):
        self.world, self.rng, self.writer, self.today = world, world.rng, world.writer, world.today


def _write_history(writer: _Writer, first_id: int, *, config, coordinator_id: int, chair_id: int | None, today: date,
                   seed: int) -> None:
    """Meetings, agency input, minutes, actions and monitoring for the households from ``first_id`` on."""
    world = _World(writer, config=config, coordinator_id=coordinator_id, chair_id=chair_id, today=today, seed=seed)
    all_cases = _load_cases(world, first_id)
    candidates = [c for c in all_cases if c.consent_id and c.status != Stage.ASSESSMENT.value]
    count = max(1, len(all_cases) // HOUSEHOLDS_PER_MEETING) if all_cases else 0
    follow_up = _FollowUp(world)
    if candidates and count:
        meetings = _Meetings(world, _Minutes(world, _Actions(world)))
        meetings.past(sorted(candidates, key=lambda c: (c.ready, c.id)), count)
        meetings.upcoming(all_cases)
        follow_up.withdrawals(all_cases)
    follow_up.monitoring(all_cases)


# --- the households, their consent and assessment, as written by _write_households ---

def _load_cases(world: _World, first_id: int) -> list[_Case]:
    """The generated households from ``first_id`` on as the history needs them: head, children, consent (and the
    partner agency each would not name), latest assessment."""
    cases = {row.id: _Case(row.id, case_number(row.case_year, row.case_seq), row.status, row.classification,
                           row.track, row.closure_reason, row.household_size,
                           [s for s in row.crisis_signals.split(";") if s], row.discovered_on)
             for row in db.session.execute(select(
                 Household.id, Household.case_year, Household.case_seq, Household.status,
                 Household.classification, Household.track, Household.closure_reason, Household.household_size,
                 Household.crisis_signals, Household.discovered_on).where(Household.id >= first_id)
                 .order_by(Household.id))}
    for household_id, name in db.session.execute(
            select(Member.household_id, Member.name).where(Member.household_id >= first_id, Member.is_head)
            .order_by(Member.id.desc())):
        cases[household_id].head = name
    for household_id in db.session.execute(select(Member.household_id).where(
            Member.household_id >= first_id, Member.birth_date.is_(None),
            Member.birth_year > world.today.year - 18)).scalars():
        cases[household_id].children = True
    for household_id, consent_id in db.session.execute(
            select(Consent.household_id, func.max(Consent.id)).where(Consent.household_id >= first_id)
            .group_by(Consent.household_id)):
        cases[household_id].consent_id = consent_id
    by_consent = {c.consent_id: c for c in cases.values() if c.consent_id}
    for consent_id, sensitive in db.session.execute(select(Consent.id, Consent.covers_sensitive).where(
            Consent.household_id >= first_id)):
        if consent_id in by_consent:
            by_consent[consent_id].covers_sensitive = sensitive
    for consent_id, agency_id in db.session.execute(
            select(consent_agency.c.consent_id, consent_agency.c.agency_id)
            .join(Consent, Consent.id == consent_agency.c.consent_id).where(Consent.household_id >= first_id)):
        if consent_id in by_consent:
            by_consent[consent_id].consent_agencies.add(agency_id)
    latest = (select(func.max(Assessment.id)).where(Assessment.household_id >= first_id)
              .group_by(Assessment.household_id))
    order = {d.value: n for n, d in enumerate(NeedDomain)}
    for household_id, domain, rating, notes, level in db.session.execute(
            select(Assessment.household_id, DomainRating.domain, DomainRating.rating, DomainRating.notes,
                   DomainRating.notes_level)
            .join(DomainRating, DomainRating.assessment_id == Assessment.id).where(Assessment.id.in_(latest))):
        cases[household_id].ratings.append((domain, rating, notes, level))
    for household_id, summary, level in db.session.execute(
            select(Assessment.household_id, Assessment.summary, Assessment.summary_level)
            .where(Assessment.id.in_(latest))):
        cases[household_id].overview, cases[household_id].overview_level = summary, level
    for case in cases.values():
        case.ratings.sort(key=lambda r: order[r[0]])
        if case.consent_id and world.rng.random() < DECLINING:  # one partner the household would not name
            unnamed = [a.id for a in world.invitable if a.id not in case.consent_agencies]
            if unnamed:
                case.declined.add(world.rng.choice(unnamed))
    return list(cases.values())


# --- meetings, their agendas and the agencies' input ---

class _Meetings(_Stage):
    """The meetings: when, which cases, the invitations, agenda, section settings and pledges, and agency input."""

    def __init__(self, world: _World, minutes: "_Minutes"):
        super().__init__(world)
        self.minutes = minutes
        self.numbers = dict(db.session.execute(
            select(Meeting.year, func.max(Meeting.number)).where(Meeting.kind == MeetingKind.INTEGRATED.value)
            .group_by(Meeting.year)).all())

    def past(self, candidates: list[_Case], count: int) -> None:
        """``count`` meetings from the first assessment to last week: all approved but the latest, in review."""
        rng = self.rng
        start, end = candidates[0].ready, self.today - timedelta(days=8)
        span = max((end - start).days, 0)
        days = sorted(_weekday(start + timedelta(days=span * (2 * k + 1) // (2 * count))) for k in range(count))
        review_day = _weekday(self.today - timedelta(days=2)) if count >= 3 else None
        if review_day is not None:
            days[-1] = max(days[-1], review_day)
        starts = [_kst(day, 14 if rng.random() < 0.7 else 10) for day in days]
        preferred, others = [], []
        follow_ups: list[tuple[date, int, _Case]] = []
        waiting = iter(candidates)
        upcoming = next(waiting, None)
        for index, starts_at in enumerate(starts):
            day = days[index]
            while upcoming is not None and upcoming.ready <= day:
                (others if upcoming.status == Stage.NOT_SELECTED.value else preferred).append(upcoming)
                upcoming = next(waiting, None)
            size = rng.randint(4, 8)
            picks: list[tuple[_Case, bool]] = []
            while follow_ups and follow_ups[0][0] <= day and len(picks) < size // 3:
                _, _, case = heapq.heappop(follow_ups)
                picks.append((case, True))
            while len(picks) < size and (preferred or others):
                pool = others if others and (not preferred or rng.random() < 0.2) else preferred
                case = pool.pop(rng.randrange(len(pool)))
                if case.ready >= day - timedelta(days=120):  # older ones were not brought to a meeting
                    picks.append((case, False))
            in_review = review_day is not None and index == len(starts) - 1
            if in_review:  # its decisions take effect on approval: only cases they can still apply to
                picks = [p for p in picks if p[0].status in (Stage.SELECTED.value, Stage.NOT_SELECTED.value)]
            if not picks:
                continue
            next_day = days[index + 1] if index + 1 < len(days) else day + timedelta(days=28)
            self.meeting(starts_at, MeetingStatus.REVIEW if in_review else MeetingStatus.FINALISED, picks,
                          next_meeting=next_day)
            for case, _ in picks:
                if not case.closed and case.status != Stage.NOT_SELECTED.value and rng.random() < 0.4:
                    heapq.heappush(follow_ups, (day + timedelta(days=rng.randint(60, 150)), case.id, case))

    def upcoming(self, all_cases: list[_Case]) -> None:
        """Two meetings in the coming days: one sharing its packets (input partly in), one being prepared."""
        rng = self.rng
        open_cases = [c for c in all_cases if c.consent_id and c.status in (
            Stage.SELECTED.value, Stage.ASSESSMENT.value)]
        open_cases.sort(key=lambda c: (c.discovered, c.id), reverse=True)
        recent = open_cases[:40]
        rng.shuffle(recent)
        first = _weekday(self.today + timedelta(days=3), forward=True)
        second = _weekday(self.today + timedelta(days=7), forward=True)
        for day, status, size in ((first, MeetingStatus.SHARING, 6), (second, MeetingStatus.PREPARING, 4)):
            picks, recent = recent[:size], recent[size:]
            if picks:
                self.meeting(_kst(day, 14), status, [(c, False) for c in picks], next_meeting=None)

    def meeting(self, starts_at: datetime, status: MeetingStatus, picks: list[tuple[_Case, bool]], *,
                next_meeting: date | None) -> None:
        rng, writer, world = self.rng, self.writer, self.world
        day = starts_at.astimezone(KST).date()
        year = day.year
        self.numbers[year] = (self.numbers.get(year) or 0) + 1
        meeting = writer.add("meeting", {
            "id": writer.next_id("meeting"), "kind": MeetingKind.INTEGRATED.value, "year": year,
            "number": self.numbers[year], "starts_at": starts_at, "duration_minutes": 120,
            "place": rng.choice(phrases.PLACES), "chair_id": world.chair.id if world.chair else None,
            "coordinator_id": world.coordinator.id, "status": status.value,
            "created_at": starts_at - timedelta(days=21)})
        invited = sorted(rng.sample(world.invitable, min(len(world.invitable), rng.randint(3, 5))), key=lambda a: a.id)
        deadline = rules.working_days_before(day, world.config["INPUT_DEADLINE_WORKING_DAYS"])
        for agency in invited:
            people = world.practitioners.get(agency.id, [])
            writer.add("invitation", {
                "id": writer.next_id("invitation"), "meeting_id": meeting["id"], "agency_id": agency.id,
                "deadline": deadline, "invitees": ", ".join(f"{u.display_name} {u.position}".strip() for u in people)})
        held = status in (MeetingStatus.FINALISED, MeetingStatus.REVIEW)
        items = []
        picks = sorted(picks, key=lambda pick: not pick[0].children)  # cases with children first
        for position, (case, follow_up) in enumerate(picks, start=1):
            item = _Item(writer.next_id("agenda_item"), case, follow_up)
            items.append(item)
            uncovered = []
            for agency in invited:
                if agency.id in case.declined:  # not in the consent: shared only through the override below
                    uncovered.append(agency.name)
                elif agency.id not in case.consent_agencies:  # consent asked for the invited agencies too
                    writer.add("consent_agency", {"consent_id": case.consent_id, "agency_id": agency.id})
                    case.consent_agencies.add(agency.id)
            if follow_up:
                question = phrases.FOLLOW_UP_QUESTION
            elif rng.random() < 0.05:
                question = rng.choice(phrases.INTERNAL_KEY_QUESTIONS)
            else:
                question = rng.choice(phrases.KEY_QUESTIONS)
            override = f"{', '.join(uncovered)}: {rng.choice(phrases.OVERRIDE_REASONS)}" if uncovered else ""
            item.row = writer.add("agenda_item", {
                "id": item.id, "meeting_id": meeting["id"], "household_id": case.id, "position": position,
                "key_question": question, "key_question_level": _level(question),
                "presenting_agency_id": rng.choice(invited).id if rng.random() < 0.5 else None,
                "minutes_allotted": 15, "consent_override_reason": override, "created_at": meeting["created_at"]})
            for agency in invited:
                item.sections[agency.id] = ",".join(sorted(disclosure.default_sections(
                    agency.sector, has_children=case.children)))
                writer.add("section_visibility", {
                    "id": writer.next_id("section_visibility"), "agenda_item_id": item.id, "agency_id": agency.id,
                    "sections": item.sections[agency.id]})
            if held:
                case.last_discussed = day
            if status != MeetingStatus.FINALISED:
                case.pending = True
            self._inputs(item, invited, deadline, status)
            if held:
                self.minutes.record(item, meeting, invited, final=status == MeetingStatus.FINALISED)
        if held:
            for agency in invited:
                for user in world.practitioners.get(agency.id, []):
                    writer.add("pledge", {"id": writer.next_id("pledge"), "meeting_id": meeting["id"],
                                          "user_id": user.id, "accepted_at": _kst(deadline, 9), "ip": ""})
            self.minutes.write(meeting, invited, items, status, next_meeting)

    def _inputs(self, item: _Item, invited: list[Agency], deadline: date, status: MeetingStatus) -> None:
        """Each invited agency's input on the case: most submitted for a held meeting, some still missing."""
        rng, writer, world = self.rng, self.writer, self.world
        share = {MeetingStatus.SHARING: (0.45, 0.15), MeetingStatus.PREPARING: (0.15, 0.1)}.get(status, (0.87, 0.04))
        for agency in invited:
            draw = rng.random()
            if draw >= share[0] + share[1]:
                continue
            submitted = draw < share[0]
            late = submitted and status not in (MeetingStatus.SHARING, MeetingStatus.PREPARING) and rng.random() < 0.08
            saved_on = min(deadline, self.today) - timedelta(days=rng.randint(0, 4))
            if late:
                saved_on = deadline + timedelta(days=1)
            saved_at = _kst(saved_on, rng.randint(9, 17))
            author = world.practitioners.get(agency.id)
            author_id = author[0].id if author else world.coordinator.id
            facts = rng.choice(phrases.INPUT_FACTS.get(agency.sector, phrases.GENERIC_FACTS))
            opinion = rng.choice(phrases.INPUT_OPINIONS.get(agency.sector, phrases.GENERIC_OPINIONS)) if submitted \
                else ""
            domains = rng.choice(item.case.domains(rng, world.pressing))
            values = {"facts": facts, "opinion": opinion,
                      "risk_concerns": rng.choice(phrases.RISKS) if submitted and rng.random() < 0.2 else "",
                      "withheld": rng.choice(phrases.WITHHELD) if agency.sector == "mental_health"
                      and rng.random() < 0.3 else "",
                      "coordinator_note": rng.choice(phrases.COORDINATOR_NOTES) if rng.random() < 0.05 else ""}
            state = InputState.SUBMITTED.value if submitted else InputState.DRAFT.value
            levels = {"facts_level": _level(values["facts"], sector=agency.sector),
                      "opinion_level": _level(values["opinion"], sector=agency.sector),
                      "risk_level": _level(values["risk_concerns"], sector=agency.sector)}
            row = writer.add("agency_input", {
                "id": writer.next_id("agency_input"), "agenda_item_id": item.id, "agency_id": agency.id,
                "state": state, **values, **levels, "domains": domains, "version": 1, "is_late": late,
                "submitted_at": saved_at if submitted else None, "updated_at": saved_at, "updated_by_id": author_id})
            resources = []
            if submitted and rng.random() < 0.3:
                public, kind = rng.choice(phrases.RESOURCES)
                resources.append([public, kind, ""])
                writer.add("offered_resource", {"id": writer.next_id("offered_resource"), "agency_input_id": row["id"],
                                                "is_public": public, "kind": kind, "note": ""})
            after = {**values, "domains": domains, "state": state, "resources": resources}
            writer.add("input_revision", {
                "id": writer.next_id("input_revision"), "agency_input_id": row["id"], "version": 1,
                "saved_at": saved_at, "saved_by_id": author_id, "snapshot": json.dumps(after, ensure_ascii=False),
                "changed": ",".join(sorted(after))})
            item.inputs.append({**row, "agency_name": agency.name})


# --- what a held meeting recorded, and its minutes ---

class _Minutes(_Stage):
    """Each case's record and root causes, attendance, and the minutes (approved ones with snapshot and hash)."""

    def __init__(self, world: _World, actions: "_Actions"):
        super().__init__(world)
        self.actions = actions
        self.stage_labels = {s.value: str(s.label) for s in Stage}
        self.domain_labels = {d.value: str(d.label) for d in NeedDomain}
        self.status_labels = {s.value: str(s.label) for s in ActionStatus}
        self.kind_label = str(MeetingKind.INTEGRATED.label)

    def record(self, item: _Item, meeting: dict, invited: list[Agency], *, final: bool) -> None:
        """What the meeting found and decided for the case, its actions and its review of earlier ones."""
        rng, writer, world, case = self.rng, self.writer, self.world, item.case
        day = meeting["starts_at"].astimezone(KST).date()
        status_to = track = closure_reason = classification = goals = ""
        if not item.follow_up and case.status == Stage.NOT_SELECTED.value:
            decision, actions = "not_selected", rng.randint(0, 1)
        elif not item.follow_up:
            track = case.track or Track.CASE_MANAGEMENT.value
            decision, actions = ("selected", rng.randint(2, 4)) if track == Track.CASE_MANAGEMENT.value \
                else ("service_link", rng.randint(1, 2))
            status_to, classification, goals = Stage.SELECTED.value, case.classification, rng.choice(phrases.GOALS)
        elif case.status in (Stage.CLOSED.value, Stage.AFTERCARE.value) and rng.random() < 0.6:
            decision, actions = "closed", rng.randint(0, 1)
            status_to = Stage.CLOSED.value
            closure_reason = case.closure_reason or rng.choice(world.config["CLOSURE_REASONS"])
            case.closed = True
        else:
            decision, actions = "follow_up", rng.randint(1, 3)
        domains = case.domains(rng, world.pressing)
        focus = rng.sample(domains, min(2, len(domains)))
        parts = ([rng.choice(phrases.DISCUSSION_OPENINGS)] + [rng.choice(phrases.DISCUSSION_POINTS[d]) for d in focus]
                 + [rng.choice(phrases.DISCUSSION_CLOSINGS)])
        if rng.random() < 0.08:  # a note for the city alone makes the whole discussion 시 내부
            parts.append(rng.choice(phrases.INTERNAL_NOTES))
        decisions = rng.choice(phrases.DECISIONS[decision])
        item.record = writer.add("case_record", {
            "id": writer.next_id("case_record"), "agenda_item_id": item.id, "discussion": " ".join(parts),
            "discussion_level": _strictest(_level(*parts), *(_level(domain=d) for d in focus)),
            "decisions": decisions, "decisions_level": _level(decisions, goals), "goals": goals,
            "classification": classification,
            "status_to": status_to, "track": track if status_to == Stage.SELECTED.value else "",
            "closure_reason": closure_reason, "version": 1, "updated_at": meeting["starts_at"] + timedelta(hours=3)})
        if rng.random() < 0.4:
            for domain in focus[:rng.randint(1, 2)]:
                cause = rng.choice(phrases.ROOT_CAUSES[domain])
                item.causes.append(writer.add("root_cause", {
                    "id": writer.next_id("root_cause"), "record_id": item.record["id"], "domain": domain,
                    "cause": cause, "level": _level(cause, domain=domain)}))
        if item.follow_up:
            self.actions.review(item, meeting, day, final=final)
        for _ in range(actions):
            item.actions.append(self.actions.add(item, meeting, day, invited, rng.choice(domains), final=final))

    def write(self, meeting: dict, invited: list[Agency], items: list[_Item], status: MeetingStatus,
              next_meeting: date | None) -> None:
        rng, writer, world = self.rng, self.writer, self.world
        day = meeting["starts_at"].astimezone(KST).date()
        people = []
        chair, coordinator = world.chair, world.coordinator
        if chair:
            people.append((chair.id, world.agencies[chair.agency_id], chair.display_name, chair.position))
        people.append((coordinator.id, world.agencies[coordinator.agency_id], coordinator.display_name,
                       coordinator.position))
        for agency in invited:
            if rng.random() < 0.9:
                users = world.practitioners.get(agency.id)
                name, position = (users[0].display_name, users[0].position) if users else world.contacts[agency.id]
                people.append((users[0].id if users else None, agency, name, position))
        attendees = []
        for user_id, agency, name, position in people:
            attendees.append(writer.add("attendee", {
                "id": writer.next_id("attendee"), "meeting_id": meeting["id"], "user_id": user_id,
                "agency_id": agency.id, "name": name, "agency_name": agency.name, "position": position}))
        final = status == MeetingStatus.FINALISED
        minutes = {
            "id": writer.next_id("minutes"), "meeting_id": meeting["id"],
            "status": MinutesStatus.FINAL.value if final else MinutesStatus.REVIEW.value, "revision": 1,
            "review_deadline": day + timedelta(days=3) if final else self.today + timedelta(days=3),
            "next_meeting": next_meeting, "next_check": day + timedelta(days=30), "content_hash": "",
            "snapshot": "", "finalised_at": _kst(day + timedelta(days=5), 10) if final else None,
            "approved_by_id": world.chair.id if final and world.chair else None}
        if final:
            content = snapshot.to_json(self._data(meeting, invited, attendees, items, minutes))
            minutes["snapshot"], minutes["content_hash"] = content, snapshot.content_hash(content)
        writer.add("minutes", minutes)

    def _data(self, meeting: dict, invited: list[Agency], attendees: list[dict], items: list[_Item],
              minutes: dict) -> document.MinutesData:
        """The approved content, built from the rows as ``minutes.services.minutes_data`` builds it from the
        database at approval."""
        labels, world = self.domain_labels, self.world
        present = {a["agency_id"] for a in attendees}
        invitations = SimpleNamespace(invitations=[SimpleNamespace(agency_id=a.id, agency=a) for a in invited])
        cases = []
        for position, item in enumerate(items, start=1):
            case, record = item.case, item.record
            summary = case_summary(SimpleNamespace(stage=self.stage_labels[case.status], household_size=case.size,
                                                   classification=case.classification, signals=case.signals))
            opinions = [document.Opinion(i["agency_name"], [
                            document.Passage("보유 정보", i["facts"], i["facts_level"]),
                            document.Passage("기관 의견", i["opinion"], i["opinion_level"]),
                            document.Passage("위험 요인", i["risk_concerns"], i["risk_level"])], i["agency_id"])
                        for i in sorted(item.inputs, key=lambda i: i["agency_name"])
                        if i["state"] == InputState.SUBMITTED.value]
            cases.append(document.CaseMinutes(
                position=position, case_number=case.number, name=mask_name(case.head), summary=summary,
                key_question=item.row["key_question"], key_question_level=item.row["key_question_level"],
                signals=", ".join(case.signals), signals_level=SHARED,
                overview=case.overview, overview_level=case.overview_level,
                needs=[document.NeedLine(labels[d], rating, notes, level, d) for d, rating, notes, level in case.ratings],
                opinions=opinions, discussion=record["discussion"], discussion_level=record["discussion_level"],
                root_causes=[document.CauseLine(labels[c["domain"]], c["cause"], c["level"]) for c in item.causes],
                decided=decided_text(SimpleNamespace(**record)), decisions=decisions_text(SimpleNamespace(**record)),
                decisions_level=record["decisions_level"],
                actions=[document.ActionLine(a["task"], labels[a["domain"]], a["agency_name"], a["person"], a["due_on"],
                                             f"{'공공' if a['resource_public'] else '민간'} · {a['resource_kind']}"
                                             if a["resource_kind"] else "", a["task_level"], a["agency_id"])
                         for a in item.actions],
                grants=self._grants(item, invitations)))
        reviews = [document.ReviewLine(number, a["task"], a["agency_name"], a["due_on"], self.status_labels[outcome],
                                       note, a["task_level"], a["agency_id"])
                   for number, a, outcome, note in meeting.get("reviews", [])]
        finalised = minutes["finalised_at"].astimezone(KST).date()
        # 작성: the day the case records were saved (3 hours after the start), never after the approval.
        drafted = min((meeting["starts_at"] + timedelta(hours=3)).astimezone(KST).date(), finalised)
        chair = world.chair.display_name if world.chair else ""
        chair_position = position_of(world.chair) if world.chair else ""
        return document.MinutesData(
            title=meeting_title(meeting["year"], meeting["number"], MeetingKind.INTEGRATED),
            starts_at=meeting["starts_at"],
            ends_at=meeting["starts_at"] + timedelta(minutes=meeting["duration_minutes"]),
            place=meeting["place"], kind=self.kind_label, chair=chair, chair_position=chair_position,
            author=world.coordinator.display_name,
            author_agency=world.agencies[world.coordinator.agency_id].name,
            attendees=[document.Attendee(a["name"], a["agency_name"], a["position"]) for a in attendees],
            absent_agencies=sorted(a.name for a in invited if a.id not in present), cases=cases, reviews=reviews,
            next_meeting=minutes["next_meeting"], next_check=minutes["next_check"],
            approvals=[document.Approval("작성", world.coordinator.display_name, drafted,
                                         position_of(world.coordinator)),
                       document.Approval("결재", chair, finalised, chair_position)], revision=1)

    @staticmethod
    def _grants(item: _Item, meeting: SimpleNamespace) -> dict:
        """Each invited agency's grant for the case at approval, by the one rule every output asks
        (``disclosure.case_grant``), from the rows written: consent as it stands then, override, section settings."""
        case = item.case
        consent = SimpleNamespace(is_withdrawn=False, covers_sensitive=case.covers_sensitive,
                                  agencies=[SimpleNamespace(id=a) for a in case.consent_agencies])
        agenda_item = SimpleNamespace(
            meeting=meeting, consent_override_reason=item.row["consent_override_reason"], household=None,
            visibility=[SimpleNamespace(agency_id=a, section_set={s for s in sections.split(",") if s})
                        for a, sections in item.sections.items()])
        return disclosure.agency_grants(agenda_item, consent if case.consent_id else None)


# --- actions and their follow-up ---

class _Actions(_Stage):
    """The actions a meeting decides, their progress checks and confirmations, and later meetings' reviews."""

    def add(self, item: _Item, meeting: dict, day: date, invited: list[Agency], domain: str, *,
            final: bool) -> dict:
        rng, writer, world = self.rng, self.writer, self.world
        task, public, kind = rng.choice(phrases.TASKS[domain])
        agency = rng.choice(invited) if rng.random() < 0.75 else world.agencies[world.coordinator.agency_id]
        people = world.practitioners.get(agency.id)
        person = people[0].display_name if people and rng.random() < 0.7 else world.contacts[agency.id][0]
        due = day + timedelta(days=rng.choice((14, 21, 30, 30, 45, 60, 90)))
        status = self._status(due) if final else ActionStatus.PLANNED.value
        proposed = None
        if status == ActionStatus.IN_PROGRESS.value and rng.random() < 0.15:
            proposed = _kst(self.today - timedelta(days=rng.randint(1, 10)), 11)
        # An agency the consent does not name takes the task under the agenda's recorded override.
        override = item.row["consent_override_reason"] if agency.id in item.case.declined else ""
        action = writer.add("action_item", {
            "id": writer.next_id("action_item"), "household_id": item.case.id, "meeting_id": meeting["id"],
            "agenda_item_id": item.id, "task": task, "task_level": _level(task, domain=domain), "domain": domain,
            "agency_id": agency.id, "person": person, "due_on": due, "resource_public": public if kind else None,
            "resource_kind": kind, "consent_override_reason": override, "status": status,
            "completion_proposed_at": proposed, "created_at": meeting["starts_at"] + timedelta(hours=3)})
        self._events(action, day, people[0].id if people else world.coordinator.id)
        if status in (ActionStatus.DONE.value, ActionStatus.IN_PROGRESS.value, ActionStatus.CHANGED.value,
                      ActionStatus.NOT_DONE.value):
            item.case.open_actions.append({**action, "agency_name": agency.name})
        return {**action, "agency_name": agency.name}

    def _status(self, due: date) -> str:
        """Most actions done; some still open or in progress after their due date (overdue)."""
        if due < self.today - timedelta(days=30):
            weights = {"done": 84, "changed": 4, "not_done": 4, "in_progress": 5, "open": 3}
        elif due < self.today:
            weights = {"done": 55, "in_progress": 25, "open": 15, "changed": 5}
        else:
            weights = {"done": 20, "in_progress": 40, "open": 40}
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def _events(self, action: dict, day: date, reporter_id: int) -> None:
        """A few progress checks (점검 기록) and, for most done actions, the coordinator's confirmation."""
        rng, writer = self.rng, self.writer
        until = min(action["due_on"], self.today)
        if until <= day:
            return
        checks = {ActionStatus.IN_PROGRESS.value: rng.randint(1, 2), ActionStatus.DONE.value: int(rng.random() < 0.3)}
        for _ in range(checks.get(action["status"], 0)):
            content, result = rng.choice(phrases.PROGRESS)
            happened = day + timedelta(days=rng.randint(1, (until - day).days))
            writer.add("action_event", {
                "id": writer.next_id("action_event"), "action_id": action["id"], "kind": "progress",
                "happened_on": happened, "content": content, "result": result, "old_due": None, "new_due": None,
                "by_id": reporter_id, "created_at": _kst(happened, 17)})
        if action["status"] == ActionStatus.DONE.value and rng.random() < 0.6:
            writer.add("action_event", {
                "id": writer.next_id("action_event"), "action_id": action["id"], "kind": "confirmation",
                "happened_on": until, "content": rng.choice(phrases.CONFIRMATIONS), "result": "", "old_due": None,
                "new_due": None, "by_id": self.world.coordinator.id, "created_at": _kst(until, 17)})

    def review(self, item: _Item, meeting: dict, day: date, *, final: bool) -> None:
        """The follow-up meeting's review of the case's earlier actions that were due by then."""
        due, later = [], []
        for action in item.case.open_actions:
            (due if action["due_on"] <= day and final else later).append(action)
        item.case.open_actions = later
        for action in due:
            outcome = action["status"]
            note = self.rng.choice(phrases.REVIEW_NOTES[outcome]) if outcome in phrases.REVIEW_NOTES else ""
            self.writer.add("action_review", {"id": self.writer.next_id("action_review"), "meeting_id": meeting["id"],
                                              "action_id": action["id"], "outcome": outcome, "note": note})
            meeting.setdefault("reviews", []).append((item.case.number, action, outcome, note))


class _FollowUp(_Stage):
    """After the meetings: consents withdrawn, and monitoring contacts with their next check dates."""

    def withdrawals(self, all_cases: list[_Case]) -> None:
        """Some households discussed only at approved meetings withdraw their consent some time after the last."""
        rng, rows = self.rng, []
        last = self.today - timedelta(days=1)
        for case in all_cases:
            if case.last_discussed is None or case.pending or rng.random() >= WITHDRAWING:
                continue
            first = case.last_discussed + timedelta(days=7)
            if first <= last:
                rows.append((case.consent_id, first + timedelta(days=rng.randint(0, (last - first).days))))
        self.writer.update(Consent.__table__.c.withdrawn_on, rows)

    def monitoring(self, all_cases: list[_Case]) -> None:
        """Contacts with selected and closed households; selected ones get a next check date, some already due."""
        rng, writer = self.rng, self.writer
        methods, weights = list(MONITORING_METHODS), [35, 40, 10, 15]
        checks = []
        for case in all_cases:
            if case.status not in (Stage.SELECTED.value, Stage.CLOSED.value, Stage.AFTERCARE.value):
                continue
            selected_on = case.discovered + timedelta(days=20)
            if case.status == Stage.CLOSED.value:
                last = min(selected_on + timedelta(days=rng.randint(60, 200)), self.today - timedelta(days=1))
            else:
                last = self.today - timedelta(days=rng.randint(1, 50))
                checks.append((case.id, last + timedelta(days=30)))
            contacted = last
            for _ in range(rng.randint(1, 4)):
                if contacted < selected_on:
                    break
                method = rng.choices(methods, weights)[0]
                writer.add("monitoring_entry", {
                    "id": writer.next_id("monitoring_entry"), "household_id": case.id, "contacted_on": contacted,
                    "method": method, "content": rng.choice(phrases.MONITORING[method]),
                    "by_id": self.world.coordinator.id, "created_at": _kst(contacted, 18)})
                contacted -= timedelta(days=rng.randint(20, 40))
        writer.update(Household.__table__.c.next_check_on, checks)
