"""The case register: households, members, stages, consent and needs assessments.

Functions change data, write the audit trail and flush; the request (or command) commits once.
"""
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from conference import audit
from conference.core.changes import apply_changes
from conference.core.formatting import today_local
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import (Agency, Assessment, CaseNumberCounter, Consent, DomainRating, Household,
                               Member, MonitoringEntry, NeedDomain, Stage, StatusChange, Track, User)
from conference.models.cases import MONITORING_METHODS
from conference.models.disclosure import Disclosure
from conference.shared import disclosure
from conference.shared.rules import RuleError


def checked_level(field: str, value, *, default=None, message=None) -> str:
    """A 공개 범위 to store (nothing chosen: ``default``, when given); anything that is not a level is refused with
    ``message`` (or the general one) for ``field``."""
    if not value and default is not None:
        return str(default)
    if not disclosure.is_level(value):
        raise RuleError(field, message or disclosure.UNKNOWN_LEVEL)
    return str(value)


#: Which stage may follow which. Closing is possible from every active stage.
TRANSITIONS = {
    Stage.DISCOVERED: {Stage.COUNSELLING, Stage.INTAKE, Stage.NOT_SELECTED, Stage.CLOSED},
    Stage.COUNSELLING: {Stage.INTAKE, Stage.NOT_SELECTED, Stage.CLOSED},
    Stage.INTAKE: {Stage.ASSESSMENT, Stage.NOT_SELECTED, Stage.CLOSED},
    Stage.ASSESSMENT: {Stage.SELECTED, Stage.NOT_SELECTED, Stage.CLOSED},
    Stage.SELECTED: {Stage.ASSESSMENT, Stage.CLOSED},
    Stage.NOT_SELECTED: {Stage.INTAKE, Stage.CLOSED},
    Stage.CLOSED: {Stage.AFTERCARE, Stage.INTAKE},
    Stage.AFTERCARE: {Stage.INTAKE, Stage.CLOSED},
}


def next_stages(household: Household) -> list[Stage]:
    return [s for s in Stage if s in TRANSITIONS[household.stage]]


def stage_path(current: Stage, target: Stage) -> list[Stage] | None:
    """The fewest allowed steps (``TRANSITIONS``) from ``current`` to ``target``, ``target`` last: [] when already
    there, None when no steps lead there."""
    paths = {current: []}
    queue = [current]
    while queue and target not in paths:
        stage = queue.pop(0)
        for step in (s for s in Stage if s in TRANSITIONS[stage] and s not in paths):
            paths[step] = [*paths[stage], step]
            queue.append(step)
    return paths.get(target)


def check_decision(household: Household, *, to_status: str, track: str = "", classification: str | None = None,
                   closure_reason: str = "") -> list[Stage]:
    """The stages a decision (a meeting's 선정 or 종결, or only a new 사례 구분) moves the household through, the
    decided one last; [] when it changes nothing. Refused (``RuleError``) when no allowed steps lead there or the
    decided stage lacks its track (one staying 선정 too: give the household's own to keep it) or closure reason.
    Changes nothing; ``decide`` makes the moves."""
    try:
        target = Stage(to_status)
    except ValueError:
        raise RuleError("to_status", _l("알 수 없는 단계입니다.")) from None
    if target == household.stage:
        changed = (classification is not None and classification != household.classification) or (
            target == Stage.SELECTED and bool(track) and track != household.track)
        steps = [target] if changed else []
    else:
        steps = stage_path(household.stage, target)
        if steps is None:
            raise RuleError("to_status", _l("%(a)s 단계에서 %(b)s 단계로 갈 수 없습니다.",
                                            a=household.stage.label, b=target.label))
    _check_step(household, target, track=track, classification=classification, closure_reason=closure_reason)
    return steps


def decide(household: Household, *, by: User, to_status: str, reason: str, track: str = "",
           classification: str | None = None, closure_reason: str = "", step_reason: str = "") -> list[StatusChange]:
    """Carry out a decision checked by ``check_decision``: one ``change_status`` per stage it passes, each with its
    reason (``step_reason`` for the stages before the decided one, ``reason`` by default)."""
    steps = check_decision(household, to_status=to_status, track=track, classification=classification,
                           closure_reason=closure_reason)
    changes = [change_status(household, by=by, to_status=step.value, reason=step_reason or reason)
               for step in steps[:-1]]
    if steps:
        changes.append(change_status(household, by=by, to_status=to_status, reason=reason, track=track,
                                     classification=classification, closure_reason=closure_reason))
    return changes


