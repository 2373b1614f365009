"""The access log (접속기록): hash chain, verify-audit, retention purge, admin filters, export and monthly review."""
import html
import io
import itertools
import json
import re
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from conftest import PASSWORD, POSTGRES_URL
from factories import CityDay, counting_queries, field_errors, on_the_day
from factories_world import seed_demo
from openpyxl import load_workbook
from sqlalchemy import event, inspect, select, text

from conference import audit
from conference.audit.filters import AuditFilters, events_query
from conference.core.formatting import KST, today_local
from conference.extensions import db
from conference.minutes.services import load_for_minutes
from conference.models import AuditChainHead, AuditEvent, Meeting, Role
from conference.seed import demo

DAY = timedelta(days=1)


# --- helpers ------------------------------------------------------------------------------------------

def chain() -> list:
    """(chain_seq, prev_hash, row_hash, action) of every chained event, in chain order."""
    return db.session.execute(select(AuditEvent.chain_seq, AuditEvent.prev_hash, AuditEvent.row_hash,
                                     AuditEvent.action)
                              .where(AuditEvent.chain_seq.is_not(None)).order_by(AuditEvent.chain_seq)).all()


def raw_sql(statement: str, **params):
    """Change the table behind the app's back, as someone with database access could (no ORM guard)."""
    db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)
    db.session.expire_all()


def add_event(action: str, at: datetime, *, actor=None, object_type: str = "", object_id: str = "",
              details: dict | None = None, ip: str = "") -> AuditEvent:
    """An event at a chosen time, added like any other (it is chained when flushed)."""
    event = AuditEvent(occurred_at=at, action=action, actor_id=actor.id if actor else None,
                       actor_name=actor.username if actor else "", object_type=object_type,
                       object_id=str(object_id), details=json.dumps(details or {}, ensure_ascii=False), ip=ip)
    db.session.add(event)
    return event


def kst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), KST)


def verify(runner):
    db.session.commit()
    return runner.invoke(args=["verify-audit"])


def login(client, username):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def audit_rows(response) -> list[tuple[str, str]]:
    """(actor, action) of every row of the audit list."""
    return re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>",
                      page_text(response))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


# --- the hash chain -----------------------------------------------------------------------------------

def test_every_way_of_writing_an_event_extends_one_chain(app, admin):
    audit.record("test.record", details={"x": 1}, actor=admin)
    db.session.commit()
    audit.record_access("test.access", object_type="household", object_id=7)  # its own transaction
    add_event("test.direct", datetime.now(UTC))  # a model added without record(): chained all the same
    audit.record("test.same_flush", actor_name="cli")
    db.session.commit()

    rows = chain()
    assert [r.action for r in rows][-4:] == ["test.record", "test.access", "test.direct", "test.same_flush"]
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == ""
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    for stored in db.session.execute(select(AuditEvent)).scalars():
        assert len(stored.row_hash) == 64
        assert audit.event_hash(stored.prev_hash, {c.key: getattr(stored, c.key) for c in AuditEvent.__table__.c}) \
            == stored.row_hash
    head = db.session.get(AuditChainHead, audit.HEAD_ID)
    assert (head.last_seq, head.last_hash) == (rows[-1].chain_seq, rows[-1].row_hash)


def test_a_rolled_back_event_leaves_no_gap(app):
    audit.record("test.kept")
    db.session.commit()
    audit.record("test.rolled_back")
    db.session.flush()
    db.session.rollback()
    audit.record("test.next")
    db.session.commit()
    assert [r.action for r in chain()][-2:] == ["test.kept", "test.next"]
    assert [r.chain_seq for r in chain()] == list(range(1, len(chain()) + 1))


