"""The Word minutes and attendance sheet, opened again with python-docx."""
import io
import zipfile
from datetime import UTC, date, datetime

import docx
import pytest
from docx.oxml.ns import qn

from conference.documents import docx_kit
from conference.minutes.document import (HEADER_MARK, ActionLine, Approval, Attendee, CaseMinutes, CauseLine,
                                         MinutesData, NeedLine, Opinion, Passage, ReviewLine, SignInSheet,
                                         build_minutes_docx, build_sign_in_sheet_docx)

FONT = "맑은 고딕"
NOW = datetime(2021, 3, 24, 9, 0, tzinfo=UTC)


def minutes(cases=2, actions_per_case=3) -> MinutesData:
    return MinutesData(
        title="2021년도 제3회 민관협력 통합사례회의", starts_at=datetime(2021, 3, 24, 5, 0, tzinfo=UTC),
        place="동두천시청 소회의실", kind="민관 통합사례회의", chair="윤팀장", author="한사례", author_agency="무한돌봄센터",
        attendees=[Attendee("서마음", "정신건강복지센터", "정신건강전문요원"), Attendee("조아동", "드림스타트", "사례관리사")],
        absent_agencies=["천사운동본부"],
        cases=[CaseMinutes(
            position=n, case_number=f"2021-{n:04d}", name="김○○", summary=f"사례 {n} 개요",
            needs=[NeedLine("안전", "위기", "배우자 폭력")], opinions=[Opinion("정신건강복지센터", [Passage("", "치료 재개 필요\n위기 연락망")])],
            discussion="<script>alert(1)</script> 논의", root_causes=[CauseLine("가족관계", "부부 갈등")], decisions="고난도 유지",
            actions=[ActionLine(f"과제 {n}-{k}", "안전", "중앙동 행정복지센터", "문복지", date(2021, 4, 7), "긴급복지 생계지원")
                     for k in range(1, actions_per_case + 1)])
            for n in range(1, cases + 1)],
        reviews=[ReviewLine("2021-0001", "상담 연계", "정신건강복지센터", date(2021, 3, 1), "미이행", "연락두절")],
        next_meeting=date(2021, 4, 28), next_check=date(2021, 4, 7),
        approvals=[Approval("작성", "한사례", date(2021, 3, 25), "주무관"),
                   Approval("결재", "윤팀장", date(2021, 3, 26), "복지정책팀장")],
        content_hash="0f3a9c" * 10 + "7d1e", ends_at=datetime(2021, 3, 24, 7, 0, tzinfo=UTC), chair_position="팀장")


@pytest.fixture
def document():
    return docx.Document(io.BytesIO(build_minutes_docx(minutes(), font=FONT, generated_at=NOW)))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_title_facts_and_korean_dates(document):
    assert texts(document)[0] == "2021년도 제3회 민관협력 통합사례회의 회의록"
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[1].rows}
    assert facts["일시"] == "2021. 3. 24.(수) 14:00 ~ 16:00"
    assert facts["장소"] == "동두천시청 소회의실" and facts["주재"] == "윤팀장 (팀장)"
    assert facts["회의유형"] == "민관 통합사례회의" and "한사례" in facts["작성자"]


def test_attendance_table_and_absent_agencies(document):
    table = document.tables[2]
    assert [c.text for c in table.rows[0].cells] == ["성명", "소속기관", "직위"]
    assert [c.text for c in table.rows[1].cells] == ["서마음", "정신건강복지센터", "정신건강전문요원"]
    assert "불참기관: 천사운동본부" in texts(document)


def test_each_case_section_and_its_action_table(document):
    body = texts(document)
    for n in (1, 2):
        start = body.index(f"{n}. 2021-{n:04d} 김○○", body.index("안건"))
        section = body[start:start + 20]
        for heading in ("사례 개요", "주요 욕구 및 위기도", "기관별 의견", "논의 내용", "근본원인", "결정사항", "실행계획"):
            assert heading in section, (n, heading)
    action_tables = [t for t in document.tables if t.rows[0].cells[0].text == "과제"]
    assert len(action_tables) == 2
    header = [c.text for c in action_tables[0].rows[0].cells]
    assert header == ["과제", "욕구영역", "담당기관", "담당자", "기한", "연계자원"]
    assert [c.text for c in action_tables[0].rows[1].cells] == [
        "과제 1-1", "안전", "중앙동 행정복지센터", "문복지", "2021. 4. 7.", "긴급복지 생계지원"]
    assert len(action_tables[0].rows) == 4


