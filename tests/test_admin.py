"""The admin pages: who may open them, agencies, accounts, password resets and the audit trail."""
import html as html_lib
import json
import re

import pytest

from factories import audit_actions, count
from conftest import PASSWORD, is_logged_in
from conference import audit
from conference.extensions import db
from conference.models import Agency, AuditEvent, Role, Sector, User
from conference.models.audit import AppendOnlyError

GENERIC_ERROR = "아이디 또는 비밀번호가 올바르지 않습니다."
TEMPORARY = "temporary-pass-4711"


def login(client, username, password=PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code in (200, 302)
    return response


def field_errors(page: str, field: str) -> list[str]:
    return [html_lib.unescape(m) for m in re.findall(rf'<p class="error" id="{field}-error">(.*?)</p>', page)]


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return html_lib.unescape(match.group(1)) if match else None


def selected_option(page: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    match = re.search(r'<option selected value="([^"]*)"', select.group(1)) if select else None
    return match.group(1) if match else None


def fresh(model, **where):
    db.session.expire_all()
    return db.session.execute(db.select(model).filter_by(**where)).scalar_one()


# --- who may open the admin pages ---------------------------------------------------------------------

ADMIN_PAGES = [
    ("GET", "/admin/agencies"),
    ("GET", "/admin/agencies/new"),
    ("GET", "/admin/agencies/{agency_id}"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("GET", "/admin/users/{user_id}"),
    ("POST", "/admin/users/{user_id}/password"),
    ("GET", "/admin/audit"),
]


@pytest.mark.parametrize("method, url", ADMIN_PAGES)
@pytest.mark.parametrize("role, expected", [
    (Role.COORDINATOR, 403),
    (Role.CHAIR, 403),
    (Role.PRACTITIONER, 403),
    (None, "login"),
    (Role.ADMIN, 200),
])
def test_admin_pages_are_for_admins_only(client, make_agency, make_user, method, url, role, expected):
    agency = make_agency("대상기관")
    target = make_user("target1", Role.PRACTITIONER, agency=agency)
    target_hash = target.password_hash
    if role is not None:
        make_user("visitor", role)
        assert login(client, "visitor").status_code == 302
    url = url.format(agency_id=agency.id, user_id=target.id)
    data = {"password": TEMPORARY, "confirm": TEMPORARY} if expected != 200 else {}
    response = client.open(url, method=method, data=data)
    if expected == "login":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == expected
        if expected == 403:
            assert "이 페이지를 볼 권한이 없습니다." in response.get_data(as_text=True)
    # Whatever happened, a refused reset changed nothing.
    assert fresh(User, username="target1").password_hash == target_hash
    assert audit_actions("password.reset") == []


# --- agencies -----------------------------------------------------------------------------------------

AGENCY = {"name": "희망나눔센터", "is_public": "0", "sector": Sector.PRIVATE.value, "is_active": "y"}


def test_create_agency(as_admin, admin):
    response = as_admin.post("/admin/agencies/new", data=AGENCY)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/agencies"
    agency = fresh(Agency, name="희망나눔센터")
    assert (agency.is_public, agency.sector, agency.is_active) == (False, "private", True)
    page = as_admin.get("/admin/agencies").get_data(as_text=True)
    assert f'href="/admin/agencies/{agency.id}">희망나눔센터</a>' in page
    [event] = audit_actions("agency.create")
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "agency", str(agency.id))
    assert json.loads(event.details) == {"name": "희망나눔센터", "is_public": False, "sector": "private"}


def test_create_agency_trims_the_name(as_admin):
    as_admin.post("/admin/agencies/new", data={**AGENCY, "name": "  여백복지관  "})
    assert fresh(Agency, name="여백복지관").sector == "private"


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "필수 항목입니다."),
    ({"name": "   "}, "name", "필수 항목입니다."),
    ({"name": "가" * 101}, "name", "100자 이하로 입력하세요."),
    ({"name": "hope CENTER"}, "name", "같은 이름의 기관이 이미 있습니다."),
    ({"sector": "spaceship"}, "sector", "올바르지 않은 선택값입니다."),
    ({"is_public": "maybe"}, "is_public", "올바르지 않은 선택값입니다."),
], ids=["empty-name", "blank-name", "long-name", "duplicate-name", "unknown-sector", "unknown-public"])
def test_bad_agency_input_is_shown_again_and_nothing_saved(as_admin, make_agency, changes, field, message):
    make_agency("Hope Center")
    before = count(Agency)
    data = {**AGENCY, "sector": Sector.SCHOOL.value, **changes}
    response = as_admin.post("/admin/agencies/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page, field) == [message]
    # The values come back as submitted.
    assert input_value(page, "name") == data["name"]
    if field != "sector":
        assert selected_option(page, "sector") == "school"
    if field != "is_public":
        assert selected_option(page, "is_public") == "0"
    assert count(Agency) == before
    assert audit_actions("agency.create") == []


@pytest.mark.parametrize("existing, typed", [("ＡＢＣ복지관", "ＡＢＣ복지관"), ("Ärzte ohne Grenzen", "ärzte OHNE grenzen")])
def test_a_taken_name_beyond_ascii_is_refused_not_a_500(as_admin, make_agency, existing, typed):
    """Found by the fuzzing (tests/test_fuzz.py): SQLite's lower() folds only ASCII, so the check missed
    the name and the insert failed on the unique constraint."""
    make_agency(existing)
    before = count(Agency)
    response = as_admin.post("/admin/agencies/new", data={**AGENCY, "name": typed})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "name") == ["같은 이름의 기관이 이미 있습니다."]
    assert count(Agency) == before