def test_a_view_in_a_get_request_is_chained(client, coordinator, make_household):
    household = make_household()
    login(client, "coord1")
    assert client.get(f"/cases/{household.id}").status_code == 200
    db.session.expire_all()
    rows = chain()
    assert rows[-1].action == "household.view"
    assert rows[-1].prev_hash == rows[-2].row_hash


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's path; PostgreSQL's is tested below")
def test_a_views_record_is_written_after_its_read_transaction_ended(client, coordinator, make_household,
                                                                     monkeypatch):
    """On SQLite a read transaction left open while the record commits holds the WAL checkpoint back, and every
    later commit then pays for a checkpoint of its own. The page's objects stay loaded (nothing is expired)."""
    household = make_household()
    login(client, "coord1")
    seen, append = [], audit._chain

    def appending(connection, events):
        session = db.session()
        seen.append((session.in_transaction(), [inspect(o).expired for o in session.identity_map.values()]))
        return append(connection, events)

    monkeypatch.setattr(audit, "_chain", appending)
    assert client.get(f"/cases/{household.id}").status_code == 200
    (reading, expired), = seen
    assert not reading and expired and not any(expired)


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's path; SQLite's is tested above")
def test_on_postgresql_a_views_record_is_committed_in_the_pages_own_transaction(client, coordinator, make_household,
                                                                               monkeypatch):
    """No reader holds PostgreSQL back, so a view takes one connection from the pool, not two (each pinged), and
    its record is committed before the page goes out. The page's objects stay loaded (nothing is expired)."""
    household_id = str(make_household().id)
    login(client, "coord1")
    client.get("/home")
    seen, append, checkouts = [], audit._chain, []

    def appending(connection, events):
        session = db.session()
        seen.append((connection is session.connection(), [inspect(o).expired for o in session.identity_map.values()]))
        return append(connection, events)

    def committed_before_the_response(response):
        seen.append((len(checkouts), [inspect(o).expired for o in db.session.identity_map.values()]))
        with db.engine.connect() as other:
            seen.append(other.execute(select(AuditEvent.id).where(
                AuditEvent.action == "household.view", AuditEvent.object_id == household_id)).all())
        return response

    def checkout(*args):
        checkouts.append(args)

    monkeypatch.setattr(audit, "_chain", appending)
    client.application.after_request_funcs.setdefault(None, []).append(committed_before_the_response)
    event.listen(db.engine, "checkout", checkout)
    try:
        assert client.get(f"/cases/{household_id}").status_code == 200
    finally:
        event.remove(db.engine, "checkout", checkout)
        client.application.after_request_funcs[None].remove(committed_before_the_response)
    (own_connection, before), (connections, after), stored = seen
    assert own_connection and before and after and not any(before + after)
    assert len(stored) == 1 and connections == 1


def test_a_record_takes_two_statements_on_postgresql_and_three_on_sqlite(client, coordinator, make_household):
    """The head is locked and read, then the event is inserted and the head moved: on PostgreSQL in one statement
    (a data-modifying WITH), a round trip fewer for every view of personal data; on SQLite, which has no such
    statement and no round trips, in two. Either way the head ends on the event and the chain verifies."""
    household = make_household()
    login(client, "coord1")
    client.get("/home")
    with counting_queries() as statements:
        assert client.get(f"/cases/{household.id}").status_code == 200
    chained = [s for s in statements if "audit_chain_head" in s or "audit_event" in s]
    if POSTGRES_URL:
        assert len(chained) == 2 and "FOR UPDATE" in chained[0]
        assert chained[1].lstrip().startswith("WITH") and "UPDATE audit_chain_head" in chained[1] \
            and "INSERT INTO audit_event" in chained[1]
    else:
        assert len(chained) == 3 and chained[1].startswith("UPDATE audit_chain_head") \
            and chained[2].startswith("INSERT INTO audit_event")
    db.session.expire_all()
    head, last = db.session.execute(select(AuditChainHead)).scalar_one(), chain()[-1]
    assert (head.last_seq, head.last_hash, last.action) == (last.chain_seq, last.row_hash, "household.view")
    assert audit.verify_chain().ok


def test_concurrent_writers_still_make_one_unbroken_chain(app, runner, admin):
    """Two threads append at once, through the request-style session and the own-connection path."""
    db.session.commit()
    per_thread, errors = 15, []
    start = threading.Barrier(2)

    def writer(name):
        try:
            with app.app_context():
                start.wait()
                for n in range(per_thread):
                    audit.record(f"test.{name}", details={"n": n}, actor_name=name)
                    db.session.commit()
                    audit.record_access(f"test.{name}.view", object_type="household", object_id=n)
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = chain()
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    assert sum(r.action.startswith("test.") for r in rows) == 4 * per_thread
    result = verify(runner)
    assert result.exit_code == 0, result.output


# --- verify-audit ---------------------------------------------------------------------------------------

@pytest.fixture
def five_events(app):
    for n in range(1, 6):
        audit.record(f"test.event{n}", details={"n": n}, actor_name="someone")
    db.session.commit()
    return {r.action: r.chain_seq for r in chain()}


def test_an_untouched_chain_verifies(runner, five_events):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"audit chain OK: {len(chain())} event(s)" in result.output
    assert "정상" in result.output


def test_an_edited_field_is_found_and_named(runner, five_events):
    seq = five_events["test.event3"]
    raw_sql("UPDATE audit_event SET details = '{\"n\": 99}' WHERE chain_seq = :seq", seq=seq)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"순번 {seq}의 기록 내용이 저장된 해시와 맞지 않습니다" in result.output
    assert f"event {seq} does not match its hash" in result.output