def take_case_number(year: int, count: int = 1) -> int:
    """Reserve ``count`` consecutive case numbers of ``year``; returns the first sequence number.

    The year's counter row is created if missing (a concurrent creator is tolerated) and then locked, so two
    registrations never get the same number (SQLite serialises writers anyway with BEGIN IMMEDIATE).
    """
    table = CaseNumberCounter.__table__
    upsert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    highest = select(db.func.coalesce(db.func.max(Household.case_seq), 0)).where(
        Household.case_year == year).scalar_subquery()
    db.session.execute(upsert(table).values(year=year, last_seq=highest).on_conflict_do_nothing())
    counter = db.session.execute(
        select(CaseNumberCounter).where(CaseNumberCounter.year == year).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
    first = counter.last_seq + 1
    counter.last_seq += count
    return first


@dataclass
class HeadOfHousehold:
    name: str
    birth_year: int
    birth_date: date | None = None
    sex: str = ""
    has_disability: bool = False


def _new_household(*, by: User | None, head: HeadOfHousehold, district: str, address: str, discovery_route: str,
                   discovered_on: date, case_seq: int, **values) -> Household:
    if "signals_level" in values:
        values["signals_level"] = checked_level("signals_level", values["signals_level"])
    household = Household(case_year=discovered_on.year, case_seq=case_seq, district=district, address=address,
                          discovery_route=discovery_route, discovered_on=discovered_on,
                          status=Stage.DISCOVERED.value, **values)
    household.members = [Member(is_head=True, relation="본인", name=head.name, birth_year=head.birth_year,
                                birth_date=head.birth_date, sex=head.sex, has_disability=head.has_disability)]
    household.status_changes = [StatusChange(to_status=Stage.DISCOVERED.value, changed_by_id=by.id if by else None,
                                             reason=discovery_route)]
    return household


def register_households(entries: list[dict], *, by: User | None, actor_name: str = "import") -> list[Household]:
    """Register discovered households (stage 발굴), each with its head as first member, in one flush.

    Each entry holds ``register_household``'s keyword arguments; entries without ``case_seq`` get the next
    case numbers of their year. ``actor_name`` names the actor in the audit trail when ``by`` is None.
    """
    for entry in entries:
        if entry.get("case_seq") is None:
            entry["case_seq"] = take_case_number(entry["discovered_on"].year)
    details = [entry.pop("audit_details", None) or {} for entry in entries]
    households = [_new_household(by=by, **entry) for entry in entries]
    db.session.add_all(households)
    db.session.flush()
    for household, extra in zip(households, details, strict=True):
        audit.record("household.create", household, actor=by, actor_name=None if by else actor_name,
                     details={"case_number": household.case_number, **extra})
    return households


def register_household(*, by: User | None, **entry) -> Household:
    """Register one discovered household with its head as first member (stage 발굴)."""
    return register_households([entry], by=by)[0]


HOUSEHOLD_FIELDS = ("district", "address", "phone", "household_size", "discovery_route", "discovered_on",
                    "extraction_round", "crisis_signals", "signals_level", "referring_agency_id", "coordinator_id",
                    "note")


def update_household(household: Household, *, by: User, head: HeadOfHousehold, **values) -> dict:
    """Edit the household's register entry and its head's identity; the audit keeps what changed."""
    if "signals_level" in values:
        values["signals_level"] = checked_level("signals_level", values["signals_level"])
    changed = apply_changes(household, {k: values[k] for k in HOUSEHOLD_FIELDS if k in values})
    head_member = household.members[0]
    changed.update({f"head.{k}": v for k, v in apply_changes(head_member, {
        "name": head.name, "birth_year": head.birth_year, "birth_date": head.birth_date,
        "sex": head.sex, "has_disability": head.has_disability}).items()})
    if changed:
        audit.record("household.update", household, actor=by, details=_redact(changed))
    return changed


def _redact(changed: dict) -> dict:
    """The audit says that personal fields changed, not what they say."""
    personal = {"address", "phone", "head.name", "head.birth_date", "note", "name", "birth_date"}
    return {k: ("(변경됨)" if k in personal else v) for k, v in changed.items()}


MEMBER_FIELDS = ("name", "relation", "birth_year", "birth_date", "sex", "has_disability")


def add_member(household: Household, *, by: User, **values) -> Member:
    member = Member(household=household, is_head=False, **{k: values[k] for k in MEMBER_FIELDS})
    db.session.add(member)
    db.session.flush()
    audit.record("member.create", household, actor=by, details={"member_id": member.id, "relation": member.relation})
    return member


def update_member(member: Member, *, by: User, **values) -> dict:
    changed = apply_changes(member, {k: values[k] for k in MEMBER_FIELDS})
    if changed:
        audit.record("member.update", actor=by, object_type="household", object_id=member.household_id,
                     details={"member_id": member.id, **_redact(changed)})
    return changed


def remove_member(member: Member, *, by: User):
    if member.is_head:
        raise RuleError("member", _l("세대주(본인)는 삭제할 수 없습니다."))
    audit.record("member.delete", actor=by, object_type="household", object_id=member.household_id,
                 details={"member_id": member.id})
    db.session.delete(member)


def change_status(household: Household, *, by: User, to_status: str, reason: str, track: str = "",
                  classification: str | None = None, closure_reason: str = "") -> StatusChange:
    """Move a household to another stage (or only re-classify it), recording who, when and why."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason", _l("변경 사유를 입력하세요."))
    try:
        target = Stage(to_status)
    except ValueError:
        raise RuleError("to_status", _l("알 수 없는 단계입니다.")) from None
    if target == Stage.SELECTED == household.stage and not track:
        track = household.track  # re-classifying a selected household keeps its track
    if target != household.stage and target not in TRANSITIONS[household.stage]:
        raise RuleError("to_status", _l("%(a)s 단계에서 %(b)s 단계로 바로 갈 수 없습니다.",
                                        a=household.stage.label, b=target.label))
    _check_step(household, target, track=track, classification=classification, closure_reason=closure_reason)
    if target == household.stage and (classification is None or classification == household.classification) \
            and (target != Stage.SELECTED or track == household.track):
        raise RuleError("to_status", _l("바뀐 내용이 없습니다."))

    change = StatusChange(household=household, from_status=household.status, to_status=target.value,
                          track=track if target == Stage.SELECTED else "",
                          classification=classification if classification is not None else household.classification,
                          reason=reason, changed_by_id=by.id)
    if target == Stage.SELECTED:
        household.track = track
    if target == Stage.CLOSED and target != household.stage:
        household.closure_reason = closure_reason
    elif target in (Stage.INTAKE, Stage.ASSESSMENT):
        household.closure_reason = ""
    if classification is not None:
        household.classification = classification
    household.status = target.value
    db.session.add(change)
    db.session.flush()
    audit.record("household.status", household, actor=by, details={
        "from": change.from_status, "to": change.to_status, "track": change.track,
        "classification": change.classification, "closure_reason": household.closure_reason})
    return change


def _check_step(household: Household, target: Stage, *, track: str, classification: str | None,
                closure_reason: str) -> None:
    """What a stage needs beside the step itself: a track to be selected, a reason to be closed, a configured 구분."""
    config = current_app.config
    if target == Stage.SELECTED and track not in {t.value for t in Track}:
        raise RuleError("track", _l("선정할 때는 사례관리 또는 서비스연계를 고르세요."))
    if target == Stage.CLOSED and target != household.stage and closure_reason not in config["CLOSURE_REASONS"]:
        raise RuleError("closure_reason", _l("종결 사유를 고르세요."))
    if classification is not None and classification not in ("", *config["CLASSIFICATIONS"]):
        raise RuleError("classification", _l("설정되지 않은 사례 구분입니다."))


def current_consent(household: Household) -> Consent | None:
    """The newest consent recorded, unless it was withdrawn (needs ``consents`` loaded, newest first).

    A newer consent replaces the older ones, and withdrawing it leaves the household without consent;
    ``permissions.visible_households`` applies the same rule in SQL.
    """
    latest = household.consents[0] if household.consents else None
    return latest if latest is not None and not latest.is_withdrawn else None


def record_consent(household: Household, *, by: User, consented_on: date, agency_ids: list[int],
                   covers_sensitive: bool, note: str = "") -> Consent:
    if consented_on > today_local():
        raise RuleError("consented_on", _l("동의일은 오늘 이후일 수 없습니다."))
    agencies = db.session.execute(select(Agency).where(Agency.id.in_(agency_ids))).scalars().all()
    if not agencies or len(agencies) != len(set(agency_ids)):
        raise RuleError("agency_ids", _l("동의 범위에 들어갈 기관을 하나 이상 고르세요."))
    consent = Consent(household=household, consented_on=consented_on, covers_sensitive=covers_sensitive,
                      note=note.strip(), recorded_by_id=by.id, agencies=list(agencies))
    db.session.add(consent)
    db.session.flush()
    audit.record("consent.record", household, actor=by, details={
        "consent_id": consent.id, "agencies": sorted(a.id for a in agencies), "sensitive": covers_sensitive})
    return consent


def withdraw_consent(consent: Consent, *, by: User, withdrawn_on: date):
    if consent.is_withdrawn:
        raise RuleError("withdrawn_on", _l("이미 철회된 동의입니다."))
    if withdrawn_on < consent.consented_on or withdrawn_on > today_local():
        raise RuleError("withdrawn_on", _l("철회일은 동의일과 오늘 사이여야 합니다."))
    consent.withdrawn_on = withdrawn_on
    audit.record("consent.withdraw", actor=by, object_type="household", object_id=consent.household_id,
                 details={"consent_id": consent.id, "withdrawn_on": withdrawn_on})


def record_assessment(household: Household, *, by: User, assessed_on: date, ratings: dict[str, tuple[str, str]],
                      summary: str = "", summary_level: str = Disclosure.SHARED.value,
                      notes_levels: dict[str, str] | None = None) -> Assessment:
    """Record a (re)assessment: ``ratings`` maps a need domain to (rating, notes).

    ``notes_levels`` maps a domain to the 공개 범위 of its notes; a domain left out gets its default (건강: 민감정보).
    """
    scale = current_app.config["ASSESSMENT_SCALE"]
    if assessed_on > today_local():
        raise RuleError("assessed_on", _l("조사일은 오늘 이후일 수 없습니다."))
    if not any(rating for rating, _notes in ratings.values()):
        raise RuleError("ratings", _l("적어도 한 영역의 위기도를 평가하세요."))
    for domain, (rating, _notes) in ratings.items():
        if domain not in {d.value for d in NeedDomain} or (rating and rating not in scale):
            raise RuleError("ratings", _l("설정되지 않은 영역이나 척도가 있습니다."))
    levels = {d: checked_level(f"notes_level_{d}", (notes_levels or {}).get(d) or disclosure.default_level(domain=d))
              for d in ratings}
    summary_level = checked_level("summary_level", summary_level)
    assessment = Assessment(household=household, assessed_on=assessed_on, summary=summary.strip(),
                            summary_level=summary_level, assessed_by_id=by.id)
    assessment.ratings = [DomainRating(domain=d, rating=r, notes=n.strip(), notes_level=levels[d])
                          for d, (r, n) in ratings.items() if r or n.strip()]
    db.session.add(assessment)
    db.session.flush()
    audit.record("assessment.record", household, actor=by, details={
        "assessment_id": assessment.id, "ratings": {r.domain: r.rating for r in assessment.ratings},
        "levels": {"summary": assessment.summary_level, **{r.domain: r.notes_level for r in assessment.ratings}}})
    return assessment


@dataclass
class DomainComparison:
    domain: NeedDomain
    before: str
    after: str
    #: "worse", "better", "same", "new" or "" (not rated in either)
    direction: str


def compare_assessments(current: Assessment, previous: Assessment | None) -> list[DomainComparison]:
    """Domain by domain, what changed since the previous assessment (scale order: most severe first)."""
    scale = current_app.config["ASSESSMENT_SCALE"]
    now, before = current.rating_map(), previous.rating_map() if previous else {}
    rows = []
    for domain in NeedDomain:
        a = now[domain].rating if domain in now else ""
        b = before[domain].rating if domain in before else ""
        if not a and not b:
            direction = ""
        elif previous is None or not b:
            direction = "new"
        elif a == b:
            direction = "same"
        elif not a:
            direction = ""
        else:
            direction = "worse" if scale.index(a) < scale.index(b) else "better"
        rows.append(DomainComparison(domain, b, a, direction))
    return rows


def record_monitoring(household: Household, *, by: User, contacted_on: date, method: str, content: str,
                      next_check_on: date | None, today: date) -> MonitoringEntry:
    """모니터링: log a contact with the household and set the next check date (다음 점검일)."""
    if contacted_on > today:
        raise RuleError("contacted_on", _l("점검한 날짜는 오늘 이후일 수 없습니다."))
    if method not in MONITORING_METHODS:
        raise RuleError("method", _l("점검 방법을 고르세요."))
    content = (content or "").strip()
    if not content or len(content) > 4000:
        raise RuleError("content", _l("점검 내용을 4000자 이하로 적으세요."))
    if next_check_on is not None and next_check_on <= today:
        raise RuleError("next_check_on", _l("다음 점검일은 내일 이후여야 합니다."))
    entry = MonitoringEntry(household=household, contacted_on=contacted_on, method=method, content=content,
                            by_id=by.id)
    db.session.add(entry)
    household.next_check_on = next_check_on
    db.session.flush()
    audit.record("household.monitoring", household, actor=by,
                 details={"entry_id": entry.id, "method": method, "next_check_on": next_check_on})
    return entry
