"""The minutes (회의록) and the sign-in sheet (참석자 서명부) as Word files, in the usual Korean
public-sector layout. Pure: plain data in, .docx bytes out; no request, no database.

``MinutesData`` is the full version (the city's): every text with its disclosure level and each invited agency's
grant per case. ``agency_copy`` cuts an agency's version from it by ``conference.shared.disclosure``; the page and the
Word file render whichever they are given and never filter on their own.
"""
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from conference.core.formatting import KST, korean_date, korean_datetime
from conference.documents import docx_kit, hwpx_kit
from conference.models.meetings import PacketSection
from conference.shared import disclosure
from conference.shared.disclosure import Grant

HEADER_MARK = "대외비 · 개인정보 포함 — 외부 유출 금지"
DRAFT_MARK = "초안 · 결재 전"
SHARED = "shared"
INTERNAL = "internal"


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
    level: str = SHARED
    #: The NeedDomain value: a rating in a sensitive domain is itself sensitive.
    key: str = ""


@dataclass
class Passage:
    """A labelled piece of an agency's input (보유 정보, 기관 의견, 위험 요인) with its disclosure level."""

    label: str
    text: str
    level: str = SHARED


@dataclass
class Opinion:
    """One agency's input on a case, its parts kept apart as the form asked."""

    agency: str
    parts: list[Passage] = field(default_factory=list)
    agency_id: int = 0

    @property
    def text(self) -> str:
        return "\n".join(f"[{p.label}] {p.text}" if p.label else p.text for p in self.parts if p.text)


@dataclass
class CauseLine:
    """근본원인: a cause found in one need domain."""

    domain: str
    cause: str
    level: str = SHARED


@dataclass
class ActionLine:
    task: str
    domain: str
    agency: str
    person: str
    due: date | None
    resource: str = ""
    level: str = SHARED
    agency_id: int = 0


@dataclass
class ReviewLine:
    case_number: str
    task: str
    agency: str
    due: date | None
    outcome: str
    note: str = ""
    #: The disclosure level of the action's task (its note follows it).
    level: str = SHARED
    agency_id: int = 0


@dataclass
class CaseMinutes:
    position: int
    case_number: str
    name: str
    #: 단계 · 가구원 · 사례 구분: facts of the case summary section.
    summary: str
    needs: list[NeedLine] = field(default_factory=list)
    opinions: list[Opinion] = field(default_factory=list)
    discussion: str = ""
    root_causes: list[CauseLine] = field(default_factory=list)
    #: 결정사항 as written, with the goals.
    decisions: str = ""
    actions: list[ActionLine] = field(default_factory=list)
    #: 논의 요청사항.
    key_question: str = ""
    key_question_level: str = SHARED
    #: 위기정보 as typed, and 종합 소견 of the latest assessment.
    signals: str = ""
    signals_level: str = SHARED
    overview: str = ""
    overview_level: str = SHARED
    discussion_level: str = SHARED
    decisions_level: str = SHARED
    #: What the meeting decided formally (사례 구분, 선정, 종결): read by every agency that may read the case.
    decided: str = ""
    #: Put off to the next meeting (보류); the reason is free text nobody gave a level, so it is read as 시 내부.
    postponed: bool = False
    postponed_reason: str = ""
    #: Each invited agency's grant (agency id → Grant) when the minutes were approved; empty in an agency's copy.
    grants: dict[int, Grant] = field(default_factory=dict)
    #: In an agency's copy: how many pieces it is not shown ("비공개 N건").
    not_shown: int = 0
    #: In an agency's copy: the 논의 요청사항 exists but is above the reader's level.
    key_question_withheld: bool = False


@dataclass
class Approval:
    """One step of the 결재란: 작성, 검토 or 결재, with the signer's name, 직위 and the day signed."""

    role: str
    name: str
    when: date | None = None
    position: str = ""


