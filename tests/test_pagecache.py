"""Kept pages (conference/shared/pagecache.py): served again only while nothing they show changed, to the same login.

Every other test runs with the cache on too, so a page kept too long would fail them as well; these tests
pin the rules: what a kept page saves, what makes it stale, who never shares it, and that the permission
check and the access record still happen on every view.
"""
import re
from datetime import UTC, datetime

import pytest
import time_machine
from conftest import PASSWORD
from factories import Web, audit_actions, counting_queries, login
from factories_world import seed_demo
from flask import current_app
from sqlalchemy import delete, select, update

from conference.cases import services as case_services
from conference.cases.queries import load_case_file
from conference.extensions import db
from conference.models import AgendaItem, CaseRecord, Invitation, LoginThrottle, Meeting, Member, Role, User
from conference.shared import freshness


def view(web, url) -> tuple[str, int]:
    """The page's text (without its per-session CSRF tokens) and the statements its view ran."""
    with counting_queries() as statements:
        response = web.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), len(statements)


def kept_pages() -> int:
    return len(current_app.extensions.get("rendered_pages", {}))


def test_a_second_view_is_served_from_the_kept_page_and_still_logged(staff, make_case):
    case = make_case("김보존")
    url = f"/cases/{case.id}"
    staff.get(url)  # the first page of a login creates the CSRF token the kept page carries
    with counting_queries() as rendering:
        first = staff.get(url).get_data(as_text=True)
    with counting_queries() as serving:
        again = staff.get(url).get_data(as_text=True)
    assert again == first and "김보존" in again

    def members_loaded(statements):
        return any("FROM household_member" in statement for statement in statements)

    assert members_loaded(rendering) and not members_loaded(serving)
    assert len(serving) < len(rendering)
    assert len([e for e in audit_actions("household.view") if e.object_id == str(case.id)]) == 3


def test_the_login_read_brings_the_data_version(app, staff, make_case):
    """The login read, every signed-in request's first statement, carries the pages' data version: a kept page
    runs no statement of its own for it. Where no login read noted it, it is read when asked for."""
    case = make_case("김버전")
    url = f"/cases/{case.id}"
    staff.get(url)
    view(staff, url)
    with counting_queries() as serving:
        assert staff.get(url).status_code == 200
    with_version = [s for s in serving if "data_version" in s]
    assert len(with_version) == 1 and "FROM login_session" in with_version[0]
    assert not any("FROM household" in s for s in serving[:serving.index(with_version[0])])
    with app.test_request_context("/"):
        version = freshness.current_version(freshness.PAGES)
        assert freshness.pages_version() == version
        freshness.note_pages_version(version - 1)
        assert freshness.pages_version() == version - 1
    with app.test_request_context("/"):
        assert freshness.pages_version() == version


def test_any_change_shows_at_once(staff, make_case, coordinator):
    case = make_case("김변경")
    url = f"/cases/{case.id}"
    staff.get(url)
    assert "중앙로" in view(staff, url)[0]
    # through the web
    household = load_case_file(case.id)
    staff.post(f"/cases/{case.id}/edit", data={
        "head_name": "김변경", "head_birth": "1968", "head_sex": "남", "district": "중앙동", "address": "새주소로 7",
        "phone": "010-2345-6789", "household_size": "2", "discovery_route": household.discovery_route,
        "discovered_on": household.discovered_on.isoformat(), "extraction_round": "", "crisis_signals": "",
        "referring_agency_id": "0", "coordinator_id": "0", "note": ""})
    assert "새주소로 7" in view(staff, url)[0]
    # through the services, outside any request
    case_services.add_member(load_case_file(case.id), by=coordinator, name="김막내", relation="자녀",
                             birth_year=2015, birth_date=None, sex="여", has_disability=False)
    db.session.commit()
    assert "자녀" in view(staff, url)[0]
    # a bulk statement
    db.session.execute(update(Member).where(Member.household_id == case.id, Member.relation == "자녀")
                       .values(relation="손자녀"))
    db.session.commit()
    assert "손자녀" in view(staff, url)[0]


def test_a_failed_login_leaves_the_kept_pages_kept(app, staff, make_case):
    """The login throttle (failed logins per username and address) is on no page: someone mistyping a password, or
    trying many, leaves the data version where it was and every worker's kept pages valid."""
    case = make_case()
    url = f"/cases/{case.id}"
    staff.get(url)
    view(staff, url)
    version = freshness.current_version(freshness.PAGES)
    for username in ("coord1", "nobody"):
        assert login(app.test_client(), username, password="not the password").status_code == 200
    db.session.rollback()
    assert len(db.session.execute(select(LoginThrottle)).scalars().all()) >= 2, "the failures were counted"
    assert freshness.current_version(freshness.PAGES) == version
    assert not rendered_in_full(staff, url)


