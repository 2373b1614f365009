"""Benchmark: the Word minutes of 30 cases × 6 agency opinions and 100 actions, against bare python-docx; and the
same minutes as HWPX against the Word builder.

Usage (from the project root):

    .venv/bin/python bench/minutes_bench.py            # 7 runs each, alternating
    .venv/bin/python bench/minutes_bench.py --runs 11

The baseline writes the same text with plain python-docx (headings, paragraphs and the same tables built
with ``add_row().cells``) but none of the layout work: no Korean fonts on the styles, header mark, page
numbers, widths, shading or repeated header rows. Prints both medians (wall and CPU) and their ratio
(target ≤ 1.2). ``table.cell(r, c)`` is never called in either. Then the HWPX builder of the same minutes against
the Word builder (issue 18's target: ≤ 1.5).
"""
import argparse
import io
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docx import Document  # noqa: E402

from bench.common import bare_table  # noqa: E402
from conference.core.formatting import korean_date, korean_datetime  # noqa: E402
from conference.minutes.document import (ActionLine, Attendee, CaseMinutes, CauseLine, MinutesData,  # noqa: E402
                                         NeedLine, Opinion, Passage, build_minutes_docx, build_minutes_hwpx)

AGENCIES = ["정신건강복지센터", "드림스타트", "중앙동 행정복지센터", "천사운동본부", "동두천경찰서", "보건소"]
DOMAINS = ["안전", "건강", "가족관계", "생활환경", "경제", "교육"]


def make_minutes(cases: int = 30, actions: int = 100) -> MinutesData:
    per_case = [actions // cases + (1 if n < actions % cases else 0) for n in range(cases)]
    return MinutesData(
        title="2021년도 제3회 민관협력 통합사례회의", starts_at=datetime(2021, 3, 24, 5, tzinfo=UTC),
        place="동두천시청 소회의실", kind="민관 통합사례회의", chair="윤팀장", author="한사례", author_agency="무한돌봄센터",
        attendees=[Attendee(f"참석자{n}", AGENCIES[n % 6], "주무관") for n in range(12)], absent_agencies=["학교"],
        cases=[CaseMinutes(
            position=n + 1, case_number=f"2021-{n + 1:04d}", name="김○○",
            summary="가정폭력을 동반한 위기 가구로 안전, 건강, 가족관계, 생활환경 영역의 개입이 필요함. " * 2,
            needs=[NeedLine(d, "위기", "반복적 위기 상황과 지원 필요 내용 기록") for d in DOMAINS[:4]],
            opinions=[Opinion(a, [Passage("기관 의견", "기관 기록상 확인된 사실과 전문적 의견을 구분해 적은 내용입니다. " * 3)])
                      for a in AGENCIES],
            discussion="근본원인 탐색을 위한 논의 내용을 요약함. " * 4,
            root_causes=[CauseLine(d, "지속되는 위기의 근본원인 설명") for d in DOMAINS[:3]],
            decisions="사례관리 대상 유지, 고난도 분류, 3개월 목표 설정",
            actions=[ActionLine(f"실행과제 {n + 1}-{k + 1}: 안전계획 수립과 연계", DOMAINS[k % 6], AGENCIES[k % 6],
                                "담당자", date(2021, 4, 7), "긴급복지 생계지원") for k in range(per_case[n])])
            for n in range(cases)],
        next_meeting=date(2021, 4, 28), next_check=date(2021, 4, 7))


def bare_minutes_docx(data: MinutesData) -> bytes:
    document = Document()
    document.add_heading(f"{data.title} 회의록", level=0)
    bare_table(document, ["항목", "내용"], [("일시", korean_datetime(data.starts_at)), ("장소", data.place),
                                           ("회의유형", data.kind), ("주재", data.chair), ("작성자", data.author)])
    document.add_heading("참석자", level=1)
    bare_table(document, ["성명", "소속기관", "직위"], [(a.name, a.agency, a.position) for a in data.attendees])
    document.add_paragraph("불참기관: " + ", ".join(data.absent_agencies))
    document.add_heading("안건", level=1)
    for case in data.cases:
        document.add_paragraph(f"{case.position}. {case.case_number} {case.name}")
    for case in data.cases:
        document.add_heading(f"{case.position}. {case.case_number} {case.name}", level=1)
        document.add_heading("사례 개요", level=2)
        document.add_paragraph(case.summary)
        document.add_heading("주요 욕구 및 위기도", level=2)
        bare_table(document, ["욕구 영역", "위기도", "내용"], [(n.domain, n.rating, n.notes) for n in case.needs])
        document.add_heading("기관별 의견", level=2)
        for opinion in case.opinions:
            document.add_paragraph(f"{opinion.agency}: {opinion.text}")
        document.add_heading("논의 내용", level=2)
        document.add_paragraph(case.discussion)
        document.add_heading("근본원인", level=2)
        for line in case.root_causes:
            document.add_paragraph(f"{line.domain}: {line.cause}")
        document.add_heading("결정사항", level=2)
        document.add_paragraph(case.decisions)
        document.add_heading("실행계획", level=2)
        bare_table(document, ["과제", "욕구영역", "담당기관", "담당자", "기한", "연계자원"],
                    [(a.task, a.domain, a.agency, a.person, korean_date(a.due), a.resource) for a in case.actions])
    document.add_heading("향후 일정", level=1)
    bare_table(document, ["항목", "날짜"], [("다음 회의", korean_date(data.next_meeting)),
                                          ("다음 점검일", korean_date(data.next_check))])
    document.add_heading("결재", level=1)
    bare_table(document, ["작성", "결재"], [(data.author, data.chair)])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    data = make_minutes()
    ours = lambda: build_minutes_docx(data, font="맑은 고딕", generated_at=datetime.now(UTC))  # noqa: E731
    bare = lambda: bare_minutes_docx(data)  # noqa: E731
    ours(), bare()  # warm up
    results = {"bare": [], "ours": []}
    for _ in range(args.runs):
        results["bare"].append(timed(bare))
        results["ours"].append(timed(ours))
    medians = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}
    actions = sum(len(c.actions) for c in data.cases)
    print(f"minutes: {len(data.cases)} cases, {sum(len(c.opinions) for c in data.cases)} opinions, {actions} actions;"
          f" median of {args.runs} alternating runs")
    print(f"bare python-docx   : wall {medians['bare'][0] * 1000:7.1f} ms  cpu {medians['bare'][1] * 1000:7.1f} ms")
    print(f"build_minutes_docx : wall {medians['ours'][0] * 1000:7.1f} ms  cpu {medians['ours'][1] * 1000:7.1f} ms")
    print(f"ratio              : wall {medians['ours'][0] / medians['bare'][0]:.2f}  "
          f"cpu {medians['ours'][1] / medians['bare'][1]:.2f}  (target ≤ 1.2)")
    hwpx = lambda: build_minutes_hwpx(data, font="맑은 고딕", generated_at=datetime.now(UTC))  # noqa: E731
    hwpx()
    pairs = [(timed(hwpx), timed(ours)) for _ in range(args.runs)]
    h = statistics.median(c for (_, c), _ in pairs), statistics.median(c for _, (_, c) in pairs)
    print(f"build_minutes_hwpx : cpu {h[0] * 1000:7.1f} ms  against build_minutes_docx {h[1] * 1000:7.1f} ms  "
          f"ratio {h[0] / h[1]:.2f}  (target ≤ 1.5)")


if __name__ == "__main__":
    main()
