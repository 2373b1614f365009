"""Realistic fictional case-register data in bulk, for benchmarks and large demos.

Rows are written with Core ``insert`` in batches (no ORM objects), so 50,000 households take seconds.
Every name is made up from common Korean surnames and given names.
"""
import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from conference.extensions import db
from conference.models import (ActionItem, ActionStatus, Agency, Assessment, Consent, DomainRating, Household,
                               Meeting, MeetingKind, MeetingStatus, Member, NeedDomain, Stage, StatusChange, Track)
from conference.models.cases import CaseNumberCounter, consent_agency

SURNAMES = (["김"] * 21 + ["이"] * 15 + ["박"] * 8 + ["최"] * 5 + ["정"] * 5
            + list("강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나엄채원천방공현함변염여추도소석"))
GIVEN = ["민준", "서준", "도윤", "예준", "시우", "하준", "지호", "주원", "서연", "서윤", "지우", "서현", "민서", "하은",
         "영희", "철수", "영수", "순자", "영숙", "정숙", "옥순", "명숙", "성호", "영철", "정호", "광수", "동현", "은정",
         "미경", "현주", "대현", "민수", "은영", "경희", "정희", "미숙", "상훈", "성민", "재훈", "혜진", "수진"]
SIGNALS = ["단전", "단수", "단가스", "건강보험료 체납", "통신비 체납", "공동주택 관리비 체납", "금융 연체", "실직",
           "주거 위기", "의료비 과다"]
RELATIONS = [("배우자", 0), ("자녀", 28), ("자녀", 32), ("부", -28), ("모", -26)]
#: Final stage of a generated household and how often it occurs.
STAGE_WEIGHTS = [(Stage.DISCOVERED, 20), (Stage.COUNSELLING, 10), (Stage.INTAKE, 8), (Stage.ASSESSMENT, 8),
                 (Stage.SELECTED, 30), (Stage.NOT_SELECTED, 10), (Stage.CLOSED, 10), (Stage.AFTERCARE, 4)]
PATH = [Stage.DISCOVERED, Stage.COUNSELLING, Stage.INTAKE, Stage.ASSESSMENT]
BATCH = 5000


def generate_households(count: int, *, config, coordinator_id: int | None, seed: int = 7,
                        first_year: int = 2019, last_year: int = 2021) -> int:
    """Insert ``count`` households with members, stage history, consent and an assessment; returns count."""
    rng = random.Random(seed)
    agency_ids = list(db.session.execute(select(Agency.id)).scalars())
    next_id = (db.session.execute(select(func.max(Household.id))).scalar() or 0) + 1
    seqs = dict(db.session.execute(select(Household.case_year, func.max(Household.case_seq))
                                   .group_by(Household.case_year)).all())
    now = datetime.now(UTC)
    stages, weights = zip(*STAGE_WEIGHTS, strict=True)
    for start in range(0, count, BATCH):
        rows = {"household": [], "member": [], "change": [], "consent": [], "consent_agency": [],
                "assessment": [], "rating": []}
        consent_id = (db.session.execute(select(func.max(Consent.id))).scalar() or 0) + 1
        assessment_id = (db.session.execute(select(func.max(Assessment.id))).scalar() or 0) + 1
        for household_id in range(next_id + start, next_id + min(start + BATCH, count)):
            year = rng.randint(first_year, last_year)
            seqs[year] = seqs.get(year, 0) + 1
            discovered = date(year, rng.randint(1, 12), rng.randint(1, 28))
            final = rng.choices(stages, weights)[0]
            district = rng.choice(config["DISTRICTS"])
            route = rng.choice(config["DISCOVERY_ROUTES"])
            head_birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
            size = rng.randint(1, 5)
            rows["household"].append({
                "id": household_id, "case_year": year, "case_seq": seqs[year], "district": district,
                "address": f"경기도 동두천시 {district} {rng.randrange(1, 400)}",
                "phone": f"010-{rng.randrange(2000, 9999)}-{rng.randrange(0, 9999):04d}", "household_size": size,
                "discovery_route": route, "discovered_on": discovered,
                "extraction_round": f"{year}-{(discovered.month - 1) // 3 + 1}" if route == config["EXTRACTION_ROUTE"]
                else "", "crisis_signals": ";".join(rng.sample(SIGNALS, rng.randint(1, 3))),
                "coordinator_id": coordinator_id, "status": final.value,
                "track": Track.CASE_MANAGEMENT.value if final == Stage.SELECTED else "",
                "classification": rng.choice(config["CLASSIFICATIONS"]) if final == Stage.SELECTED else "",
                "closure_reason": rng.choice(config["CLOSURE_REASONS"]) if final in (Stage.CLOSED, Stage.AFTERCARE)
                else "", "note": "", "created_at": now, "updated_at": now})
            rows["member"].append({"household_id": household_id, "is_head": True, "relation": "본인",
                                   "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "birth_year": head_birth.year,
                                   "birth_date": head_birth, "sex": rng.choice("남여"), "has_disability": False})
            for relation, offset in rng.sample(RELATIONS, min(size - 1, len(RELATIONS))):
                born = max(1930, min(head_birth.year + offset + rng.randint(-3, 3), date.today().year))
                rows["member"].append({"household_id": household_id, "is_head": False, "relation": relation,
                                       "name": rng.choice(SURNAMES) + rng.choice(GIVEN), "birth_year": born,
                                       "birth_date": None, "sex": rng.choice("남여"),
                                       "has_disability": rng.random() < 0.05})
            path = PATH[:PATH.index(final) + 1] if final in PATH else PATH + [final]
            previous = ""
            for step, stage in enumerate(path):
                rows["change"].append({
                    "household_id": household_id, "from_status": previous, "to_status": stage.value,
                    "track": Track.CASE_MANAGEMENT.value if stage == Stage.SELECTED else "", "classification": "",
                    "reason": "생성된 자료", "changed_by_id": coordinator_id,
                    "changed_at": datetime(discovered.year, discovered.month, discovered.day, tzinfo=UTC)
                    + timedelta(days=5 * step)})
                previous = stage.value
            if Stage.ASSESSMENT in path:
                rows["consent"].append({"id": consent_id, "household_id": household_id, "consented_on": discovered,
                                        "covers_sensitive": rng.random() < 0.5, "note": "",
                                        "recorded_by_id": coordinator_id, "recorded_at": now})
                rows["consent_agency"] += [{"consent_id": consent_id, "agency_id": a}
                                           for a in rng.sample(agency_ids, min(len(agency_ids), 4))]
                consent_id += 1
                rows["assessment"].append({"id": assessment_id, "household_id": household_id,
                                           "assessed_on": discovered, "summary": "", "assessed_by_id": coordinator_id,
                                           "created_at": now})
                for domain in rng.sample(list(NeedDomain), 4):
                    rows["rating"].append({"assessment_id": assessment_id, "domain": domain.value,
                                           "rating": rng.choice(config["ASSESSMENT_SCALE"]), "notes": ""})
                assessment_id += 1
        for model, key in ((Household, "household"), (Member, "member"), (StatusChange, "change"),
                           (Consent, "consent"), (consent_agency, "consent_agency"), (Assessment, "assessment"),
                           (DomainRating, "rating")):
            if rows[key]:
                db.session.execute(insert(model), rows[key])
    _sync_sequences("household", "consent", "assessment")
    db.session.execute(text("ANALYZE"))  # fresh planner statistics after a bulk load
    for year, seq in seqs.items():
        counter = db.session.get(CaseNumberCounter, year)
        if counter is None:
            db.session.add(CaseNumberCounter(year=year, last_seq=seq))
        else:
            counter.last_seq = max(counter.last_seq, seq)
    return count