def test_the_meeting_page_changes_with_its_agenda(staff, make_case, make_meeting, add_item):
    meeting = make_meeting()
    url = f"/meetings/{meeting.id}"
    staff.get(url)
    before, _ = view(staff, url)
    case = make_case("김안건")
    add_item(meeting.id, case)
    after, _ = view(staff, url)
    assert case.case_number not in before and case.case_number in after


def rendered_in_full(web, url) -> bool:
    """Whether this view built its page (loading the members) rather than serving a kept one."""
    with counting_queries() as statements:
        assert web.get(url).status_code == 200
    return any("FROM household_member" in statement for statement in statements)


def test_two_logins_never_share_a_page(app, make_case, make_user, coordinator):
    make_user("coord2", Role.COORDINATOR, display_name="박담당")
    case = make_case()
    url = f"/cases/{case.id}"
    first, second, other_browser = (Web(app, app.test_client()) for _ in range(3))
    first.login("coord1")
    second.login("coord2")
    other_browser.login("coord1")
    for web in (first, second, other_browser):
        web.get("/home")  # each session's CSRF token
    # From here on nothing but the access log is written: the data version stays where it is.
    kept, _ = view(first, url)
    assert not rendered_in_full(first, url)
    assert rendered_in_full(second, url), "another account renders its own page"
    assert "박담당" in view(second, url)[0] and "박담당" not in kept
    assert rendered_in_full(other_browser, url), "the same account in another browser renders its own page"

    def tokens(page):
        return set(re.findall(r'name="csrf_token" value="([^"]+)"', page))

    assert tokens(kept) and tokens(kept).isdisjoint(tokens(view(other_browser, url)[0]))


def test_permission_is_checked_before_a_kept_page_is_served(staff, make_meeting):
    meeting = make_meeting()
    url = f"/meetings/{meeting.id}"
    staff.get(url)
    assert meeting.place in view(staff, url)[0]
    # A change the data version does not see (a bare connection): the kept page is still refused.
    with db.engine.begin() as connection:
        connection.execute(update(User.__table__).where(User.__table__.c.username == "coord1")
                           .values(role=Role.PRACTITIONER.value))
    response = staff.get(url)
    assert response.status_code in (302, 404) and meeting.place not in response.get_data(as_text=True)


def test_a_flashed_message_is_shown_once_and_never_kept(staff, make_case):
    case = make_case()
    url = f"/cases/{case.id}"
    staff.get(url)
    view(staff, url)
    with staff.client.session_transaction() as session:
        session["_flashes"] = [("success", "표시용 알림")]
    assert "표시용 알림" in view(staff, url)[0]
    assert "표시용 알림" not in view(staff, url)[0]


def test_language_and_day_are_part_of_the_key(app, client, coordinator, make_case):
    case = make_case()
    url = f"/cases/{case.id}"
    with time_machine.travel(datetime(2026, 11, 24, 14, 50, tzinfo=UTC), tick=True) as clock:  # 23:50 in Seoul
        staff = Web(app, client)
        staff.login("coord1")
        staff.get("/home")  # the session's CSRF token
        staff.get(url)
        assert not rendered_in_full(staff, url)
        clock.move_to(datetime(2026, 11, 24, 15, 5, tzinfo=UTC))  # 00:05: a new day, "due today" means another day
        assert rendered_in_full(staff, url)
        assert not rendered_in_full(staff, url)
        # A language changed where the data version does not see it still gives a page in that language.
        with db.engine.begin() as connection:
            connection.execute(update(User.__table__).where(User.__table__.c.username == "coord1")
                               .values(locale="en"))
        english, _ = view(staff, url)
        assert '<html lang="en">' in english


def test_kept_pages_are_bounded_and_expire(staff, make_case):
    current_app.config["PAGE_CACHE_SIZE"] = 2
    cases = [make_case() for _ in range(3)]
    staff.get("/home")
    for case in cases:
        staff.get(f"/cases/{case.id}")
    assert kept_pages() == 2
    assert rendered_in_full(staff, f"/cases/{cases[0].id}"), "the oldest page went first"
    url = f"/cases/{cases[-1].id}"
    assert not rendered_in_full(staff, url)
    current_app.config["PAGE_CACHE_SECONDS"] = 0
    assert rendered_in_full(staff, url) and rendered_in_full(staff, url)


