"""The command-line tools: init-db, seed-demo and create-user."""
import pytest
from sqlalchemy import inspect, text

from factories import count
from conftest import POSTGRES_URL, make_app
from conference.extensions import db
from conference.models import ActionItem, Agency, AuditEvent, Household, Meeting, Role, Sector, User

DEMO_AGENCIES = {
    "동두천시 복지정책과": (True, Sector.WELFARE_DIVISION),
    "무한돌봄센터": (True, Sector.CASE_MANAGEMENT_CENTRE),
    "중앙동 행정복지센터": (True, Sector.COMMUNITY_CENTRE),
    "정신건강복지센터": (True, Sector.MENTAL_HEALTH),
    "드림스타트": (True, Sector.DREAM_START),
    "천사운동본부": (False, Sector.PRIVATE),
}
DEMO_USERS = {
    "admin": Role.ADMIN, "coordinator": Role.COORDINATOR, "chair": Role.CHAIR, "mh": Role.PRACTITIONER,
    "dream": Role.PRACTITIONER, "dong": Role.PRACTITIONER, "angel": Role.PRACTITIONER,
}


def usernames() -> set[str]:
    return set(db.session.execute(db.select(User.username)).scalars())


def can_log_in(client, username, password) -> bool:
    response = client.post("/login", data={"username": username, "password": password})
    if response.status_code != 302:
        return False
    assert response.headers["Location"] == "/home"
    assert client.get("/home").status_code == 200
    client.post("/logout")
    return True


# --- init-db --------------------------------------------------------------------------------------


def test_init_db_can_run_twice(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Database is up to date" in result.output
    assert db.session.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


@pytest.mark.skipif(bool(POSTGRES_URL), reason="needs an empty database of its own (SQLite file)")
def test_init_db_creates_the_schema_in_an_empty_database(tmp_path):
    fresh = make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    runner = fresh.test_cli_runner()
    with fresh.app_context():
        assert inspect(db.engine).get_table_names() == []
        for _ in range(2):
            result = runner.invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
        tables = set(inspect(db.engine).get_table_names())
        assert {"agency", "user_account", "audit_event", "login_throttle", "alembic_version"} <= tables
        db.engine.dispose()


# --- seed-demo ------------------------------------------------------------------------------------


def test_seed_demo_creates_agencies_and_users_and_is_idempotent(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    agencies = {a.name: (a.is_public, a.sector) for a in db.session.execute(db.select(Agency)).scalars()}
    assert agencies == {name: (public, sector.value) for name, (public, sector) in DEMO_AGENCIES.items()}
    users = {u.username: u.role for u in db.session.execute(db.select(User)).scalars()}
    assert users == {name: role.value for name, role in DEMO_USERS.items()}
    demo_admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
    assert demo_admin.agency.name == "동두천시 복지정책과"
    assert demo_admin.must_change_password is False

    counts = {model: count(model) for model in db.metadata.tables.values() if model.name != "alembic_version"}
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "데모 데이터: 0 건 추가" in result.output
    assert {model: count(model) for model in counts} == counts


def test_demo_users_log_in_with_the_default_password(runner, client, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for username in DEMO_USERS:
        assert can_log_in(client, username, "conference-demo"), username


def test_demo_password_comes_from_the_environment(runner, client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "lighthouse-orchard-77")
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for username in DEMO_USERS:
        assert can_log_in(client, username, "lighthouse-orchard-77"), username
    assert not can_log_in(client, "admin", "conference-demo")


def test_seed_demo_if_empty_leaves_existing_accounts_alone(runner, make_user):
    make_user("existing")
    before = (count(Agency), count(User))
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Accounts exist" in result.output
    assert (count(Agency), count(User)) == before
    assert usernames() == {"existing"}


def test_seed_demo_if_empty_seeds_an_empty_database(runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert usernames() == set(DEMO_USERS)


def test_seed_demo_generates_households_with_their_history_and_reports_it(runner):
    result = runner.invoke(args=["seed-demo", "--households", "100", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "가구 / households: 100" in result.output and "회의록 / minutes:" in result.output
    assert count(Household) == 100 + 8  # and the demo's eight
    assert count(Meeting) >= 2 + 100 // 25 and count(ActionItem) > 0


# --- create-user ----------------------------------------------------------------------------------

NEW_PASSWORD = "quiet-river-stones"


def create_user_args(**changes):
    options = {"username": "newbie", "name": "신입", "agency": "복지관", "role": "practitioner",
               "position": "주무관", "password": NEW_PASSWORD}
    options.update(changes)
    return ["create-user"] + [item for key, value in options.items() for item in (f"--{key}", value)]


def test_create_user_makes_an_account_that_can_log_in(runner, client, make_agency):
    agency = make_agency("복지관")
    result = runner.invoke(args=create_user_args(role="coordinator"))
    assert result.exit_code == 0, result.output
    assert "newbie" in result.output
    user = db.session.execute(db.select(User).where(User.username == "newbie")).scalar_one()
    assert (user.display_name, user.agency_id, user.role, user.position) == ("신입", agency.id, "coordinator", "주무관")
    assert user.must_change_password is False
    assert user.password_hash.startswith("$argon2id$")
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "user.create",
                                                           AuditEvent.object_id == str(user.id))).scalar_one()
    assert event.actor_name == "cli" and event.actor_id is None
    assert can_log_in(client, "newbie", NEW_PASSWORD)


@pytest.mark.parametrize("changes, message", [
    ({"agency": "없는 기관"}, "No such agency"),
    ({"password": "short-pw1"}, "비밀번호는 10자 이상이어야 합니다."),
    ({"password": "qwertyuiop"}, "너무 흔하거나 추측하기 쉬운 비밀번호입니다."),
    ({"password": "newbie-and-more"}, "비밀번호에 아이디를 넣을 수 없습니다."),
    ({"username": "taken"}, "이미 쓰이는 아이디입니다."),
    ({"username": "TAKEN"}, "이미 쓰이는 아이디입니다."),
    ({"username": "A b"}, "아이디는 영문 소문자·숫자·점·밑줄·하이픈으로 3~40자입니다."),
    ({"role": "superuser"}, "superuser"),
], ids=["unknown-agency", "short-password", "common-password", "password-with-username", "duplicate",
        "duplicate-other-case", "bad-username", "unknown-role"])
def test_create_user_refuses_bad_input(runner, make_agency, make_user, changes, message):
    make_agency("복지관")
    make_user("taken")
    before = usernames()
    result = runner.invoke(args=create_user_args(**changes))
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # a clean error, not a crash
    assert message in result.output
    db.session.rollback()
    assert usernames() == before
