"""Minutes content as canonical JSON, and its hash: what is approved is what is kept and exported."""
import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime

from conference.minutes.document import (ActionLine, Approval, Attendee, CaseMinutes, MinutesData, NeedLine,
                                         ReviewLine)


def to_json(data: MinutesData) -> str:
    return json.dumps(asdict(data), ensure_ascii=False, sort_keys=True, default=lambda v: v.isoformat())


def content_hash(snapshot: str) -> str:
    return hashlib.sha256(snapshot.encode("utf-8")).hexdigest()


def _day(value):
    return date.fromisoformat(value) if value else None


def from_json(text: str) -> MinutesData:
    raw = json.loads(text)
    cases = [CaseMinutes(
        position=c["position"], case_number=c["case_number"], name=c["name"], summary=c["summary"],
        needs=[NeedLine(**n) for n in c["needs"]], opinions=[tuple(o) for o in c["opinions"]],
        discussion=c["discussion"], root_causes=[tuple(r) for r in c["root_causes"]], decisions=c["decisions"],
        actions=[ActionLine(**{**a, "due": _day(a["due"])}) for a in c["actions"]]) for c in raw["cases"]]
    return MinutesData(
        title=raw["title"], starts_at=datetime.fromisoformat(raw["starts_at"]), place=raw["place"],
        kind=raw["kind"], chair=raw["chair"], author=raw["author"], author_agency=raw["author_agency"],
        attendees=[Attendee(**a) for a in raw["attendees"]], absent_agencies=raw["absent_agencies"], cases=cases,
        reviews=[ReviewLine(**{**r, "due": _day(r["due"])}) for r in raw["reviews"]],
        next_meeting=_day(raw["next_meeting"]), next_check=_day(raw["next_check"]),
        approvals=[Approval(**{**a, "when": _day(a["when"])}) for a in raw["approvals"]],
        content_hash=raw["content_hash"], revision=raw["revision"])
