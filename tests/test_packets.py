"""Pre-read packets: need-to-know per agency, sensitive information, the confidentiality pledge, the access log,
the Word file (web and command line) and the number of queries a packet page needs.
"""
import io
import re
from datetime import UTC, datetime, timedelta

import docx
import pytest
from docx.oxml.ns import qn
from factories import (
    MEETING_DAY,
    audit_actions,
    case_parts,
    count,
    counting_queries,
    docx_parts,
    docx_text,
    field_errors,
    flashes,
    past_meeting,
    pledge,
    text,
)
from sqlalchemy import select

from conference.extensions import db
from conference.models import AgendaItem, Pledge, Role, SectionVisibility, Sector

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "맑은 고딕"


@pytest.fixture
def agencies(make_agency):
    return {
        "mental": make_agency("정신건강복지센터", Sector.MENTAL_HEALTH),
        "charity": make_agency("천사운동본부", Sector.PRIVATE, is_public=False),
        "police": make_agency("동두천경찰서", Sector.POLICE),
        "school": make_agency("동두천초등학교", Sector.SCHOOL),
    }


@pytest.fixture
def setting(make_user, make_meeting, make_case, add_item, agencies, coordinator):
    """A meeting with three invited agencies, two cases and a practitioner of each agency.

    Default need-to-know: 정신건강복지센터 everything, 천사운동본부 summary + household, 경찰 summary + needs.
    """
    invited = [agencies["mental"], agencies["charity"], agencies["police"]]
    users = {key: make_user(f"{key}1", Role.PRACTITIONER, agency=agencies[key], display_name=f"{key} 실무자")
             for key in ("mental", "charity", "police", "school")}
    meeting = make_meeting(invited)
    first = make_case("김민수", consent=invited, covers_sensitive=False)
    second = make_case("이영희", consent=invited, covers_sensitive=True, children=1)
    items = [add_item(meeting.id, first, key_question="주거 위기 해소 방안은?"),
             add_item(meeting.id, second, key_question="아동 돌봄 공백 대책")]
    return {"meeting": meeting, "cases": [first, second], "items": items, "users": users, "agencies": agencies}


