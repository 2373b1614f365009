"""The dashboard: aggregate figures, the same number of queries at any size, practitioners see their agency only."""
from datetime import UTC, date, datetime

import pytest
import time_machine
from factories import counting_queries
from factories_world import login

from conference.extensions import db
from conference.seed.datagen import generate_households

def test_coordinator_sees_the_citys_figures(client, seeded):
    login(client, "coordinator")
    page = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert "분기별 발굴·선정" in page and "<svg" in page
    assert ">7</text>" in page  # seven households discovered in the first quarter of 2021 (demo)
    for agency in ("정신건강복지센터", "드림스타트", "중앙동 행정복지센터", "천사운동본부"):
        assert agency in page
    assert "cdn" not in page.lower() and "<script" not in page


def test_a_practitioner_sees_only_the_agencys_actions_and_cases(client, seeded):
    login(client, "mh")
    page = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert "정신건강복지센터" in page
    assert "천사운동본부</td>" not in page and "중앙동 행정복지센터</td>" not in page
    assert ">7</text>" not in page  # not the whole city's discovered households


def test_bad_year_falls_back_without_error(client, seeded):
    login(client, "coordinator")
    assert client.get("/dashboard?year=abc").status_code == 200
    assert client.get("/dashboard?year=99999").status_code == 200


def test_query_count_does_not_grow_with_the_data(app, client, seeded):
    login(client, "coordinator")
    with counting_queries() as statements:
        client.get("/dashboard?year=2021")
        small = len(statements)
        generate_households(300, config=app.config, coordinator_id=None)
        db.session.commit()
        statements.clear()
        client.get("/dashboard?year=2021")
    assert len(statements) == small


def test_quarterly_report_as_excel_and_word(client, seeded):
    import io

    import docx
    from openpyxl import load_workbook

    login(client, "coordinator")
    response = client.get("/dashboard/report.xlsx?year=2021&quarter=1")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "2021년 1분기 통합사례관리 실적"
    assert ["복지사각지대 발굴시스템", 3, 3] in [row[:3] for row in values]
    assert ["합계", 7, 3] in [row[:3] for row in values]
    assert ["민관 통합사례회의", 1] in [row[:2] for row in values]
    word = client.get("/dashboard/report.docx?year=2021")
    document = docx.Document(io.BytesIO(word.data))
    assert document.paragraphs[0].text == "2021년 통합사례관리 실적"
    routes = document.tables[1]  # after the table of 기간, 기준일, 작성기관 and 작성일
    assert [c.text for c in routes.rows[0].cells] == ["발굴경로", "발굴", "선정"]
    assert client.get("/dashboard/report.xlsx?year=2021&quarter=7").status_code == 404
    from conference.models import AuditEvent

    logged = db.session.execute(db.select(AuditEvent.object_id, AuditEvent.details)
                                .where(AuditEvent.action == "report.download").order_by(AuditEvent.id)).all()
    assert [(o, d) for o, d in logged] == [("2021-1", '{"kind": "xlsx"}'), ("2021-all", '{"kind": "docx"}')]


def test_text_that_looks_like_a_formula_stays_text_in_excel():
    import io

    from openpyxl import load_workbook

    from conference.documents import xlsx_kit

    workbook, sheet = xlsx_kit.new_workbook("t")
    values = ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-2+3", " =1+1", "김민수", "a=b", 3]
    xlsx_kit.add_table(sheet, 1, "표", ["값"], [(value,) for value in values])
    cells = load_workbook(io.BytesIO(xlsx_kit.to_bytes(workbook))).active
    read = [cells.cell(row=r, column=1) for r in range(3, 3 + len(values))]
    assert [cell.value for cell in read] == values
    assert [cell.data_type for cell in read] == ["s"] * 7 + ["n"]
    # Excel's quote prefix: editing the cell keeps it text instead of reviving the formula.
    assert [cell.quotePrefix for cell in read] == [True] * 5 + [False] * 3


def test_control_characters_are_left_out_of_excel_cells():
    """Found by tests/test_fuzz.py: openpyxl refuses them (IllegalCharacterError), e.g. in an exported audit trail."""
    import io

    from openpyxl import load_workbook

    from conference.documents import xlsx_kit

    workbook, sheet = xlsx_kit.new_workbook("t")
    xlsx_kit.add_table(sheet, 1, "표\x00", ["값\x1b"], [("로그인\x01 실패\x0c",)])
    cells = load_workbook(io.BytesIO(xlsx_kit.to_bytes(workbook))).active
    assert [cells.cell(row=r, column=1).value for r in (1, 2, 3)] == ["표", "값", "로그인 실패"]


