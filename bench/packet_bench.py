"""Benchmark: the pre-read packet as a Word file, against bare python-docx writing the same text.

Usage (from the project root):

    .venv/bin/python bench/packet_bench.py                  # 30 cases, 6 agencies, 7 runs
    .venv/bin/python bench/packet_bench.py --cases 60 --runs 9

What it does: builds, in memory and without a database, a ``Packet`` of ``--cases`` cases for a meeting
with ``--agencies`` invited agencies (the coordinator's full view: every section, so every case carries
its household table, a need-rating table, earlier meetings and one submitted opinion per agency), then
times ``build_packet_docx`` (Korean fonts on the styles, header mark, page-number fields, repeating
header rows, shading, column widths, core properties, saved to bytes) against a baseline that writes the
same headings, paragraphs and tables with plain python-docx (``add_row().cells``) and no font, header,
footer or table work. Prints the median of ``--runs`` runs of each (after one warm-up run each), both
file sizes and the ratio. Runs alternate between the two, and CPU time is printed next to wall time:
on a busy machine the CPU figure is the steadier one. Target: ratio ≤ 1.2.
"""
import argparse
import io
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docx import Document

from bench.common import bare_table
from conference.core.formatting import korean_date, korean_datetime
from conference.core.masking import mask_name
from conference.meetings.packet_docx import build_packet_docx
from conference.meetings.packets import (
    HistoryLine,
    InputLine,
    MemberLine,
    NeedLine,
    Packet,
    PacketCase,
)

AGENCIES = ["동두천시 복지정책과", "무한돌봄센터", "중앙동 행정복지센터", "정신건강복지센터", "드림스타트",
            "천사운동본부", "동두천경찰서", "보건소", "장애인복지관", "동두천초등학교"]
DOMAINS = ["안전", "건강", "일상생활유지", "가족관계", "사회적 관계", "경제", "교육", "고용", "생활환경",
           "법률 및 권익보장"]
RATINGS = ["위기", "취약", "적정"]
SIGNALS = ["단전", "단수", "건강보험료 체납", "통신비 체납", "공동주택 관리비 체납", "금융 연체", "실직", "주거 위기"]
DISTRICTS = ["생연1동", "생연2동", "송내동", "중앙동", "보산동", "불현동", "소요동", "상패동"]
RELATIONS = ["배우자", "자녀", "자녀", "모", "부", "손자녀"]
NOTES = ["월세 6개월 체납으로 퇴거 통보를 받음. 집주인과 협의 중이나 기한이 촉박함.",
         "알코올 의존 의심, 최근 3개월 치료 중단. 야간 음주 후 이웃과 다툼 잦음.",
         "자녀 2명 등교 불규칙, 담임교사 상담 요청. 방과후 돌봄 공백 있음.",
         "기초생활수급 탈락 후 소득 없음. 긴급복지 생계지원 1회 받음.",
         "주거 환경 열악(곰팡이, 난방 고장). 겨울철 한랭질환 우려.",
         "모친 치매 초기 진단, 주 돌봄자인 대상자가 소진 상태."]
QUESTIONS = ["주거 위기 해소를 위해 어느 기관이 무엇을 먼저 할지 정해 주세요.",
             "아동 돌봄 공백을 메울 자원과 담당 기관을 정해 주세요.",
             "정신건강 개입 거부 시 안전 확보 방안을 논의해 주세요.",
             "긴급 생계지원 이후 소득 연계 계획을 세워 주세요."]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전"
GIVEN = ["민수", "영희", "순자", "정호", "미경", "상철", "은정", "지훈", "서연", "광수"]


def make_packet(cases: int, agencies: int, seed: int = 7) -> Packet:
    rng = random.Random(seed)
    invited = AGENCIES[:agencies]
    starts_at = datetime(2021, 3, 24, 5, 0, tzinfo=UTC)
    items = []
    for position in range(1, cases + 1):
        members = [MemberLine("본인", rng.randint(30, 80), rng.choice("남여"),
                              rng.sample(["노인", "장애"], rng.randint(0, 1)))]
        for _ in range(rng.randint(1, 4)):
            age = rng.randint(3, 85)
            members.append(MemberLine(rng.choice(RELATIONS), age, rng.choice("남여"),
                                      (["아동"] if age < 18 else []) + (["노인"] if age >= 65 else [])))
        needs = [NeedLine(domain, rng.choice(RATINGS), rng.choice(NOTES)) for domain in rng.sample(DOMAINS, 7)]
        inputs = [InputLine(agency=agency, facts=rng.choice(NOTES) + "\n" + rng.choice(NOTES),
                            opinion=rng.choice(NOTES), domains=rng.sample(DOMAINS, 2),
                            risk_concerns=rng.choice(["", "야간 단독 방문 자제 요청", "가정폭력 재발 우려"]),
                            withheld=rng.choice(["", "진료 기록 세부 내용(본인 미동의)"]),
                            resources=[f"{rng.choice(['공공', '민간'])} · "
                                       f"{rng.choice(['긴급복지 생계지원', '후원물품', '자원봉사'])}"],
                            late=rng.random() < 0.1, coordinator_note=rng.choice(["", "전화로 추가 확인함"]))
                  for agency in invited]
        history = [HistoryLine(f"2020년도 제{n}회 민관협력 통합사례회의", starts_at - timedelta(days=60 * n))
                   for n in range(1, rng.randint(1, 3))]
        items.append(PacketCase(
            position=position, case_number=f"2021-{position:04d}",
            masked_name=mask_name(rng.choice(SURNAMES) + rng.choice(GIVEN)), district=rng.choice(DISTRICTS),
            key_question=rng.choice(QUESTIONS), presenting_agency=rng.choice(invited), minutes_allotted=15,
            is_repeat=bool(history) and rng.random() < 0.5,
            consent_override_reason=rng.choice([""] * 9 + ["아동 안전 우려로 경찰 공유 필요 (팀장 승인)"]),
            sections={"summary", "household", "needs", "history", "inputs"}, stage="선정", classification="고난도",
            signals=rng.sample(SIGNALS, 3), household_size=len(members), members=members, needs=needs,
            sensitive_withheld=False, history=history, inputs=inputs))
    return Packet(meeting_id=1, title="2021년도 제3회 민관협력 통합사례회의", starts_at=starts_at,
                  place="동두천시청 별관 3층 회의실", chair="박위원장", coordinator="김담당", agency_id=0,
                  agency_name="",
                  deadline=date(2021, 3, 19), agencies=sorted(invited), cases=items)


