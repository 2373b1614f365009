"""Agency input (issue 5): drafts and submission through the form, revisions, concurrent edits that never
overwrite silently, the coordinator's matrix and reminders, notifications, who may write what, inputs in the
packets (page and Word), escaping, bad input, and the number of queries the matrix and the packet need.

Every request runs in its own application context (``SeparateContextClient`` in conftest, ``Web`` in
factories): two clients in one test are two browsers with two database sessions, as on a real server.
"""
import io
import json
import re
import smtplib
from datetime import timedelta

import docx
import pytest
from factories import (
    Web,
    audit_actions,
    case_parts,
    count,
    counting_queries,
    docx_parts,
    field_errors,
    flashes,
    form_errors,
    has_hangul,
    invitation_of,
    load,
    pledge,
    selected_option,
    text,
)
from flask import current_app
from markupsafe import escape
from sqlalchemy import select, update

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.formatting import today_local
from conference.extensions import db
from conference.inputs import services as input_services
from conference.inputs.services import InputValues
from conference.meetings import services as meeting_services
from conference.models import AgencyInput, InputRevision, Meeting, Notification, OfferedResource, Role, Sector, User
from conference.shared.rules import RuleError

SCRIPT = "<script>alert(1)</script>"
HOVER = '<b onmouseover="alert(2)">굵게</b>'


# --- setting ---------------------------------------------------------------------------------------

@pytest.fixture
def agencies(make_agency):
    return {
        # need-to-know includes "inputs" (every section)
        "mental": make_agency("정신건강복지센터", Sector.MENTAL_HEALTH),
        "centre": make_agency("중앙동 행정복지센터", Sector.COMMUNITY_CENTRE),
        # need-to-know: summary + household only, no inputs
        "charity": make_agency("천사운동본부", Sector.PRIVATE, is_public=False),
        # not invited
        "school": make_agency("동두천초등학교", Sector.SCHOOL),
    }


@pytest.fixture
def setting(make_user, make_meeting, make_case, add_item, agencies, coordinator, admin):
    """A meeting (with a chair) inviting 정신건강복지센터, 중앙동 행정복지센터 and 천사운동본부, two cases whose consent
    covers all three, and a practitioner of every agency (two at 정신건강복지센터)."""
    users = {key: make_user(f"{key}1", Role.PRACTITIONER, agency=agencies[key], display_name=f"{key} 실무자",
                            email=f"{key}1@example.org") for key in agencies}
    users["mental2"] = make_user("mental2", Role.PRACTITIONER, agency=agencies["mental"], display_name="mental 동료",
                                 email="mental2@example.org")
    users["chair"] = make_user("chair1", Role.CHAIR, display_name="회의 주재자")
    invited = [agencies["mental"], agencies["centre"], agencies["charity"]]
    meeting = make_meeting(invited, chair=users["chair"])
    first = make_case("김민수", consent=invited)
    second = make_case("이영희", consent=invited, children=1)
    items = [add_item(meeting.id, first, key_question="주거 위기 해소 방안은?"),
             add_item(meeting.id, second, key_question="아동 돌봄 공백 대책")]
    return {"meeting": meeting, "cases": [first, second], "items": items, "users": users, "agencies": agencies,
            "coordinator": coordinator, "admin": admin}


# --- helpers ---------------------------------------------------------------------------------------

def form_url(meeting_id, item_id, agency=None) -> str:
    return f"/meetings/{meeting_id}/inputs/{item_id}" + (f"?agency={agency}" if agency else "")


def input_data(facts="", opinion="", *, domains=(), risk_concerns="", withheld="", coordinator_note="",
               resources=(), version="", submit=False, levels=None) -> dict:
    """The fields the input form posts; ``submit`` presses 제출 (submit=1), otherwise 임시 저장 (save=1).

    ``levels`` maps facts_level, opinion_level and risk_level to what is chosen (left out: not posted).
    """
    data = {"facts": facts, "opinion": opinion, "domains": list(domains), "risk_concerns": risk_concerns,
            "withheld": withheld, "coordinator_note": coordinator_note, "version": str(version), **(levels or {})}
    for n, (is_public, kind, note) in enumerate(resources):
        data[f"resources-{n}-is_public"] = "1" if is_public else "0"
        data[f"resources-{n}-kind"] = kind
        data[f"resources-{n}-note"] = note
    data["submit" if submit else "save"] = "1"
    return data


def stored(item_id, agency_id) -> AgencyInput | None:
    db.session.rollback()
    return db.session.execute(select(AgencyInput).where(
        AgencyInput.agenda_item_id == item_id, AgencyInput.agency_id == agency_id)).scalar_one_or_none()


def resources_of(agency_input) -> list[tuple]:
    return [(r.is_public, r.kind, r.note) for r in db.session.execute(
        select(OfferedResource).where(OfferedResource.agency_input_id == agency_input.id)
        .order_by(OfferedResource.id)).scalars()]


def revisions_of(agency_input) -> list[InputRevision]:
    return db.session.execute(select(InputRevision).where(InputRevision.agency_input_id == agency_input.id)
                              .order_by(InputRevision.version)).scalars().all()


def version_in(response) -> str:
    """The hidden ``version`` the re-rendered form will post back."""
    tag = re.search(r'<input[^>]*name="version"[^>]*>', response.get_data(as_text=True))
    assert tag, "no version field"
    value = re.search(r'value="([^"]*)"', tag[0])
    return value[1] if value else ""


def textarea(response, name) -> str:
    """The text a textarea of the page holds (unescaped)."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', text(response), re.S)
    assert match, f"no textarea {name}"
    return match[1].lstrip("\r\n")


def save(user_web, setting, item_index=0, *, agency=None, **fields):
    """Post the input form as the signed-in user and expect it to be saved (redirect to the list)."""
    meeting, item_id = setting["meeting"], setting["items"][item_index]
    response = user_web.post(form_url(meeting.id, item_id, agency), data=input_data(**fields))
    assert response.status_code == 302, text(response)
    return response


def service_save(setting, item_index, agency_key, *, submit=True, by=None, today=None, **fields):
    """Save an input straight through the service (for setting up states quickly)."""
    meeting = load(setting["meeting"].id)
    item = next(i for i in meeting.agenda_items if i.id == setting["items"][item_index])
    agency_id = setting["agencies"][agency_key].id
    current = input_services.find_input(item, agency_id)
    saved = input_services.save_input(
        item, agency_id=agency_id, by=by or setting["coordinator"], values=InputValues(**fields),
        base_version=current.version if current else 0, submit=submit, today=today or today_local())
    db.session.commit()
    return saved


def set_deadline(setting, agency_key, deadline):
    invitation = invitation_of(setting["meeting"].id, setting["agencies"][agency_key].id)
    invitation.deadline = deadline
    db.session.commit()


def set_status(meeting_id, status):
    db.session.execute(update(Meeting).where(Meeting.id == meeting_id).values(status=status))
    db.session.commit()


def matrix_cells(page: str) -> dict[tuple[int, int], tuple[str, bool]]:
    """(item id, agency id) → (state, marked late) from the coordinator's matrix page."""
    cells = {}
    for state, item_id, agency_id, rest in re.findall(
            r'<td class="state-(\w+)"><a href="/meetings/\d+/inputs/(\d+)\?agency=(\d+)">[^<]*</a>(.*?)</td>', page):
        cells[int(item_id), int(agency_id)] = (state, "기한 후" in rest)
    return cells