def test_action_table_header_repeats_on_every_page_and_rows_do_not_split(document):
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "과제")
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows[1:])


def test_review_of_earlier_actions_next_dates_and_approval_block(document):
    review = next(t for t in document.tables if t.rows[0].cells[0].text == "사례")
    assert [c.text for c in review.rows[1].cells][3:5] == ["2021. 3. 1.", "미이행"]
    dates = next(t for t in document.tables if t.rows[0].cells[0].text == "다음 회의")
    assert dates.rows[0].cells[1].text == "2021. 4. 28." and dates.rows[1].cells[1].text == "2021. 4. 7."
    # The 결재란 (작성 · 검토 · 결재, tested below) replaced the two-column approval table; the hash is in the footer.
    footer = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert "0f3a9c" * 10 + "7d1e" in footer


def test_header_mark_page_numbers_and_core_properties(document):
    section = document.sections[0]
    assert HEADER_MARK in section.header.paragraphs[0].text
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml and "fldChar" in footer_xml
    assert section.footer.paragraphs[0].text.startswith("- ")
    properties = document.core_properties
    assert properties.title == "2021년도 제3회 민관협력 통합사례회의 회의록"
    assert properties.author == "무한돌봄센터" and properties.author != "python-docx"
    assert properties.created.year == 2021


def test_east_asian_font_is_set_on_the_styles_without_theme_fonts(document):
    defaults = document.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == FONT
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        style_fonts = document.styles[name].element.rPr.find(qn("w:rFonts"))
        assert style_fonts.get(qn("w:eastAsia")) == FONT, name
        assert not [a for a in style_fonts.attrib if a.endswith(("Theme", "theme"))], name


def test_text_is_written_as_text_with_line_breaks_kept():
    content = build_minutes_docx(minutes(), font=FONT, generated_at=NOW)
    document = docx.Document(io.BytesIO(content))
    assert "<script>alert(1)</script> 논의" in texts(document)
    assert "정신건강복지센터: 치료 재개 필요\n위기 연락망" in texts(document)
    xml = zipfile.ZipFile(io.BytesIO(content)).read("word/document.xml").decode()
    assert "<script" not in xml


def test_control_characters_pasted_into_a_form_are_left_out():
    """Found by tests/test_fuzz.py: python-docx refuses them (ValueError), so the download answered 500."""
    data = minutes()
    data.cases[0].discussion = "논의\x00 내용\x0b끝\x1b"
    data.place, data.author_agency = "소회의실\x01", "무한돌봄센터\x02"
    document = docx.Document(io.BytesIO(build_minutes_docx(data, font=FONT, generated_at=NOW)))
    assert "논의 내용끝" in texts(document)
    assert document.core_properties.author == "무한돌봄센터"


def test_a_hundred_actions_all_land_in_the_tables():
    data = minutes(cases=30, actions_per_case=4)
    document = docx.Document(io.BytesIO(build_minutes_docx(data, font=FONT, generated_at=NOW)))
    rows = sum(len(t.rows) - 1 for t in document.tables if t.rows[0].cells[0].text == "과제")
    assert rows == 120


def sign_in_sheet(people=None) -> SignInSheet:
    return SignInSheet(title="2021년도 제3회 민관협력 통합사례회의", starts_at=datetime(2021, 3, 24, 5, 0, tzinfo=UTC),
                       ends_at=datetime(2021, 3, 24, 7, 0, tzinfo=UTC), place="동두천시청 소회의실",
                       author_agency="무한돌봄센터", people=people if people is not None else [
                           Attendee("윤팀장", "동두천시 복지정책과", "복지정책팀장"),
                           Attendee("서마음", "정신건강복지센터", "정신건강전문요원")])


