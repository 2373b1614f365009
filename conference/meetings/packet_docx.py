"""The pre-read packet as a Word or 한글 file: what goes into it written once (``write_packet``) for either format's
writer. Pure: a Packet in, bytes out."""
from datetime import datetime

from conference.core.formatting import korean_date, korean_datetime
from conference.documents import docx_kit, hwpx_kit
from conference.meetings.packets import Packet, PacketCase
from conference.models.meetings import PacketSection


def header_mark(packet: Packet) -> str:
    reader = packet.agency_name or "사례관리 담당자"
    return f"대외비 · 개인정보 포함 · {reader} 열람용"


def build_packet_docx(packet: Packet, *, font: str, author: str, generated_at: datetime) -> bytes:
    return write_packet(packet, _writer(docx_kit.DocxWriter, packet, font, author, generated_at))


def build_packet_hwpx(packet: Packet, *, font: str, author: str, generated_at: datetime) -> bytes:
    return write_packet(packet, _writer(hwpx_kit.HwpxWriter, packet, font, author, generated_at))


def _writer(kind, packet: Packet, font: str, author: str, generated_at: datetime):
    return kind(font=font, title=f"{packet.title} 사전 공유자료", author=author, header_mark=header_mark(packet),
                subject="사전 공유자료", created=generated_at)


def write_packet(packet: Packet, writer) -> bytes:
    writer.heading(f"{packet.title} 사전 공유자료", level=0)
    facts = [("일시", korean_datetime(packet.starts_at)), ("장소", packet.place),
             ("주재", packet.chair or "—"), ("담당", packet.contact),
             ("참석 기관", ", ".join(packet.agencies))]
    if packet.agency_name:
        facts.append(("열람 기관", packet.agency_name))
    if packet.deadline:
        facts.append(("기관 의견 제출 기한", korean_date(packet.deadline)))
    writer.facts(facts)
    writer.paragraph("이 자료는 회의 참석을 위해 필요한 범위에서만 공유합니다. 복사·전달·외부 반출을 금지하며 회의 후 파기합니다.")

    writer.heading("안건", level=1)
    writer.table(["순서", "사례", "논의 요청사항", "발표", "시간"],
                 [(str(c.position), f"{c.case_number} {c.masked_name}", c.key_question or "—",
                   c.presenting_agency or "—", f"{c.minutes_allotted}분") for c in packet.cases], whole=(0, 4))
    for case in packet.cases:
        _write_case(writer, case, reader_copy=bool(packet.agency_id))
    return writer.finish()


def _write_case(writer, case: PacketCase, *, reader_copy: bool):
    writer.heading(f"{case.position}. {case.case_number} {case.masked_name} ({case.district})", level=1)
    if case.is_repeat:
        writer.paragraph("최근 12개월 안에 논의한 사례입니다(재상정).")
    if not case.readable:
        writer.paragraph("정보제공 동의 범위 밖이라 이 기관에는 안건만 싣습니다.")
    elif reader_copy and case.unshared:
        writer.labelled("이 기관에 공유하지 않은 항목", " · ".join(case.unshared))
    if case.not_shown:
        writer.paragraph(f"비공개 {case.not_shown}건 — 공개 범위나 정보제공 동의에 따라 싣지 않은 내용이 있습니다.")
    if case.key_question:
        writer.labelled("논의 요청사항", case.key_question)
    if case.consent_override_reason:
        writer.labelled("동의 범위 예외 사유", case.consent_override_reason)
    if case.shows(PacketSection.SUMMARY):
        writer.heading("사례 개요", level=2)
        writer.facts([("단계", case.stage), ("가구원수", str(case.household_size)),
                      ("위기정보", ", ".join(case.signals) or "—")])
        if case.overview:
            writer.labelled("종합 소견", case.overview)
    if case.shows(PacketSection.HOUSEHOLD) and case.members:
        writer.heading("가구 구성", level=2)
        writer.table(["관계", "나이", "성별", "특성"],
                     [(m.relation, f"{m.age}세", m.sex or "—", ", ".join(m.flags)) for m in case.members],
                     widths_mm=[40, 30, 30, 70])
    if case.shows(PacketSection.NEEDS):
        writer.heading("욕구 및 위기도", level=2)
        if case.classification:
            writer.paragraph(f"사례 구분: {case.classification}")
        if case.needs:
            writer.table(["욕구 영역", "위기도", "내용"],
                         [(n.domain, n.rating or "—", n.notes) for n in case.needs], whole=(0, 1))
        if case.sensitive_withheld:
            writer.paragraph("민감정보(건강)는 정보제공 동의 범위 밖이라 싣지 않았습니다.")
    if case.shows(PacketSection.INPUTS):
        writer.heading("기관 의견", level=2)
        if not case.inputs:
            writer.paragraph("제출된 다른 기관 의견이 아직 없습니다.")
        for line in case.inputs:
            writer.heading(line.agency + (" (기한 후 제출)" if line.late else ""), level=3)
            if not (line.facts or line.opinion or line.risk_concerns):
                writer.paragraph("(비공개)")
            for label, text in (("관련 영역", ", ".join(line.domains)), ("보유 정보", line.facts),
                                ("기관 의견", line.opinion), ("위험 요인·우려", line.risk_concerns),
                                ("제공 가능 자원", "; ".join(line.resources)), ("공유하지 않은 정보", line.withheld),
                                ("담당자에게만", line.coordinator_note)):
                if text:
                    writer.labelled(label, text)
    if case.shows(PacketSection.HISTORY):
        writer.heading("이전 회의", level=2)
        if case.history:
            for line in case.history:
                writer.bullet(f"{line.title} ({korean_date(line.starts_at)})")
        else:
            writer.paragraph("이전에 논의한 기록이 없습니다.")
        if case.open_actions:
            writer.heading("진행 중인 실행과제", level=3)
            writer.table(["과제", "담당기관", "기한", "상태"],
                         [(a.task or "(비공개)", a.agency, korean_date(a.due) + ("\n(기한 지남)" if a.overdue else ""),
                           a.status) for a in case.open_actions], whole=(2, 3))