def unread_badge(response) -> int:
    match = re.search(r'class="notifications-link">[^<]*<span class="count">(\d+)</span>', text(response))
    return int(match[1]) if match else 0


def packet_page(user_web, meeting_id, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = user_web.get(f"/meetings/{meeting_id}/packet" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.headers.get("Location")
    return text(response)


def download(user_web, meeting_id, **params) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = user_web.post(f"/meetings/{meeting_id}/packet.docx" + (f"?{query}" if query else ""),
                             data={"purpose": "회의 준비"})
    assert response.status_code == 200, response.headers.get("Location")
    return response.data


# --- draft → submitted -----------------------------------------------------------------------------

def test_practitioner_saves_a_draft_then_submits_it_with_the_form_buttons(web, setting):
    meeting, (item_id, _) = setting["meeting"], setting["items"]
    mental = setting["agencies"]["mental"]
    web.login("mental1")

    page = web.get(form_url(meeting.id, item_id))
    assert page.status_code == 200
    assert "김○○" in text(page) and "김민수" not in text(page)  # masked
    assert "주거 위기 해소 방안은?" in text(page)  # the key question
    assert 'name="save"' in text(page) and 'name="submit"' in text(page)

    response = web.post(form_url(meeting.id, item_id), follow_redirects=True, data=input_data(
        "월세 3개월 체납(2024. 1.~3.)", "주거급여 신청을 우선 검토",
        domains=["economy", "environment"], risk_concerns="겨울철 단전 우려",
        resources=[(True, "긴급복지 주거지원", "3개월"), (False, "후원물품", "")],
        withheld="상담 세부 내용: 본인 미동의", coordinator_note="가족 갈등 있음"))
    assert ("success", "임시 저장했습니다.") in flashes(response)
    draft = stored(item_id, mental.id)
    assert (draft.state, draft.version, draft.submitted_at) == ("draft", 1, None)
    assert draft.domain_list == ["economy", "environment"]
    assert (draft.facts, draft.withheld, draft.coordinator_note) == (
        "월세 3개월 체납(2024. 1.~3.)", "상담 세부 내용: 본인 미동의", "가족 갈등 있음")
    assert resources_of(draft) == [(True, "긴급복지 주거지원", "3개월"), (False, "후원물품", "")]
    assert draft.updated_by_id == setting["users"]["mental"].id and not draft.is_late
    listing = text(web.get(f"/meetings/{meeting.id}/inputs"))
    assert "작성 중" in listing

    # The form shows the draft back, with the version to post.
    page = web.get(form_url(meeting.id, item_id))
    assert textarea(page, "facts") == "월세 3개월 체납(2024. 1.~3.)"
    assert version_in(page) == "1"
    assert re.search(r'value="economy"[^>]*checked|checked[^>]*value="economy"', page.get_data(as_text=True))
    assert 'value="긴급복지 주거지원"' in text(page)

    response = web.post(form_url(meeting.id, item_id), follow_redirects=True, data=input_data(
        "월세 3개월 체납(2024. 1.~3.)", "주거급여 신청을 우선 검토하고 LH 매입임대 연계",
        domains=["economy", "environment"], risk_concerns="겨울철 단전 우려",
        resources=[(True, "긴급복지 주거지원", "3개월")], withheld="상담 세부 내용: 본인 미동의",
        coordinator_note="가족 갈등 있음", version=1, submit=True))
    assert ("success", "기관 의견을 제출했습니다.") in flashes(response)
    submitted = stored(item_id, mental.id)
    assert (submitted.state, submitted.version) == ("submitted", 2)
    assert submitted.submitted_at is not None
    assert resources_of(submitted) == [(True, "긴급복지 주거지원", "3개월")]
    assert [r.version for r in revisions_of(submitted)] == [1, 2]
    assert "제출" in text(web.get(f"/meetings/{meeting.id}/inputs"))
    assert [e.action for e in audit_actions("input.save")] == ["input.save"]
    assert len(audit_actions("input.submit")) == 1

    # Saving a submitted input again (임시 저장) keeps it submitted.
    save(web, setting, facts="월세 4개월 체납", opinion="주거급여", version=2)
    assert stored(item_id, mental.id).state == "submitted"


def test_line_breaks_are_kept_and_the_form_posts_crlf_within_the_limit(web, setting):
    """Browsers send a textarea's line breaks as CRLF; a text the page counts as 4000 characters is accepted."""
    item_id = setting["items"][0]
    web.login("mental1")
    lines = "\r\n".join(["가" * 999] * 4)  # 3999 characters with LF line breaks, 4002 with CRLF
    save(web, setting, facts=lines, opinion="첫 줄\r\n둘째 줄")
    saved = stored(item_id, setting["agencies"]["mental"].id)
    assert saved.opinion == "첫 줄\n둘째 줄"
    assert len(saved.facts) == 3999 and saved.facts.count("\n") == 3


# --- revisions -------------------------------------------------------------------------------------

def test_history_lists_every_save_with_who_when_and_what_changed(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    mental = setting["agencies"]["mental"]
    web.login("mental1")
    save(web, setting, facts="첫 사실", opinion="첫 의견")
    save(web, setting, facts="첫 사실", opinion="고친 의견", domains=["safety"], version=1, submit=True)
    web.login("coord1")  # the coordinator records what the agency said at the meeting
    save(web, setting, agency=mental.id, facts="첫 사실", opinion="고친 의견", domains=["safety"],
         coordinator_note="회의 중 추가", version=2)

    web.login("mental1")
    response = web.get(f"/meetings/{meeting.id}/inputs/{item_id}/history")
    assert response.status_code == 200
    page = text(response)
    summaries = re.findall(r"<summary>(.*?)</summary>", page, re.S)
    assert len(summaries) == 3
    newest, middle, oldest = (" ".join(s.split()) for s in summaries)
    assert "3번째 저장" in newest and "사례관리 담당자" not in newest and "Coord1" in newest
    assert "2번째 저장" in middle and "mental 실무자" in middle
    assert "1번째 저장" in oldest and "mental 실무자" in oldest
    # What changed, in the page's language.
    assert "기관 의견" in middle and "관련 욕구 영역" in middle and "상태" in middle
    assert "보유 정보" not in middle.split("바뀐 항목")[1]
    assert "담당자에게만 전달" in newest
    assert not re.search(r"\b(opinion|domains|state|coordinator_note)\b", " ".join(summaries))
    # Every version's text is kept; the latest is shown first (open).
    assert page.index("고친 의견") < page.index("첫 의견")
    assert re.search(r"<details open>\s*<summary>\s*3번째 저장", page)
    revisions = revisions_of(stored(item_id, mental.id))
    assert [r.changed.split(",") for r in revisions] == [
        ["coordinator_note", "domains", "facts", "facts_level", "opinion", "opinion_level", "resources",
         "risk_concerns", "risk_level", "state", "withheld"],
        ["domains", "opinion", "state"], ["coordinator_note"]]
    assert [json.loads(r.snapshot)["state"] for r in revisions] == ["draft", "submitted", "submitted"]
    # The form shows the latest version and links to the history.
    form = web.get(form_url(meeting.id, item_id))
    assert textarea(form, "opinion") == "고친 의견" and "3번째 저장" in text(form)
    assert f"/meetings/{meeting.id}/inputs/{item_id}/history" in text(form)


# --- disclosure levels (issue 14) -----------------------------------------------------------------

LEVELS = ("facts_level", "opinion_level", "risk_level")


def levels_of(agency_input) -> tuple[str, str, str]:
    return agency_input.facts_level, agency_input.opinion_level, agency_input.risk_level


def test_a_new_input_starts_at_the_writing_agencys_default_level(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    agencies = setting["agencies"]
    web.login("mental1")  # 정신건강복지센터: everything it writes is 민감정보 unless it says otherwise
    page = web.get(form_url(meeting.id, item_id))
    assert [selected_option(page, name) for name in LEVELS] == ["sensitive"] * 3
    assert "공개 범위" in text(page) and "민감정보까지 동의한 기관만 읽습니다." in text(page)
    save(web, setting, facts="우울 증상으로 치료 중단", opinion="치료 재연계 필요", risk_concerns="자해 우려")
    assert levels_of(stored(item_id, agencies["mental"].id)) == ("sensitive", "sensitive", "sensitive")

    web.login("centre1")  # 행정복지센터: 참석기관 공유
    assert [selected_option(web.get(form_url(meeting.id, item_id)), name) for name in LEVELS] == ["shared"] * 3
    save(web, setting, facts="월세 체납", opinion="주거급여 검토")
    assert levels_of(stored(item_id, agencies["centre"].id)) == ("shared", "shared", "shared")

    web.login("coord1")  # the coordinator writing for an agency starts at that agency's default
    url = form_url(meeting.id, setting["items"][1], agency=agencies["mental"].id)
    assert [selected_option(web.get(url), name) for name in LEVELS] == ["sensitive"] * 3
    assert [selected_option(web.get(form_url(meeting.id, setting["items"][1], agency=agencies["charity"].id)), name)
            for name in LEVELS] == ["shared"] * 3
    # The service alone (seed data, imports) applies the same default.
    saved = service_save(setting, 1, "mental", facts="상담 기록")
    assert levels_of(saved) == ("sensitive", "sensitive", "sensitive")


def test_chosen_levels_are_saved_shown_again_and_a_change_of_level_is_in_the_history(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    mental = setting["agencies"]["mental"]
    web.login("mental1")
    save(web, setting, facts="주민센터 방문 기록", opinion="정신건강 치료 재연계", risk_concerns="자해 우려",
         levels={"facts_level": "shared", "opinion_level": "sensitive", "risk_level": "internal"})
    assert levels_of(stored(item_id, mental.id)) == ("shared", "sensitive", "internal")
    page = web.get(form_url(meeting.id, item_id))
    assert [selected_option(page, name) for name in LEVELS] == ["shared", "sensitive", "internal"]

    # Only the level of 보유 정보 changes: that is a saved change like any other.
    save(web, setting, facts="주민센터 방문 기록", opinion="정신건강 치료 재연계", risk_concerns="자해 우려", version=1,
         levels={"facts_level": "sensitive", "opinion_level": "sensitive", "risk_level": "internal"})
    assert levels_of(stored(item_id, mental.id)) == ("sensitive", "sensitive", "internal")
    revisions = revisions_of(stored(item_id, mental.id))
    assert revisions[-1].changed == "facts_level"
    assert [json.loads(r.snapshot)["facts_level"] for r in revisions] == ["shared", "sensitive"]
    [_, second] = audit_actions("input.save")
    assert json.loads(second.details)["changed"] == ["facts_level"]

    history = text(web.get(f"/meetings/{meeting.id}/inputs/{item_id}/history"))
    newest, oldest = re.findall(r"<details[^>]*>(.*?)</details>", history, re.S)
    assert "바뀐 항목: 보유 정보 공개 범위" in " ".join(newest.split())
    assert re.search(r'보유 정보 <span class="tag level-sensitive"[^>]*>민감정보</span></dt><dd class="pre">주민센터 방문 기록',
                     newest)
    assert re.search(r'보유 정보 <span class="tag level-shared"[^>]*>참석기관 공유</span></dt><dd class="pre">주민센터 방문 기록',
                     oldest)
    assert re.search(r'위험 요인·우려 <span class="tag level-internal"[^>]*>시 내부</span></dt><dd class="pre">자해 우려', newest)


def test_a_level_posted_without_its_field_keeps_the_saved_one(web, setting):
    item_id = setting["items"][0]
    web.login("centre1")
    save(web, setting, facts="월세 체납", levels={"facts_level": "internal", "opinion_level": "shared",
                                                  "risk_level": "shared"})
    save(web, setting, facts="월세 4개월 체납", version=1)  # an older page without the selects
    assert levels_of(stored(item_id, setting["agencies"]["centre"].id)) == ("internal", "shared", "shared")


@pytest.mark.parametrize("name", LEVELS)
def test_an_unknown_level_is_refused_next_to_its_field_and_saves_nothing(web, setting, name):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("centre1")
    response = web.post(form_url(meeting.id, item_id), data=input_data(
        "월세 체납", "주거급여 검토", risk_concerns="단전 우려", levels={name: "public"}))
    assert response.status_code == 200
    assert field_errors(response, name) == ["공개 범위는 참석기관 공유, 민감정보, 시 내부 중에서 고르세요."]
    assert textarea(response, "facts") == "월세 체납"
    assert count(AgencyInput) == 0 and audit_actions("input.save") == []
    with pytest.raises(RuleError) as refused:
        service_save(setting, 0, "centre", facts="월세 체납", **{name: "public"})
    assert refused.value.field == name


def test_the_conflict_shows_the_saved_levels_and_keeps_the_chosen_ones(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("centre1")
    save(web, setting, facts="먼저 저장한 사실", levels={"facts_level": "internal", "opinion_level": "shared",
                                                         "risk_level": "shared"})
    response = web.post(form_url(meeting.id, item_id), data=input_data(
        "내가 고친 사실", version=0, levels={"facts_level": "sensitive", "opinion_level": "shared",
                                             "risk_level": "shared"}))
    assert response.status_code == 409
    conflict = text(response).split('class="conflict"')[1].split("</section>")[0]
    assert re.search(r'먼저 저장한 사실 <span class="tag level-internal"[^>]*>시 내부</span>', conflict)
    assert selected_option(response, "facts_level") == "sensitive"


# --- concurrent edits ------------------------------------------------------------------------------

@pytest.mark.parametrize("existing", [False, True], ids=["new-input", "existing-input"])
def test_second_of_two_concurrent_saves_is_refused_and_nothing_typed_is_lost(app, web, setting, existing):
    meeting, item_id = setting["meeting"], setting["items"][0]
    mental = setting["agencies"]["mental"]
    other = Web(app, app.test_client())
    if existing:
        service_save(setting, 0, "mental", submit=False, facts="처음 저장된 사실")
    web.login("mental1")
    other.login("mental2")
    base = "1" if existing else ""
    assert version_in(web.get(form_url(meeting.id, item_id))) == base
    assert version_in(other.get(form_url(meeting.id, item_id))) == base

    save(web, setting, facts="첫째 사람이 적은 사실", opinion="첫째 의견", version=base, submit=True)
    typed = input_data(f"둘째 사람이 적은 사실 {SCRIPT}\n둘째 줄", "둘째 의견", domains=["family"],
                       resources=[(False, "자원봉사 말벗", "주 1회")], coordinator_note="둘째의 메모", version=base)
    response = other.post(form_url(meeting.id, item_id), data=typed)

    assert response.status_code == 409
    page = text(response)
    assert "다른 사람이 그사이 이 의견을 저장했습니다" in form_errors(response)
    # Both versions are shown: what was saved meanwhile, and what the second person typed, in the form.
    conflict = page.split('<section class="conflict"')[1].split("</section>")[0]
    assert "첫째 사람이 적은 사실" in conflict and "첫째 의견" in conflict
    assert textarea(response, "facts") == f"둘째 사람이 적은 사실 {SCRIPT}\n둘째 줄"
    assert textarea(response, "opinion") == "둘째 의견"
    assert textarea(response, "coordinator_note") == "둘째의 메모"
    assert 'value="자원봉사 말벗"' in page and 'value="주 1회"' in page
    assert re.search(r'value="family"[^>]*checked|checked[^>]*value="family"', response.get_data(as_text=True))
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    # The database keeps the first save.
    kept = stored(item_id, mental.id)
    new_version = 2 if existing else 1
    assert (kept.facts, kept.version, kept.state) == ("첫째 사람이 적은 사실", new_version, "submitted")
    assert len(revisions_of(kept)) == new_version
    # The re-rendered form carries the new version: posting it again (after merging) succeeds.
    assert version_in(response) == str(new_version)
    merged = {**typed, "version": version_in(response), "opinion": "첫째 의견 + 둘째 의견"}
    response = other.post(form_url(meeting.id, item_id), data=merged)
    assert response.status_code == 302
    final = stored(item_id, mental.id)
    assert final.opinion == "첫째 의견 + 둘째 의견" and final.version == new_version + 1
    assert final.updated_by_id == setting["users"]["mental2"].id
    assert final.state == "submitted"  # a later 임시 저장 does not take the submission back


def test_a_tampered_version_is_refused_not_saved(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    service_save(setting, 0, "mental", submit=False, facts="저장된 사실")
    web.login("mental1")
    response = web.post(form_url(meeting.id, item_id), data=input_data("바꾼 사실", version="abc"))
    assert response.status_code == 409
    assert textarea(response, "facts") == "바꾼 사실"
    assert stored(item_id, setting["agencies"]["mental"].id).facts == "저장된 사실"


# --- the coordinator's matrix ----------------------------------------------------------------------

def test_matrix_shows_each_agency_and_case_with_state_and_counts(web, setting):
    today = today_local()
    meeting, (first, second) = setting["meeting"], setting["items"]
    a = {k: v.id for k, v in setting["agencies"].items()}
    web.login("mental1")
    save(web, setting, 0, facts="정신건강 사실", submit=True)
    save(web, setting, 1, facts="정신건강 초안")
    set_deadline(setting, "charity", today - timedelta(days=1))
    web.login("charity1")
    save(web, setting, 0, facts="후원 가능", submit=True)  # after the deadline

    web.login("coord1")
    response = web.get(f"/meetings/{meeting.id}/inputs")
    assert response.status_code == 200
    page = text(response)
    assert matrix_cells(page) == {
        (first, a["mental"]): ("submitted", False), (second, a["mental"]): ("draft", False),
        (first, a["centre"]): ("missing", False), (second, a["centre"]): ("missing", False),
        (first, a["charity"]): ("submitted", True), (second, a["charity"]): ("overdue", False),
    }
    assert "제출 2 · 작성 중 1 · 미제출 2 · 기한 경과 1" in page
    labels = dict(re.findall(r'<td class="state-(\w+)"><a [^>]*>([^<]*)</a>', page))
    assert labels == {"submitted": "제출", "draft": "작성 중", "missing": "미제출", "overdue": "기한 경과"}
    assert "김○○" in page and "김민수" not in page and "school" not in page and "동두천초등학교" not in page
    # A draft left past the deadline is overdue too.
    set_deadline(setting, "mental", today - timedelta(days=1))
    cells = matrix_cells(text(web.get(f"/meetings/{meeting.id}/inputs")))
    assert cells[second, a["mental"]] == ("overdue", False)
    assert cells[first, a["mental"]] == ("submitted", False)  # submitted in time stays so


def test_an_edit_after_the_deadline_is_marked_late(web, setting):
    today = today_local()
    meeting, item_id = setting["meeting"], setting["items"][0]
    mental = setting["agencies"]["mental"]
    web.login("mental1")
    save(web, setting, facts="기한 안 제출", submit=True)
    assert not stored(item_id, mental.id).is_late
    set_deadline(setting, "mental", today - timedelta(days=2))

    form = text(web.get(form_url(meeting.id, item_id)))
    assert "기한이 지났습니다. 지금 저장하면 기한 후 수정으로 표시됩니다." in form
    save(web, setting, facts="기한 후 고친 사실", submit=True, version=1)
    late = stored(item_id, mental.id)
    assert late.is_late and late.version == 2
    assert "기한 후 수정" in text(web.get(f"/meetings/{meeting.id}/inputs"))
    assert json.loads(audit_actions("input.submit")[-1].details)["late"] is True

    web.login("coord1")
    cells = matrix_cells(text(web.get(f"/meetings/{meeting.id}/inputs")))
    assert cells[item_id, mental.id] == ("submitted", True)
    assert "기한 후 제출" in packet_page(web, meeting.id)


def test_the_meeting_stays_editable_until_the_minutes_are_finalised(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    set_status(meeting.id, "review")
    web.login("mental1")
    save(web, setting, facts="회의 후 보완", submit=True)
    assert stored(item_id, setting["agencies"]["mental"].id).state == "submitted"


# --- reminders and notifications -------------------------------------------------------------------

@pytest.fixture
def no_smtp(monkeypatch):
    def refuse(*args, **kwargs):
        pytest.fail("an SMTP connection was attempted without MAIL_SERVER")

    monkeypatch.setattr(smtplib, "SMTP", refuse)


def test_reminder_notifies_practitioners_of_agencies_that_have_not_submitted(app, web, setting, make_user,
                                                                            no_smtp):
    meeting = setting["meeting"]
    assert not app.config.get("MAIL_SERVER")
    users = setting["users"]
    retired = make_user("centre_old", Role.PRACTITIONER, agency=setting["agencies"]["centre"])
    retired.is_active_account = False
    db.session.commit()
    for index in (0, 1):
        service_save(setting, index, "mental", by=users["mental"], facts="제출함")
    service_save(setting, 0, "centre", by=users["centre"], facts="하나만 제출")
    service_save(setting, 1, "charity", by=users["charity"], submit=False, facts="초안")
    before = count(Notification, Notification.kind == "input.reminder")
    assert before == 0

    web.login("coord1")
    response = web.post(f"/meetings/{meeting.id}/inputs/remind", follow_redirects=True)
    assert ("success", "미제출 기관 실무자 2명에게 알림을 보냈습니다.") in flashes(response)
    reminded = db.session.execute(select(User.username).join(Notification, Notification.user_id == User.id)
                                  .where(Notification.kind == "input.reminder")).scalars().all()
    assert sorted(reminded) == ["centre1", "charity1"]
    note = db.session.execute(select(Notification).where(Notification.kind == "input.reminder")).scalars().first()
    assert note.link == f"/meetings/{meeting.id}/inputs" and note.read_at is None
    assert meeting.title in note.message and "김민수" not in note.message and has_hangul(note.message)
    assert json.loads(audit_actions("input.remind")[-1].details)["users"] == 2

    # The practitioner sees it: a count in the top bar, the list, and marking it read.
    web.login("centre1")
    page = web.get("/notifications")
    unread = count(Notification, Notification.user_id == users["centre"].id, Notification.read_at.is_(None))
    assert unread == 2  # the invitation's information request and the reminder
    assert unread_badge(page) == 2
    # The link goes through /notifications/<id>, which marks it read and leads to the meeting's input page.
    assert note.message in text(page)
    centre_note = db.session.execute(select(Notification).where(
        Notification.kind == "input.reminder", Notification.user_id == users["centre"].id)).scalar_one()
    assert f'href="/notifications/{centre_note.id}"' in text(page)
    assert text(page).count('class="unread"') == 2
    response = web.post("/notifications", follow_redirects=True)
    assert unread_badge(response) == 0 and 'class="unread"' not in text(response)
    assert count(Notification, Notification.user_id == users["centre"].id, Notification.read_at.is_(None)) == 0
    # Only the user's own notifications were marked read.
    assert count(Notification, Notification.user_id == users["charity"].id, Notification.read_at.is_(None)) == 2
    # … and nobody else's are shown to them.
    web.login("mental1")
    assert note.message not in text(web.get("/notifications"))


def test_no_reminder_when_every_agency_has_submitted(web, setting, no_smtp):
    for index in (0, 1):
        for key in ("mental", "centre", "charity"):
            service_save(setting, index, key, facts="제출")
    web.login("coord1")
    response = web.post(f"/meetings/{setting['meeting'].id}/inputs/remind", follow_redirects=True)
    assert ("success", "미제출 기관 실무자 0명에게 알림을 보냈습니다.") in flashes(response)
    assert count(Notification, Notification.kind == "input.reminder") == 0


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port=25, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        FakeSMTP.sent.append((self.host, self.port, message))


def test_reminder_is_also_mailed_when_mail_server_is_configured(app, web, setting, monkeypatch):
    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setitem(app.config, "MAIL_PORT", 2525)
    for key in ("mental", "centre"):
        for index in (0, 1):
            service_save(setting, index, key, facts="제출")
    web.login("coord1")
    web.post(f"/meetings/{setting['meeting'].id}/inputs/remind")
    assert [(host, port, m["To"]) for host, port, m in FakeSMTP.sent] == [
        ("smtp.example.org", 2525, "charity1@example.org")]
    message = FakeSMTP.sent[0][2]
    assert setting["meeting"].title in message["Subject"]
    body = message.get_content()
    assert "김민수" not in body and "이영희" not in body and setting["cases"][0].case_number not in body
    assert count(Notification, Notification.kind == "input.reminder") == 1


def test_a_failing_mail_server_does_not_lose_the_in_app_reminder(app, web, setting, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP here")

    monkeypatch.setattr(smtplib, "SMTP", unreachable)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    web.login("coord1")
    response = web.post(f"/meetings/{setting['meeting'].id}/inputs/remind", follow_redirects=True)
    assert ("success", "미제출 기관 실무자 4명에게 알림을 보냈습니다.") in flashes(response)
    assert count(Notification, Notification.kind == "input.reminder") == 4


# --- who may do what -------------------------------------------------------------------------------

WHO = {"own": "mental1", "other": "centre1", "uninvited": "school1", "chair": "chair1", "coordinator": "coord1",
       "admin": "admin1", "anonymous": None}
#: Expected status per (who, action); every URL names 정신건강복지센터 as ?agency=.
EXPECTED = {
    "own": {"matrix": 200, "form_get": 200, "form_post": 302, "history": 200, "remind": 403},
    "other": {"matrix": 200, "form_get": 200, "form_post": 302, "history": 200, "remind": 403},
    "uninvited": {"matrix": 404, "form_get": 404, "form_post": 404, "history": 404, "remind": 404},
    "chair": {"matrix": 404, "form_get": 404, "form_post": 404, "history": 404, "remind": 403},
    "coordinator": {"matrix": 200, "form_get": 200, "form_post": 302, "history": 200, "remind": 302},
    "admin": {"matrix": 403, "form_get": 403, "form_post": 403, "history": 403, "remind": 403},  # no case data
    "anonymous": {"matrix": 302, "form_get": 302, "form_post": 302, "history": 302, "remind": 302},
}
#: Whose input a permitted save writes: the ?agency= parameter is ignored for practitioners.
WRITES_FOR = {"own": "mental", "other": "centre", "coordinator": "mental"}


@pytest.mark.parametrize("action", ["matrix", "form_get", "form_post", "history", "remind"])
@pytest.mark.parametrize("who", list(WHO))
def test_permissions(web, setting, who, action, no_smtp):
    meeting, item_id = setting["meeting"], setting["items"][0]
    agencies = setting["agencies"]
    service_save(setting, 0, "mental", by=setting["users"]["mental"], facts="정신건강센터 원래 사실",
                 coordinator_note="센터 메모")
    if WHO[who]:
        web.login(WHO[who])
    else:
        web.post("/logout")
    own_form = form_url(meeting.id, item_id, agencies["mental"].id)
    urls = {"matrix": f"/meetings/{meeting.id}/inputs", "form_get": own_form, "form_post": own_form,
            "history": f"/meetings/{meeting.id}/inputs/{item_id}/history?agency={agencies['mental'].id}",
            "remind": f"/meetings/{meeting.id}/inputs/remind"}
    if action == "form_post":
        version = 1 if WRITES_FOR.get(who) == "mental" else ""
        response = web.post(urls[action], data=input_data(f"{who}이 적은 사실", version=version))
    elif action == "remind":
        response = web.post(urls[action])
    else:
        response = web.get(urls[action])

    assert response.status_code == EXPECTED[who][action], text(response)[:500]
    if who == "anonymous":
        assert "/login" in response.headers["Location"]
    page = text(response)
    written = {key: stored(item_id, agencies[key].id) for key in ("mental", "centre", "charity", "school")}
    if action == "form_post":
        target = WRITES_FOR.get(who)
        for key, row in written.items():
            if key == target:
                assert row.facts == f"{who}이 적은 사실"
            elif key == "mental":
                assert row.facts == "정신건강센터 원래 사실" and row.version == 1
            else:
                assert row is None
    else:
        assert written["mental"].version == 1 and written["centre"] is None
    if action == "remind":
        reminded = 4 if who == "coordinator" else 0
        assert count(Notification, Notification.kind == "input.reminder") == reminded
    if response.status_code != 200:
        assert "정신건강센터 원래 사실" not in page and "센터 메모" not in page
        return
    if action == "matrix":
        is_staff = who == "coordinator"
        assert ("/inputs/remind" in page) is is_staff  # practitioners get their own list, not the matrix
        assert ("천사운동본부" in page) is is_staff
    if action in ("form_get", "history"):
        shown = "정신건강복지센터" if WRITES_FOR[who] == "mental" else "중앙동 행정복지센터"
        assert f"· {shown}</h1>" in page
        # Another agency's text, and its coordinator note, never reach a practitioner of another agency.
        assert ("정신건강센터 원래 사실" in page) is (WRITES_FOR[who] == "mental")
        assert "센터 메모" not in page or WRITES_FOR[who] == "mental"


def test_staff_write_only_for_an_invited_agency_named_in_the_url(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("coord1")
    assert web.get(form_url(meeting.id, item_id)).status_code == 404  # which agency? none given
    assert web.get(form_url(meeting.id, item_id, setting["agencies"]["school"].id)).status_code == 404
    response = web.post(form_url(meeting.id, item_id, setting["agencies"]["school"].id), data=input_data("사실"))
    assert response.status_code == 404
    assert count(AgencyInput) == 0


def test_practitioner_cannot_write_on_a_case_outside_consent(web, setting, make_case, add_item, coordinator):
    """A case whose consent was withdrawn after it was put on the agenda: gone for practitioners, even by URL."""
    today = today_local()
    meeting = setting["meeting"]
    invited = [setting["agencies"][k] for k in ("mental", "centre", "charity")]
    third = make_case("박철수", consent=invited)
    item_id = add_item(meeting.id, third)
    household = load_case_file(third.id)
    case_services.withdraw_consent(household.consents[0], by=coordinator, withdrawn_on=today)
    db.session.commit()

    web.login("mental1")
    assert web.get(form_url(meeting.id, item_id)).status_code == 404
    assert web.get(f"/meetings/{meeting.id}/inputs/{item_id}/history").status_code == 404
    # Posting answers as for an item that is not on the agenda: the text comes back, nothing is saved.
    response = web.post(form_url(meeting.id, item_id), data=input_data("동의 밖 사례에 적은 사실"))
    missing = web.post(form_url(meeting.id, 999_999), data=input_data("동의 밖 사례에 적은 사실"))
    assert response.status_code == missing.status_code == 409
    tokenless = [re.sub(r'name="csrf_token" value="[^"]*"', "", text(r)) for r in (response, missing)]
    assert tokenless[0] == tokenless[1]  # (a token is signed with the time, to the second)
    assert third.case_number not in text(response)
    assert count(AgencyInput) == 0
    listing = text(web.get(f"/meetings/{meeting.id}/inputs"))
    assert third.case_number not in listing and "김○○" in listing
    # The coordinator still reaches it.
    web.login("coord1")
    assert web.get(form_url(meeting.id, item_id, setting["agencies"]["mental"].id)).status_code == 200


def test_an_item_of_another_meeting_cannot_be_written_through_this_one(web, setting, make_meeting, make_case,
                                                                        add_item):
    invited = [setting["agencies"][k] for k in ("mental", "centre", "charity")]
    elsewhere = make_meeting(invited[:1], number=99)
    foreign_item = add_item(elsewhere.id, make_case("최영수", consent=invited))
    web.login("mental1")
    assert web.get(form_url(setting["meeting"].id, foreign_item)).status_code == 404
    response = web.post(form_url(setting["meeting"].id, foreign_item), data=input_data("엉뚱한 곳"))
    assert response.status_code in (404, 409)
    assert count(AgencyInput) == 0


# --- escaping: page and Word -----------------------------------------------------------------------

def test_html_and_script_are_shown_as_text_on_pages_and_in_the_word_file(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    agencies = setting["agencies"]
    facts = f"{SCRIPT}\n둘째 줄"
    web.login("mental1")
    shared = {name: "shared" for name in ("facts_level", "opinion_level", "risk_level")}  # other agencies read it
    save(web, setting, facts=facts, opinion=HOVER, risk_concerns="<img src=x onerror=alert(3)>",
         withheld="<i>상담</i>", resources=[(False, "<u>후원</u>", "<a href='javascript:x'>링크</a>")], submit=True,
         levels=shared)

    def assert_escaped(response):
        raw = response.get_data(as_text=True)
        assert "<script>alert(1)" not in raw and "<b onmouseover" not in raw and "<img src=x" not in raw
        assert "<u>후원" not in raw and "<i>상담" not in raw
        return raw

    raw = assert_escaped(web.get(form_url(meeting.id, item_id)))
    assert str(escape(SCRIPT)) in raw
    raw = assert_escaped(web.get(f"/meetings/{meeting.id}/inputs/{item_id}/history"))
    assert str(escape(facts)) in raw  # the line break is kept (shown with white-space: pre-wrap)

    pledge(meeting.id, setting["users"]["centre"])
    web.login("centre1")
    response = web.get(f"/meetings/{meeting.id}/packet")
    raw = assert_escaped(response)
    assert f'<span class="pre">{escape(facts)}</span>' in raw
    assert str(escape(HOVER)) in raw and str(escape("<u>후원</u>")) in raw

    web.login("coord1")
    assert_escaped(web.get(f"/meetings/{meeting.id}/packet"))
    assert_escaped(web.get(f"/meetings/{meeting.id}/inputs"))
    content = download(web, meeting.id, agency=agencies["centre"].id)
    document = docx.Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    assert f"보유 정보: {facts}" in paragraphs
    assert f"기관 의견: {HOVER}" in paragraphs
    assert "위험 요인·우려: <img src=x onerror=alert(3)>" in paragraphs
    assert "제공 가능 자원: 민간 · <u>후원</u>: <a href='javascript:x'>링크</a>" in paragraphs
    xml = docx_parts(content)["word/document.xml"]
    assert "<script" not in xml and "<b onmouseover" not in xml and "<img" not in xml
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml


# --- inputs in the packets -------------------------------------------------------------------------

def test_packets_show_only_submitted_inputs_and_never_coordinator_notes_to_agencies(web, setting):
    meeting = setting["meeting"]
    agencies, users = setting["agencies"], setting["users"]
    # Shared by its writer with every agency the consent covers (the mental-health centre's default is 민감정보).
    service_save(setting, 0, "mental", by=users["mental"], facts="정신건강-제출사실", opinion="정신건강-의견",
                 domains=("health", "safety"), resources=((True, "정신건강 상담", "주 1회"),),
                 coordinator_note="정신건강-담당자만", facts_level="shared", opinion_level="shared")
    service_save(setting, 0, "centre", by=users["centre"], submit=False, facts="센터-초안사실",
                 coordinator_note="센터-초안메모")
    service_save(setting, 0, "charity", by=users["charity"], facts="후원-제출사실", coordinator_note="후원-담당자만")
    for key in ("mental", "centre", "charity"):
        pledge(meeting.id, users[key])

    def agency_view(username):
        web.login(username)
        page = packet_page(web, meeting.id)
        return page, "\n".join(p.text for p in docx.Document(io.BytesIO(download(web, meeting.id))).paragraphs)

    mental_page, mental_file = agency_view("mental1")
    for shown in (mental_page, mental_file):
        assert "후원-제출사실" in shown  # another agency's submitted input
        assert "정신건강-제출사실" not in shown  # its own is not repeated under "다른 기관 의견"
        assert "센터-초안사실" not in shown  # never a draft
        assert "담당자만" not in shown and "초안메모" not in shown
    centre_page, centre_file = agency_view("centre1")
    for shown in (centre_page, centre_file):
        assert "정신건강-제출사실" in shown and "정신건강-의견" in shown and "후원-제출사실" in shown
        assert "담당자만" not in shown and "센터-초안" not in shown
    assert "공공 · 정신건강 상담: 주 1회" in centre_page and "건강, 안전" in centre_page
    charity_page, charity_file = agency_view("charity1")  # need-to-know without "inputs"
    for shown in (charity_page, charity_file):
        assert "정신건강-제출사실" not in shown and "후원-제출사실" not in shown and "담당자만" not in shown
    assert "<h3>기관 의견</h3>" not in charity_page and "제출된 다른 기관 의견" not in charity_file

    web.login("coord1")
    # The coordinator looking at an agency's packet sees what that agency sees.
    as_centre = packet_page(web, meeting.id, agency=agencies["centre"].id)
    assert "정신건강-제출사실" in as_centre and "담당자만" not in as_centre
    assert "담당자만" not in "\n".join(p.text for p in docx.Document(io.BytesIO(
        download(web, meeting.id, agency=agencies["centre"].id))).paragraphs)
    # The full view: every submitted input grouped by case, with the coordinator notes, and no drafts.
    full = packet_page(web, meeting.id)
    parts = case_parts(full)
    assert len(parts) == 2
    assert "정신건강-제출사실" in parts[0] and "후원-제출사실" in parts[0]
    assert "정신건강-담당자만" in parts[0] and "후원-담당자만" in parts[0]
    assert parts[0].index("정신건강복지센터") > parts[0].index("기관 의견")
    assert "센터-초안" not in full
    assert "제출된 다른 기관 의견이 아직 없습니다." in parts[1] and "제출사실" not in parts[1]
    full_file = "\n".join(p.text for p in docx.Document(io.BytesIO(download(web, meeting.id))).paragraphs)
    assert "담당자에게만: 정신건강-담당자만" in full_file and "센터-초안" not in full_file


# --- bad input -------------------------------------------------------------------------------------

def test_an_empty_submission_is_refused_with_a_korean_message(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("mental1")
    response = web.post(form_url(meeting.id, item_id),
                        data=input_data("   ", "\r\n", domains=["safety"], submit=True))
    assert response.status_code == 200
    assert field_errors(response, "facts") == ["보유 정보나 기관 의견 중 하나는 적어야 합니다."]
    assert re.search(r'value="safety"[^>]*checked|checked[^>]*value="safety"', response.get_data(as_text=True))
    assert count(AgencyInput) == 0
    from conference.models import AuditEvent

    views = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "input.view")).scalars().all()
    assert len(views) == 1 and views[0].actor_name == "mental1"  # the form shown again was a view, logged


def test_text_over_the_limit_is_refused_and_kept_in_the_form(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("mental1")
    long_text = "가" * 4001
    response = web.post(form_url(meeting.id, item_id), data=input_data(
        long_text, "의견은 짧게", coordinator_note="나" * 4001, resources=[(True, "가" * 101, "")], submit=True))
    assert response.status_code == 200
    assert field_errors(response, "facts") == ["4000자 이하로 적으세요."]
    assert field_errors(response, "coordinator_note") == ["4000자 이하로 적으세요."]
    assert field_errors(response, "resources-0-kind") == ["100자 이하로 적으세요."]
    assert textarea(response, "facts") == long_text
    assert textarea(response, "opinion") == "의견은 짧게"
    assert count(AgencyInput) == 0
    # Exactly 4000 is fine.
    save(web, setting, facts="가" * 4000, opinion="의견은 짧게")
    assert len(stored(item_id, setting["agencies"]["mental"].id).facts) == 4000


def test_unknown_domain_is_refused_in_korean(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("mental1")
    response = web.post(form_url(meeting.id, item_id), data=input_data("사실", domains=["safety", "magic"]))
    assert response.status_code == 200
    errors = field_errors(response, "domains")
    assert errors and all(has_hangul(e) for e in errors), errors
    assert textarea(response, "facts") == "사실"
    assert count(AgencyInput) == 0


def test_a_resource_note_without_a_kind_is_not_dropped_silently(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("mental1")
    response = web.post(form_url(meeting.id, item_id),
                        data=input_data("사실", resources=[(True, "", "월 2회 방문 상담 가능")]))
    assert response.status_code == 200
    assert field_errors(response, "resources-0-kind") == ["자원 종류는 1~100자, 메모는 1000자 이하입니다."]
    assert 'value="월 2회 방문 상담 가능"' in text(response)
    assert count(AgencyInput) == 0


@pytest.mark.parametrize("with_draft", [False, True], ids=["no-draft", "draft-saved"])
def test_posting_for_an_agenda_item_that_was_removed_keeps_the_text(web, setting, coordinator, with_draft):
    meeting, item_id = setting["meeting"], setting["items"][0]
    web.login("mental1")
    if with_draft:
        save(web, setting, facts="먼저 저장한 초안")
    assert web.get(form_url(meeting.id, item_id)).status_code == 200
    loaded = load(meeting.id)
    meeting_services.remove_agenda_item(next(i for i in loaded.agenda_items if i.id == item_id), by=coordinator,
                                        confirmed=True)
    db.session.commit()

    response = web.post(form_url(meeting.id, item_id), data=input_data(
        "안건에서 빠진 뒤 적은 사실\n둘째 줄", "의견 " + SCRIPT, domains=["safety"],
        resources=[(False, "후원물품", "쌀 10kg")], version=1 if with_draft else "", submit=True))
    assert response.status_code == 409
    assert "이 사례는 회의 안건에서 빠졌거나 볼 수 없게 되었습니다" in form_errors(response)
    assert has_hangul(form_errors(response))
    assert textarea(response, "facts") == "안건에서 빠진 뒤 적은 사실\n둘째 줄"
    assert textarea(response, "opinion") == "의견 " + SCRIPT
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert 'value="쌀 10kg"' in text(response)
    assert count(AgencyInput) == 0  # nothing saved (and a removed item takes its inputs along)
    assert web.get(form_url(meeting.id, item_id)).status_code == 404


def test_a_finalised_meeting_refuses_edits_and_keeps_the_text(web, setting):
    meeting, item_id = setting["meeting"], setting["items"][0]
    service_save(setting, 0, "mental", by=setting["users"]["mental"], facts="확정 전 사실")
    set_status(meeting.id, "finalised")
    web.login("mental1")
    response = web.post(form_url(meeting.id, item_id), data=input_data(
        "확정 후 고치려는 사실", "확정 후 의견", version=1, submit=True))
    assert response.status_code in (200, 409)
    assert "회의록이 확정되어 더는 의견을 고칠 수 없습니다." in form_errors(response)
    assert textarea(response, "facts") == "확정 후 고치려는 사실"
    assert textarea(response, "opinion") == "확정 후 의견"
    kept = stored(item_id, setting["agencies"]["mental"].id)
    assert (kept.facts, kept.version) == ("확정 전 사실", 1)


# --- queries ---------------------------------------------------------------------------------------

def _queries(user_web, url) -> int:
    with counting_queries() as statements:
        response = user_web.get(url)
    assert response.status_code == 200
    return len(statements)


def test_matrix_and_packet_queries_do_not_grow_with_the_number_of_inputs(web, setting, make_case, add_item):
    meeting = setting["meeting"]
    users = setting["users"]
    pledge(meeting.id, users["centre"])
    service_save(setting, 0, "mental", by=users["mental"], facts="하나", resources=((True, "상담", ""),))
    coordinator_web = web
    coordinator_web.login("coord1")
    current_app.config["PAGE_CACHE_SIZE"] = 0  # each view renders its page (a kept packet reads nothing of it)
    urls = [f"/meetings/{meeting.id}/inputs", f"/meetings/{meeting.id}/packet",
            f"/meetings/{meeting.id}/packet?agency={setting['agencies']['centre'].id}"]
    for url in urls:
        coordinator_web.get(url)  # warm up
    few = {url: _queries(coordinator_web, url) for url in urls}

    invited = [setting["agencies"][k] for k in ("mental", "centre", "charity")]
    for n in range(3):
        setting["items"].append(add_item(meeting.id, make_case(f"정추가{n}", consent=invited, children=n % 2)))
    for index in range(len(setting["items"])):
        for key in ("mental", "centre", "charity"):
            if (index, key) != (0, "mental"):
                service_save(setting, index, key, by=users[key], submit=index % 2 == 0, facts=f"{key}-{index}",
                             resources=((True, "상담", "주 1회"), (False, "후원", "")))
    assert count(AgencyInput) == 15
    many = {url: _queries(coordinator_web, url) for url in urls}
    assert many == few
