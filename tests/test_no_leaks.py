"""No leaks through lists, search, counts, exports, notifications or error pages.

A practitioner may know of a case only while it is on the agenda of a meeting their agency is invited to and
consent covers the agency (permissions.visible_households); a chair only of the meetings they chair. Whatever
else exists must not show through a search result, a count, a figure, a notification or an error page that
differs from the one for something that does not exist.
"""
import io
import re
from urllib.parse import quote

import pytest
from factories import signed_in, text
from openpyxl import load_workbook
from sqlalchemy import select

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.core.formatting import today_local
from conference.extensions import db
from conference.meetings import packets
from conference.meetings import services as meeting_services
from conference.minutes import services as minutes_services
from conference.models import Agency, Meeting, MeetingStatus, Member, User
from conference.shared.rules import RuleError

MISSING = 999_999
PARTNERS = ["정신건강복지센터", "드림스타트", "중앙동 행정복지센터", "천사운동본부"]


@pytest.fixture
def leaky(world):
    """The world plus 오세훈's case on the upcoming agenda whose consent was withdrawn afterwards: still on the
    agenda, but no invited agency may open it any more."""
    head = db.session.execute(select(Member).where(Member.name == "오세훈")).scalar_one()
    household = load_case_file(head.household_id)
    agency_ids = list(db.session.execute(select(Agency.id).where(Agency.name.in_(PARTNERS))).scalars())
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    consent = case_services.record_consent(household, by=coordinator, consented_on=today_local(), agency_ids=agency_ids,
                                           covers_sensitive=False)
    meeting = packets.load_meeting(world.ids["upcoming"])
    item = meeting_services.add_agenda_item(meeting, by=coordinator, household=household, key_question="",
                                            presenting_agency_id=None, minutes_allotted=15)
    case_services.withdraw_consent(consent, by=coordinator, withdrawn_on=today_local())
    db.session.commit()
    world.ids.update(withdrawn_case=household.id, withdrawn_item=item.id)
    return world


def without(page: str, *urls: str) -> str:
    """The page with the requested address taken out, wherever it is echoed (e.g. the language form's next=),
    and without the CSRF tokens (signed with the time, to the second)."""
    for url in urls:
        for form in (url, quote(url, safe="/?=&")):
            page = page.replace(form, "<URL>")
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)


# --- search and the case list --------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["mh", "police", "chair", "chair2"])
def test_searching_the_case_list_tells_others_nothing(app, leaky, username):
    client = signed_in(app, username)
    hidden = leaky.case_numbers["최은정"]
    answers = {q: client.get(f"/cases?q={q}") for q in ("최은정", hidden, "없는사람")}
    for q, response in answers.items():
        assert response.status_code == 403, q
        page = without(text(response), f"/cases?q={q}")  # what the user typed comes back in the language form
        assert hidden not in page and "최○○" not in page and not re.search(r"\d+건", page), q
    pages = {without(text(r), f"/cases?q={q}") for q, r in answers.items()}
    assert len(pages) == 1, "the refusal differs with what was searched for"
    # The agenda's case search belongs to staff too, and says nothing either.
    agenda = [client.get(f"/meetings/{leaky.ids['upcoming']}/agenda/new?q={q}") for q in ("최은정", "없는사람")]
    assert agenda[0].status_code == agenda[1].status_code in (403, 404)
    assert without(text(agenda[0]), "최은정") == without(text(agenda[1]), "없는사람")


def test_staff_find_the_case_the_others_cannot(app, leaky):
    page = text(signed_in(app, "coordinator").get("/cases?q=최은정"))
    assert leaky.case_numbers["최은정"] in page and "(1건)" in page


# --- notifications, home and what-to-do counts ----------------------------------------------------------

def test_home_and_notifications_mention_no_case_out_of_reach(app, leaky):
    coordinator = signed_in(app, "coordinator")
    assert coordinator.post(f"/meetings/{leaky.ids['upcoming']}/inputs/remind").status_code == 302
    out_of_reach = [leaky.case_numbers[name] for name in ("최은정", "오세훈")] + ["최은정", "오세훈"]

    mh = signed_in(app, "mh")
    for url in ("/home", "/notifications", "/actions", "/meetings"):
        page = text(mh.get(url))
        assert not [secret for secret in out_of_reach if secret in page], url
    # The count of cases waiting for the agency's input counts only those its input page lists: 3 cases, of which
    # 김민수's input is in already; not the withdrawn one.
    mine = text(mh.get(f"/meetings/{leaky.ids['upcoming']}/inputs"))
    assert set(re.findall(r"2021-\d{4}", mine)) == {leaky.case_numbers[name] for name in ("김민수", "이영희", "박철호")}
    todo = re.search(r"의견을 아직 제출하지 않은 사례 \(기한 전\)</a>: <strong>(\d+)</strong>", text(mh.get("/notifications")))
    assert todo is not None and int(todo[1]) == 2

    police = signed_in(app, "police")
    titles = [m.title for m in db.session.execute(select(Meeting)).scalars()]
    for url in ("/home", "/notifications", "/actions", "/meetings"):
        page = text(police.get(url))
        assert not re.search(r"2021-\d{4}", page), url
        assert not [title for title in titles if title in page], url