#: The steps of a 결재란, in order.
SIGN_OFF_STEPS = ("작성", "검토", "결재")


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
    #: Not approved yet: every page says 초안 · 결재 전.
    draft: bool = False
    #: The agency whose copy this is ("" for the full version).
    reader: str = ""
    #: When the meeting ended (its start plus its planned duration); None in snapshots kept before it was recorded.
    ends_at: datetime | None = None
    #: The chair's 직위.
    chair_position: str = ""

    @property
    def chair_line(self) -> str:
        """주재 with 직위: "윤팀장 (팀장)"."""
        if not self.chair:
            return "—"
        return f"{self.chair} ({self.chair_position})" if self.chair_position else self.chair

    @property
    def attending_agencies(self) -> int:
        """How many agencies the attendees came from."""
        return len({a.agency for a in self.attendees if a.agency})

    @property
    def head_count(self) -> str:
        """"5개 기관 6명": the attendees and the agencies they came from."""
        return f"{self.attending_agencies}개 기관 {len(self.attendees)}명"

    @property
    def heading(self) -> str:
        return f"{self.title} 회의록" + (f" ({DRAFT_MARK})" if self.draft else "")

    @property
    def header_mark(self) -> str:
        mark = f"대외비 · 개인정보 포함 · {self.reader} 열람용" if self.reader else HEADER_MARK
        return f"{DRAFT_MARK} · {mark}" if self.draft else mark


def agency_copy(data: MinutesData, agency_id: int, agency_name: str,
                today_grants: dict[str, Grant] | None = None) -> MinutesData:
    """An invited agency's version of the minutes: attendance, the agenda lines of the cases it may read, and of
    each exactly what its grant lets it read (its own input and actions in full; other agencies' actions as
    agency and due date, their text only where allowed). ``today_grants`` (case number → grant under today's
    consent) narrow the grants kept at approval: a consent withdrawn since hides the case."""
    grants = {}
    for case in data.cases:
        today = today_grants.get(case.case_number, disclosure.NOTHING) if today_grants is not None else None
        grant = disclosure.kept_grant(case.grants, agency_id, today)
        if grant.visible:
            grants[case.case_number] = grant
    cases = [_case_copy(c, grants[c.case_number], agency_id) for c in data.cases if c.case_number in grants]
    reviews = []
    for review in data.reviews:
        grant = grants.get(review.case_number)
        if grant is None:
            continue
        reads = grant.may_read(review.level, PacketSection.HISTORY, writer=review.agency_id, reader=agency_id)
        reviews.append(review if reads else replace(review, task="", note=""))
    return replace(data, cases=cases, reviews=reviews, reader=agency_name)


def _case_copy(case: CaseMinutes, grant: Grant, reader: int) -> CaseMinutes:
    reading = disclosure.Reading(grant, reader)
    keep = reading.keep
    needs = []
    for need in case.needs:
        if grant.shows(PacketSection.NEEDS) and grant.may_read_domain(need.key):
            needs.append(replace(need, notes=keep(need.notes, need.level, PacketSection.NEEDS)))
        else:
            reading.withhold()
    opinions = []
    for opinion in case.opinions:
        own = opinion.agency_id == reader
        if not own and not grant.shows(PacketSection.INPUTS):
            reading.withhold()
            continue
        opinions.append(replace(opinion, parts=[
            replace(p, text=keep(p.text, p.level, PacketSection.INPUTS, opinion.agency_id)) for p in opinion.parts]))
    actions = [a if a.agency_id == reader else
               replace(a, task=keep(a.task, a.level), person="", resource="") for a in case.actions]
    key_question = keep(case.key_question, case.key_question_level)
    copy = replace(
        case, summary=case.summary if grant.shows(PacketSection.SUMMARY) else "",
        signals=keep(case.signals, case.signals_level, PacketSection.SUMMARY),
        overview=keep(case.overview, case.overview_level, PacketSection.SUMMARY),
        key_question=key_question, needs=needs, opinions=opinions,
        key_question_withheld=bool(case.key_question) and not key_question,
        discussion=keep(case.discussion, case.discussion_level),
        root_causes=[c for c in case.root_causes if keep(c.cause, c.level)],
        decisions=keep(case.decisions, case.decisions_level), actions=actions, grants={},
        postponed_reason=keep(case.postponed_reason, INTERNAL))
    copy.not_shown = reading.not_shown
    return copy


def decided_lines(case: CaseMinutes) -> list[str]:
    """결정사항 as the minutes print it: the postponement (with its reason where the reader may read it), the
    formal decision, then what was decided in words."""
    postponed = ("보류 (다음 회의로)" + (f": {case.postponed_reason}" if case.postponed_reason else "")
                 if case.postponed else "")
    return [text for text in (postponed, case.decided, case.decisions) if text]


WITHHELD = "(비공개)"


def not_shown_text(count: int) -> str:
    return f"비공개 {count}건 — 공개 범위나 정보제공 동의에 따라 이 기관 열람용에 싣지 않은 내용이 있습니다."


def _due(day: date | None) -> str:
    return korean_date(day) if day else "—"