@pytest.mark.parametrize("column, value", [("actor_name", "nobody"), ("ip", "10.9.9.9"), ("action", "test.other"),
                                           ("object_id", "42"), ("occurred_at", "2001-01-01 00:00:00.000000")])
def test_any_hashed_field_counts(runner, five_events, column, value):
    seq = five_events["test.event2"]
    raw_sql(f"UPDATE audit_event SET {column} = :value WHERE chain_seq = :seq", value=value, seq=seq)
    result = verify(runner)
    assert result.exit_code == 1 and f"event {seq} does not match" in result.output


def test_an_edit_with_a_recomputed_hash_breaks_the_link(runner, five_events):
    seq = five_events["test.event3"]
    stored = db.session.execute(select(AuditEvent).where(AuditEvent.chain_seq == seq)).scalar_one()
    values = {c.key: getattr(stored, c.key) for c in AuditEvent.__table__.c}
    values["details"] = '{"n": 99}'
    raw_sql("UPDATE audit_event SET details = :details, row_hash = :hash WHERE chain_seq = :seq",
            details=values["details"], hash=audit.event_hash(values["prev_hash"], values), seq=seq)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {seq + 1} does not link to event {seq}" in result.output


def test_a_deleted_event_is_found_and_named(runner, five_events):
    seq = five_events["test.event3"]
    raw_sql("DELETE FROM audit_event WHERE chain_seq = :seq", seq=seq)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"순번 {seq}의 기록이 없습니다" in result.output and f"event(s) {seq} missing" in result.output


def test_deleting_the_first_or_the_last_events_is_found(runner, five_events):
    last = max(five_events.values())
    raw_sql("DELETE FROM audit_event WHERE chain_seq >= :seq", seq=last - 1)
    result = verify(runner)
    assert result.exit_code == 1 and f"event(s) {last - 1}–{last} missing" in result.output

    raw_sql("DELETE FROM audit_event WHERE chain_seq = 1")
    result = verify(runner)
    assert result.exit_code == 1 and "event(s) 1 missing" in result.output


def test_a_removed_chain_head_is_reported(runner, five_events):
    raw_sql("DELETE FROM audit_chain_head")
    result = verify(runner)
    assert result.exit_code == 1 and "the chain head does not match the last event" in result.output


def test_events_from_before_the_chain_are_counted_not_failed(runner, five_events):
    raw_sql("INSERT INTO audit_event (occurred_at, actor_name, ip, action, object_type, object_id, details, "
            "prev_hash, row_hash) VALUES ('2020-01-01 00:00:00.000000', 'old', '', 'login', '', '', '{}', '', '')")
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "1 event(s) from before the chain are not checked" in result.output


def test_an_empty_trail_verifies(runner, app):
    raw_sql("DELETE FROM audit_event")
    raw_sql("DELETE FROM audit_chain_head")
    result = verify(runner)
    assert result.exit_code == 0 and "audit chain OK: 0 event(s)" in result.output


# --- retention ------------------------------------------------------------------------------------------

@pytest.fixture
def aged_trail(app, admin):
    """Events three years, 800 days and one day old: what a purge keeps depends on the kind."""
    now = datetime.now(UTC)
    add_event("login", now - 1100 * DAY, actor=admin)
    add_event("household.view", now - 800 * DAY, actor=admin, object_type="household", object_id="1")
    add_event("user.grant", now - 800 * DAY, actor=admin, object_type="user_account", object_id="2")
    add_event("household.view", now - 740 * DAY, actor=admin, object_type="household", object_id="1")
    add_event("user.create", now - 1100 * DAY, actor=admin, object_type="user_account", object_id="3")
    add_event("household.view", now - DAY, actor=admin, object_type="household", object_id="1")
    db.session.commit()
    return now