def _sync_sequences(*tables: str) -> None:
    """PostgreSQL: move each id sequence past the ids inserted explicitly above."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"))


def generate_actions(count: int, *, coordinator_id: int, seed: int = 11, first_year: int = 2019,
                     last_year: int = 2021) -> int:
    """Insert finalised meetings (one per 25 actions) and ``count`` actions on existing households:
    most done, some still open and overdue."""
    rng = random.Random(seed)
    household_ids = list(db.session.execute(select(Household.id)).scalars())
    agency_ids = list(db.session.execute(select(Agency.id)).scalars())
    if not household_ids or not agency_ids or count <= 0:
        return 0
    numbers = dict(db.session.execute(select(Meeting.year, func.max(Meeting.number))
                                      .where(Meeting.kind == MeetingKind.INTEGRATED.value).group_by(Meeting.year)).all())
    first_meeting = (db.session.execute(select(func.max(Meeting.id))).scalar() or 0) + 1
    meetings = []
    for offset in range(max(1, count // 25)):
        year = rng.randint(first_year, last_year)
        numbers[year] = (numbers.get(year) or 0) + 1
        meetings.append({"id": first_meeting + offset, "kind": MeetingKind.INTEGRATED.value, "year": year,
                         "number": numbers[year], "place": "소회의실", "duration_minutes": 120,
                         "starts_at": datetime(year, rng.randint(1, 12), rng.randint(1, 28), 5, tzinfo=UTC),
                         "coordinator_id": coordinator_id, "status": MeetingStatus.FINALISED.value,
                         "created_at": datetime.now(UTC)})
    db.session.execute(insert(Meeting), meetings)
    statuses = [(ActionStatus.DONE, 70), (ActionStatus.OPEN, 10), (ActionStatus.IN_PROGRESS, 10),
                (ActionStatus.CHANGED, 5), (ActionStatus.NOT_DONE, 5)]
    choices, weights = zip(*statuses, strict=True)
    domains = [d.value for d in NeedDomain]
    for start in range(0, count, BATCH):
        rows = []
        for _ in range(start, min(start + BATCH, count)):
            meeting = rng.choice(meetings)
            rows.append({"household_id": rng.choice(household_ids), "meeting_id": meeting["id"],
                         "task": "생성된 실행과제", "domain": rng.choice(domains), "agency_id": rng.choice(agency_ids),
                         "person": "", "due_on": meeting["starts_at"].date() + timedelta(days=rng.randint(7, 90)),
                         "resource_kind": "", "status": rng.choices(choices, weights)[0].value,
                         "created_at": datetime.now(UTC)})
        db.session.execute(insert(ActionItem), rows)
    _sync_sequences("meeting", "action_item")
    db.session.execute(text("ANALYZE"))
    return count