def packet_as(web, username, meeting_id, **params):
    web.login(username)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = web.get(f"/meetings/{meeting_id}/packet" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.headers.get("Location")
    return text(response)


def download(web, meeting_id, purpose="회의 준비", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return web.post(f"/meetings/{meeting_id}/packet.docx" + (f"?{query}" if query else ""), data={"purpose": purpose})


# --- need-to-know ----------------------------------------------------------------------------------

def test_each_agency_sees_only_its_sections_on_the_page_and_in_the_word_file(web, setting):
    meeting, (first, second) = setting["meeting"], setting["cases"]
    for key in ("mental", "charity", "police"):
        pledge(meeting.id, setting["users"][key])

    mental = packet_as(web, "mental1", meeting.id)
    mental_file = docx_text(download(web, meeting.id).data)
    charity = packet_as(web, "charity1", meeting.id)
    charity_file = docx_text(download(web, meeting.id).data)
    police = packet_as(web, "police1", meeting.id)
    police_file = docx_text(download(web, meeting.id).data)

    for case in (first, second):
        # Summary: everyone.
        for shown in (mental, charity, police, mental_file, charity_file, police_file):
            assert case.summary_sentinel in shown
        # Household composition: mental health and the charity, not the police.
        for shown in (mental, charity, mental_file, charity_file):
            assert case.household_sentinel in shown
        for hidden in (police, police_file):
            assert case.household_sentinel not in hidden
        # Needs and ratings: mental health and the police, not the charity.
        for shown in (mental, police, mental_file, police_file):
            assert case.needs_sentinel in shown
        for hidden in (charity, charity_file):
            assert case.needs_sentinel not in hidden
            assert "욕구 및 위기도" not in hidden
    assert "천사운동본부 열람용" in charity and "천사운동본부 열람용" in charity_file


def test_the_coordinator_can_read_each_agency_packet_and_the_full_one(web, setting):
    meeting, (first, _second) = setting["meeting"], setting["cases"]
    charity_id = setting["agencies"]["charity"].id
    charity = packet_as(web, "coord1", meeting.id, agency=charity_id)
    assert "천사운동본부 열람용" in charity
    assert first.household_sentinel in charity and first.needs_sentinel not in charity
    full = packet_as(web, "coord1", meeting.id)
    assert "사례관리 담당자 열람용" in full
    assert first.household_sentinel in full and first.needs_sentinel in full and first.health_sentinel in full
    full_file = docx_text(download(web, meeting.id).data)
    assert "사례관리 담당자 열람용" in full_file and first.health_sentinel in full_file
    # An agency that is not invited has no packet.
    web.login("coord1")
    assert web.get(f"/meetings/{meeting.id}/packet?agency={setting['agencies']['school'].id}").status_code == 404


def test_a_practitioner_cannot_ask_for_another_agency_packet(web, setting):
    meeting, (first, _second) = setting["meeting"], setting["cases"]
    pledge(meeting.id, setting["users"]["charity"])
    page = packet_as(web, "charity1", meeting.id, agency=setting["agencies"]["mental"].id)
    assert "천사운동본부 열람용" in page and "정신건강복지센터 열람용" not in page
    assert first.needs_sentinel not in page
    file = docx_text(download(web, meeting.id, agency=setting["agencies"]["mental"].id).data)
    assert "천사운동본부 열람용" in file and first.needs_sentinel not in file


def test_changed_sections_take_effect_on_page_and_file(web, setting):
    meeting, (first, second) = setting["meeting"], setting["cases"]
    mental, charity = setting["agencies"]["mental"].id, setting["agencies"]["charity"].id
    police = setting["agencies"]["police"].id
    web.login("coord1")
    response = web.post(f"/meetings/{meeting.id}/agenda/{setting['items'][0]}", data={
        "key_question": "주거 위기 해소 방안은?", "presenting_agency_id": "0", "minutes_allotted": "15",
        f"sections-{mental}": ["summary", "household", "needs", "history", "inputs"],
        f"sections-{charity}": ["summary", "needs"],
        f"sections-{police}": []})
    assert response.status_code == 302
    page = packet_as(web, "coord1", meeting.id, agency=charity)
    file = docx_text(download(web, meeting.id, agency=charity).data)
    for shown in (page, file):
        assert first.needs_sentinel in shown and first.household_sentinel not in shown
        # The other case keeps the defaults.
        assert second.household_sentinel in shown and second.needs_sentinel not in shown

    police_page = case_parts(packet_as(web, "coord1", meeting.id, agency=police))[0]
    police_file = docx_text(download(web, meeting.id, agency=police).data)
    # Nothing granted: only the agenda line of the case is left.
    assert first.case_number in police_page
    for hidden in (first.summary_sentinel, first.household_sentinel, first.needs_sentinel, "<h3>사례 개요"):
        assert hidden not in police_page
    # ... and the reader is told which sections were not shared, not left with a silent gap.
    assert "이 기관에 공유하지 않은 항목: 사례 개요 · 가구 구성" in police_page
    for hidden in (first.summary_sentinel, first.household_sentinel, first.needs_sentinel):
        assert hidden not in police_file


def test_sensitive_health_ratings_are_left_out_unless_consent_covers_them(web, setting):
    meeting, (first, second) = setting["meeting"], setting["cases"]
    police = setting["agencies"]["police"].id
    withheld = "민감정보(건강)는 정보제공 동의 범위 밖이라 싣지 않았습니다."
    page = packet_as(web, "coord1", meeting.id, agency=police)
    file = docx_text(download(web, meeting.id, agency=police).data)
    parts = case_parts(page)
    # The first household's consent does not cover sensitive information.
    assert first.needs_sentinel in parts[0] and first.health_sentinel not in parts[0] and withheld in parts[0]
    assert first.health_sentinel not in file and withheld in file
    # The second household's does.
    assert second.health_sentinel in parts[1] and withheld not in parts[1]
    assert second.health_sentinel in file


def test_a_consent_withdrawn_after_the_agenda_was_set_stops_sharing_the_case(web, setting, coordinator):
    """The case stays on the agenda (the coordinator must act), but the agency's packet no longer shows its
    details, as the agency may no longer open its case file either (permissions.visible_households)."""
    from conference.cases import services as case_services
    from conference.cases.queries import load_case_file

    meeting, (first, second) = setting["meeting"], setting["cases"]
    household = load_case_file(first.id)
    case_services.withdraw_consent(household.consents[0], by=coordinator, withdrawn_on=household.consents[0]
                                   .consented_on)
    db.session.commit()
    pledge(meeting.id, setting["users"]["charity"])
    page = packet_as(web, "charity1", meeting.id)
    file = docx_text(download(web, meeting.id).data)
    for shown in (page, file):
        assert first.case_number in shown
        assert first.summary_sentinel not in shown and first.household_sentinel not in shown
        assert second.summary_sentinel in shown and second.household_sentinel in shown
    assert web.get(f"/cases/{first.id}").status_code == 404
    # The coordinator's own view is complete.
    full = packet_as(web, "coord1", meeting.id)
    assert first.household_sentinel in full and first.needs_sentinel in full


def test_names_contacts_and_addresses_stay_out_of_packets(web, setting):
    meeting, (first, second) = setting["meeting"], setting["cases"]
    pledge(meeting.id, setting["users"]["mental"])
    for page in (packet_as(web, "mental1", meeting.id), docx_text(download(web, meeting.id).data),
                 packet_as(web, "coord1", meeting.id), docx_text(download(web, meeting.id).data)):
        assert "김○○" in page and "이○○" in page
        for secret in (first.head_name, second.head_name, "이순자", "김아이", "010-2345-6789", "중앙로"):
            assert secret not in page


# --- the pledge ------------------------------------------------------------------------------------

def test_a_practitioner_pledges_before_reading_the_packet(web, setting):
    meeting = setting["meeting"]
    worker = setting["users"]["charity"]
    web.login("charity1")
    first_visit = web.get(f"/meetings/{meeting.id}/packet")
    assert first_visit.status_code == 302 and first_visit.headers["Location"] == f"/meetings/{meeting.id}/pledge"
    no_file = web.post(f"/meetings/{meeting.id}/packet.docx", data={"purpose": "회의 준비"})
    assert no_file.status_code == 302 and no_file.headers["Location"] == f"/meetings/{meeting.id}/pledge"
    assert audit_actions("packet.view") == [] and audit_actions("packet.download") == []

    form = web.get(f"/meetings/{meeting.id}/pledge")
    assert form.status_code == 200 and "비밀유지 서약" in text(form)
    refused = web.post(f"/meetings/{meeting.id}/pledge", data={})
    assert refused.status_code == 200
    assert field_errors(refused, "accept") == ["서약에 동의해야 자료를 볼 수 있습니다."]
    assert count(Pledge) == 0

    before = datetime.now(UTC)
    accepted = web.post(f"/meetings/{meeting.id}/pledge", data={"accept": "y"})
    assert accepted.status_code == 302 and accepted.headers["Location"] == f"/meetings/{meeting.id}/packet"
    saved = db.session.execute(select(Pledge)).scalar_one()
    assert (saved.meeting_id, saved.user_id, saved.ip) == (meeting.id, worker.id, "127.0.0.1")
    assert before - timedelta(seconds=1) <= saved.accepted_at <= datetime.now(UTC)
    events = audit_actions("pledge.accept")
    assert [(e.actor_id, e.ip, e.object_id) for e in events] == [(worker.id, "127.0.0.1", str(meeting.id))]

    assert web.get(f"/meetings/{meeting.id}/packet").status_code == 200
    # Pledging again changes nothing; the pledge page says it is done.
    web.post(f"/meetings/{meeting.id}/pledge", data={"accept": "y"})
    assert count(Pledge) == 1 and len(audit_actions("pledge.accept")) == 1
    assert "이미 서약했습니다." in text(web.get(f"/meetings/{meeting.id}/pledge"))

    # The coordinator sees who pledged, in the row of their agency.
    web.login("coord1")
    page = text(web.get(f"/meetings/{meeting.id}"))
    invitations = page.split('id="invitations"', 1)[1].split('id="agenda"', 1)[0]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", invitations, re.DOTALL) if "천사운동본부" in r)
    assert "charity 실무자" in row
    other = next(r for r in re.findall(r"<tr>(.*?)</tr>", invitations, re.DOTALL) if "동두천경찰서" in r)
    assert "charity 실무자" not in other and "없음" in other


def test_a_pledge_is_per_meeting(web, setting, make_meeting):
    meeting = setting["meeting"]
    later = make_meeting([setting["agencies"]["charity"]], day=MEETING_DAY + timedelta(days=28))
    pledge(meeting.id, setting["users"]["charity"])
    web.login("charity1")
    assert web.get(f"/meetings/{meeting.id}/packet").status_code == 200
    assert web.get(f"/meetings/{later.id}/packet").headers["Location"] == f"/meetings/{later.id}/pledge"


# --- the access log --------------------------------------------------------------------------------

def test_every_packet_view_is_logged(web, setting):
    meeting = setting["meeting"]
    worker = setting["users"]["charity"]
    pledge(meeting.id, worker)
    packet_as(web, "charity1", meeting.id)
    web.get(f"/meetings/{meeting.id}/packet")
    events = audit_actions("packet.view")
    assert len(events) == 2
    assert all((e.actor_id, e.ip, e.object_type, e.object_id) == (worker.id, "127.0.0.1", "meeting", str(meeting.id))
               for e in events)
    assert f'"agency_id": {setting["agencies"]["charity"].id}' in events[0].details
    for case in setting["cases"]:
        assert case.case_number in events[0].details

    packet_as(web, "coord1", meeting.id, agency=setting["agencies"]["police"].id)
    assert f'"agency_id": {setting["agencies"]["police"].id}' in audit_actions("packet.view")[-1].details


def test_a_download_needs_a_purpose(web, setting):
    meeting = setting["meeting"]
    pledge(meeting.id, setting["users"]["charity"])
    web.login("charity1")
    for purpose, message in (("", "내려받는 목적을 적으세요."), ("a", "2~200자로 적으세요.")):
        response = download(web, meeting.id, purpose=purpose)
        assert response.status_code == 302 and response.headers["Location"].startswith(f"/meetings/{meeting.id}/packet")
        assert "Content-Disposition" not in response.headers
        assert ("error", message) in flashes(web.get(response.headers["Location"]))
    assert audit_actions("packet.download") == []


def test_a_download_is_a_private_word_file_and_is_logged_with_its_purpose(web, setting):
    meeting = setting["meeting"]
    worker = setting["users"]["charity"]
    pledge(meeting.id, worker)
    web.login("charity1")
    response = download(web, meeting.id, purpose="기관 내부 보고")
    assert response.status_code == 200
    assert response.mimetype == DOCX_TYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition and ".docx" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data[:2] == b"PK"
    events = audit_actions("packet.download")
    assert len(events) == 1 and events[0].actor_id == worker.id
    assert '"purpose": "기관 내부 보고"' in events[0].details
    assert setting["cases"][0].case_number in events[0].details


# --- the Word file ---------------------------------------------------------------------------------

def rfonts(rpr):
    return rpr.find(qn("w:rFonts"))


def test_word_packet_layout(web, setting):
    meeting = setting["meeting"]
    pledge(meeting.id, setting["users"]["charity"])
    web.login("charity1")
    content = download(web, meeting.id).data
    document = docx.Document(io.BytesIO(content))
    section = document.sections[0]

    header = "\n".join(p.text for p in section.header.paragraphs)
    assert "대외비 · 개인정보 포함 · 천사운동본부 열람용" in header

    footer_xml = section.footer._element.xml
    instructions = [t.strip() for t in re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", footer_xml)]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert footer_xml.count('w:fldCharType="begin"') == 2 and footer_xml.count('w:fldCharType="end"') == 2

    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    styles = {"docDefaults": defaults}
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        styles[name] = document.styles[name].element.rPr
    for name, rpr in styles.items():
        fonts = rfonts(rpr)
        assert fonts is not None, name
        assert fonts.get(qn("w:eastAsia")) == FONT, name
        assert not [a for a in fonts.attrib if a.lower().endswith("theme")], (name, fonts.attrib)
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "ko-KR"
    assert "eastAsiaTheme" not in docx_parts(content)["word/document.xml"]

    agenda = next(t for t in document.tables if [c.text for c in t.rows[0].cells] ==
                  ["순서", "사례", "논의 요청사항", "발표", "시간"])
    assert agenda.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert len(agenda.rows) == 1 + len(setting["cases"])
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in agenda.rows[1:])
    assert [c.text for c in agenda.rows[1].cells][:3] == ["1", f"{setting['cases'][0].case_number} 김○○",
                                                          "주거 위기 해소 방안은?"]

    properties = document.core_properties
    assert meeting.title in properties.title
    assert properties.author not in ("python-docx", "") and properties.author == "천사운동본부"
    assert properties.last_modified_by != "python-docx"
    assert properties.created.year >= datetime.now(UTC).year

    everything = docx_text(content)
    assert "김○○" in everything
    assert setting["cases"][0].head_name not in everything and setting["cases"][1].head_name not in everything


def test_word_packet_names_the_contact_with_an_office_phone(web, setting, coordinator):
    coordinator.phone = "031-860-2101"
    db.session.commit()
    meeting = setting["meeting"]
    pledge(meeting.id, setting["users"]["charity"])
    web.login("charity1")
    document = docx.Document(io.BytesIO(download(web, meeting.id).data))
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts["담당"] == f"{coordinator.display_name} ({coordinator.agency.name} · 031-860-2101)"


def test_word_packet_agenda_columns_fit_the_time_and_give_the_question_the_room(web, setting):
    from conference.documents import docx_kit

    web.login("coord1")
    document = docx.Document(io.BytesIO(download(web, setting["meeting"].id).data))
    agenda = next(t for t in document.tables if [c.text for c in t.rows[0].cells] ==
                  ["순서", "사례", "논의 요청사항", "발표", "시간"])
    widths = [column.width.mm for column in agenda.columns]
    for row in agenda.rows:
        for index in (0, 4):  # 순서 and 시간 ("15분") never wrap
            assert docx_kit.cell_width_mm(row.cells[index].text) <= widths[index] + 0.01, row.cells[index].text
        assert docx_kit.cell_width_mm(row.cells[1].text.split()[0]) <= widths[1] + 0.01  # the case number
    assert widths[3] < widths[2] and widths[3] <= 25  # 발표 ("—") no wider than it needs


def test_repeat_cases_are_marked_on_the_page_and_in_the_word_file(web, setting, make_case, add_item, coordinator):
    meeting = setting["meeting"]
    recent, old = make_case("박재상", consent=list(setting["agencies"].values())), make_case(
        "최오래", consent=list(setting["agencies"].values()))
    past_meeting(coordinator, 200, [recent])
    earlier = past_meeting(coordinator, 400, [old])
    add_item(meeting.id, recent)
    add_item(meeting.id, old)

    parts = case_parts(packet_as(web, "coord1", meeting.id))
    assert ["재상정" in part for part in parts] == [False, False, True, False]
    assert earlier.title in parts[3]  # listed as history, but too old to be a repeat

    document = docx.Document(io.BytesIO(download(web, meeting.id).data))
    repeat_note = "최근 12개월 안에 논의한 사례입니다(재상정)."
    marked, current = set(), None
    for paragraph in document.paragraphs:
        match = re.match(r"\d+\. (\d{4}-\d{4}) ", paragraph.text)
        if paragraph.style.name == "Heading 1" and match:
            current = match[1]
        elif paragraph.text == repeat_note:
            marked.add(current)
    assert marked == {recent.case_number}


# --- the command line ------------------------------------------------------------------------------

def test_export_packet_command_writes_the_agency_packet(runner, setting, tmp_path, app):
    meeting, charity = setting["meeting"], setting["agencies"]["charity"]
    output = tmp_path / "packet.docx"
    result = runner.invoke(args=["export-packet", str(meeting.id), "--agency", str(charity.id), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "천사운동본부" in result.output and "2건" in result.output
    content = output.read_bytes()
    document = docx.Document(io.BytesIO(content))
    assert "대외비 · 개인정보 포함 · 천사운동본부 열람용" in document.sections[0].header.paragraphs[0].text
    assert document.core_properties.author == app.config["DOCUMENT_AUTHOR"]
    first = setting["cases"][0]
    everything = docx_text(content)
    assert first.household_sentinel in everything and first.needs_sentinel not in everything
    assert first.head_name not in everything
    events = audit_actions("packet.download")
    assert len(events) == 1 and events[0].actor_name == "cli" and str(output) in events[0].details

    full = tmp_path / "full.docx"
    assert runner.invoke(args=["export-packet", str(meeting.id), "-o", str(full)]).exit_code == 0
    assert "사례관리 담당자 열람용" in docx.Document(str(full)).sections[0].header.paragraphs[0].text


def test_export_packet_command_refuses_unknown_meetings_and_uninvited_agencies(runner, setting, tmp_path):
    output = tmp_path / "packet.docx"
    missing = runner.invoke(args=["export-packet", "9999", "-o", str(output)])
    assert missing.exit_code != 0 and "없습니다" in missing.output
    school = setting["agencies"]["school"]
    uninvited = runner.invoke(args=["export-packet", str(setting["meeting"].id), "--agency", str(school.id),
                                    "-o", str(output)])
    assert uninvited.exit_code != 0 and "초대되지 않았습니다" in uninvited.output
    assert not output.exists()
    assert audit_actions("packet.download") == []


# --- queries do not grow with the agenda -----------------------------------------------------------

def statements_for(web, url) -> list[str]:
    with counting_queries() as statements:
        response = web.get(url)
    assert response.status_code == 200, response.headers.get("Location")
    return statements


def test_packet_queries_do_not_grow_with_the_agenda(web, make_user, make_meeting, make_case, add_item, agencies):
    invited = [agencies["mental"], agencies["charity"]]
    make_user("worker1", Role.PRACTITIONER, agency=agencies["charity"])
    small = make_meeting(invited)
    large = make_meeting(invited, day=MEETING_DAY + timedelta(days=7))
    for meeting, size in ((small, 3), (large, 15)):
        for n in range(size):
            add_item(meeting.id, make_case(consent=invited, covers_sensitive=n % 2 == 0, children=n % 2, adults=2))
    assert count(AgendaItem, AgendaItem.meeting_id == large.id) == 15
    assert count(SectionVisibility) == 2 * 18
    from conference.models import User
    worker = db.session.execute(select(User).where(User.username == "worker1")).scalar_one()
    pledge(small.id, worker)
    pledge(large.id, worker)

    web.login("coord1")
    web.get("/home")  # the first page after a login gives the session its CSRF token, which kept pages key on
    for url in ("/meetings/{id}/packet", "/meetings/{id}/packet?agency=" + str(agencies["charity"].id),
                "/meetings/{id}"):
        few = statements_for(web, url.format(id=small.id))
        many = statements_for(web, url.format(id=large.id))
        assert len(few) == len(many), (url, len(few), len(many))
    web.login("worker1")
    web.get("/home")
    few = statements_for(web, f"/meetings/{small.id}/packet")
    many = statements_for(web, f"/meetings/{large.id}/packet")
    assert len(few) == len(many) and len(many) < 30, many