def meeting_time(starts_at: datetime, ends_at: datetime | None) -> str:
    """일시 with its end: "2021. 3. 24.(수) 14:00 ~ 16:00" (the end's date too when the meeting ran past midnight)."""
    text = korean_datetime(starts_at)
    if ends_at is None:
        return text
    start, end = starts_at.astimezone(KST), ends_at.astimezone(KST)
    return f"{text} ~ {end:%H:%M}" if start.date() == end.date() else f"{text} ~ {korean_datetime(ends_at)}"


def sign_off_steps(data: MinutesData) -> list[docx_kit.SignStep]:
    """The 결재란's three steps (작성 · 검토 · 결재) from the approvals recorded; a step nobody has yet is left
    for a hand signature or stamp."""
    approvals = {a.role: a for a in data.approvals}
    approvals.setdefault("작성", Approval("작성", data.author))
    approvals.setdefault("결재", Approval("결재", data.chair))
    steps = []
    for role in SIGN_OFF_STEPS:
        approval = approvals.get(role) or Approval(role, "")
        steps.append(docx_kit.SignStep(role, approval.position, approval.name,
                                       korean_date(approval.when) if approval.when else ""))
    return steps


def footer_note(data: MinutesData) -> str:
    return f"확정본 {data.revision}판 · 내용 해시 {data.content_hash}" if data.content_hash else ""


def agenda_rows(data: MinutesData) -> list[tuple[str, str, str, str]]:
    """순서 · 사례번호 · 대상 · 논의 요청사항 of each case, as the reader may read it."""
    return [(str(c.position), c.case_number, c.name,
             c.key_question or (WITHHELD if c.key_question_withheld else "—")) for c in data.cases]


def build_minutes_docx(data: MinutesData, *, font: str, generated_at: datetime) -> bytes:
    """The minutes as a Word file (``write_minutes``)."""
    return write_minutes(data, _writer(docx_kit.DocxWriter, data, font, generated_at))


def build_minutes_hwpx(data: MinutesData, *, font: str, generated_at: datetime) -> bytes:
    """The minutes as a 한글 file (``write_minutes``): the same content as the Word file."""
    return write_minutes(data, _writer(hwpx_kit.HwpxWriter, data, font, generated_at))


def _writer(kind, data: MinutesData, font: str, generated_at: datetime):
    title = data.heading + (f" · {data.reader} 열람용" if data.reader else "")
    return kind(font=font, title=title, author=data.author_agency, header_mark=data.header_mark, subject="회의록",
                created=generated_at, footer_note=footer_note(data))


def write_minutes(data: MinutesData, writer) -> bytes:
    """The minutes, in any format's writer: 결재란 at the top right, header facts, attendance, agenda, each case with
    its action plan, earlier actions, next dates; the content hash in the footer."""
    writer.sign_off(sign_off_steps(data))
    writer.heading(data.heading, level=0)
    writer.facts([
        ("일시", meeting_time(data.starts_at, data.ends_at)), ("장소", data.place), ("회의유형", data.kind),
        ("주재", data.chair_line), ("작성자", f"{data.author} ({data.author_agency})")])

    writer.heading("참석자", level=1)
    writer.labelled("참석 인원", data.head_count, keep_with_next=True)
    writer.table(["성명", "소속기관", "직위"], [(a.name, a.agency, a.position or "—") for a in data.attendees],
                 whole=(0, 2))
    writer.labelled("불참기관", ", ".join(data.absent_agencies) or "없음")

    writer.heading("안건", level=1)
    writer.table(["순서", "사례번호", "대상", "논의 요청사항"], agenda_rows(data), whole=(0, 1, 2))

    if data.reviews:
        writer.heading("이전 실행과제 점검", level=1)
        writer.table(["사례", "과제", "담당기관", "기한", "결과", "비고"],
                     [(r.case_number, r.task or WITHHELD, r.agency, _due(r.due), r.outcome, r.note)
                      for r in data.reviews], whole=(0, 3, 4))

    for case in data.cases:
        _write_case(writer, case)

    writer.heading("향후 일정", level=1)
    writer.facts([("다음 회의", _due(data.next_meeting)), ("다음 점검일", _due(data.next_check))], together=True)
    return writer.finish()


def summary_lines(case: CaseMinutes) -> list[tuple[str, str]]:
    """The case summary as (label, text) lines; empty labels for the facts line."""
    lines = [("", case.summary)] if case.summary else []
    if case.signals:
        lines.append(("위기정보", case.signals))
    if case.overview:
        lines.append(("종합 소견", case.overview))
    return lines


