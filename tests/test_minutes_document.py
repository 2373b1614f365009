"""The Word minutes and attendance sheet, opened again with python-docx."""
import io
import zipfile
from datetime import UTC, date, datetime

import docx
import pytest
from docx.oxml.ns import qn

from conference.minutes.document import (HEADER_MARK, ActionLine, Approval, Attendee, CaseMinutes, CauseLine,
                                         MinutesData, NeedLine, Opinion, Passage, ReviewLine,
                                         build_attendance_sheet_docx, build_minutes_docx)

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
        approvals=[Approval("작성", "한사례", date(2021, 3, 25)), Approval("결재", "윤팀장", date(2021, 3, 26))],
        content_hash="0f3a9c")


@pytest.fixture
def document():
    return docx.Document(io.BytesIO(build_minutes_docx(minutes(), font=FONT, generated_at=NOW)))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_title_facts_and_korean_dates(document):
    assert texts(document)[0] == "2021년도 제3회 민관협력 통합사례회의 회의록"
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts["일시"] == "2021. 3. 24.(수) 14:00"
    assert facts["장소"] == "동두천시청 소회의실" and facts["주재"] == "윤팀장"
    assert facts["회의유형"] == "민관 통합사례회의" and "한사례" in facts["작성자"]


def test_attendance_table_and_absent_agencies(document):
    table = document.tables[1]
    assert [c.text for c in table.rows[0].cells] == ["성명", "소속기관", "직위"]
    assert [c.text for c in table.rows[1].cells] == ["서마음", "정신건강복지센터", "정신건강전문요원"]
    assert "불참기관: 천사운동본부" in texts(document)


def test_each_case_section_and_its_action_table(document):
    body = texts(document)
    for n in (1, 2):
        start = body.index(f"{n}. 2021-{n:04d} 김○○", body.index("안건") + 3)
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
    approval = next(t for t in document.tables if t.rows[0].cells[0].text == "작성")
    assert [c.text for c in approval.rows[1].cells] == ["한사례", "윤팀장"]
    assert any("0f3a9c" in text for text in texts(document))


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


def test_attendance_sheet_has_a_signature_column_and_blank_rows():
    content = build_attendance_sheet_docx(minutes(), font=FONT, generated_at=NOW)
    document = docx.Document(io.BytesIO(content))
    table = document.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["연번", "성명", "소속기관", "직위", "서명"]
    assert [c.text for c in table.rows[1].cells][:3] == ["1", "서마음", "정신건강복지센터"]
    assert table.rows[1].cells[4].text == ""
    assert len(table.rows) == 1 + 2 + 5
    assert HEADER_MARK in document.sections[0].header.paragraphs[0].text