def test_purge_deletes_what_is_past_retention_and_the_chain_still_verifies(runner, aged_trail):
    before = chain()
    dry = runner.invoke(args=["purge-audit", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "[dry run] 4 event(s)" in dry.output
    assert chain() == before and events("audit.purge") == []

    result = runner.invoke(args=["purge-audit"])
    assert result.exit_code == 0, result.output
    assert "deleted 4 event(s)" in result.output
    remaining = [r.action for r in chain()]
    assert "login" not in remaining
    assert remaining.count("user.create") == 1  # the admin's own account, created today; not the 3-year-old one
    assert "user.grant" in remaining  # access-right changes are kept three years
    assert remaining.count("household.view") == 1 and remaining[-1] == "audit.purge"

    [purge] = events("audit.purge")
    details = json.loads(purge.details)
    assert details["deleted"] == 4 and details["retention_days"] == 730
    assert datetime.fromisoformat(details["cutoff"]) < aged_trail - 729 * DAY
    kept = {r.chain_seq: r.prev_hash for r in chain()}
    assert details["anchors"] and all(kept[seq] == prev and gap_from < seq for seq, prev, gap_from in details["anchors"])
    assert purge.chain_seq == max(kept) and purge.prev_hash == chain()[-2].row_hash

    checked = verify(runner)
    assert checked.exit_code == 0, checked.output
    assert f"audit chain OK: {len(kept)} event(s)" in checked.output


def test_after_a_purge_deleting_a_kept_event_is_still_found(runner, aged_trail):
    assert runner.invoke(args=["purge-audit"]).exit_code == 0
    grant = events("user.grant")[0].chain_seq
    raw_sql("DELETE FROM audit_event WHERE chain_seq = :seq", seq=grant)
    result = verify(runner)
    assert result.exit_code == 1 and f"event(s) {grant} missing" in result.output


def test_purging_everything_anchors_the_purge_record_itself(runner, app, admin):
    raw_sql("DELETE FROM audit_event")
    raw_sql("DELETE FROM audit_chain_head")
    add_event("household.view", datetime.now(UTC) - 900 * DAY, actor=admin)
    db.session.commit()
    result = runner.invoke(args=["purge-audit"])
    assert result.exit_code == 0, result.output
    assert [r.action for r in chain()] == ["audit.purge"]
    checked = verify(runner)
    assert checked.exit_code == 0 and "from seq 2" in checked.output


def test_nothing_to_purge_records_nothing(runner, app):
    audit.record("test.recent")
    db.session.commit()
    result = runner.invoke(args=["purge-audit"])
    assert result.exit_code == 0 and "nothing to delete" in result.output
    assert events("audit.purge") == []


def test_retention_comes_from_the_configuration(runner, app, admin):
    app.config["AUDIT_RETENTION_DAYS"] = 10
    app.config["AUDIT_RIGHTS_RETENTION_DAYS"] = 10
    add_event("household.view", datetime.now(UTC) - 11 * DAY, actor=admin)
    add_event("household.view", datetime.now(UTC) - 9 * DAY, actor=admin)
    db.session.commit()
    assert app.config["AUDIT_RETENTION_DAYS"] == 10
    result = runner.invoke(args=["purge-audit"])
    assert "deleted 1 event(s)" in result.output


def test_default_retention_is_two_years_and_three_for_access_rights(app):
    from conference.config import Defaults
    assert Defaults.AUDIT_RETENTION_DAYS == 730 and Defaults.AUDIT_RIGHTS_RETENTION_DAYS == 1095


# --- who may open the audit pages -------------------------------------------------------------------------

AUDIT_PAGES = [("GET", "/admin/audit"), ("POST", "/admin/audit/export"), ("GET", "/admin/audit/review"),
               ("POST", "/admin/audit/review")]


@pytest.mark.parametrize("method, url", AUDIT_PAGES)
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.CHAIR, Role.PRACTITIONER])
def test_only_admins_open_the_audit_pages(client, make_user, method, url, role):
    make_user("someone", role)
    login(client, "someone")
    response = client.open(url, method=method, data={"purpose": "점검용", "note": "이상 없음", "month": "2024-01"})
    assert response.status_code == 403
    assert events("audit.export") == [] and events("audit.review") == []


@pytest.mark.parametrize("method, url", AUDIT_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, method, url):
    response = client.open(url, method=method)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_app_has_no_way_to_change_or_delete_events(app):
    """Only the list (GET), the export (POST, a download) and the review mark (POST) exist."""
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules() if "audit" in rule.rule
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == {("/admin/audit", "GET"), ("/admin/audit/export", "POST"),
                      ("/admin/audit/review", "GET"), ("/admin/audit/review", "POST")}


def test_the_review_is_linked_from_the_navigation_and_the_audit_page(as_admin):
    page = page_text(as_admin.get("/admin/audit"))
    assert page.count('href="/admin/audit/review"') == 2  # the navigation bar and the page's own link
    assert "접속기록 점검" in page


# --- filters of /admin/audit ------------------------------------------------------------------------------

@pytest.fixture
def march_events(app, admin, coordinator, make_household):
    """Events around 5 March 2024 in Korean time, for households, addresses and accounts."""
    household = make_household()
    add_event("household.view", kst(date(2024, 3, 4), 23, 59), actor=coordinator, object_type="household",
              object_id=household.id, ip="10.1.2.3")
    add_event("household.view", kst(date(2024, 3, 5), 0, 0), actor=coordinator, object_type="household",
              object_id=household.id, ip="10.1.2.4")
    add_event("household.update", kst(date(2024, 3, 5), 23, 59), actor=admin, object_type="household",
              object_id=household.id, ip="192.168.0.9")
    add_event("meeting.create", kst(date(2024, 3, 6), 0, 0), actor=admin, object_type="meeting", object_id=1,
              ip="10.1.9.9")
    db.session.commit()
    return household