@pytest.mark.parametrize("username", ["chair", "chair2"])
def test_a_chair_is_told_only_of_minutes_they_approve(app, leaky, username):
    """The unchaired meeting's minutes wait for approval, but no chair may open that meeting: ``chair`` is told of
    last week's demo meeting alone, ``chair2`` of nothing."""
    page = text(signed_in(app, username).get("/notifications"))
    waiting = re.search(r"결재를 기다리는 회의록</a>: <strong>(\d+)</strong>", page)
    assert (waiting and int(waiting[1])) == {"chair": 1, "chair2": None}[username]


def test_minutes_without_a_chair_cannot_be_sent_for_review(app, leaky):
    meeting = minutes_services.load_for_minutes(leaky.ids["unchaired"])
    meeting.status = MeetingStatus.MINUTES.value
    coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
    with pytest.raises(RuleError, match="주재"):
        minutes_services.request_review(meeting, by=coordinator, deadline=today_local(), today=today_local())
    db.session.rollback()


# --- figures and exports --------------------------------------------------------------------------------

def report_numbers(response) -> list[int]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, int)]


def test_an_uninvited_agency_s_figures_count_nothing(app, leaky):
    police = report_numbers(signed_in(app, "police").get("/dashboard/report.xlsx?year=2021"))
    assert police and set(police) == {0}
    mh = report_numbers(signed_in(app, "mh").get("/dashboard/report.xlsx?year=2021"))
    assert sum(mh) > 0  # the same report counts what 정신건강복지센터 may see


# --- error pages ----------------------------------------------------------------------------------------

#: user, method, address of something that exists but is out of their reach (the same with MISSING is not there),
#: form data
OUT_OF_REACH = [
    ("mh", "GET", "/cases/{hidden_case}", None),
    ("mh", "GET", "/cases/{withdrawn_case}", None),
    ("mh", "GET", "/actions/{other_action}", None),
    ("mh", "POST", "/actions/{other_action}", {"step": "progress"}),
    ("mh", "GET", "/meetings/{upcoming}/inputs/{withdrawn_item}", None),
    ("mh", "POST", "/meetings/{upcoming}/inputs/{withdrawn_item}", {"facts": "적어 둔 사실"}),
    ("mh", "GET", "/meetings/{upcoming}/inputs/{withdrawn_item}/history", None),
    ("police", "GET", "/cases/{case}", None),
    ("police", "GET", "/meetings/{upcoming}", None),
    ("police", "GET", "/meetings/{upcoming}/packet", None),
    ("police", "POST", "/meetings/{upcoming}/packet.docx", {"purpose": "회의 준비"}),
    ("police", "GET", "/meetings/{upcoming}/invitation.ics", None),
    ("police", "GET", "/meetings/{upcoming}/inputs", None),
    ("police", "GET", "/meetings/{past}/minutes", None),
    ("police", "POST", "/meetings/{past}/minutes.docx", {"purpose": "보관"}),
    ("police", "GET", "/actions/{own_action}", None),
    ("chair2", "GET", "/cases/{case}", None),
    ("chair2", "GET", "/meetings/{past}/minutes", None),
    ("chair2", "POST", "/meetings/{unchaired}/minutes/approve", {}),
]


def missing_twin(template: str) -> str:
    """The same address with the id of the object out of reach replaced by one that does not exist."""
    last = template.rfind("{")
    return template[:last] + str(MISSING) + template[template.index("}", last) + 1:]


@pytest.mark.parametrize("username", sorted({row[0] for row in OUT_OF_REACH}))
def test_an_error_for_something_out_of_reach_is_the_one_for_nothing(app, leaky, username):
    client = signed_in(app, username)
    differ = []
    for _, method, template, data in (row for row in OUT_OF_REACH if row[0] == username):
        real, fake = leaky.url(template), leaky.url(missing_twin(template))
        there = client.open(real, method=method, data=data)
        not_there = client.open(fake, method=method, data=data)
        expected = 409 if "/inputs/" in template and method == "POST" else 404  # a POST keeps the text typed
        if not (there.status_code == not_there.status_code == expected
                and without(text(there), real) == without(text(not_there), fake)):
            differ.append(f"{method} {real} ({there.status_code}) vs {fake} ({not_there.status_code})")
    assert not differ, "out of reach is not the same as not there:\n" + "\n".join(differ)