def test_sign_in_sheet_has_a_signature_column_and_blank_rows():
    content = build_sign_in_sheet_docx(sign_in_sheet(), font=FONT, generated_at=NOW)
    document = docx.Document(io.BytesIO(content))
    assert texts(document)[0] == "참석자 서명부"
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts["회의명"] == "2021년도 제3회 민관협력 통합사례회의"
    assert facts["일시"] == "2021. 3. 24.(수) 14:00 ~ 16:00"
    table = document.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["연번", "성명", "소속기관", "직위", "서명"]
    assert [c.text for c in table.rows[2].cells][:4] == ["2", "서마음", "정신건강복지센터", "정신건강전문요원"]
    assert table.rows[1].cells[4].text == ""
    assert len(table.rows) == 1 + 2 + 5
    assert HEADER_MARK in document.sections[0].header.paragraphs[0].text
    assert document.core_properties.title.endswith("참석자 서명부")


def row_height_mm(row) -> float:
    height = row._tr.trPr.find(qn("w:trHeight"))
    assert height is not None and height.get(qn("w:hRule")) in ("atLeast", "exact")
    return int(height.get(qn("w:val"))) * 25.4 / 1440


def test_sign_in_rows_are_tall_enough_to_sign_and_positions_do_not_wrap():
    long_position = Attendee("남궁수현", "동두천시 무한돌봄센터", "통합사례관리사")
    document = docx.Document(io.BytesIO(build_sign_in_sheet_docx(
        sign_in_sheet([long_position]), font=FONT, generated_at=NOW)))
    table = document.tables[-1]
    assert all(row_height_mm(row) >= 10 for row in table.rows[1:])
    for column in (1, 3):  # 성명 and 직위 on one line
        width = table.columns[column].width.mm
        assert docx_kit.cell_width_mm(table.rows[1].cells[column].text) <= width + 0.01
        assert docx_kit.cell_width_mm(table.rows[0].cells[column].text) <= width + 0.01


def sign_off_table(document):
    return next(t for t in document.tables if t.rows[0].cells[0].text == "구분")


def test_approval_box_has_three_steps_with_position_date_and_a_box_to_sign(document):
    table = sign_off_table(document)
    assert document.element.body[0] is table._tbl, "the 결재란 comes first (top right of the first page)"
    assert table.alignment == docx.enum.table.WD_TABLE_ALIGNMENT.RIGHT
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in table.rows}
    assert rows["구분"] == ["작성", "검토", "결재"]
    assert rows["직위"] == ["주무관", "", "복지정책팀장"]
    assert rows["성명"] == ["한사례", "", "윤팀장"]
    assert rows["일자"] == ["2021. 3. 25.", "", "2021. 3. 26."]
    sign_row = next(row for row in table.rows if row.cells[0].text == "서명")
    assert [c.text for c in sign_row.cells[1:]] == ["", "", ""]
    assert row_height_mm(sign_row) >= 15
    for row in table.rows:  # every date and position fits its cell on one line
        for cell in row.cells:
            assert docx_kit.cell_width_mm(cell.text) <= cell.width.mm + 0.01, cell.text


def test_approval_box_of_a_draft_leaves_the_steps_to_sign():
    data = minutes()
    data.approvals, data.content_hash, data.draft = [], "", True
    document = docx.Document(io.BytesIO(build_minutes_docx(data, font=FONT, generated_at=NOW)))
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in sign_off_table(document).rows}
    assert rows["구분"] == ["작성", "검토", "결재"] and rows["성명"] == ["한사례", "", "윤팀장"]
    assert rows["일자"] == ["", "", ""]


def test_the_content_hash_is_in_the_footer_in_small_type_not_in_the_body(document):
    digest = "0f3a9c" * 10 + "7d1e"
    body = docx_kit.plain("\n".join(texts(document)))
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert digest not in body and digest not in cells
    note = next(p for p in document.sections[0].footer.paragraphs if digest in p.text)
    assert all(run.font.size is not None and run.font.size.pt <= 7 for run in note.runs)
    width = document.sections[0].page_width.mm - 40
    assert docx_kit.text_width_mm(note.text, 6.5) < width, "the footer note fits one line"


