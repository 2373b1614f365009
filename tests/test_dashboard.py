"""The dashboard: aggregate figures, the same number of queries at any size, practitioners see their agency only."""
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
    routes = document.tables[0]
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