def test_date_range_is_whole_korean_days(as_admin, march_events):
    rows = audit_rows(as_admin.get("/admin/audit?start=2024-03-05&end=2024-03-05"))
    assert rows == [("admin1", "household.update"), ("coord1", "household.view")]
    rows = audit_rows(as_admin.get("/admin/audit?start=2024. 3. 5.&end=2024년 3월 6일"))
    assert rows == [("admin1", "meeting.create"), ("admin1", "household.update"), ("coord1", "household.view")]
    assert audit_rows(as_admin.get("/admin/audit?end=2024-03-04")) == [("coord1", "household.view")]


def test_filter_by_household_case_number_or_id(as_admin, march_events):
    number = march_events.case_number
    by_number = audit_rows(as_admin.get(f"/admin/audit?object_type=household&object_id={number}&end=2024-03-31"))
    by_id = audit_rows(as_admin.get(f"/admin/audit?object_type=household&object_id={march_events.id}"
                                    "&end=2024-03-31"))
    assert by_number == by_id == [("admin1", "household.update"), ("coord1", "household.view"),
                                  ("coord1", "household.view")]
    assert audit_rows(as_admin.get("/admin/audit?object_type=meeting&object_id=1")) == [("admin1", "meeting.create")]


def test_filter_by_ip_address_or_its_start(as_admin, march_events):
    assert audit_rows(as_admin.get("/admin/audit?ip=10.1.2.")) == [("coord1", "household.view")] * 2
    assert audit_rows(as_admin.get("/admin/audit?ip=192.168.0.9")) == [("admin1", "household.update")]
    assert audit_rows(as_admin.get("/admin/audit?ip=10.1.2.3&actor=coord1")) == [("coord1", "household.view")]


@pytest.mark.parametrize("query, field, message", [
    ("start=2024-02-30", "start", "날짜는 2024-03-05 또는 2024. 3. 5. 처럼 입력하세요"),
    ("start=yesterday", "start", "날짜는 2024-03-05 또는 2024. 3. 5. 처럼 입력하세요"),
    ("end=0001-01-01", "end", "날짜는 2024-03-05 또는 2024. 3. 5. 처럼 입력하세요"),
    ("start=2024-03-06&end=2024-03-05", "end", "종료일이 시작일보다 앞섭니다."),
    ("object_type=password", "object_type", "목록에 있는 대상을 고르세요."),
    ("object_type=household&object_id=1999-0001", "object_id", "그런 사례번호가 없습니다."),
    ("ip=10.0.0.1' OR 1=1", "ip", "IP 주소(또는 그 앞부분)는 숫자, 점(.), 콜론(:)으로만 입력하세요."),
    ("actor=" + "x" * 41, "actor", "40자 이하로 입력하세요."),
    ("action=login%07", "action", "보이지 않는 제어 문자는 입력할 수 없습니다."),
    ("object_id=1%07", "object_id", "보이지 않는 제어 문자는 입력할 수 없습니다."),
])
def test_bad_filters_get_a_korean_message_next_to_the_field(as_admin, march_events, query, field, message):
    response = as_admin.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert any(message in error for error in field_errors(response, field))
    assert audit_rows(response) == []


@pytest.mark.parametrize("page", ["0", "-5", "abc", "99999999999999999999", "100001"])
def test_any_page_number_gives_a_page(as_admin, page):
    assert as_admin.get(f"/admin/audit?page={page}").status_code == 200


def test_the_pager_keeps_the_filters_as_typed(as_admin, admin):
    for n in range(51):
        audit.record("test.many", actor=admin, details={"n": n})
    db.session.commit()
    first = as_admin.get("/admin/audit?action=test.many&start=2000. 1. 1.")
    assert len(audit_rows(first)) == 50
    assert 'href="/admin/audit?page=2&amp;action=test.many&amp;start=2000.+1.+1."' in first.get_data(as_text=True)
    assert len(audit_rows(as_admin.get("/admin/audit?page=2&action=test.many&start=2000.+1.+1."))) == 1


# --- export -------------------------------------------------------------------------------------------------

