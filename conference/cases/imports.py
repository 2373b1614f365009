"""Importing a checked discovery list into the case register.

``find_repeats`` says which rows look like a household already registered (or like an earlier row of
the same file); the coordinator decides per such row whether to merge it or keep it as a new household,
and ``import_rows`` carries the list out. Like the other services these functions flush but never
commit: the request (or command) commits once. ``import_rows`` checks the decisions before it changes
anything, so a ``RuleError`` leaves the session untouched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, tuple_

from conference import audit
from conference.cases.importer import ImportRow
from conference.cases.services import (
    HeadOfHousehold,
    _redact,
    register_households,
    take_case_number,
)
from conference.core.changes import apply_changes
from conference.core.i18n import lazy_gettext as _l
from conference.extensions import db
from conference.models import Household, Member, User
from conference.models.cases import case_number
from conference.shared.rules import RuleError

#: (name, birth year) pairs or ids per IN (...) query: about 1,000 parameters a query.
CHUNK = 500
DECISIONS = ("merge", "keep")


@dataclass
class Repeat:
    """Why a row looks like a household met before.

    ``kind`` "existing": the register already holds it (``household_id``, ``case_number``).
    ``kind`` "file": an earlier row of the same file (``first_row``) is the same person; if that row
    itself matches a registered household, ``household_id`` and ``case_number`` name it, else they are
    None and "".
    """

    kind: str
    household_id: int | None
    case_number: str
    first_row: int | None
    #: Stage of the registered household (e.g. "closed"), "" when there is none.
    status: str = ""


@dataclass
class ImportResult:
    #: New households, in file order.
    created: list[Household] = field(default_factory=list)
    #: Registered households (not created by this import) a row was merged into, each once.
    merged: list[Household] = field(default_factory=list)
    #: Row numbers that were merged, into a registered household or into an earlier row's new one.
    merged_rows: list[int] = field(default_factory=list)
    #: Which household each row of the file ended up in.
    by_row: dict[int, Household] = field(default_factory=dict)


def _same_birth(year_a: int, date_a: date | None, year_b: int, date_b: date | None) -> bool:
    """Same full birth date when both are known, else the same year."""
    if date_a is not None and date_b is not None:
        return date_a == date_b
    return year_a == year_b


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def find_repeats(rows: list[ImportRow]) -> dict[int, Repeat]:
    """Rows (by row number) whose head — name, birth and 행정동 — matches a registered household's head or
    an earlier row of the file. One query per 500 distinct (name, birth year) pairs, never one per row."""
    if not rows:
        return {}
    # A match always shares name and birth year, so ask for exactly those pairs: the name IN (...) lets the
    # (name, birth_year) index find them, the pair test keeps namesakes born in other years out. The
    # 행정동 is compared here, not in SQL: a district IN (...) makes SQLite leave that index.
    pairs = sorted({(r.name, r.birth_year) for r in rows})
    registered: dict[tuple[str, str], list] = {}
    for chunk in _chunks(pairs):
        found = db.session.execute(
            select(Member.name, Member.birth_year, Member.birth_date, Household.id, Household.district,
                   Household.case_year, Household.case_seq, Household.status)
            .join(Household, Member.household_id == Household.id)
            .where(Member.is_head.is_(True), Member.name.in_(sorted({name for name, _year in chunk})),
                   tuple_(Member.name, Member.birth_year).in_(chunk))
        ).all()
        for item in found:
            registered.setdefault((item.name, item.district), []).append(item)

    repeats: dict[int, Repeat] = {}
    existing_of_row: dict[int, Repeat] = {}
    earlier: dict[tuple[str, str], list[ImportRow]] = {}
    for row in rows:
        key = (row.name, row.district)
        candidates = [c for c in registered.get(key, ())
                      if _same_birth(row.birth_year, row.birth_date, c.birth_year, c.birth_date)]
        if candidates:
            newest = max(candidates, key=lambda c: c.id)
            existing_of_row[row.row] = Repeat("existing", newest.id, case_number(newest.case_year, newest.case_seq),
                                              None, newest.status)
        first = next((e for e in earlier.get(key, ())
                      if _same_birth(row.birth_year, row.birth_date, e.birth_year, e.birth_date)), None)
        if first is not None:
            via = existing_of_row.get(first.row)
            repeats[row.row] = Repeat("file", via.household_id if via else None, via.case_number if via else "",
                                      first.row, via.status if via else "")
        elif row.row in existing_of_row:
            repeats[row.row] = existing_of_row[row.row]
        earlier.setdefault(key, []).append(row)
    return repeats


def decide_all(repeats: dict[int, Repeat], decision: str, chosen: dict[str, str]) -> dict[str, str]:
    """The preview's choices (``decision-<row>`` fields) with every repeat set to ``decision`` ("merge" or "keep");
    an unknown decision leaves them as they were."""
    if decision not in DECISIONS:
        return chosen
    return {**chosen, **{f"decision-{row}": decision for row in repeats}}


def import_rows(rows: list[ImportRow], decisions: dict[int, str], *, by: User | None, discovered_on: date,
                filename: str = "", actor_name: str = "import") -> ImportResult:
    """Register the rows as households of stage 발굴, or merge repeats as decided.

    ``decisions`` maps the row number of every repeat (see ``find_repeats``, run again here against the
    current register) to "merge" or "keep"; a missing or unknown decision raises ``RuleError("decisions")``
    before anything changes. "keep" registers a new household; "merge" updates the registered household
    (or the one the earlier row of this file became): newer 추출회차, new crisis signals added, phone filled
    if empty, note appended on a new line. Case numbers for all new households are reserved at once.
    ``actor_name`` names the actor in the audit trail when ``by`` is None (e.g. "cli").
    """
    decisions = {int(k): v for k, v in (decisions or {}).items()}
    repeats = find_repeats(rows)
    undecided = sorted(n for n in repeats if decisions.get(n) not in DECISIONS)
    if undecided:
        raise RuleError("decisions", _l("같은 가구로 보이는 행을 합칠지 새로 등록할지 고르세요: %(rows)s행",
                                        rows=", ".join(str(n) for n in undecided)))
    merging = {n for n, r in repeats.items() if decisions[n] == "merge"}
    wanted = sorted({repeats[n].household_id for n in merging if repeats[n].kind == "existing"})
    targets: dict[int, Household] = {}
    for chunk in _chunks(wanted):
        targets.update((h.id, h) for h in db.session.execute(
            select(Household).where(Household.id.in_(chunk))).scalars())
    if len(targets) != len(wanted):
        raise RuleError("decisions", _l("합칠 가구 가운데 이미 지워진 가구가 있습니다. 명단을 다시 올려 주세요."))

    result = ImportResult()
    new_rows = [row for row in rows if row.row not in merging]
    next_seq = take_case_number(discovered_on.year, count=len(new_rows)) if new_rows else 0
    created = register_households([dict(
        head=HeadOfHousehold(name=row.name, birth_year=row.birth_year, birth_date=row.birth_date, sex=row.sex),
        district=row.district, address=row.address, discovery_route=row.discovery_route,
        discovered_on=discovered_on, case_seq=next_seq + index, audit_details={"import_row": row.row},
        phone=row.phone, household_size=row.household_size, extraction_round=row.extraction_round,
        crisis_signals=";".join(row.crisis_signals), note=row.note) for index, row in enumerate(new_rows)],
        by=by, actor_name=actor_name)
    result.created = created
    result.by_row = {row.row: household for row, household in zip(new_rows, created, strict=True)}
    created_ids = {household.id for household in created}
    merged_ids: set[int] = set()
    for row in rows:
        if row.row not in merging:
            continue
        repeat = repeats[row.row]
        household = targets[repeat.household_id] if repeat.kind == "existing" else result.by_row[repeat.first_row]
        _merge(household, row, by=by, actor_name=actor_name)
        result.merged_rows.append(row.row)
        if household.id not in created_ids and household.id not in merged_ids:
            merged_ids.add(household.id)
            result.merged.append(household)
        result.by_row[row.row] = household
    audit.record("household.import", actor=by, actor_name=actor_name, object_type="household", details={
        "created": len(result.created), "merged": len(result.merged_rows), "rows": len(rows),
        **({"filename": filename} if filename else {})})
    db.session.flush()
    return result


def _merge(household: Household, row: ImportRow, *, by: User | None, actor_name: str) -> dict:
    signals = [s for s in household.crisis_signals.split(";") if s]
    signals += [s for s in row.crisis_signals if s not in signals]
    values = {"crisis_signals": ";".join(signals)}
    if row.extraction_round:
        values["extraction_round"] = row.extraction_round
    if row.phone and not household.phone:
        values["phone"] = row.phone
    note = row.note.strip()
    if note and note not in household.note.splitlines():
        values["note"] = f"{household.note}\n{note}" if household.note else note
    changed = apply_changes(household, values)
    audit.record("household.merge", household, actor=by, actor_name=actor_name, details={
        "case_number": household.case_number, "import_row": row.row, "changed": _redact(changed)})
    return changed
