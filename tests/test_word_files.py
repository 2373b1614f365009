"""The Word files of a meeting as the demo city downloads them: the sign-in sheet before the meeting, the approved
minutes (결재란, head count, chair, hash in the footer), and automatic Asian/Latin spacing off in every Word file the
app writes (packet, minutes, sign-in sheet, quarterly report)."""
import io
import re

import docx
import pytest
from docx.oxml.ns import qn
from sqlalchemy import select

from factories import audit_actions, counting_queries, flashes
from factories_world import login

from conference.documents import docx_kit
from conference.extensions import db
from conference.models import Agency, Attendee, Invitation, Meeting, MeetingStatus, Minutes


def past_meeting_id() -> int:
    return db.session.execute(select(Meeting.id).where(Meeting.year == 2021)).scalar_one()


def name_invitees(meeting_id: int, agency_name: str, invitees: str) -> None:
    invitation = db.session.execute(select(Invitation).join(Agency, Agency.id == Invitation.agency_id).where(
        Invitation.meeting_id == meeting_id, Agency.name == agency_name)).scalar_one()
    invitation.invitees = invitees
    db.session.commit()


def sheet_rows(content: bytes) -> list[list[str]]:
    table = docx.Document(io.BytesIO(content)).tables[-1]
    return [[c.text for c in row.cells] for row in table.rows]


def test_the_sign_in_sheet_lists_the_invited_before_anyone_signed_in(client, seeded):
    name_invitees(seeded, "정신건강복지센터", "서마음 정신건강전문요원, 정건강 간호사")
    meeting = db.session.get(Meeting, seeded)
    assert meeting.status == MeetingStatus.PREPARING.value
    assert not db.session.execute(select(Attendee).where(Attendee.meeting_id == seeded)).first()
    login(client, "coordinator")
    page = client.get(f"/meetings/{seeded}").get_data(as_text=True)
    assert f'action="/meetings/{seeded}/attendance.docx"' in page and "참석자 서명부" in page

    response = client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "서명 받기", "back": "meeting"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "%EC%84%9C%EB%AA%85%EB%B6%80" in response.headers["Content-Disposition"]  # …서명부.docx
    document = docx.Document(io.BytesIO(response.data))
    assert document.paragraphs[0].text == "참석자 서명부"
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts["회의명"] == meeting.title and re.fullmatch(r"\d{4}\. \d+\. \d+\.\(.\) \d\d:\d\d ~ \d\d:\d\d",
                                                               facts["일시"])
    rows = sheet_rows(response.data)
    people = [(r[1], r[2], r[3]) for r in rows[1:]]
    assert people[:2] == [("윤팀장", "동두천시 복지정책과", "희망복지팀장"), ("한사례", "무한돌봄센터", "통합사례관리사")]
    assert ("서마음", "정신건강복지센터", "정신건강전문요원") in people
    assert ("정건강", "정신건강복지센터", "간호사") in people
    for agency in ("드림스타트", "중앙동 행정복지센터", "천사운동본부"):  # named nobody: a row for the agency
        assert ("", agency, "") in people
    assert people[-5:] == [("", "", "")] * 5
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, len(rows))]
    [event] = audit_actions("attendance.download")
    assert '"서명 받기"' in event.details


def test_sign_in_rows_are_at_least_ten_millimetres_high(client, seeded):
    login(client, "coordinator")
    content = client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "서명 받기"}).data
    table = docx.Document(io.BytesIO(content)).tables[-1]
    for row in table.rows[1:]:
        height = row._tr.trPr.find(qn("w:trHeight"))
        assert height.get(qn("w:hRule")) in ("atLeast", "exact")
        assert int(height.get(qn("w:val"))) >= 567  # 10 mm


def test_a_sign_in_sheet_without_a_purpose_goes_back_to_the_meeting_page(client, seeded):
    login(client, "coordinator")
    response = client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "", "back": "meeting"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{seeded}")
    assert any("목적" in message for _kind, message in flashes(client.get(response.headers["Location"])))
    assert audit_actions("attendance.download") == []


def test_a_practitioner_cannot_download_the_sign_in_sheet(client, seeded):
    login(client, "mh")
    assert client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "서명"}).status_code == 403


def test_export_minutes_writes_the_sign_in_sheet_before_the_meeting(runner, seeded, tmp_path):
    name_invitees(seeded, "드림스타트", "조아동 아동통합사례관리사")
    target = tmp_path / "sheet.docx"
    result = runner.invoke(args=["export-minutes", str(seeded), "-o", str(target), "--attendance-sheet"])
    assert result.exit_code == 0, result.output
    people = [(r[1], r[2]) for r in sheet_rows(target.read_bytes())]
    assert ("조아동", "드림스타트") in people and ("윤팀장", "동두천시 복지정책과") in people


