"""Minutes content as canonical JSON, and its hash: what is approved is what is kept and exported.

The snapshot holds the full version: every text with its disclosure level and each invited agency's grant at
approval, so an agency's version can be cut from it later (``document.agency_copy``). Snapshots approved before
levels existed read their texts as 민감정보 and have no grants (today's consent decides alone).
"""
import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime

from conference.minutes.document import (ActionLine, Approval, Attendee, CaseMinutes, CauseLine, MinutesData,
                                         NeedLine, Opinion, Passage, ReviewLine)
from conference.models.cases import NeedDomain
from conference.shared.disclosure import Grant

#: Level given to texts of snapshots kept before levels existed: the safe reading.
UNKNOWN = ""


def _plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value.isoformat()


def to_json(data: MinutesData) -> str:
    raw = asdict(data)
    for case, source in zip(raw["cases"], data.cases, strict=True):
        case["grants"] = {str(k): grant.to_dict() for k, grant in source.grants.items()}
    return json.dumps(raw, ensure_ascii=False, sort_keys=True, default=_plain)


def content_hash(snapshot: str) -> str:
    return hashlib.sha256(snapshot.encode("utf-8")).hexdigest()


def _day(value):
    return date.fromisoformat(value) if value else None


def _domain_key(label: str) -> str:
    return next((domain.value for domain in NeedDomain if str(domain.label) == label), "")


def _opinion(raw) -> Opinion:
    if isinstance(raw, list):  # before levels: (agency, text)
        return Opinion(raw[0], [Passage("", raw[1], UNKNOWN)])
    return Opinion(raw["agency"], [Passage(**p) for p in raw["parts"]], raw["agency_id"])


def _cause(raw) -> CauseLine:
    return CauseLine(raw[0], raw[1], UNKNOWN) if isinstance(raw, list) else CauseLine(**raw)


def _case(c: dict) -> CaseMinutes:
    levels = {name: c.get(name, UNKNOWN) for name in ("key_question_level", "signals_level", "overview_level",
                                                      "discussion_level", "decisions_level")}
    return CaseMinutes(
        position=c["position"], case_number=c["case_number"], name=c["name"], summary=c["summary"],
        needs=[NeedLine(**{"level": UNKNOWN, "key": _domain_key(n["domain"]), **n}) for n in c["needs"]],
        opinions=[_opinion(o) for o in c["opinions"]], discussion=c["discussion"],
        root_causes=[_cause(r) for r in c["root_causes"]], decisions=c["decisions"],
        actions=[ActionLine(**{"level": UNKNOWN, **a, "due": _day(a["due"])}) for a in c["actions"]],
        key_question=c.get("key_question", ""), signals=c.get("signals", ""), overview=c.get("overview", ""),
        decided=c.get("decided", ""), postponed=c.get("postponed", False), postponed_reason=c.get("postponed_reason", ""),
        grants={int(k): Grant.from_dict(g) for k, g in c.get("grants", {}).items()},
        **levels)


def from_json(text: str) -> MinutesData:
    raw = json.loads(text)
    return MinutesData(
        title=raw["title"], starts_at=datetime.fromisoformat(raw["starts_at"]), place=raw["place"],
        kind=raw["kind"], chair=raw["chair"], author=raw["author"], author_agency=raw["author_agency"],
        attendees=[Attendee(**a) for a in raw["attendees"]], absent_agencies=raw["absent_agencies"],
        cases=[_case(c) for c in raw["cases"]],
        reviews=[ReviewLine(**{"level": UNKNOWN, **r, "due": _day(r["due"])}) for r in raw["reviews"]],
        next_meeting=_day(raw["next_meeting"]), next_check=_day(raw["next_check"]),
        approvals=[Approval(**{**a, "when": _day(a["when"])}) for a in raw["approvals"]],
        content_hash=raw["content_hash"], revision=raw["revision"],
        ends_at=datetime.fromisoformat(raw["ends_at"]) if raw.get("ends_at") else None,
        chair_position=raw.get("chair_position", ""))