def test_edit_agency_records_before_and_after(as_admin, admin, make_agency):
    agency = make_agency("옛 이름", sector=Sector.OTHER, is_public=True)
    page = as_admin.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert input_value(page, "name") == "옛 이름"
    response = as_admin.post(f"/admin/agencies/{agency.id}", data={
        "name": "새 이름", "is_public": "1", "sector": "school", "is_active": "y"})
    assert response.status_code == 302
    agency = fresh(Agency, id=agency.id)
    assert (agency.name, agency.sector, agency.is_public) == ("새 이름", "school", True)
    [event] = audit_actions("agency.update")
    assert event.actor_id == admin.id and event.object_id == str(agency.id)
    assert json.loads(event.details) == {"name": ["옛 이름", "새 이름"], "sector": ["other", "school"]}


def test_edit_agency_to_a_taken_name_changes_nothing(as_admin, make_agency):
    make_agency("Alpha")
    agency = make_agency("Beta")
    response = as_admin.post(f"/admin/agencies/{agency.id}", data={
        "name": "ALPHA", "is_public": "0", "sector": "school", "is_active": "y"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "name") == ["같은 이름의 기관이 이미 있습니다."]
    agency = fresh(Agency, id=agency.id)
    assert (agency.name, agency.is_public, agency.sector) == ("Beta", True, "other")
    assert audit_actions("agency.update") == []


def test_saving_an_unchanged_agency_records_nothing(as_admin, make_agency):
    agency = make_agency("그대로", sector=Sector.SCHOOL, is_public=False)
    as_admin.post(f"/admin/agencies/{agency.id}", data={
        "name": "그대로", "is_public": "0", "sector": "school", "is_active": "y"})
    assert audit_actions("agency.update") == []


# --- accounts -----------------------------------------------------------------------------------------


@pytest.fixture
def home_agency(make_agency):
    return make_agency("소속기관")


def new_user_data(agency, **changes):
    data = {"username": "newbie", "display_name": "신입직원", "position": "주무관", "email": "new@example.org",
            "agency_id": str(agency.id), "role": "practitioner", "password": TEMPORARY, "confirm": TEMPORARY}
    data.update(changes)
    return data


def test_create_user(as_admin, admin, home_agency, app):
    response = as_admin.post("/admin/users/new", data=new_user_data(home_agency))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    user = fresh(User, username="newbie")
    assert (user.display_name, user.position, user.email, user.agency_id, user.role) == (
        "신입직원", "주무관", "new@example.org", home_agency.id, "practitioner")
    assert user.must_change_password is True
    assert user.password_hash.startswith("$argon2id$")
    [event] = [e for e in audit_actions("user.create") if e.object_id == str(user.id)]
    assert event.actor_id == admin.id

    newbie = app.test_client()
    assert login(newbie, "newbie", TEMPORARY).headers["Location"] == "/home"
    response = newbie.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"


@pytest.mark.parametrize("changes, field, message", [
    ({"username": "A b"}, "username", "아이디는 영문 소문자·숫자·점·밑줄·하이픈으로 3~40자입니다."),
    ({"username": "ab"}, "username", "아이디는 영문 소문자·숫자·점·밑줄·하이픈으로 3~40자입니다."),
    ({"username": ""}, "username", "필수 항목입니다."),
    ({"username": "coord1"}, "username", "이미 쓰이는 아이디입니다."),
    ({"password": "short-pw1", "confirm": "short-pw1"}, "password", "비밀번호는 10자 이상이어야 합니다."),
    ({"password": "newbie-secret-9", "confirm": "newbie-secret-9"}, "password", "비밀번호에 아이디를 넣을 수 없습니다."),
    ({"confirm": TEMPORARY + "x"}, "confirm", "비밀번호가 서로 다릅니다."),
    ({"agency_id": "999999"}, "agency_id", "올바르지 않은 선택값입니다."),
    ({"agency_id": "inactive"}, "agency_id", "올바르지 않은 선택값입니다."),
    ({"role": "superuser"}, "role", "올바르지 않은 선택값입니다."),
    ({"email": "not-an-email"}, "email", "이메일 형식이 올바르지 않습니다."),
    ({"phone": "내선 2101"}, "phone", "업무 연락처는 031-860-2101처럼 숫자와 하이픈으로 적으세요."),
    ({"display_name": ""}, "display_name", "필수 항목입니다."),
], ids=["bad-username", "short-username", "no-username", "duplicate-username", "short-password",
        "password-with-username", "confirmation-differs", "unknown-agency", "inactive-agency", "unknown-role",
        "bad-email", "bad-phone", "no-name"])
def test_bad_user_input_is_refused(as_admin, coordinator, home_agency, make_agency, changes, field, message):
    if changes.get("agency_id") == "inactive":
        changes = {"agency_id": str(make_agency("문 닫은 기관", is_active=False).id)}
    before = count(User)
    data = new_user_data(home_agency, **changes)
    response = as_admin.post("/admin/users/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page, field) == [message]
    if field != "display_name":
        assert input_value(page, "display_name") == "신입직원"
    if field != "role":
        assert selected_option(page, "role") == "practitioner"
    assert count(User) == before
    assert len(audit_actions("user.create")) == before


def user_form_data(user, **changes):
    data = {"display_name": user.display_name, "position": user.position, "email": user.email,
            "agency_id": str(user.agency_id), "role": user.role, "is_active_account": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_account_keeps_its_office_phone(as_admin, make_user):
    target = make_user("target1", Role.COORDINATOR)
    response = as_admin.post(f"/admin/users/{target.id}", data=user_form_data(target, phone="031-860-2101"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, target.id).phone == "031-860-2101"
    page = as_admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert input_value(page, "phone") == "031-860-2101"


def test_edit_user_page_shows_the_account(as_admin, make_user):
    target = make_user("target1", Role.PRACTITIONER, position="팀원")
    page = as_admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert input_value(page, "display_name") == "Target1"
    assert input_value(page, "position") == "팀원"
    assert selected_option(page, "role") == "practitioner"
    assert "target1" in page


def test_changing_a_role_is_audited_as_a_grant(as_admin, admin, make_user):
    target = make_user("target1", Role.PRACTITIONER)
    response = as_admin.post(f"/admin/users/{target.id}", data=user_form_data(target, role="coordinator"))
    assert response.status_code == 302
    assert fresh(User, username="target1").role == "coordinator"
    [event] = audit_actions("user.grant")
    assert (event.actor_id, event.object_id) == (admin.id, str(target.id))
    assert json.loads(event.details) == {"role": ["practitioner", "coordinator"]}


def test_moving_a_user_to_another_agency_is_a_grant(as_admin, make_agency, make_user):
    target = make_user("target1", Role.PRACTITIONER)
    old_agency = target.agency_id
    new_agency = make_agency("새 소속")
    as_admin.post(f"/admin/users/{target.id}", data=user_form_data(target, agency_id=str(new_agency.id)))
    [event] = audit_actions("user.grant")
    assert json.loads(event.details) == {"agency_id": [old_agency, new_agency.id]}


def test_deactivating_a_user_ends_their_session(app, as_admin, admin, make_user):
    target = make_user("target1", Role.PRACTITIONER)
    target_client = app.test_client()
    login(target_client, "target1")
    assert is_logged_in(target_client)

    response = as_admin.post(f"/admin/users/{target.id}", data=user_form_data(target, is_active_account=None))
    assert response.status_code == 302
    assert fresh(User, username="target1").is_active_account is False
    [event] = audit_actions("user.deactivate")
    assert event.actor_id == admin.id
    assert json.loads(event.details) == {"is_active_account": [True, False]}

    assert not is_logged_in(target_client)
    response = login(target_client, "target1")
    assert response.status_code == 200 and GENERIC_ERROR in response.get_data(as_text=True)
    assert is_logged_in(as_admin)


def test_reactivating_a_user(as_admin, make_user):
    target = make_user("target1", Role.PRACTITIONER)
    target.is_active_account = False
    db.session.commit()
    as_admin.post(f"/admin/users/{target.id}", data=user_form_data(target))
    assert fresh(User, username="target1").is_active_account is True
    assert len(audit_actions("user.activate")) == 1


@pytest.mark.parametrize("changes", [{"role": "coordinator"}, {"is_active_account": None}],
                         ids=["demote", "deactivate"])
def test_admin_cannot_demote_or_deactivate_themselves(as_admin, admin, changes):
    response = as_admin.post(f"/admin/users/{admin.id}", data=user_form_data(admin, **changes))
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "role") == ["자기 계정의 역할을 바꾸거나 비활성화할 수 없습니다."]
    user = fresh(User, username="admin1")
    assert (user.role, user.is_active_account) == ("admin", True)
    assert audit_actions("user.grant") == audit_actions("user.deactivate") == audit_actions("user.update") == []
    assert as_admin.get("/admin/users").status_code == 200


def test_admin_moving_themselves_keeps_this_session_and_ends_the_others(app, as_admin, admin, make_agency):
    other_device = app.test_client()
    login(other_device, "admin1")
    new_agency = make_agency("새 소속")
    response = as_admin.post(f"/admin/users/{admin.id}", data=user_form_data(admin, agency_id=str(new_agency.id)))
    assert response.status_code == 302
    assert fresh(User, username="admin1").agency_id == new_agency.id
    assert as_admin.get("/admin/users").status_code == 200
    assert not is_logged_in(other_device)


def test_admin_resetting_their_own_password_stays_logged_in(app, as_admin, admin):
    response = as_admin.post(f"/admin/users/{admin.id}/password", data={"password": TEMPORARY, "confirm": TEMPORARY})
    assert response.status_code == 302
    assert as_admin.get("/admin/users").status_code == 200
    assert fresh(User, username="admin1").must_change_password is False
    assert login(app.test_client(), "admin1", TEMPORARY).status_code == 302


def test_reset_password(app, as_admin, admin, make_user):
    target = make_user("target1", Role.PRACTITIONER)
    target_client = app.test_client()
    login(target_client, "target1")
    assert is_logged_in(target_client)

    response = as_admin.post(f"/admin/users/{target.id}/password", data={"password": TEMPORARY, "confirm": TEMPORARY})
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{target.id}"
    [event] = audit_actions("password.reset")
    assert (event.actor_id, event.object_id) == (admin.id, str(target.id))
    assert fresh(User, username="target1").must_change_password is True

    assert not is_logged_in(target_client)
    assert GENERIC_ERROR in login(target_client, "target1", PASSWORD).get_data(as_text=True)
    assert login(target_client, "target1", TEMPORARY).headers["Location"] == "/home"
    response = target_client.get("/home")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    assert is_logged_in(as_admin)


def test_bad_reset_password_changes_nothing(as_admin, make_user):
    target = make_user("target1", Role.PRACTITIONER)
    old_hash = target.password_hash
    response = as_admin.post(f"/admin/users/{target.id}/password",
                             data={"password": TEMPORARY, "confirm": TEMPORARY + "x"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "confirm") == ["비밀번호가 서로 다릅니다."]
    assert fresh(User, username="target1").password_hash == old_hash
    assert audit_actions("password.reset") == []


def test_unknown_ids_give_404(as_admin):
    assert as_admin.get("/admin/users/99999").status_code == 404
    assert as_admin.get("/admin/agencies/99999").status_code == 404
    assert as_admin.post("/admin/users/99999/password", data={}).status_code == 404


# --- the audit trail ----------------------------------------------------------------------------------


def audit_rows(page: str) -> list[tuple[str, str]]:
    """(actor, action) of every row of the audit table."""
    return re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", page)


def test_audit_page_lists_and_filters(app, coordinator, as_admin):
    as_admin.post("/admin/agencies/new", data=AGENCY)
    login(app.test_client(), "coord1", "not-the-password")

    rows = audit_rows(as_admin.get("/admin/audit").get_data(as_text=True))
    # Newest first.
    assert rows == [("coord1", "login.failed"), ("admin1", "agency.create"), ("admin1", "login"),
                    ("cli", "user.create"), ("cli", "user.create")]

    rows = audit_rows(as_admin.get("/admin/audit?action=agency.").get_data(as_text=True))
    assert rows == [("admin1", "agency.create")]

    rows = audit_rows(as_admin.get("/admin/audit?actor=coord1").get_data(as_text=True))
    assert rows == [("coord1", "login.failed")]

    rows = audit_rows(as_admin.get("/admin/audit?action=login&actor=ADMIN1").get_data(as_text=True))
    assert rows == [("admin1", "login")]

    page = as_admin.get("/admin/audit?action=nothing.like.this").get_data(as_text=True)
    assert audit_rows(page) == [] and "기록이 없습니다." in page


def test_audit_action_filter_treats_wildcards_literally(as_admin):
    page = as_admin.get("/admin/audit?action=%25").get_data(as_text=True)
    assert audit_rows(page) == []


def test_audit_events_cannot_be_changed_or_deleted(app, admin):
    event = audit.record("test.event", details={"x": 1}, actor=admin)
    db.session.commit()
    event_id = event.id

    event.action = "test.changed"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()

    db.session.delete(db.session.get(AuditEvent, event_id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()

    stored = fresh(AuditEvent, id=event_id)
    assert (stored.action, stored.details, stored.actor_id) == ("test.event", '{"x": 1}', admin.id)


def test_bulk_statements_cannot_change_the_audit_trail(app):
    event = audit.record("test.event", actor_name="someone")
    db.session.commit()
    with pytest.raises(AppendOnlyError):
        db.session.execute(db.update(AuditEvent).values(action="test.changed"))
    db.session.rollback()
    with pytest.raises(AppendOnlyError):
        db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == event.id))
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).action == "test.event"