def test_cache_off_renders_every_view(staff, make_case):
    current_app.config["PAGE_CACHE_SIZE"] = 0
    case = make_case()
    url = f"/cases/{case.id}"
    staff.get(url)
    assert rendered_in_full(staff, url) and rendered_in_full(staff, url)
    assert kept_pages() == 0


# --- the packet and the minutes --------------------------------------------------------------------------------

@pytest.fixture
def demo_meetings(app):
    """The demo: two approved meetings, one whose minutes are in review, one being prepared (by start)."""
    seed_demo(PASSWORD)
    db.session.commit()
    return db.session.execute(select(Meeting).order_by(Meeting.starts_at)).scalars().all()


def reader(app, username: str, meetings) -> Web:
    web = Web(app, app.test_client())
    web.login(username)
    for meeting in meetings:
        web.post(f"/meetings/{meeting.id}/pledge", data={"accept": "y"})  # practitioners pledge; staff need not
    web.get("/home")  # the pledge's message is shown and gone
    return web


@pytest.mark.parametrize("username", ["coordinator", "angel"])
@pytest.mark.parametrize("page, action, position", [("packet", "packet.view", 3), ("minutes", "minutes.view", 0),
                                                    ("minutes", "minutes.view", 2)])
def test_the_packet_and_the_minutes_are_kept_and_every_view_logged(app, demo_meetings, username, page, action,
                                                                   position):
    meeting = demo_meetings[position]
    web = reader(app, username, [meeting])
    url = f"/meetings/{meeting.id}/{page}"
    assert rendered_in_full(web, url)
    first, _ = view(web, url)
    assert not rendered_in_full(web, url)
    assert view(web, url)[0] == first and "김○○" in first
    logged = [e for e in audit_actions(action) if e.object_id == str(meeting.id)]
    assert len(logged) == 4 and len({e.details for e in logged}) == 1
    assert "2021-" in logged[-1].details, "each view names the cases it showed"


def test_a_kept_view_of_approved_minutes_leaves_their_json_in_the_database(app, demo_meetings):
    """The checks before the page read the minutes' status, not the approved JSON (20–30 kB at real sizes): a kept
    view never loads it, and the page rendered from it shows the approved text."""
    approved = demo_meetings[0]
    web = reader(app, "coordinator", [])
    url = f"/meetings/{approved.id}/minutes"
    snapshot = re.compile(r"\bminutes(_\d+)?\.snapshot\b")
    with counting_queries() as rendering:
        page = web.get(url).get_data(as_text=True)
    assert any(snapshot.search(s) for s in rendering) and "김○○" in page
    with counting_queries() as serving:
        assert web.get(url).get_data(as_text=True) == page
    assert serving and not any(snapshot.search(s) for s in serving)


def test_a_change_to_the_packet_or_the_minutes_shows_at_once(app, demo_meetings):
    preparing, in_review = demo_meetings[3], demo_meetings[2]
    web = reader(app, "coordinator", [])
    packet, minutes = f"/meetings/{preparing.id}/packet", f"/meetings/{in_review.id}/minutes"
    for url in (packet, minutes):
        view(web, url)
        assert not rendered_in_full(web, url)
    db.session.execute(update(AgendaItem).where(AgendaItem.meeting_id == preparing.id)
                       .values(key_question="새로 적은 논의 요청사항"))
    record = db.session.execute(select(CaseRecord).join(AgendaItem)
                                .where(AgendaItem.meeting_id == in_review.id)).scalars().first()
    record.discussion = "회의 뒤에 고친 논의 내용"
    db.session.commit()
    assert "새로 적은 논의 요청사항" in view(web, packet)[0]
    assert "회의 뒤에 고친 논의 내용" in view(web, minutes)[0]


def test_a_kept_packet_is_refused_once_the_agency_is_no_longer_invited(app, demo_meetings):
    meeting = demo_meetings[3]
    angel = reader(app, "angel", [meeting])
    url = f"/meetings/{meeting.id}/packet"
    view(angel, url)
    assert not rendered_in_full(angel, url)
    invitation = Invitation.__table__
    meeting_id, agency_id = meeting.id, db.session.execute(select(User.agency_id).where(User.username == "angel")).scalar()
    db.session.rollback()
    with db.engine.begin() as connection:  # a change the data version does not see
        connection.execute(delete(invitation).where(invitation.c.meeting_id == meeting_id,
                                                    invitation.c.agency_id == agency_id))
    assert angel.get(url).status_code == 404
