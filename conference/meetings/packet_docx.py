"""The pre-read packet as a Word file. Pure: a Packet in, .docx bytes out."""
from datetime import datetime

from conference.core.formatting import korean_date, korean_datetime
from conference.documents import docx_kit
from conference.meetings.packets import Packet, PacketCase
from conference.models.meetings import PacketSection


def header_mark(packet: Packet) -> str:
    reader = packet.agency_name or "사례관리 담당자"
    return f"대외비 · 개인정보 포함 · {reader} 열람용"


def build_packet_docx(packet: Packet, *, font: str, author: str, generated_at: datetime) -> bytes:
    document = docx_kit.new_document(font=font, title=f"{packet.title} 사전 공유자료", author=author,
                                     header_mark=header_mark(packet), subject="사전 공유자료",
                                     created=generated_at)
    docx_kit.add_heading(document, f"{packet.title} 사전 공유자료", level=0)
    facts = [("일시", korean_datetime(packet.starts_at)), ("장소", packet.place),
             ("주재", packet.chair or "—"), ("담당", packet.contact),
             ("참석 기관", ", ".join(packet.agencies))]
    if packet.agency_name:
        facts.append(("열람 기관", packet.agency_name))
    if packet.deadline:
        facts.append(("기관 의견 제출 기한", korean_date(packet.deadline)))
    docx_kit.add_facts(document, facts)
    docx_kit.add_paragraph(document,
        "이 자료는 회의 참석을 위해 필요한 범위에서만 공유합니다. 복사·전달·외부 반출을 금지하며 회의 후 파기합니다.")

    docx_kit.add_heading(document, "안건", level=1)
    docx_kit.add_table(document, ["순서", "사례", "논의 요청사항", "발표", "시간"],
                       [(str(c.position), f"{c.case_number} {c.masked_name}", c.key_question or "—",
                         c.presenting_agency or "—", f"{c.minutes_allotted}분") for c in packet.cases],
                       whole=(0, 4))
    for case in packet.cases:
        _add_case(document, case, reader_copy=bool(packet.agency_id))
    return docx_kit.to_bytes(document)


def _add_case(document, case: PacketCase, *, reader_copy: bool):
    docx_kit.add_heading(document, f"{case.position}. {case.case_number} {case.masked_name} ({case.district})", level=1)
    if case.is_repeat:
        docx_kit.add_paragraph(document, "최근 12개월 안에 논의한 사례입니다(재상정).")
    if not case.readable:
        docx_kit.add_paragraph(document, "정보제공 동의 범위 밖이라 이 기관에는 안건만 싣습니다.")
    elif reader_copy and case.unshared:
        docx_kit.add_labelled(document, "이 기관에 공유하지 않은 항목", " · ".join(case.unshared))
    if case.not_shown:
        docx_kit.add_paragraph(document, f"비공개 {case.not_shown}건 — 공개 범위나 정보제공 동의에 따라 싣지 않은 내용이 있습니다.")
    if case.key_question:
        docx_kit.add_labelled(document, "논의 요청사항", case.key_question)
    if case.consent_override_reason:
        docx_kit.add_labelled(document, "동의 범위 예외 사유", case.consent_override_reason)
    if case.shows(PacketSection.SUMMARY):
        docx_kit.add_heading(document, "사례 개요", level=2)
        docx_kit.add_facts(document, [("단계", case.stage), ("가구원수", str(case.household_size)),
                                      ("위기정보", ", ".join(case.signals) or "—")])
        if case.overview:
            docx_kit.add_labelled(document, "종합 소견", case.overview)
    if case.shows(PacketSection.HOUSEHOLD) and case.members:
        docx_kit.add_heading(document, "가구 구성", level=2)
        docx_kit.add_table(document, ["관계", "나이", "성별", "특성"],
                           [(m.relation, f"{m.age}세", m.sex or "—", ", ".join(m.flags)) for m in case.members],
                           [40, 30, 30, 70])
    if case.shows(PacketSection.NEEDS):
        docx_kit.add_heading(document, "욕구 및 위기도", level=2)
        if case.classification:
            docx_kit.add_paragraph(document, f"사례 구분: {case.classification}")
        if case.needs:
            docx_kit.add_table(document, ["욕구 영역", "위기도", "내용"],
                               [(n.domain, n.rating or "—", n.notes) for n in case.needs], whole=(0, 1))
        if case.sensitive_withheld:
            docx_kit.add_paragraph(document, "민감정보(건강)는 정보제공 동의 범위 밖이라 싣지 않았습니다.")
    if case.shows(PacketSection.INPUTS):
        docx_kit.add_heading(document, "기관 의견", level=2)
        if not case.inputs:
            docx_kit.add_paragraph(document, "제출된 다른 기관 의견이 아직 없습니다.")
        for line in case.inputs:
            docx_kit.add_heading(document, line.agency + (" (기한 후 제출)" if line.late else ""), level=3)
            if not (line.facts or line.opinion or line.risk_concerns):
                docx_kit.add_paragraph(document, "(비공개)")
            for label, text in (("관련 영역", ", ".join(line.domains)), ("보유 정보", line.facts),
                                ("기관 의견", line.opinion), ("위험 요인·우려", line.risk_concerns),
                                ("제공 가능 자원", "; ".join(line.resources)), ("공유하지 않은 정보", line.withheld),
                                ("담당자에게만", line.coordinator_note)):
                if text:
                    docx_kit.add_labelled(document, label, text)
    if case.shows(PacketSection.HISTORY):
        docx_kit.add_heading(document, "이전 회의", level=2)
        if case.history:
            for line in case.history:
                docx_kit.add_paragraph(document, f"{line.title} ({korean_date(line.starts_at)})", style="List Bullet")
        else:
            docx_kit.add_paragraph(document, "이전에 논의한 기록이 없습니다.")
        if case.open_actions:
            docx_kit.add_heading(document, "진행 중인 실행과제", level=3)
            docx_kit.add_table(document, ["과제", "담당기관", "기한", "상태"],
                               [(a.task or "(비공개)", a.agency, korean_date(a.due) + ("\n(기한 지남)" if a.overdue else ""),
                                 a.status) for a in case.open_actions], whole=(2, 3))