def decision_text(case: CaseMinutes) -> str:
    return "\n".join(decided_lines(case))


def _write_case(writer, case: CaseMinutes):
    writer.heading(f"{case.position}. {case.case_number} {case.name}", level=1)
    if case.not_shown:
        writer.paragraph(not_shown_text(case.not_shown))
    writer.heading("사례 개요", level=2)
    lines = summary_lines(case)
    if not lines:
        writer.paragraph("—")
    for label, text in lines:
        if label:
            writer.labelled(label, text)
        else:
            writer.paragraph(text)
    if case.needs:
        writer.heading("주요 욕구 및 위기도", level=2)
        writer.table(["욕구 영역", "위기도", "내용"], [(n.domain, n.rating or "—", n.notes) for n in case.needs],
                     whole=(0, 1))
    if case.opinions:
        writer.heading("기관별 의견", level=2)
        for opinion in case.opinions:
            writer.labelled(opinion.agency, opinion.text or WITHHELD)
    writer.heading("논의 내용", level=2)
    writer.paragraph(case.discussion or "—")
    if case.root_causes:
        writer.heading("근본원인", level=2)
        for line in case.root_causes:
            writer.labelled(line.domain, line.cause)
    writer.heading("결정사항", level=2)
    writer.paragraph(decision_text(case) or "—")
    writer.heading("실행계획", level=2)
    writer.table(["과제", "욕구영역", "담당기관", "담당자", "기한", "연계자원"],
                 [(a.task or WITHHELD, a.domain, a.agency, a.person, _due(a.due), a.resource or "—")
                  for a in case.actions], whole=(3, 4))


@dataclass
class SignInSheet:
    """참석자 서명부 of a meeting: who is expected (the invitations' invitees, the chair, the coordinator) and
    whoever was recorded present besides them."""

    title: str
    starts_at: datetime
    place: str
    author_agency: str
    people: list[Attendee]
    ends_at: datetime | None = None


#: Empty rows at the end of a sign-in sheet, for people nobody named in advance.
BLANK_SIGN_IN_ROWS = 5
#: A sign-in row is at least this high: room to sign by hand.
SIGN_IN_ROW_MM = 12
#: The signature column's width.
SIGNATURE_MM = 45


def build_sign_in_sheet_docx(sheet: SignInSheet, *, font: str, generated_at: datetime) -> bytes:
    return write_sign_in_sheet(sheet, _sheet_writer(docx_kit.DocxWriter, sheet, font, generated_at))


def build_sign_in_sheet_hwpx(sheet: SignInSheet, *, font: str, generated_at: datetime) -> bytes:
    return write_sign_in_sheet(sheet, _sheet_writer(hwpx_kit.HwpxWriter, sheet, font, generated_at))


def _sheet_writer(kind, sheet: SignInSheet, font: str, generated_at: datetime):
    return kind(font=font, title=f"{sheet.title} 참석자 서명부", author=sheet.author_agency, header_mark=HEADER_MARK,
                subject="참석자 서명부", created=generated_at)


def write_sign_in_sheet(sheet: SignInSheet, writer) -> bytes:
    """참석자 서명부, in any format's writer: 회의명 and 일시 at the top, the pledge, then 연번 · 성명 · 소속기관 · 직위 ·
    서명 per person expected, with blank rows, each row tall enough to sign."""
    writer.heading("참석자 서명부", level=0)
    writer.facts([("회의명", sheet.title), ("일시", meeting_time(sheet.starts_at, sheet.ends_at)), ("장소", sheet.place)])
    writer.paragraph("회의에서 알게 된 정보는 사례관리 목적 밖으로 쓰거나 알리지 않을 것을 서약합니다.")
    rows = [(str(i), a.name, a.agency, a.position, "") for i, a in enumerate(sheet.people, start=1)]
    rows += [(str(len(rows) + i), "", "", "", "") for i in range(1, BLANK_SIGN_IN_ROWS + 1)]
    headers = ["연번", "성명", "소속기관", "직위", "서명"]
    total = writer.text_width_mm
    widths = docx_kit.fit_columns(headers[:4], [r[:4] for r in rows], total - SIGNATURE_MM, whole=(0, 1, 3))
    for column, least in ((1, 24.0), (3, 30.0)):  # room to write a name or a 직위 by hand
        grow = max(0.0, least - widths[column])
        widths[column] += grow
        widths[2] -= grow
    widths.append(total - sum(widths))
    writer.table(headers, rows, widths_mm=widths, row_height_mm=SIGN_IN_ROW_MM)
    return writer.finish()