def xlsx_rows(content: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("purpose, message", [("", "내려받는 목적을 적으세요."), ("   ", "내려받는 목적을 적으세요."),
                                              ("x", "2~200자로 적으세요."), ("가" * 201, "2~200자로 적으세요."),
                                              ("점검\x07", "보이지 않는 제어 문자는 입력할 수 없습니다.")])
def test_an_export_needs_a_purpose(as_admin, march_events, purpose, message):
    response = as_admin.post("/admin/audit/export", data={"start": "2024-03-05", "purpose": purpose})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert field_errors(response, "purpose") == [message]
    assert events("audit.export") == []
    assert 'id="start" name="start" placeholder="2024-03-01" type="text" value="2024-03-05"' in page_text(response)


def test_an_export_holds_the_filtered_events_and_is_recorded(as_admin, march_events):
    response = as_admin.post("/admin/audit/export", data={
        "start": "2024. 3. 5.", "end": "2024-03-05", "object_type": "household",
        "object_id": march_events.case_number, "purpose": "3월 개인정보 접속기록 점검"})
    assert response.status_code == 200, page_text(response)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = xlsx_rows(response.data)
    assert ("목적", "3월 개인정보 접속기록 점검") in [row[:2] for row in rows]
    events_rows = [row for row in rows if row[0] and isinstance(row[0], int)]
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in events_rows] == [
        ("2024-03-05 23:59:00", "admin1", "192.168.0.9", "household.update", "household"),
        ("2024-03-05 00:00:00", "coord1", "10.1.2.4", "household.view", "household")]

    [export] = events("audit.export")
    details = json.loads(export.details)
    assert details == {"filters": {"start": "2024-03-05", "end": "2024-03-05", "object_type": "household",
                                   "object_id": str(march_events.id)},
                       "purpose": "3월 개인정보 접속기록 점검", "rows": 2}
    assert export.actor_name == "admin1" and export.chain_seq is not None


