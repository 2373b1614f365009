"""한글 (HWPX) files beside Word: the minutes, the sign-in sheet, packets and the quarterly report, each written once
(``write_minutes`` …) for ``docx_kit.DocxWriter`` or ``hwpx_kit.HwpxWriter``. Every file is opened again with
python-hwpx and checked with its validators; its text is the Word file's text; one is laid out by rhwp."""
import glob
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from urllib.parse import quote, unquote
from xml.etree import ElementTree

import docx
import pytest
from conftest import POSTGRES_URL
from factories import audit_actions
from factories_world import login
from hwpx import HwpxDocument
from hwpx.tools.package_validator import validate_editor_open_safety, validate_package
from hwpx.tools.validator import validate_document
from sqlalchemy import select

from conference.core.downloads import DOCX, HWPX
from conference.extensions import db
from conference.models import Agency, Meeting, MeetingStatus, Minutes

HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
OPF = "{http://www.idpf.org/2007/opf/}"

#: The writers get plain data (MinutesData, Packet, …), read from the database as for Word: the Word tests run that
#: path on PostgreSQL, so the PostgreSQL pass of .ci/run leaves these to the SQLite pass.
pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="HWPX is written from plain data: checked on SQLite")


def approved_2021(seeded) -> Meeting:
    return db.session.execute(select(Meeting).where(Meeting.year == 2021,
                                                    Meeting.status == MeetingStatus.FINALISED.value)).scalar_one()


def export(runner, tmp_path, meeting_id, name, *extra) -> bytes:
    target = tmp_path / name
    result = runner.invoke(args=["export-minutes", str(meeting_id), "-o", str(target), *extra])
    assert result.exit_code == 0, result.output
    return target.read_bytes()


def assert_valid(content: bytes):
    """The package and every part's XML as python-hwpx's validators read them (schema findings are warnings)."""
    report = validate_document(content)
    assert report.ok and not report.errors and not report.warnings, (report.errors, report.warnings)
    assert validate_package(content).ok
    assert validate_editor_open_safety(content).ok


def hwpx_words(content: bytes) -> list[str]:
    """Every text of the body (paragraphs and table cells), one entry per line or cell; a list item's "• " is the
    Word file's bullet numbering, not text."""
    text = HwpxDocument.open(content).text.plain()
    return sorted(part.strip().removeprefix("• ") for part in re.split(r"[\t\n]", text) if part.strip())


