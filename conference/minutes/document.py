"""The minutes (회의록) and the attendance sheet (참석자 명부) as Word files, in the usual Korean
public-sector layout. Pure: plain data in, .docx bytes out; no request, no database.
"""
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from conference.documents import docx_kit
from conference.formatting import korean_date, korean_datetime

HEADER_MARK = "대외비 · 개인정보 포함 — 외부 유출 금지"


@dataclass
class Attendee:
    name: str
    agency: str
    position: str = ""


@dataclass
class NeedLine:
    domain: str
    rating: str
    notes: str = ""


@dataclass
class ActionLine:
    task: str
    domain: str
    agency: str
    person: str
    due: date | None
    resource: str = ""


@dataclass
class ReviewLine:
    case_number: str
    task: str
    agency: str
    due: date | None
    outcome: str
    note: str = ""


@dataclass
class CaseMinutes:
    position: int
    case_number: str
    name: str
    summary: str
    needs: list[NeedLine] = field(default_factory=list)
    #: (agency, opinion text)
    opinions: list[tuple[str, str]] = field(default_factory=list)
    discussion: str = ""
    #: (need domain, root cause)
    root_causes: list[tuple[str, str]] = field(default_factory=list)
    decisions: str = ""
    actions: list[ActionLine] = field(default_factory=list)


@dataclass
class Approval:
    role: str
    name: str
    when: date | None = None


@dataclass
class MinutesData:
    title: str
    starts_at: datetime
    place: str
    kind: str
    chair: str
    author: str
    author_agency: str
    attendees: list[Attendee]
    absent_agencies: list[str]
    cases: list[CaseMinutes]
    reviews: list[ReviewLine] = field(default_factory=list)
    next_meeting: date | None = None
    next_check: date | None = None
    approvals: list[Approval] = field(default_factory=list)
    #: Content hash of the finalised minutes, printed at the end.
    content_hash: str = ""
    revision: int = 1


def only_cases(data: MinutesData, case_numbers: set[str] | None) -> MinutesData:
    """The minutes limited to the given cases (their sections and their earlier actions); None keeps all."""
    if case_numbers is None:
        return data
    return replace(data, cases=[c for c in data.cases if c.case_number in case_numbers],
                   reviews=[r for r in data.reviews if r.case_number in case_numbers])


def _due(day: date | None) -> str:
    return korean_date(day) if day else "—"


def build_minutes_docx(data: MinutesData, *, font: str, generated_at: datetime) -> bytes:
    """The minutes: header facts, attendance, agenda, each case with its action plan, earlier actions, 결재."""
    document = docx_kit.new_document(font=font, title=f"{data.title} 결과", author=data.author_agency,
                                     header_mark=HEADER_MARK, subject="회의록", created=generated_at)
    docx_kit.add_heading(document, f"{data.title} 결과", level=0)
    docx_kit.add_facts(document, [
        ("일시", korean_datetime(data.starts_at)), ("장소", data.place), ("회의유형", data.kind),
        ("주재", data.chair or "—"), ("작성자", f"{data.author} ({data.author_agency})")])

    docx_kit.add_heading(document, "참석자", level=1)
    docx_kit.add_table(document, ["성명", "소속기관", "직위"],
                       [(a.name, a.agency, a.position or "—") for a in data.attendees], [40, 80, 50])
    docx_kit.add_labelled(document, "불참기관", ", ".join(data.absent_agencies) or "없음")

    docx_kit.add_heading(document, "안건", level=1)
    for case in data.cases:
        docx_kit.add_paragraph(document, f"{case.position}. {case.case_number} {case.name}")

    if data.reviews:
        docx_kit.add_heading(document, "이전 실행과제 점검", level=1)
        docx_kit.add_table(document, ["사례", "과제", "담당기관", "기한", "결과", "비고"],
                           [(r.case_number, r.task, r.agency, _due(r.due), r.outcome, r.note) for r in data.reviews],
                           [22, 48, 28, 22, 18, 32])

    for case in data.cases:
        _add_case(document, case)

    docx_kit.add_heading(document, "향후 일정", level=1)
    docx_kit.add_facts(document, [("다음 회의", _due(data.next_meeting)), ("다음 점검일", _due(data.next_check))])

    docx_kit.add_heading(document, "결재", level=1)
    approvals = data.approvals or [Approval("작성", data.author), Approval("결재", data.chair)]
    docx_kit.add_table(document, [a.role for a in approvals],
                       [[a.name or "" for a in approvals], [_due(a.when) if a.when else "" for a in approvals]])
    if data.content_hash:
        docx_kit.add_paragraph(document, f"확정본 {data.revision}판 · 내용 해시 {data.content_hash}")
    return docx_kit.to_bytes(document)


def _add_case(document, case: CaseMinutes):
    docx_kit.add_heading(document, f"{case.position}. {case.case_number} {case.name}", level=1)
    docx_kit.add_heading(document, "사례 개요", level=2)
    docx_kit.add_paragraph(document, case.summary or "—")
    if case.needs:
        docx_kit.add_heading(document, "주요 욕구 및 위기도", level=2)
        docx_kit.add_table(document, ["욕구 영역", "위기도", "내용"],
                           [(n.domain, n.rating or "—", n.notes) for n in case.needs], [35, 25, 110])
    if case.opinions:
        docx_kit.add_heading(document, "기관별 의견", level=2)
        for agency, text in case.opinions:
            docx_kit.add_labelled(document, agency, text)
    docx_kit.add_heading(document, "논의 내용", level=2)
    docx_kit.add_paragraph(document, case.discussion or "—")
    if case.root_causes:
        docx_kit.add_heading(document, "근본원인", level=2)
        for domain, cause in case.root_causes:
            docx_kit.add_labelled(document, domain, cause)
    docx_kit.add_heading(document, "결정사항", level=2)
    docx_kit.add_paragraph(document, case.decisions or "—")
    docx_kit.add_heading(document, "실행계획", level=2)
    docx_kit.add_table(document, ["과제", "욕구영역", "담당기관", "담당자", "기한", "연계자원"],
                       [(a.task, a.domain, a.agency, a.person, _due(a.due), a.resource or "—") for a in case.actions],
                       [50, 22, 28, 20, 22, 28])


def build_attendance_sheet_docx(data: MinutesData, *, font: str, generated_at: datetime) -> bytes:
    """참석자 명부: one row per attendee with an empty signature column, plus blank rows for walk-ins."""
    document = docx_kit.new_document(font=font, title=f"{data.title} 참석자 명부", author=data.author_agency,
                                     header_mark=HEADER_MARK, subject="참석자 명부", created=generated_at)
    docx_kit.add_heading(document, f"{data.title} 참석자 명부", level=0)
    docx_kit.add_facts(document, [("일시", korean_datetime(data.starts_at)), ("장소", data.place)])
    docx_kit.add_paragraph(document, "회의에서 알게 된 정보는 사례관리 목적 밖으로 쓰거나 알리지 않을 것을 서약합니다.")
    rows = [(str(i), a.name, a.agency, a.position, "") for i, a in enumerate(data.attendees, start=1)]
    rows += [(str(len(rows) + i), "", "", "", "") for i in range(1, 6)]
    docx_kit.add_table(document, ["연번", "성명", "소속기관", "직위", "서명"], rows, [14, 34, 54, 34, 34])
    return docx_kit.to_bytes(document)