def test_text_that_excel_would_read_as_a_formula_is_quoted_in_the_export(as_admin, march_events):
    response = as_admin.post("/admin/audit/export", data={"start": "2024-03-05", "purpose": "=HYPERLINK(\"x\") 점검"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    [purpose] = [row[1] for row in sheet.iter_rows() if row[0].value == "목적"]
    assert purpose.value == "=HYPERLINK(\"x\") 점검" and purpose.data_type == "s" and purpose.quotePrefix is True
    [who] = [row[1] for row in sheet.iter_rows() if row[0].value == "내려받은 사람"]
    assert who.quotePrefix is False


def test_an_export_with_bad_filters_exports_nothing(as_admin, march_events):
    response = as_admin.post("/admin/audit/export", data={"start": "2024-99-01", "purpose": "점검"})
    assert response.mimetype == "text/html"
    assert field_errors(response, "start")
    assert events("audit.export") == []


def test_an_export_too_large_is_refused(app, as_admin, march_events):
    app.config["AUDIT_EXPORT_MAX_ROWS"] = 2
    response = as_admin.post("/admin/audit/export", data={"purpose": "전체 점검"})
    assert response.mimetype == "text/html"
    assert "조건에 맞는 기록이 2건을 넘습니다." in field_errors(response, "purpose")[0]
    assert events("audit.export") == []


# --- the monthly review -----------------------------------------------------------------------------------

MARCH = date(2024, 3, 1)


@pytest.fixture
def march_activity(app, admin, coordinator, make_user):
    """March 2024 in Korean time: views, downloads with purposes, work at odd hours; and its neighbours."""
    heavy = make_user("heavy1", Role.PRACTITIONER)
    tuesday, saturday, sunday = date(2024, 3, 5), date(2024, 3, 9), date(2024, 3, 10)
    for hour in (9, 10):
        add_event("household.view", kst(tuesday, hour), actor=coordinator, object_type="household", object_id=1)
    for n in range(12):
        add_event("input.view", kst(tuesday, 14, n), actor=heavy, object_type="household", object_id=n % 4)
    add_event("minutes.view", kst(tuesday, 11), actor=admin, object_type="meeting", object_id=1)
    add_event("packet.download", kst(tuesday, 15), actor=coordinator, details={"purpose": "사례회의 준비"})
    add_event("packet.download", kst(tuesday, 16), actor=coordinator, details={"purpose": "사례회의 준비"})
    add_event("minutes.download", kst(tuesday, 17), actor=heavy, details={"purpose": "기관 보고"})
    add_event("audit.export", kst(tuesday, 17), actor=admin, details={"purpose": "점검", "rows": 3})
    add_event("login", kst(tuesday, 7, 59), actor=coordinator)     # before 08:00
    add_event("login", kst(tuesday, 8, 0), actor=coordinator)      # working hours
    add_event("login", kst(tuesday, 19, 59), actor=coordinator)    # working hours
    add_event("household.view", kst(tuesday, 20, 0), actor=heavy, object_type="household", object_id=9)  # after 20:00
    add_event("login", kst(saturday, 12), actor=heavy)              # weekend
    add_event("login", kst(sunday, 12), actor=heavy)                # weekend
    add_event("household.view", kst(date(2024, 2, 29), 23, 59), actor=heavy, object_type="household", object_id=1)
    add_event("household.view", kst(date(2024, 4, 1), 0, 0), actor=heavy, object_type="household", object_id=1)
    db.session.commit()
    return heavy


def test_month_review_figures(app, march_activity):
    from conference.audit.review import month_review
    review = month_review(MARCH, threshold=10, multiple=3, working_hours=(8, 20))
    assert (review.events, review.views, review.downloads) == (25, 16, 4)
    assert sorted((r.action, r.purpose, r.count, r.accounts) for r in review.download_reasons) == [
        ("audit.export", "점검", 1, 1), ("minutes.download", "기관 보고", 1, 1), ("packet.download", "사례회의 준비", 2, 1)]
    assert [(r.actor_name, r.events, r.views) for r in review.off_hours_accounts] == [
        ("heavy1", 3, 1), ("coord1", 1, 0)]
    assert review.off_hours == 4
    assert review.median_views == 2
    assert [(a.actor_name, a.views, a.objects, a.flagged) for a in review.accounts] == [
        ("heavy1", 13, 5, True), ("coord1", 2, 1, False), ("admin1", 1, 1, False)]


def test_the_multiple_of_the_median_flags_too(app, march_activity):
    from conference.audit.review import month_review
    review = month_review(MARCH, threshold=1000, multiple=5, working_hours=(8, 20))
    assert [a.actor_name for a in review.accounts if a.flagged] == ["heavy1"]  # 13 > 5 × 2
    review = month_review(MARCH, threshold=1000, multiple=7, working_hours=(8, 20))
    assert [a.actor_name for a in review.accounts if a.flagged] == []


def test_review_page_shows_the_month(app, as_admin, march_activity):
    app.config["AUDIT_REVIEW_VIEW_THRESHOLD"] = 10
    response = as_admin.get("/admin/audit/review?month=2024-03")
    assert response.status_code == 200
    page = page_text(response)
    assert "접속기록 월간 점검 · 2024-03" in page
    assert "사례회의 준비" in page and "기관 보고" in page
    assert re.search(r'<tr class="flagged">\s*<td><a [^>]*>heavy1</a></td>\s*<td>13</td>', page)
    assert "확인 필요" in page
    assert 'href="/admin/audit?actor=heavy1&amp;start=2024-03-01&amp;end=2024-03-31"' in \
        response.get_data(as_text=True)
    assert "아직 이 달을 점검하지 않았습니다." in page


def test_review_copes_with_any_stored_purpose(as_admin, coordinator):
    add_event("packet.download", kst(date(2024, 3, 5), 10), actor=coordinator, details={"purpose": "널\x00문자"})
    add_event("packet.download", kst(date(2024, 3, 5), 11), actor=coordinator, details={"purpose": 7})
    add_event("report.download", kst(date(2024, 3, 5), 12), actor=coordinator, details={"kind": "xlsx"})
    db.session.commit()
    response = as_admin.get("/admin/audit/review?month=2024-03")
    assert response.status_code == 200
    assert "(목적 없음)" in page_text(response)


def test_review_defaults_to_last_month(as_admin):
    last_month = (today_local().replace(day=1) - DAY).strftime("%Y-%m")
    page = page_text(as_admin.get("/admin/audit/review"))
    assert f'name="month" placeholder="2024-03" type="text" value="{last_month}"' in page
    assert f"접속기록 월간 점검 · {last_month}" in page


@pytest.mark.parametrize("month", ["2024-13", "March", "99999-01", "1999-12", "2024-00"])
def test_a_bad_month_gets_a_korean_message(as_admin, month):
    response = as_admin.get(f"/admin/audit/review?month={month}")
    assert response.status_code == 200
    assert field_errors(response, "month") == ["달은 2024-03 처럼 '연도-월'로 입력하세요 (2000~2100년)."]


def test_review_page_queries_do_not_grow_with_the_log(app, as_admin, admin):
    from factories import counting_queries

    def statements(n):
        for k in range(n):
            add_event("household.view", kst(date(2024, 3, 5), 10, k % 60), actor=admin, object_type="household",
                      object_id=k)
        db.session.commit()
        with counting_queries() as seen:
            assert as_admin.get("/admin/audit/review?month=2024-03").status_code == 200
        return len(seen)

    assert statements(3) == statements(60)


def test_marking_a_month_reviewed_is_recorded_and_shown(as_admin, march_activity):
    response = as_admin.post("/admin/audit/review", data={"month": "2024-03", "note": "heavy1 열람 사유 확인함"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/audit/review?month=2024-03"
    [mark] = events("audit.review")
    assert (mark.actor_name, mark.object_type, mark.object_id) == ("admin1", "audit_month", "2024-03")
    details = json.loads(mark.details)
    assert details["note"] == "heavy1 열람 사유 확인함" and details["views"] == 16
    assert details["chain_head"][0] == mark.chain_seq - 1

    page = page_text(as_admin.get("/admin/audit/review?month=2024-03"))
    assert re.search(r"<tr><td>admin1</td><td>\d{4}\. \d+\. \d+\.\(.\) \d\d:\d\d</td>"
                     r'<td class="pre">heavy1 열람 사유 확인함</td></tr>', page)


@pytest.mark.parametrize("data, field, message", [
    ({"month": "2024-03", "note": "   "}, "note", "점검 의견을 적으세요."),
    ({"month": CityDay(0, "%Y-%m"), "note": "이상 없음"}, "note",
     "아직 끝나지 않은 달은 점검 완료로 표시할 수 없습니다."),
    ({"month": "2024-3x", "note": "이상 없음"}, "month", "달은 2024-03 처럼 '연도-월'로 입력하세요"),
    ({"note": "이상 없음"}, "month", "달은 2024-03 처럼 '연도-월'로 입력하세요"),
])
def test_a_bad_review_mark_changes_nothing(as_admin, data, field, message):
    response = as_admin.post("/admin/audit/review", data=on_the_day(data))
    assert response.status_code == 200
    assert any(message in error for error in field_errors(response, field))
    assert events("audit.review") == []


def test_the_household_filter_finds_packets_and_minutes_that_showed_the_case(as_admin, march_events, admin):
    """Packet and minutes views and downloads are recorded against the meeting with the case numbers shown."""
    number = march_events.case_number
    at = kst(date(2024, 3, 7), 10)
    add_event("packet.view", at, actor=admin, object_type="meeting", object_id=1, details={"cases": [number]})
    add_event("minutes.download", at, actor=admin, object_type="meeting", object_id=1,
              details={"cases": ["1999-0001", number], "purpose": "사례 점검"})
    add_event("packet.view", at, actor=admin, object_type="meeting", object_id=2, details={"cases": ["1999-0001"]})
    add_event("meeting.update", at, actor=admin, object_type="meeting", object_id=1, details={"place": number})
    db.session.commit()
    for value in (number, str(march_events.id)):
        rows = audit_rows(as_admin.get(f"/admin/audit?object_type=household&object_id={value}&end=2024-03-31"))
        assert rows == [("admin1", "minutes.download"), ("admin1", "packet.view"), ("admin1", "household.update"),
                        ("coord1", "household.view"), ("coord1", "household.view")]
    for junk in ("abc", "99999999999999999999", "0"):
        response = as_admin.get(f"/admin/audit?object_type=household&object_id={junk}")
        assert response.status_code == 200 and audit_rows(response) == []


def test_minutes_views_record_the_cases_they_showed(client):
    seed_demo(demo.DEFAULT_PASSWORD)
    db.session.commit()
    meeting = db.session.execute(select(Meeting).where(Meeting.year == 2021)).scalar_one()
    shown = sorted(item.household.case_number for item in load_for_minutes(meeting.id).agenda_items)
    client.post("/login", data={"username": "coordinator", "password": demo.DEFAULT_PASSWORD})
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 200
    assert sorted(json.loads(events("minutes.view")[-1].details)["cases"]) == shown


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads SQLite's query plan; PostgreSQL plans by its statistics")
@pytest.mark.parametrize(("filters", "index"), [
    (AuditFilters(object_type="household", object_id="1"), "ix_audit_event_object"),
    (AuditFilters(object_type="meeting", object_id="1"), "ix_audit_event_object"),
    (AuditFilters(actor="coord1"), "ix_audit_event_actor_name"),
], ids=["household", "meeting", "account"])
def test_the_log_is_filtered_through_an_index_not_read_whole(app, make_household, filters, index):
    """The log grows by a row for every view; a filter by case, meeting or account must not read all of it."""
    make_household()
    at = kst(date(2024, 3, 4), 10)
    for n in range(300):  # a log like a real one for the planner's statistics: many kinds of events, few packets
        action = "packet.view" if n % 50 == 0 else f"kind{n % 40}.view"
        add_event(action, at, object_type="household", object_id=n, details={"cases": [f"2024-{n:04d}"]})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    statement = events_query(filters).limit(50).compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(row[3] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}")))
    assert index in plan and "SCAN audit_event" not in plan, plan