def test_what_needs_me_on_the_notifications_page(client, seeded):
    login(client, "mh")
    page = client.get("/notifications").get_data(as_text=True)
    assert "지금 할 일" in page
    assert "의견을 아직 제출하지 않은 사례 (기한 전)" in page  # the upcoming meeting: 2 cases without mh's input
    assert "기한이 지난 실행과제" in page  # 정신건강복지센터's action of five weeks ago, six days late
    login(client, "coordinator")
    page = client.get("/notifications").get_data(as_text=True)
    assert "점검일이 된 사례" in page  # 박철호's check, set by the minutes approved five weeks ago, two days late
    login(client, "chair")
    assert "결재를 기다리는 회의록</a>: <strong>1</strong>" in client.get("/notifications").get_data(as_text=True)


def _bar_value(page: str, label: str) -> int:
    """The number drawn after the bar labelled ``label`` in the 단계별 사례 chart."""
    import re

    chart = page[page.index("단계별 사례"):page.index("사례 구분")]
    return int(re.search(rf'>{label}</text>.*?class="chart-value">(\d+)</text>', chart, re.S).group(1))


def test_figures_are_reused_until_the_counted_data_changes(app, client, seeded):
    from conference.cases import services as case_services
    from conference.models import Household, Stage, User

    login(client, "coordinator")
    with counting_queries() as statements:
        client.get("/dashboard?year=2021")
        computed = len(statements)
        statements.clear()
        client.get("/dashboard?year=2021")
        reused = len(statements)
    assert reused < computed - 5  # the aggregate queries were not run again

    before = client.get("/dashboard?year=2021").get_data(as_text=True)
    coordinator = db.session.execute(db.select(User).where(User.username == "coordinator")).scalar_one()
    household = db.session.execute(db.select(Household).where(Household.status == Stage.SELECTED.value)
                                   .order_by(Household.id)).scalars().first()
    selected = db.session.scalar(db.select(db.func.count()).select_from(Household)
                                 .where(Household.status == Stage.SELECTED.value))
    case_services.change_status(household, by=coordinator, to_status=Stage.CLOSED.value, reason="목표 달성",
                                closure_reason=app.config["CLOSURE_REASONS"][0])
    db.session.commit()
    after = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert _bar_value(before, "선정") == selected
    assert _bar_value(after, "선정") == selected - 1


def test_bulk_inserts_make_the_figures_stale(app, client, seeded):
    from conference.shared.freshness import FIGURES, PAGES, current_version

    figures, pages = current_version(FIGURES), current_version(PAGES)
    generate_households(5, config=app.config, coordinator_id=None)
    db.session.commit()
    assert current_version(FIGURES) > figures and current_version(PAGES) > pages


def test_cached_figures_are_never_shared_between_scopes(client, seeded):
    login(client, "coordinator")
    city = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert ">7</text>" in city
    login(client, "mh")
    agency = client.get("/dashboard?year=2021").get_data(as_text=True)
    assert ">7</text>" not in agency and "천사운동본부</td>" not in agency


# --- 분기별 실적: every figure as of the period's end, whenever it is downloaded ------------------------------------

#: The demo's actions of the 2021 meeting (24 March), by task: the agency that owns each.
KIM_SAFETY, KIM_HEALTH, KIM_FAMILY, KIM_HOME = ("안전계획 수립과 긴급 연락망 구성", "정신건강 치료 재개와 주 1회 상담",
                                                "자녀 정서 지원 프로그램 연계", "주거 정리와 난방비 후원")
LEE_CARE = "방과후 돌봄 연계"


