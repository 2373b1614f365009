"""Actions after the meeting: my agency's list, progress checks, completion, due-date changes, permissions.

In the demo city (``seeded``) the 2021 actions are done; the meeting five weeks ago left actions done, late (one of
정신건강복지센터's by days), due soon and due later.
"""
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import POSTGRES_URL
from factories import CityDay, on_the_day
from factories_world import login
from sqlalchemy import event, func, insert, select

from conference.core.formatting import today_local
from conference.extensions import db
from conference.models import ActionEvent, ActionItem, Agency, AuditEvent, Consent, Meeting


def action_of(agency_name: str) -> ActionItem:
    """The agency's first action still to do, else its first (the charity's one action is of 2021, done)."""
    db.session.expire_all()
    actions = [a for a in db.session.execute(select(ActionItem).order_by(ActionItem.id)).scalars()
               if agency_name in _agency(a)]
    return next((a for a in actions if a.status in ("open", "in_progress")), actions[0])


def events_of(action: ActionItem) -> list[ActionEvent]:
    return db.session.execute(select(ActionEvent).where(ActionEvent.action_id == action.id)).scalars().all()


def _agency(action):
    return db.session.get(Agency, action.agency_id).name


def test_a_practitioner_sees_only_the_agencys_actions_with_overdue_marked(client, seeded):
    login(client, "mh")
    page = client.get("/actions").get_data(as_text=True)
    assert "정신건강 치료 재개와 주 1회 상담" in page
    assert "주 1회 안부 전화와 월 1회 방문" not in page  # 중앙동 행정복지센터's
    assert "overdue" in page and "기한 지남" in page
    assert "김○○" in page and "김민수" not in page
    home = client.get("/home").get_data(as_text=True)
    assert "기한 지남 1건" in home


def listed(page: str) -> list[tuple[int, str]]:
    """(action id, row class) of each row of the action list, in order."""
    return [(int(action_id), row_class) for row_class, action_id in
            re.findall(r'<tr(?: class="([^"]*)")?>\s*<td[^>]*>[^<]*</td>\s*<td><a href="/actions/(\d+)">', page)]


def test_the_list_runs_by_due_date_and_marks_overdue_soon_and_proposed_completion(client, seeded):
    actions = db.session.execute(select(ActionItem).where(ActionItem.status.in_(["open", "in_progress"]))
                                 .order_by(ActionItem.id)).scalars().all()
    later, soon, late = actions[:3]
    today = today_local()
    later.due_on, soon.due_on, late.due_on = today + timedelta(days=30), today + timedelta(days=3), today
    late.due_on -= timedelta(days=1)
    soon.completion_proposed_at = datetime.now(UTC)
    ids = {"later": later.id, "soon": soon.id, "late": late.id}
    expected = [a.id for a in sorted(actions, key=lambda a: (a.due_on, a.id))]
    db.session.commit()
    login(client, "coordinator")
    page = client.get("/actions").get_data(as_text=True)
    rows = listed(page)
    assert [action_id for action_id, _ in rows] == expected
    marks = dict(rows)
    assert (marks[ids["later"]], marks[ids["soon"]], marks[ids["late"]]) == ("", "soon-row", "overdue-row")
    soon_row = re.search(rf'<tr class="soon-row">.*?/actions/{ids["soon"]}".*?</tr>', page, re.S)[0]
    assert "완료 제안" in soon_row and page.count("완료 제안") == 1


def _many_actions(agency_name: str, days, status: str = "open") -> None:
    """More actions of the agency, copied from its first one, due ``days`` from today."""
    model = action_of(agency_name)
    columns = {c.key: getattr(model, c.key) for c in ActionItem.__table__.columns if c.key != "id"}
    db.session.execute(insert(ActionItem), [{**columns, "status": status, "due_on": today_local() + timedelta(days=day),
                                             "task": f"과제 {day}"} for day in days])
    db.session.commit()