# --- the baseline: the same text with plain python-docx ----------------------------------------------

def _facts(document, pairs):
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in pairs:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value


def bare_packet_docx(packet: Packet) -> bytes:
    document = Document()
    document.add_heading(f"{packet.title} 사전 공유자료", level=0)
    _facts(document, [("일시", korean_datetime(packet.starts_at)), ("장소", packet.place), ("주재", packet.chair),
                      ("담당", packet.coordinator), ("참석 기관", ", ".join(packet.agencies))])
    document.add_paragraph("이 자료는 회의 참석을 위해 필요한 범위에서만 공유합니다. "
                           "복사·전달·외부 반출을 금지하며 회의 후 파기합니다.")
    document.add_heading("안건", level=1)
    bare_table(document, ["순서", "사례", "논의 요청사항", "발표", "시간"],
                [(str(c.position), f"{c.case_number} {c.masked_name}", c.key_question, c.presenting_agency,
                  f"{c.minutes_allotted}분") for c in packet.cases])
    for case in packet.cases:
        document.add_heading(f"{case.position}. {case.case_number} {case.masked_name} ({case.district})", level=1)
        if case.is_repeat:
            document.add_paragraph("최근 12개월 안에 논의한 사례입니다(재상정).")
        document.add_paragraph(f"논의 요청사항: {case.key_question}")
        if case.consent_override_reason:
            document.add_paragraph(f"동의 범위 예외 사유: {case.consent_override_reason}")
        document.add_heading("사례 개요", level=2)
        _facts(document, [("단계", case.stage), ("가구원수", str(case.household_size)),
                          ("위기정보", ", ".join(case.signals))])
        document.add_heading("가구 구성", level=2)
        bare_table(document, ["관계", "나이", "성별", "특성"],
                    [(m.relation, f"{m.age}세", m.sex, ", ".join(m.flags)) for m in case.members])
        document.add_heading("욕구 및 위기도", level=2)
        document.add_paragraph(f"사례 구분: {case.classification}")
        bare_table(document, ["욕구 영역", "위기도", "내용"], [(n.domain, n.rating, n.notes) for n in case.needs])
        document.add_heading("기관 의견", level=2)
        for line in case.inputs:
            document.add_heading(line.agency, level=3)
            for label, text in (("관련 영역", ", ".join(line.domains)), ("보유 정보", line.facts),
                                ("기관 의견", line.opinion), ("위험 요인·우려", line.risk_concerns),
                                ("제공 가능 자원", "; ".join(line.resources)), ("공유하지 않은 정보", line.withheld),
                                ("담당자에게만", line.coordinator_note)):
                if text:
                    document.add_paragraph(f"{label}: {text}")
        document.add_heading("이전 회의", level=2)
        for line in case.history:
            document.add_paragraph(f"{line.title} ({korean_date(line.starts_at)})", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def styled_packet_docx(packet: Packet) -> bytes:
    return build_packet_docx(packet, font="맑은 고딕", author="무한돌봄센터", generated_at=datetime.now(UTC))


def measure(builders, packet, runs: int) -> dict[str, tuple[float, float, int]]:
    """Median wall and CPU seconds and file size per builder; runs alternate, so load hits both alike."""
    sizes = {name: len(build(packet)) for name, build in builders.items()}  # warm-up (imports, template parsing)
    wall = {name: [] for name in builders}
    cpu = {name: [] for name in builders}
    for _ in range(runs):
        for name, build in builders.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            build(packet)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]), sizes[name]) for name in builders}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--agencies", type=int, default=6)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    packet = make_packet(args.cases, args.agencies)
    tables = 1 + 1 + 3 * len(packet.cases)
    rows = len(packet.cases) + sum(len(c.members) + len(c.needs) + 3 for c in packet.cases)
    print(f"packet: {len(packet.cases)} cases, {args.agencies} agencies, {sum(len(c.inputs) for c in packet.cases)} "
          f"opinions, {tables} tables, ~{rows} table rows; median of {args.runs} alternating runs")
    results = measure({"bare python-docx": bare_packet_docx, "build_packet_docx": styled_packet_docx}, packet,
                      args.runs)
    for name, (wall, cpu, size) in results.items():
        print(f"{name:<18}: wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms  ({size / 1024:.0f} KiB)")
    (bare_wall, bare_cpu, _), (styled_wall, styled_cpu, _) = results.values()
    print(f"ratio             : wall {styled_wall / bare_wall:.2f}  cpu {styled_cpu / bare_cpu:.2f}  (target ≤ 1.2)")
    return styled_cpu / bare_cpu


if __name__ == "__main__":
    main()
