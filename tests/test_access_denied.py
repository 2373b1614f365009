"""Refused access (access.denied): recorded, folded per account, route and minute, and shown in the monthly review.

A signed-in user answered 403 or 404 on a route naming a case, meeting, action or upload gets one chained event per
route and minute; the refusals of that minute are counted in its ``access_denial`` row. In the ``world`` of
``factories_world``: ``police`` works at an agency invited to nothing, ``mh`` at one invited to both meetings.
"""
import json
import logging
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from factories import signed_in, text
from sqlalchemy import func, select

from conference import audit, errors
from conference.core.formatting import KST
from conference.extensions import db
from conference.models import AccessDenial, AuditEvent, User

MISSING = 900_000


def denied_events() -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == audit.DENIED_ACTION)
                              .order_by(AuditEvent.id)).scalars().all()


def folds() -> list[AccessDenial]:
    db.session.expire_all()
    return db.session.execute(select(AccessDenial).order_by(AccessDenial.id)).scalars().all()


@pytest.fixture
def clock(world):
    """A clock standing still at second 5 of the next minute (moved by hand); the world is seeded before it."""
    start = (datetime.now(UTC) + timedelta(minutes=1)).replace(second=5, microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


@pytest.fixture
def police(app, world, clock):
    return signed_in(app, "police")


# --- what is recorded --------------------------------------------------------------------------------------

def test_a_hidden_case_opened_by_an_uninvited_agency_is_recorded(app, world, police):
    response = police.get(world.url("/cases/{hidden_case}"))
    assert response.status_code == 404
    assert "찾는 페이지가 없습니다." in text(response)

    [event] = denied_events()
    user = db.session.execute(select(User).where(User.username == "police")).scalar_one()
    assert (event.actor_id, event.actor_name, event.ip) == (user.id, "police", "127.0.0.1")
    assert (event.object_type, event.object_id) == ("household", str(world.ids["hidden_case"]))
    assert json.loads(event.details) == {"endpoint": "cases.detail", "rule": "/cases/<int:household_id>",
                                         "method": "GET", "status": 404}
    [fold] = folds()
    assert (fold.user_id, fold.route, fold.count, fold.object_type, fold.audit_event_id) == (
        user.id, "cases.detail", 1, "household", event.id)
    assert fold.object_ids == str(world.ids["hidden_case"])


@pytest.mark.parametrize(("username", "method", "url", "status", "object_type", "object_key"), [
    ("police", "GET", "/cases/{hidden_case}", 404, "household", "hidden_case"),
    ("police", "POST", "/cases/{hidden_case}/edit", 404, "household", "hidden_case"),
    ("mh", "GET", "/cases/{case}/edit", 403, "household", "case"),
    ("mh", "GET", "/actions/{other_action}", 404, "action_item", "other_action"),
    ("police", "GET", "/meetings/{upcoming}/packet", 404, "meeting", "upcoming"),
    ("police", "POST", "/meetings/{past}/minutes.docx", 404, "meeting", "past"),
    ("police", "GET", "/meetings/{upcoming}/inputs/{item}", 404, "meeting", "upcoming"),
    ("mh", "GET", "/cases/import/{batch}", 403, "import_batch", "batch"),
], ids=["case", "case-post", "case-read-only", "action", "packet", "minutes-download", "input", "upload"])
def test_refusals_are_recorded_against_the_object_the_route_names(app, world, username, method, url, status,
                                                                   object_type, object_key):
    web = signed_in(app, username)
    response = web.open(world.url(url), method=method, data={"purpose": "회의 준비"} if method == "POST" else None)
    assert response.status_code == status
    [event] = denied_events()
    assert (event.actor_name, event.object_type, event.object_id) == (username, object_type,
                                                                       str(world.ids[object_key]))
    details = json.loads(event.details)
    assert (details["method"], details["status"]) == (method, status)
    if "{item}" in url:
        assert details["item_id"] == world.ids["item"]


def test_fifty_refusals_in_a_minute_are_one_event_counting_fifty(app, world, police, clock):
    ids = [world.ids["hidden_case"]] + [MISSING + n for n in range(49)]
    for household_id in ids:
        assert police.get(f"/cases/{household_id}").status_code == 404
        clock.shift(timedelta(milliseconds=900))  # 45 seconds in all, within the minute
    [event] = denied_events()
    [fold] = folds()
    assert (fold.count, fold.audit_event_id) == (50, event.id)
    assert fold.object_ids.split(",") == [str(i) for i in ids]
    assert fold.last_at > event.occurred_at


def test_the_same_id_tried_again_is_counted_not_listed_again(app, world, police):
    for _ in range(3):
        police.get(world.url("/cases/{hidden_case}"))
    [fold] = folds()
    assert (fold.count, fold.object_ids) == (3, str(world.ids["hidden_case"]))


def test_ids_kept_per_minute_are_bounded_but_the_count_is_not(app, world, police, monkeypatch):
    monkeypatch.setattr(audit, "DENIED_IDS_KEPT", 3)
    for n in range(5):
        police.get(f"/cases/{MISSING + n}")
    [fold] = folds()
    assert (fold.count, fold.object_ids) == (5, f"{MISSING},{MISSING + 1},{MISSING + 2}")


def test_a_new_minute_gives_a_new_event(app, world, police, clock):
    for _ in range(3):
        police.get(world.url("/cases/{hidden_case}"))
    clock.shift(timedelta(minutes=1))
    police.get(world.url("/cases/{hidden_case}"))
    assert len(denied_events()) == 2
    assert [fold.count for fold in folds()] == [3, 1]


def test_two_routes_give_two_events(app, world, police):
    for _ in range(2):
        police.get(world.url("/cases/{hidden_case}"))
        police.get(world.url("/actions/{other_action}"))
    assert [(e.object_type, json.loads(e.details)["endpoint"]) for e in denied_events()] == [
        ("household", "cases.detail"), ("action_item", "actions.detail")]
    assert sorted((fold.route, fold.count) for fold in folds()) == [("actions.detail", 2), ("cases.detail", 2)]


def test_two_accounts_on_one_route_give_two_events(app, world, police):
    police.get(world.url("/actions/{other_action}"))
    signed_in(app, "mh").get(world.url("/actions/{other_action}"))
    assert [e.actor_name for e in denied_events()] == ["police", "mh"]


def test_anonymous_requests_record_nothing(app, world, client):
    response = client.get(world.url("/cases/{hidden_case}"))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get(f"/cases/{MISSING}").status_code == 302
    assert denied_events() == [] and folds() == []


@pytest.mark.parametrize(("url", "status"), [
    ("/no/such/page", 404),
    ("/cases/not-a-number", 404),
    ("/admin/users", 403),
    ("/dashboard/report.pdf", 404),
    ("/cases", 403),
])
def test_a_refusal_on_a_route_naming_no_case_meeting_or_action_records_nothing(app, world, police, url, status):
    assert police.get(url).status_code == status
    assert denied_events() == [] and folds() == []


def test_allowed_pages_record_no_refusal(app, world):
    web = signed_in(app, "mh")
    assert web.get(world.url("/cases/{case}")).status_code == 200
    assert web.get(world.url("/actions/{own_action}")).status_code == 200
    assert denied_events() == [] and folds() == []


def test_the_chain_verifies_after_refusals(app, world, police, runner, clock):
    for n in range(5):
        police.get(f"/cases/{MISSING + n}")
        police.get(f"/meetings/{MISSING + n}/packet")
    clock.shift(timedelta(minutes=1))
    police.get(world.url("/cases/{hidden_case}"))
    assert len(denied_events()) == 3
    db.session.commit()
    assert audit.verify_chain().ok
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output


def test_concurrent_refusals_of_one_minute_make_one_event(app, world, clock):
    """Several workers refused at once on the same route and minute: no error page, one event, every refusal counted."""
    clients = [signed_in(app, "police") for _ in range(4)]
    per_client, statuses, errors_seen = 5, [], []
    start = threading.Barrier(len(clients))

    def refuse(web):
        try:
            start.wait()
            for n in range(per_client):
                statuses.append(web.get(f"/cases/{MISSING + n}").status_code)
        except Exception as error:  # pragma: no cover - reported below
            errors_seen.append(error)

    db.session.commit()
    threads = [threading.Thread(target=refuse, args=(web,)) for web in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors_seen == [] and statuses == [404] * (len(clients) * per_client)
    [fold] = folds()
    assert fold.count == len(clients) * per_client
    assert len(denied_events()) == 1
    assert audit.verify_chain().ok


def test_a_failure_to_record_still_sends_the_refusal_page(app, world, police, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(audit, "record_denial", broken)
    with caplog.at_level(logging.WARNING, logger="conference.errors"):
        response = police.get(world.url("/cases/{hidden_case}"))
    assert response.status_code == 404 and "찾는 페이지가 없습니다." in text(response)
    assert any("access.denied" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_every_route_argument_naming_an_object_is_classified(app):
    """A new route naming an object by id must be put in DENIED_OBJECT_ARGS or UNRECORDED_OBJECT_ARGS."""
    named = {argument for rule in app.url_map.iter_rules() for argument in rule.arguments if argument.endswith("_id")}
    classified = set(errors.DENIED_OBJECT_ARGS) | errors.UNRECORDED_OBJECT_ARGS
    assert named - classified == set()
    assert not set(errors.DENIED_OBJECT_ARGS) & errors.UNRECORDED_OBJECT_ARGS
    recorded = sorted(rule.endpoint for rule in app.url_map.iter_rules()
                      if errors.refused_object(dict.fromkeys(rule.arguments, 1)))
    assert {"cases.detail", "meetings.packet", "meetings.packet_docx", "minutes.minutes_page", "minutes.minutes_docx",
            "minutes.attendance_docx", "meetings.invitation_ics", "actions.detail", "cases.import_preview",
            "inputs.edit"} <= set(recorded)
    assert not [endpoint for endpoint in recorded if endpoint.startswith(("admin.", "auth.", "dashboard."))]


# --- the audit list and the monthly review ------------------------------------------------------------------

def test_the_audit_list_labels_refusals_and_shows_what_was_folded(app, world, police):
    for n in range(3):
        police.get(f"/cases/{MISSING + n}")
    admin = signed_in(app, "admin")
    page = text(admin.get("/admin/audit?action=access.denied"))
    assert "access.denied <span class=\"tag warning\">접근 거부</span>" in page
    assert f"이 분 동안 거부 3회, 시도한 번호: {MISSING}, {MISSING + 1}, {MISSING + 2}" in page
    assert f"사례(가구) #{MISSING}" in page


def test_the_monthly_review_lists_refused_accounts_and_flags_the_one_over_the_threshold(app, world, police, clock):
    app.config["AUDIT_REVIEW_DENIED_THRESHOLD"] = 5
    mh = signed_in(app, "mh")
    for _ in range(3):
        mh.get(world.url("/actions/{other_action}"))
    for n in range(4):
        police.get(f"/cases/{MISSING + n}")
    clock.shift(timedelta(minutes=1))
    for n in range(3):
        police.get(f"/cases/{MISSING + n}")
    police.get(world.url("/meetings/{upcoming}/packet"))
    month = datetime.now(UTC).astimezone(KST).strftime("%Y-%m")

    response = signed_in(app, "admin").get(f"/admin/audit/review?month={month}")
    assert response.status_code == 200
    page = text(response)
    table = page[page.index('<table class="data" id="denied">'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'<tr( class="flagged")?>\s*<td><a [^>]*>(\w+)</a></td>\s*<td>([\d,]+)</td>\s*'
                      r'<td>([^<]*)</td>\s*<td>([\d,]+)</td>\s*<td>(.*?)</td>', table, re.S)
    assert [(flag, name, refusals, routes, objects, "확인 필요" in verdict)
            for flag, name, refusals, routes, objects, verdict in rows] == [
        (' class="flagged"', "police", "8", "cases.detail, meetings.packet", "5", True),
        ("", "mh", "3", "actions.detail", "1", False)]
    assert page.index('id="denied"') < page.index('id="views"')  # near the top of the page
    assert re.search(r"<dt>접근 거부</dt><dd>11</dd>", page)
    assert "actor=police&amp;action=access.denied" in response.get_data(as_text=True)


def test_a_month_review_mark_records_the_refusals_seen(app, world, police):
    from conference.audit.review import mark_month_reviewed, month_review
    police.get(world.url("/cases/{hidden_case}"))
    today = datetime.now(UTC).astimezone(KST).date()
    review = month_review(today.replace(day=1), threshold=300, multiple=3, denied_threshold=0)
    assert [(a.actor_name, a.refusals, a.flagged) for a in review.denied_accounts] == [("police", 1, True)]
    mark_month_reviewed(review, note="police 거부 확인")
    db.session.commit()
    [mark] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "audit.review")).scalars()
    details = json.loads(mark.details)
    assert (details["denied"], details["denied_flagged"]) == (1, ["police"])


def test_the_purge_deletes_refusal_counts_with_their_events(app, world, police, runner):
    police.get(world.url("/cases/{hidden_case}"))
    [fold] = folds()
    old = datetime.now(UTC) - timedelta(days=800)
    db.session.add(AccessDenial(user_id=fold.user_id, route="cases.detail", minute=old.replace(second=0, microsecond=0),
                                object_type="household", count=7, object_ids="1", last_at=old))
    db.session.add(AuditEvent(occurred_at=old, action=audit.DENIED_ACTION, actor_id=fold.user_id,
                              actor_name="police", object_type="household", object_id="1"))
    db.session.commit()
    result = runner.invoke(args=["purge-audit"])
    assert result.exit_code == 0, result.output
    assert [f.count for f in folds()] == [1]
    [purge] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "audit.purge")).scalars()
    assert json.loads(purge.details)["denial_rows_deleted"] == 1
    assert db.session.execute(select(func.count()).select_from(AccessDenial)).scalar_one() == 1
    assert audit.verify_chain().ok