def test_the_demo_minutes_carry_the_sign_off_the_chair_the_head_count_and_the_hash_in_the_footer(client, seeded):
    past = past_meeting_id()
    login(client, "coordinator")
    response = client.post(f"/meetings/{past}/minutes.docx", data={"purpose": "결재 보고"})
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "회의록" in document.paragraphs[0].text
    sign_off = document.tables[0]
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in sign_off.rows}
    assert rows["구분"] == ["작성", "검토", "결재"]
    assert rows["직위"][0] == "통합사례관리사" and rows["직위"][2] == "희망복지팀장"
    assert rows["성명"][2] == "윤팀장" and rows["일자"][2] == "2021. 3. 26."
    attendees = next(t for t in document.tables if t.rows[0].cells[0].text == "성명")
    names = [row.cells[0].text for row in attendees.rows[1:]]
    assert "윤팀장" in names
    agencies = {row.cells[1].text for row in attendees.rows[1:]}
    assert f"참석 인원: {len(agencies)}개 기관 {len(names)}명" in body
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[1].rows}
    assert facts["일시"] == "2021. 3. 24.(수) 14:00 ~ 16:00" and facts["주재"] == "윤팀장 (희망복지팀장)"
    digest = db.session.execute(select(Minutes.content_hash).where(Minutes.meeting_id == past)).scalar_one()
    footer = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert len(digest) == 64 and digest in footer and digest not in body
    for text, cell in ((c.text, c) for t in document.tables for r in t.rows for c in r.cells):
        for match in re.finditer(r"\d{4}\. \d{1,2}\. \d{1,2}\.|\d{4}-\d{3,4}", text):
            size = max([r.font.size.pt for p in cell.paragraphs for r in p.runs if r.font.size] or [10.5])
            assert docx_kit.cell_width_mm(match.group(0), size) <= cell.width.mm + 0.01, (match.group(0), text)


def word_files(client, seeded) -> dict[str, bytes]:
    """Every kind of Word file the app writes, downloaded by the coordinator of the demo city."""
    login(client, "coordinator")
    past = past_meeting_id()
    files = {
        "packet": client.post(f"/meetings/{seeded}/packet.docx", data={"purpose": "회의 준비"}),
        "minutes": client.post(f"/meetings/{past}/minutes.docx", data={"purpose": "결재 보고"}),
        "sign-in sheet": client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "서명 받기"}),
        "quarterly report": client.get("/dashboard/report.docx?year=2021&quarter=1"),
    }
    for name, response in files.items():
        assert response.status_code == 200, name
    return {name: response.data for name, response in files.items()}


def test_automatic_asian_latin_spacing_is_off_in_every_word_file(client, seeded):
    files = word_files(client, seeded)
    assert len(files) == 4
    for name, content in files.items():
        document = docx.Document(io.BytesIO(content))
        defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
        normal = document.styles["Normal"].element.pPr
        for properties in (defaults, normal):
            for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
                element = properties.find(qn(tag))
                assert element is not None and element.get(qn("w:val")) == "0", (name, tag)


@pytest.mark.parametrize("kind", ["packet", "minutes", "sign-in sheet"])
def test_no_date_or_case_number_is_wider_than_its_cell_in_the_meeting_files(client, seeded, kind):
    document = docx.Document(io.BytesIO(word_files(client, seeded)[kind]))
    checked = 0
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                size = max([r.font.size.pt for p in cell.paragraphs for r in p.runs if r.font.size] or [10.5])
                for line in cell.text.split("\n"):
                    for match in re.finditer(r"\d{4}\. \d{1,2}\. \d{1,2}\.|\d{4}-\d{3,4}|\d+분|\(기한 지남\)", line):
                        assert docx_kit.cell_width_mm(match.group(0), size) <= cell.width.mm + 0.01, match.group(0)
                        checked += 1
    assert checked > 0


@pytest.mark.parametrize("file", ["minutes.docx", "packet.docx", "attendance.docx"])
def test_a_download_reads_nothing_after_recording_it(client, seeded, file):
    """The access-log line is the download's last statement: the file name is taken before the commit, which
    expires the meeting, so answering does not read the whole meeting again (in a write transaction on SQLite)."""
    login(client, "coordinator")
    meeting_id = seeded if file != "minutes.docx" else db.session.execute(
        select(Meeting.id).where(Meeting.year == 2021)).scalar_one()
    with counting_queries() as statements:
        response = client.post(f"/meetings/{meeting_id}/{file}", data={"purpose": "보관"})
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    recorded = [i for i, statement in enumerate(statements) if statement.startswith("INSERT INTO audit_event")]
    assert recorded and statements[recorded[-1] + 1:] == []