def test_head_count_by_agency_and_the_chair_among_attendees():
    data = minutes()
    data.attendees = [Attendee("윤팀장", "동두천시 복지정책과", "팀장"), Attendee("서마음", "정신건강복지센터", "요원"),
                      Attendee("정건강", "정신건강복지센터", "간호사"), Attendee("조아동", "드림스타트", "사례관리사")]
    document = docx.Document(io.BytesIO(build_minutes_docx(data, font=FONT, generated_at=NOW)))
    assert "참석 인원: 3개 기관 4명" in texts(document)
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "성명")
    assert "윤팀장" in [row.cells[0].text for row in table.rows]


def agenda_table(document):
    return next(t for t in document.tables if [c.text for c in t.rows[0].cells] == ["순서", "사례번호", "대상",
                                                                                    "논의 요청사항"])


def test_each_agenda_line_carries_its_key_question_as_the_reader_may_read_it():
    from conference.shared.disclosure import Grant

    data = minutes()
    data.cases[0].key_question, data.cases[0].key_question_level = "안전계획을 세울 수 있는가?", "shared"
    data.cases[1].key_question, data.cases[1].key_question_level = "정신과 치료를 재개할 수 있는가?", "sensitive"
    for case in data.cases:
        case.grants = {7: Grant(visible=True, sections=frozenset({"summary", "needs", "inputs"}), sensitive=False)}
    full = docx.Document(io.BytesIO(build_minutes_docx(data, font=FONT, generated_at=NOW)))
    assert [[c.text for c in r.cells] for r in agenda_table(full).rows[1:]] == [
        ["1", "2021-0001", "김○○", "안전계획을 세울 수 있는가?"],
        ["2", "2021-0002", "김○○", "정신과 치료를 재개할 수 있는가?"]]
    from conference.minutes.document import agency_copy

    copy = agency_copy(data, 7, "드림스타트")
    content = build_minutes_docx(copy, font=FONT, generated_at=NOW)
    agency = docx.Document(io.BytesIO(content))
    lines = [[c.text for c in r.cells] for r in agenda_table(agency).rows[1:]]
    assert lines[0][3] == "안전계획을 세울 수 있는가?"
    assert lines[1][3] == "(비공개)"
    assert "정신과 치료" not in zipfile.ZipFile(io.BytesIO(content)).read("word/document.xml").decode()


def test_next_dates_stay_with_their_heading(document):
    body = document.element.body
    heading = next(p for p in document.paragraphs if p.text == "향후 일정")
    assert heading.paragraph_format.keep_with_next
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "다음 회의")
    assert heading._p.getnext() is table._tbl and table._tbl.getparent() is body
    assert all(p.paragraph_format.keep_with_next for row in table.rows[:-1] for c in row.cells for p in c.paragraphs)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)


def dated_cells(document):
    """Every table cell holding a date or a case number, with its table's text size."""
    import re

    pattern = re.compile(r"\d{4}\. \d{1,2}\. \d{1,2}\.|\d{4}-\d{3,4}")
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for match in pattern.finditer(cell.text):
                    sizes = [r.font.size.pt for p in cell.paragraphs for r in p.runs if r.font.size is not None]
                    yield match.group(0), cell, max(sizes or [10.5])


def test_no_date_or_case_number_is_wider_than_its_cell():
    data = minutes(cases=3)
    data.cases[0].case_number = "2024-0610"
    data.cases[0].actions[0].due = date(2021, 12, 24)
    data.cases[0].needs.append(NeedLine("일상생활유지", "취약", "식사 거름"))
    data.reviews.append(ReviewLine("2024-0610", "주거 점검", "천사운동본부", date(2021, 11, 30), "상황 변화", "이사"))
    document = docx.Document(io.BytesIO(build_minutes_docx(data, font=FONT, generated_at=NOW)))
    seen = 0
    for text, cell, size in dated_cells(document):
        assert docx_kit.cell_width_mm(text, size) <= cell.width.mm + 0.01, (text, cell.width.mm)
        seen += 1
    assert seen > 10
    needs = next(t for t in document.tables if t.rows[0].cells[0].text == "욕구 영역")
    assert docx_kit.cell_width_mm("일상생활유지") <= needs.columns[0].width.mm + 0.01


def test_automatic_asian_latin_spacing_is_off(document):
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
        assert defaults.find(qn(tag)).get(qn("w:val")) == "0"
        assert document.styles["Normal"].element.pPr.find(qn(tag)).get(qn("w:val")) == "0"