def test_the_list_pages_by_fifty_in_due_order(client, seeded):
    model = action_of("정신건강복지센터")
    _many_actions("정신건강복지센터", range(60), status=model.status)
    login(client, "mh")
    first, second = (client.get(f"/actions?page={n}").get_data(as_text=True) for n in (1, 2))
    rows = [action_id for action_id, _ in listed(first) + listed(second)]
    visible = db.session.execute(select(ActionItem.id).where(ActionItem.agency_id == model.agency_id,
                                                             ActionItem.status.in_(["open", "in_progress"]))
                                 .order_by(ActionItem.due_on, ActionItem.id)).scalars().all()
    assert len(listed(first)) == 50 and rows == visible
    assert "page=2" in first and "다음" in first and "이전" in second


def _page_statement(client, url: str) -> tuple[str, object]:
    """The statement (and its parameters) that chose the page's ids of the action list at ``url``."""
    statements = []

    def listener(conn, cursor, statement, parameters, context, many):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return next((s, p) for s, p in statements if "ORDER BY" in s and "LIMIT" in s)


def test_the_active_list_writes_its_statuses_as_literals_so_either_database_can_read_the_partial_index(client, seeded):
    """Bound parameters would hide from the planner that the list's condition implies the partial index."""
    login(client, "mh")
    statement, _ = _page_statement(client, "/actions")
    assert "action_item.status IN ('open', 'in_progress')" in statement


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads SQLite's query plan; PostgreSQL plans by its statistics")
def test_an_agencys_page_is_chosen_from_one_index_in_order_before_anything_is_joined(client, seeded):
    """Hundreds of open actions of one agency: the page's ids come off the index of active actions in the list's
    order (nothing sorted), and only those rows are joined to their household, agency and meeting."""
    _many_actions("정신건강복지센터", range(300))
    login(client, "mh")
    for url in ("/actions", "/actions?due=overdue", "/actions?due=soon"):
        statement, parameters = _page_statement(client, url)
        assert "JOIN" not in statement.split("WHERE")[0]  # (the consent check's EXISTS joins inside itself)
        with db.engine.connect() as connection:
            plan = " ".join(str(row) for row in
                            connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
        assert "INDEX ix_action_item_active_agency_due" in plan and "TEMP B-TREE" not in plan, (url, plan)


def test_the_page_and_its_count_come_from_one_read_of_the_ids(client, seeded):
    """Every match costs a consent check: the page's ids and the capped count are one statement, then the rows."""
    _many_actions("정신건강복지센터", range(120))
    login(client, "mh")
    statements = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = client.get("/actions?page=2").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    reads = [s for s in statements if "FROM action_item" in s]
    assert len(reads) == 2 and "count(" not in " ".join(reads).lower(), reads
    assert len(listed(page)) == 50 and "<span>2 / 3</span>" in page  # read up to 151: the whole count, 3 pages


def test_the_due_figures_stop_counting_at_99_and_the_lists_count_at_100(client, seeded):
    """An agency with hundreds of open actions: the home page and the notifications say 99+ overdue, the list
    "100건 이상", and reading them costs no more than reading a hundred."""
    login(client, "mh")
    assert "기한 지남 1건" in client.get("/home").get_data(as_text=True)
    _many_actions("정신건강복지센터", range(-150, -30))  # 120 more overdue
    _many_actions("정신건강복지센터", range(1, 160))  # 14 more due within two weeks, the rest later
    soon = db.session.execute(select(func.count()).select_from(ActionItem).where(
        ActionItem.agency_id == action_of("정신건강복지센터").agency_id, ActionItem.status.in_(["open", "in_progress"]),
        ActionItem.due_on.between(today_local(), today_local() + timedelta(days=14)))).scalar_one()
    home = client.get("/home").get_data(as_text=True)
    assert "기한 지남 99+건" in home and f"2주 안에 마감 {soon}건" in home
    assert "<strong>99+</strong>" in client.get("/notifications").get_data(as_text=True)
    listed_count = client.get("/actions").get_data(as_text=True)
    assert "(100건 이상)" in listed_count


def test_the_coordinator_sees_every_action_and_filters_by_agency(client, seeded):
    login(client, "coordinator")
    everything = client.get("/actions").get_data(as_text=True)
    assert "정신건강 치료 재개와 주 1회 상담" in everything and "주 1회 안부 전화와 월 1회 방문" in everything
    mh_agency = action_of("정신건강복지센터").agency_id
    filtered = client.get(f"/actions?agency={mh_agency}").get_data(as_text=True)
    assert "주 1회 안부 전화와 월 1회 방문" not in filtered
    assert client.get("/actions?status=nonsense&due=whatever&agency=x&page=abc").status_code == 200


def test_progress_moves_the_action_to_in_progress_and_is_logged(client, seeded):
    login(client, "mh")
    action = action_of("정신건강복지센터")
    response = client.post(f"/actions/{action.id}", data={
        "step": "progress", "checked_on": today_local().isoformat(), "content": "상담 2회 진행", "result": "치료 재개 동의"})
    assert response.status_code == 302
    action = action_of("정신건강복지센터")
    assert action.status == "in_progress"
    [event] = events_of(action)
    assert (event.kind, event.content, event.result) == ("progress", "상담 2회 진행", "치료 재개 동의")
    assert "action.progress" in set(db.session.execute(select(AuditEvent.action)).scalars())


@pytest.mark.parametrize("data, message", [
    ({"step": "progress", "checked_on": CityDay(1), "content": "미래"},
     "점검일은 오늘 이후일 수 없습니다."),
    ({"step": "progress", "checked_on": CityDay(0), "content": ""}, "한 일을 적으세요."),
    ({"step": "propose", "note": ""}, "완료 내용을 적어야 완료를 제안할 수 있습니다."),
    ({"step": "due", "new_due": CityDay(10), "reason": ""}, "기한을 바꾸는 사유를 적으세요."),
    ({"step": "due", "new_due": CityDay(-1), "reason": "연기"},
     "새 기한은 오늘이나 그 뒤의 날짜여야 합니다."),
])
def test_bad_follow_up_changes_nothing(client, seeded, data, message):
    login(client, "mh")
    action = action_of("정신건강복지센터")
    before = (action.status, action.due_on, action.completion_proposed_at)
    response = client.post(f"/actions/{action.id}", data=on_the_day(data))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    action = action_of("정신건강복지센터")
    assert (action.status, action.due_on, action.completion_proposed_at) == before
    assert events_of(action) == []


def test_proposal_then_confirmation_completes_the_action(client, seeded):
    login(client, "mh")
    action = action_of("정신건강복지센터")

    def again():
        db.session.expire_all()
        return db.session.get(ActionItem, action.id)

    client.post(f"/actions/{action.id}", data={"step": "propose", "note": "치료 재개, 월 1회 점검으로 전환"})
    assert again().completion_proposed_at is not None
    refused = client.post(f"/actions/{action.id}", data={"step": "confirm", "note": "내가 확인"})
    assert refused.status_code == 403
    assert again().status != "done"
    login(client, "coordinator")
    client.post(f"/actions/{action.id}", data={"step": "confirm", "note": ""})
    assert again().status == "done"
    again = client.post(f"/actions/{action.id}", data={"step": "progress", "checked_on": today_local().isoformat(),
                                                       "content": "완료 뒤 기록"})
    assert "진행 중인 실행과제만" in again.get_data(as_text=True)


def test_a_due_date_change_keeps_the_reason_and_the_old_date(client, seeded):
    login(client, "mh")
    action = action_of("정신건강복지센터")
    old_due = action.due_on
    new_due = today_local() + timedelta(days=20)
    client.post(f"/actions/{action.id}", data={"step": "due", "new_due": new_due.isoformat(), "reason": "입원으로 연기"})
    action = action_of("정신건강복지센터")
    assert action.due_on == new_due
    [event] = events_of(action)
    assert (event.old_due, event.new_due, event.content) == (old_due, new_due, "입원으로 연기")
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert "입원으로 연기" in page


def test_another_agencys_action_is_out_of_reach(client, seeded):
    login(client, "mh")
    other = action_of("중앙동 행정복지센터")
    before = len(events_of(other))
    assert client.get(f"/actions/{other.id}").status_code == 404
    response = client.post(f"/actions/{other.id}", data={"step": "progress", "checked_on": today_local().isoformat(),
                                                         "content": "남의 과제"})
    assert response.status_code == 404
    assert len(events_of(other)) == before


def test_the_chair_sees_the_actions_of_meetings_they_chaired_read_only(client, seeded):
    login(client, "chair")
    action = action_of("정신건강복지센터")
    assert client.get(f"/actions/{action.id}").status_code == 200
    response = client.post(f"/actions/{action.id}", data={"step": "progress", "checked_on": today_local().isoformat(),
                                                           "content": "주재자 기록"})
    assert response.status_code == 403


@pytest.mark.parametrize("username", ["angel", "coordinator", "chair"])
def test_the_action_page_warns_of_a_consent_override_reason(client, seeded, username):
    action = action_of("천사운동본부")
    action.consent_override_reason = "후원 연계에 필요한 최소 정보만 공유"
    db.session.commit()
    login(client, username)
    page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    assert re.search(r'<p class="warning"><strong>동의 범위 예외 사유:</strong> 후원 연계에 필요한 최소 정보만 공유</p>',
                     page)
    other = action_of("중앙동 행정복지센터")
    if username != "angel":
        assert "동의 범위 예외 사유" not in client.get(f"/actions/{other.id}").get_data(as_text=True)


@pytest.mark.parametrize("role, agency_id, user_id, expected", [
    ("practitioner", 7, 1, True),     # the responsible agency
    ("practitioner", 8, 1, False),    # another agency
    ("coordinator", 8, 1, True),
    ("admin", 8, 1, False),           # the admin reads no case data
    ("chair", 8, 3, True),            # chaired the meeting that decided it
    ("chair", 8, 4, False),
])
def test_who_reads_an_actions_override_reason(role, agency_id, user_id, expected):
    from types import SimpleNamespace

    from conference.shared.permissions import can_see_action_override

    user = SimpleNamespace(role=role, agency_id=agency_id, id=user_id, is_authenticated=True)
    action = SimpleNamespace(agency_id=7, meeting=SimpleNamespace(chair_id=3))
    assert can_see_action_override(user, action) is expected


def test_anonymous_users_are_sent_to_login(client, seeded):
    assert client.get("/actions").status_code == 302


def test_planned_actions_of_unapproved_minutes_are_not_listed(client, seeded):
    action = action_of("정신건강복지센터")
    meeting = db.session.get(Meeting, action.meeting_id)
    planned = ActionItem(household_id=action.household_id, meeting_id=meeting.id, task="아직 확정 전 과제",
                         domain="safety", agency_id=action.agency_id, due_on=today_local() + timedelta(days=9),
                         status="planned")
    db.session.add(planned)
    db.session.commit()
    login(client, "mh")
    assert "아직 확정 전 과제" not in client.get("/actions?status=all").get_data(as_text=True)
    assert client.get(f"/actions/{planned.id}").status_code == 404


def test_an_action_leaves_the_agencys_reach_when_the_household_withdraws_consent(client, seeded):
    """Need-to-know after the meeting: the list, the detail and the home count follow the household's current
    consent; an action assigned with a written consent override stays with its agency."""
    action = action_of("정신건강복지센터")
    consent = db.session.execute(select(Consent).where(Consent.household_id == action.household_id)
                                 .order_by(Consent.id.desc())).scalars().first()
    consent.withdrawn_on = today_local()
    db.session.commit()
    login(client, "mh")
    assert "정신건강 치료 재개와 주 1회 상담" not in client.get("/actions").get_data(as_text=True)
    assert client.get(f"/actions/{action.id}").status_code == 404
    assert "기한 지남 1건" not in client.get("/home").get_data(as_text=True)

    action = db.session.get(ActionItem, action.id)
    action.consent_override_reason = "자살 위험으로 동의 철회 뒤에도 상담을 이어감(사례회의 결정)"
    db.session.commit()
    assert "정신건강 치료 재개와 주 1회 상담" in client.get("/actions").get_data(as_text=True)
    assert client.get(f"/actions/{action.id}").status_code == 200