@pytest.fixture
def in_may_2026():
    """A clock standing still at 6 May 2026, 10:00 in Seoul: the 2021 reports are downloaded five years late.
    Ask for it before ``seeded`` and any login."""
    with time_machine.travel(datetime(2026, 5, 6, 1, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def no_2021_follow_up(monkeypatch):
    """The demo without what happened to the 2021 actions (they stay open as decided), so a test writes that
    history itself. Ask for it before ``seeded``.

    The demo seeded by an earlier test of this process is not this one: the rows ``seed_once`` kept of it are put
    aside for the test (an earlier test's copy, with the 2021 follow-up in it, failed this one now and then)."""
    from collections import defaultdict

    import factories_world

    from conference.seed import demo

    monkeypatch.setattr(demo, "FOLLOW_UP_2021", defaultdict(list))
    monkeypatch.setattr(factories_world, "_SEEDED", {})


def _action(task: str):
    """The 2021 meeting's action with this task (this quarter's meetings reuse some of the texts)."""
    from conference.models import ActionItem, Meeting

    return db.session.execute(db.select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
                              .where(ActionItem.task == task, Meeting.year == 2021)).scalar_one()


def _staff(username: str = "coordinator"):
    from conference.models import User

    return db.session.execute(db.select(User).where(User.username == username)).scalar_one()


def _follow_up_the_2021_actions():
    """What happened to the five actions of the 2021 meeting, written through the services on their own days.

    - 중앙동 (due 7 April) done on 10 May: neither done nor overdue on 31 March.
    - 정신건강 moved on 25 March to 29 March and done on 5 April: overdue on 31 March.
    - 천사운동본부 moved to 30 March, then on 2 April to 30 June: overdue on 31 March (by the date it had then).
    - 드림스타트 (김) moved to 28 March and done on 29 March: done, not overdue.
    - 드림스타트 (이) moved to 29 March and ended as 상황 변화 by a meeting's review on 30 March: not overdue.
    """
    from conference.actions import services as action_services
    from conference.models import ActionReview, ActionStatus, Meeting, MeetingKind, MeetingStatus

    by = _staff()
    a = {task: _action(task) for task in (KIM_SAFETY, KIM_HEALTH, KIM_FAMILY, KIM_HOME, LEE_CARE)}

    def move(task, on, to):
        action_services.change_due(a[task], by=by, new_due=to, reason="일정 조정", today=on)

    def done(task, on):
        action_services.confirm_completion(a[task], by=by, note="완료 확인", today=on)

    done(KIM_SAFETY, date(2021, 5, 10))
    move(KIM_HEALTH, date(2021, 3, 25), date(2021, 3, 29))
    done(KIM_HEALTH, date(2021, 4, 5))
    move(KIM_HOME, date(2021, 3, 25), date(2021, 3, 30))
    move(KIM_HOME, date(2021, 4, 2), date(2021, 6, 30))
    move(KIM_FAMILY, date(2021, 3, 25), date(2021, 3, 28))
    done(KIM_FAMILY, date(2021, 3, 29))
    move(LEE_CARE, date(2021, 3, 25), date(2021, 3, 29))
    review = Meeting(kind=MeetingKind.INTERNAL.value, year=2021, number=1, place="시청",
                     starts_at=datetime(2021, 3, 30, 5, 0, tzinfo=UTC), coordinator_id=by.id,
                     status=MeetingStatus.FINALISED.value)
    db.session.add(review)
    db.session.flush()
    db.session.add(ActionReview(meeting_id=review.id, action_id=a[LEE_CARE].id, outcome=ActionStatus.CHANGED.value,
                                note="전학으로 다른 돌봄 이용"))
    a[LEE_CARE].status = ActionStatus.CHANGED.value  # as the review's meeting's approval does
    db.session.commit()


def _agency_of(username: str = "coordinator") -> str:
    from conference.models import Agency, User

    return db.session.execute(db.select(Agency.name).join(User, User.agency_id == Agency.id)
                              .where(User.username == username)).scalar_one()


def _xlsx_tables(content: bytes) -> dict[str, list[list]]:
    """The tables of a report sheet by title: header and rows (the 합계 row last), as openpyxl reads them back."""
    import io

    from openpyxl import load_workbook

    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
    tables, index = {}, 4
    while index < len(rows):
        if rows[index][0] is None:
            index += 1
            continue
        end = index + 1
        while end < len(rows) and rows[end][0] is not None:
            end += 1
        width = sum(value is not None for value in rows[index + 1])
        tables[rows[index][0]] = [row[:width] for row in rows[index + 1:end]]
        index = end
    return tables


def _docx_tables(content: bytes) -> dict[str, list[list[str]]]:
    """The tables of a report document by the heading before each."""
    import io

    import docx

    document = docx.Document(io.BytesIO(content))
    paragraphs = {paragraph._p: paragraph.text for paragraph in document.paragraphs}
    by_element = {table._tbl: table for table in document.tables}
    tables, heading = {}, None
    for element in document.element.body.iterchildren():
        if element in paragraphs:
            heading = paragraphs[element] or heading
        elif element in by_element:
            tables[heading] = [[cell.text for cell in row.cells] for row in by_element[element].rows]
    return tables


ACTIONS_TABLE = "기관별 실행과제(기준일 현재)"


def test_actions_are_counted_as_they_stood_at_the_end_of_the_quarter(in_may_2026, no_2021_follow_up, client, seeded):
    _follow_up_the_2021_actions()
    login(client, "coordinator")
    quarter = _xlsx_tables(client.get("/dashboard/report.xlsx?year=2021&quarter=1").data)[ACTIONS_TABLE]
    assert quarter == [
        ["담당기관", "과제", "완료", "완료율", "기한 지남"],
        ["드림스타트", 2, 1, 0.5, 0],  # done on 29 March; the other ended by the review of 30 March
        ["정신건강복지센터", 1, 0, 0, 1],  # due 29 March, done only on 5 April
        ["중앙동 행정복지센터", 1, 0, 0, 0],  # due in April, done in May: not overdue in the first quarter
        ["천사운동본부", 1, 0, 0, 1],  # due 30 March on 31 March; moved to June only on 2 April
        ["합계", 5, 1, 0.2, 2],
    ]
    year = _xlsx_tables(client.get("/dashboard/report.xlsx?year=2021").data)[ACTIONS_TABLE]
    assert year[-1] == ["합계", 5, 3, 0.6, 1]  # on 31 December only 천사운동본부's (due 30 June) is open and late
    word = _docx_tables(client.get("/dashboard/report.docx?year=2021&quarter=1").data)[ACTIONS_TABLE]
    assert word[1:] == [["드림스타트", "2", "1", "50%", "0"], ["정신건강복지센터", "1", "0", "0%", "1"],
                        ["중앙동 행정복지센터", "1", "0", "0%", "0"], ["천사운동본부", "1", "0", "0%", "1"],
                        ["합계", "5", "1", "20%", "2"]]


def test_a_case_counts_in_the_stage_it_had_at_the_end_of_the_quarter(in_may_2026, app, coordinator, make_household,
                                                                     auth, client):
    from conference.cases import services as case_services
    from conference.cases.queries import load_case_file

    def at(moment: datetime):
        in_may_2026.move_to(moment)

    def walk(household_id: int, *stages, closure_reason=""):
        household = load_case_file(household_id)
        for stage in stages:
            case_services.change_status(household, by=coordinator, to_status=stage, reason="테스트",
                                        track="case_management" if stage == "selected" else "",
                                        closure_reason=closure_reason)
        db.session.commit()

    at(datetime(2021, 2, 1, 1, 0, tzinfo=UTC))
    selected = make_household("선정가구", by=coordinator, discovered_on=date(2021, 2, 1)).id
    at(datetime(2021, 3, 10, 1, 0, tzinfo=UTC))
    case_services.record_assessment(load_case_file(selected), by=coordinator, assessed_on=date(2021, 3, 5),
                                    ratings={"safety": ("위기", ""), "economy": ("취약", "")})
    walk(selected, "intake", "assessment", "selected")
    at(datetime(2021, 3, 20, 1, 0, tzinfo=UTC))
    waiting = make_household("발굴가구", by=coordinator, discovered_on=date(2021, 3, 20)).id
    at(datetime(2021, 4, 5, 1, 0, tzinfo=UTC))
    walk(waiting, "intake")
    at(datetime(2021, 5, 3, 1, 0, tzinfo=UTC))
    make_household("5월가구", by=coordinator, discovered_on=date(2021, 5, 1))
    at(datetime(2026, 5, 6, 1, 0, tzinfo=UTC))
    walk(selected, "closed", closure_reason="목표 달성")
    case_services.record_assessment(load_case_file(selected), by=coordinator, assessed_on=date(2026, 5, 6),
                                    ratings={"safety": ("적정", ""), "economy": ("적정", "")})
    # Discovered in January, entered only now: no stage was recorded by 31 March, so it counts as 발굴.
    make_household("늦은등록", by=coordinator, discovered_on=date(2021, 1, 15))
    db.session.commit()

    assert auth.login("coord1").status_code == 302
    tables = _xlsx_tables(client.get("/dashboard/report.xlsx?year=2021&quarter=1").data)
    stages = dict(map(tuple, tables["기준일 단계별 사례"][1:]))
    assert (stages["발굴"], stages["선정"], stages["접수"], stages["종결"]) == (2, 1, 0, 0)
    assert stages["합계"] == 3  # the household discovered in May is not in the first quarter's register
    needs = dict(map(tuple, tables["욕구 영역별 위기·취약 가구(기준일 최근 조사)"][1:]))
    assert (needs["안전"], needs["경제"], needs["합계(영역 중복 포함)"]) == (1, 1, 2)  # the March assessment, not May 2026's
    now = _xlsx_tables(client.get("/dashboard/report.xlsx?year=2026&quarter=2").data)
    current = dict(map(tuple, now["기준일 단계별 사례"][1:]))
    assert (current["선정"], current["종결"], current["접수"], current["발굴"]) == (0, 1, 1, 2)


def test_every_table_of_the_report_has_a_total_equal_to_its_sums(in_may_2026, no_2021_follow_up, client, seeded):
    _follow_up_the_2021_actions()
    login(client, "coordinator")
    for query in ("year=2021&quarter=1", "year=2021"):
        tables = _xlsx_tables(client.get(f"/dashboard/report.xlsx?{query}").data)
        assert len(tables) == 5
        for title, (header, *rows, total) in tables.items():
            assert total[0].startswith("합계"), title
            for column, name in enumerate(header[1:], start=1):
                if name == "완료율":
                    assert total[column] == total[2] / total[1], title
                else:
                    assert total[column] == sum(row[column] for row in rows), (title, name)
        word = _docx_tables(client.get(f"/dashboard/report.docx?{query}").data)
        assert [rows[-1][0] for title, rows in word.items() if title in tables] == [
            total[0] for *_, total in tables.values()]


def test_the_report_says_who_wrote_it_when_and_as_of_which_day(in_may_2026, client, seeded):
    import io

    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    login(client, "coordinator")
    agency = _agency_of("coordinator")
    response = client.get("/dashboard/report.docx?year=2021&quarter=1")
    document = docx.Document(io.BytesIO(response.data))
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts == {"기간": "2021. 1. 1. ~ 2021. 3. 31.", "기준일": "2021. 3. 31.", "작성기관": agency,
                     "작성일": "2026. 5. 6."}
    for table in document.tables[1:]:
        header, *rows = table.rows
        for row in rows:
            for cell in row.cells[1:]:  # every column after the label holds a figure
                assert cell.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT, cell.text
            assert row.cells[0].paragraphs[0].alignment != WD_ALIGN_PARAGRAPH.RIGHT
        assert all(run.bold for cell in rows[-1].cells for run in cell.paragraphs[0].runs)  # the 합계 row
    running = docx.Document(io.BytesIO(client.get("/dashboard/report.docx?year=2026&quarter=2").data))
    assert {row.cells[0].text: row.cells[1].text for row in running.tables[0].rows}["기준일"] == "2026. 5. 6."


def test_the_excel_report_is_laid_out_for_a_korean_office(in_may_2026, no_2021_follow_up, app, client, seeded):
    import io

    from openpyxl import load_workbook

    _follow_up_the_2021_actions()
    login(client, "coordinator")
    response = client.get("/dashboard/report.xlsx?year=2021&quarter=1")
    disposition = response.headers["Content-Disposition"]
    assert 'filename=report-2021-Q1.xlsx' in disposition
    assert "filename*=UTF-8''2021%EB%85%84%201%EB%B6%84%EA%B8%B0" in disposition  # 2021년 1분기 …, as before
    assert "report-2021.docx" in client.get("/dashboard/report.docx?year=2021").headers["Content-Disposition"]

    sheet = load_workbook(io.BytesIO(response.data)).active
    font = app.config["DOCX_FONT"]
    assert sheet.parent._fonts[0].name == font  # the default (Normal) font, for cells typed in later too
    assert {cell.font.name for row in sheet.iter_rows() for cell in row if cell.value is not None} == {font}
    assert sheet["A3"].value == f"작성기관: {_agency_of()} · 작성일: 2026. 5. 6. · 기준일: 2021. 3. 31."

    header_row = next(row[0].row for row in sheet.iter_rows() if row[0].value == "발굴경로")
    assert sheet.freeze_panes == f"A{header_row + 1}"  # under the header of the first table
    assert sheet.print_title_rows == "$1:$3"  # title, 기간 and the 작성 line on every printed page
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)

    titles = set(_xlsx_tables(response.data))
    table_cells = [cell for row in sheet.iter_rows(min_row=header_row) for cell in row
                   if cell.value is not None and cell.value not in titles]
    assert all(cell.border.left.style == cell.border.bottom.style == "thin" for cell in table_cells)
    rate_column = next(cell.column for cell in table_cells if cell.value == "완료율")
    rates = [cell for cell in table_cells if cell.column == rate_column and cell.value != "완료율"]
    counts = [cell for cell in table_cells if isinstance(cell.value, int | float) and cell not in rates]
    assert counts and {cell.number_format for cell in counts} == {"#,##0"}
    assert rates and {cell.number_format for cell in rates} == {"0%"}
    assert [cell.value for cell in rates] == [0.5, 0, 0, 0, 0.2]  # fractions shown as 50% and 20%, not 50 and 20