def docx_words(content: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return sorted(line.strip() for part in parts for line in part.split("\n") if line.strip())


def package_metadata(content: bytes) -> dict[str, str]:
    """The title, author and subject a file manager shows, from Contents/content.hpf."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        metadata = ElementTree.fromstring(package.read("Contents/content.hpf")).find(f"{OPF}metadata")
    values = {meta.get("name"): meta.text for meta in metadata.iter(f"{OPF}meta")}
    return {"title": metadata.find(f"{OPF}title").text, "creator": values["creator"], "subject": values["subject"]}


def header_and_footer(content: bytes) -> tuple[str, str]:
    properties = HwpxDocument.open(content).sections[0].properties
    return properties.headers[0].text, properties.footers[0].text


def test_export_minutes_writes_a_valid_hwpx_with_the_word_files_text(runner, tmp_path, seeded):
    meeting = approved_2021(seeded)
    hwpx = export(runner, tmp_path, meeting.id, "minutes.hwpx")
    word = export(runner, tmp_path, meeting.id, "minutes.docx")
    assert hwpx.startswith(b"PK") and b"application/hwp+zip" in hwpx[:200]
    assert_valid(hwpx)
    assert hwpx_words(hwpx) == docx_words(word)

    text = HwpxDocument.open(hwpx).text.plain()
    for expected in (f"{meeting.title} 회의록", "일시\t2021. 3. 24.(수) 14:00 ~ 16:00", "참석 인원: ", "안건",
                     "결정사항", "과제\t욕구영역\t담당기관\t담당자\t기한\t연계자원", "구분\t작성\t검토\t결재"):
        assert expected in text, expected
    header, footer = header_and_footer(hwpx)
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
    assert header == "대외비 · 개인정보 포함 — 외부 유출 금지"
    assert minutes.content_hash in footer and "김○○" in text and "김민수" not in text
    assert package_metadata(hwpx) == {"title": f"{meeting.title} 회의록", "creator": "무한돌봄센터", "subject": "회의록"}


def test_the_sign_off_box_comes_first_and_every_table_repeats_its_header_row(runner, tmp_path, seeded):
    hwpx = export(runner, tmp_path, approved_2021(seeded).id, "minutes.hwpx")
    document = HwpxDocument.open(hwpx)
    sign_off = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert [row[0] for row in sign_off] == ["구분", "직위", "성명", "서명", "일자"]
    assert sign_off[0][1:] == ["작성", "검토", "결재"] and sign_off[3][1:] == ["", "", ""]
    assert sign_off[2][1] == "한사례" and sign_off[2][3] == "윤팀장"
    heights = [row.cells[1].element.find(f"{HP}cellSz").get("height") for row in document.tables[0].rows]
    assert int(heights[3]) >= round(18 * 7200 / 25.4) > int(heights[2])  # room to sign or stamp
    headed = [table for table in document.tables if table.rows[0].cells[0].element.get("header") == "1"]
    assert len(headed) >= 4  # attendees, agenda, and each case's needs and action plan
    assert all(table.element.get("repeatHeader") == "1" for table in headed)
    assert all(table.element.find(f"{HP}pos").get("treatAsChar") == "0" for table in headed)  # they may split


def test_an_agencys_hwpx_is_its_own_version(runner, tmp_path, seeded):
    meeting = approved_2021(seeded)
    agency = db.session.execute(select(Agency).where(Agency.name == "천사운동본부")).scalar_one()
    hwpx = export(runner, tmp_path, meeting.id, "angel.hwpx", "--agency", str(agency.id))
    word = export(runner, tmp_path, meeting.id, "angel.docx", "--agency", str(agency.id))
    assert_valid(hwpx)
    assert hwpx_words(hwpx) == docx_words(word)
    assert header_and_footer(hwpx)[0] == "대외비 · 개인정보 포함 · 천사운동본부 열람용"
    assert hwpx_words(hwpx) != hwpx_words(export(runner, tmp_path, meeting.id, "full.hwpx"))


def test_the_minutes_page_offers_hwpx_beside_word_and_logs_the_format(client, seeded):
    meeting = approved_2021(seeded)
    login(client, "coordinator")
    page = client.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert 'name="file_format" value="docx"' in page and 'name="file_format" value="hwpx"' in page
    response = client.post(f"/meetings/{meeting.id}/minutes.docx", data={"purpose": "내부결재", "file_format": "hwpx"})
    assert response.status_code == 200 and response.mimetype == HWPX
    assert quote(f"{meeting.title} 회의록.hwpx") in response.headers["Content-Disposition"]
    assert_valid(response.data)
    [event] = audit_actions("minutes.download")
    assert json.loads(event.details)["format"] == "hwpx" and json.loads(event.details)["purpose"] == "내부결재"
    word = client.post(f"/meetings/{meeting.id}/minutes.docx", data={"purpose": "내부결재"})
    assert word.mimetype == DOCX and hwpx_words(response.data) == docx_words(word.data)
    refused = client.post(f"/meetings/{meeting.id}/minutes.docx", data={"purpose": "내부결재", "file_format": "pdf"})
    assert refused.status_code == 302 and len(audit_actions("minutes.download")) == 2


def test_an_agency_downloads_its_own_version_as_hwpx(client, seeded):
    meeting = approved_2021(seeded)
    login(client, "angel")
    response = client.post(f"/meetings/{meeting.id}/minutes.docx", data={"purpose": "기관 보관", "file_format": "hwpx"})
    assert response.status_code == 200 and response.mimetype == HWPX
    assert header_and_footer(response.data)[0] == "대외비 · 개인정보 포함 · 천사운동본부 열람용"
    assert "열람용.hwpx" in unquote(response.headers["Content-Disposition"])


def test_the_sign_in_sheet_of_the_upcoming_meeting_as_hwpx_lists_its_invitees(client, runner, tmp_path, seeded):
    """Before anyone has signed in: from the invitations, as the Word sheet is; rows tall enough to sign."""
    login(client, "coordinator")
    response = client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "서명 받기", "file_format": "hwpx"})
    assert response.status_code == 200 and response.mimetype == HWPX
    assert "참석자 서명부.hwpx" in unquote(response.headers["Content-Disposition"])
    assert_valid(response.data)
    word = export(runner, tmp_path, seeded, "sheet.docx", "--attendance-sheet")
    assert hwpx_words(response.data) == docx_words(word)
    assert hwpx_words(export(runner, tmp_path, seeded, "sheet.hwpx", "--attendance-sheet")) == docx_words(word)
    sheet = HwpxDocument.open(response.data).tables[-1]
    rows = [[cell.text for cell in row.cells] for row in sheet.rows]
    assert rows[0] == ["연번", "성명", "소속기관", "직위", "서명"] and ["2", "한사례", "무한돌봄센터", "통합사례관리사", ""] in rows
    heights = {int(row.cells[0].element.find(f"{HP}cellSz").get("height")) for row in sheet.rows[1:]}
    assert min(heights) >= round(12 * 7200 / 25.4)
    web = audit_actions("attendance.download")[0]  # then the two written with export-minutes
    assert json.loads(web.details) == {"purpose": "서명 받기", "format": "hwpx"}


def test_each_agencys_packet_as_hwpx_is_its_word_packet(client, runner, tmp_path, seeded):
    """export-packet by the output's extension, and the packet page's 한글 button, for an invited agency."""
    mental = db.session.execute(select(Agency).where(Agency.name == "정신건강복지센터")).scalar_one()
    hwpx = export_packet(runner, tmp_path, seeded, "mh.hwpx", "--agency", str(mental.id))
    word = export_packet(runner, tmp_path, seeded, "mh.docx", "--agency", str(mental.id))
    assert_valid(hwpx)
    assert hwpx_words(hwpx) == docx_words(word)
    assert header_and_footer(hwpx)[0] == "대외비 · 개인정보 포함 · 정신건강복지센터 열람용"
    full = export_packet(runner, tmp_path, seeded, "full.hwpx")
    assert hwpx_words(full) == docx_words(export_packet(runner, tmp_path, seeded, "full.docx"))

    login(client, "mh")
    assert client.post(f"/meetings/{seeded}/pledge", data={"accept": "y"}).status_code == 302  # before reading
    page = client.get(f"/meetings/{seeded}/packet").get_data(as_text=True)
    assert 'name="file_format" value="hwpx"' in page
    response = client.post(f"/meetings/{seeded}/packet.docx", data={"purpose": "회의 준비", "file_format": "hwpx"})
    assert response.status_code == 200 and response.mimetype == HWPX
    assert hwpx_words(response.data) == hwpx_words(hwpx)
    event = audit_actions("packet.download")[-1]
    assert json.loads(event.details)["format"] == "hwpx" and json.loads(event.details)["agency_id"] == mental.id


def export_packet(runner, tmp_path, meeting_id, name, *extra) -> bytes:
    target = tmp_path / name
    result = runner.invoke(args=["export-packet", str(meeting_id), "-o", str(target), *extra])
    assert result.exit_code == 0, result.output
    return target.read_bytes()


def test_the_quarterly_report_as_hwpx_is_the_word_report(client, seeded):
    """/dashboard/report.hwpx beside .docx and .xlsx: the same figures, the 합계 row in bold, figures right-aligned."""
    login(client, "coordinator")
    assert "report.hwpx" in client.get("/dashboard?year=2021").get_data(as_text=True)
    response = client.get("/dashboard/report.hwpx?year=2021&quarter=1")
    assert response.status_code == 200 and response.mimetype == HWPX
    assert "report-2021-Q1.hwpx" in response.headers["Content-Disposition"]
    assert_valid(response.data)
    word = client.get("/dashboard/report.docx?year=2021&quarter=1")
    assert hwpx_words(response.data) == docx_words(word.data)
    document = HwpxDocument.open(response.data)
    def style(cell):
        return cell.paragraphs[0].runs[0].char_pr_id_ref

    totalled = [table for table in document.tables if table.rows[-1].cells[0].text == "합계" and len(table.rows) > 2]
    assert totalled, [table.rows[-1].cells[0].text for table in document.tables]
    for table in totalled:  # the 합계 row is set as the (bold) header row is, the rows above it are not
        assert style(table.rows[-1].cells[1]) == style(table.rows[0].cells[1]) != style(table.rows[1].cells[1])
    assert header_and_footer(response.data)[0] == "통계 자료 · 개인정보 없음"
    assert [json.loads(e.details) for e in audit_actions("report.download")] == [{"kind": "hwpx"}, {"kind": "docx"}]


#: rhwp (rhwp-python, a Rust HWP/HWPX renderer) lays the file out into SVG pages, one <text> per glyph with its
#: position. Run in its own process: its wheel's FreeType is older than the one it calls, so the system's is loaded
#: first (LD_PRELOAD).
RENDER = """
import json, re, sys
import rhwp
pages = rhwp.parse(sys.argv[1]).render_all_svg()
glyphs = [[(float(y), text) for y, text in re.findall(r'<text [^>]*?y="([0-9.]+)"[^>]*>([^<]*)</text>', page)]
          for page in pages]
size = re.search(r'<svg [^>]*width="([0-9.]+)" height="([0-9.]+)"', pages[0]).groups()
print(json.dumps({"size": [float(v) for v in size], "glyphs": glyphs}))
"""


def rendered(path) -> dict:
    freetype = sorted(glob.glob("/usr/lib/*/libfreetype.so.6") + glob.glob("/usr/lib/libfreetype.so.6"))
    assert freetype, "libfreetype6 is missing (apt-get install libfreetype6)"
    result = subprocess.run([sys.executable, "-c", RENDER, str(path)], env={**os.environ, "LD_PRELOAD": freetype[0]},
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def line_of(glyphs, text: str) -> set[float]:
    """The baselines the glyphs of ``text`` (spaces aside) sit on, where it first appears on the page."""
    wanted = text.replace(" ", "")
    joined = "".join(g for _, g in glyphs)
    start = joined.index(wanted)
    return {y for y, _ in glyphs[start:start + len(wanted)]}


def test_hwpx_minutes_render_as_a4_pages_with_the_hangul_laid_out(runner, tmp_path, seeded):
    """A render without 한글: the demo's approved 2021 minutes, through rhwp, are A4 pages (96 px to the inch) whose
    glyphs hold the header mark on every page, the 결재란 and title first, and keep a date and a case number on
    one line; the content hash is at the foot of the last page."""
    meeting = approved_2021(seeded)
    path = tmp_path / "minutes.hwpx"
    path.write_bytes(export(runner, tmp_path, meeting.id, "minutes.hwpx"))
    render = rendered(path)
    assert [round(v) for v in render["size"]] == [794, 1123]  # 210 × 297 mm
    pages = ["".join(g for _, g in page) for page in render["glyphs"]]
    assert len(pages) >= 2 and all(page.startswith("대외비개인정보포함") for page in pages)
    first = render["glyphs"][0]
    assert pages[0].index("구분작성검토결재") < pages[0].index(meeting.title.replace(" ", "") + "회의록")
    assert len(line_of(first, "2021. 3. 24.(수) 14:00 ~ 16:00")) == 1
    assert len(line_of(first, "2021-0001")) == 1
    minutes = db.session.execute(select(Minutes).where(Minutes.meeting_id == meeting.id)).scalar_one()
    assert pages[-1].endswith(minutes.content_hash)


def hwpx_fonts(content: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        header = ElementTree.fromstring(package.read("Contents/header.xml"))
    return {font.get("face") for font in header.iter("{http://www.hancom.co.kr/hwpml/2011/head}font")}


@pytest.mark.parametrize("font", ["함초롬바탕", "맑은 고딕"])
def test_the_citys_font_setting_is_the_hwpx_files_font(app, runner, tmp_path, seeded, font):
    app.config["DOCX_FONT"] = font
    hwpx = export(runner, tmp_path, approved_2021(seeded).id, "minutes.hwpx")
    assert_valid(hwpx)
    assert hwpx_fonts(hwpx) == {font}


def test_markup_tabs_and_line_breaks_in_typed_text_stay_text():
    """What people type (a 기관명 with "&", "<b>", a pasted tab, a line break in a cell) is text in the file."""
    from conference.documents.hwpx_kit import HwpxWriter

    writer = HwpxWriter(font="맑은 고딕", title="A & B <시험>", author="천사 & 이웃", header_mark="대외비 <기관>")
    writer.heading("제목 <b>굵게</b> & 더", 1)
    writer.labelled("의견", "첫째 줄 & 둘째\n<script>alert(1)</script>")
    writer.table(["항목", "내용"], [["탭\t뒤", "줄\n바꿈 & <i>"]])
    content = writer.finish()
    assert_valid(content)
    text = HwpxDocument.open(content).text.plain()
    for typed in ("제목 <b>굵게</b> & 더", "의견: 첫째 줄 & 둘째", "<script>alert(1)</script>", "탭\t뒤", "바꿈 & <i>"):
        assert typed in text, typed
    assert header_and_footer(content)[0] == "대외비 <기관>"
    assert package_metadata(content)["title"] == "A & B <시험>"
