"""The backup and restore commands: a round trip restores every table, and a restore refuses what it must."""
import json
import os
import sqlite3
import stat

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import column, inspect, table, text
from sqlalchemy.engine import make_url

from conftest import POSTGRES_URL
from conference.admin.backup import BackupError, create_backup, file_sha256, find_pg_client, pg_connection, \
    revision_is_current
from conference.extensions import db
from conference.models import Agency, AuditEvent, Member, RecoveryCode, User

ALEMBIC_VERSION = table("alembic_version", column("version_num"))
#: Written by the restore itself, after the backup's rows are back.
AUDIT_TABLES = {"audit_event", "audit_chain_head"}
#: A revision before the tables of two-factor login (0009), which hold foreign keys to user_account.
OLD_REVISION = "0008_quarter_indexes"
sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="works on the SQLite file itself")


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (and the Alembic revision), in primary-key order."""
    db.session.commit()
    assert set(inspect(db.engine).get_table_names()) == set(db.metadata.tables) | {"alembic_version"}
    rows = {name: [tuple(row) for row in db.session.execute(db.select(model).order_by(*model.primary_key.columns))]
            for name, model in db.metadata.tables.items()}
    rows["alembic_version"] = [tuple(row) for row in db.session.execute(db.select(ALEMBIC_VERSION))]
    db.session.commit()
    return rows


def assert_restored(before: dict[str, list[tuple]], after: dict[str, list[tuple]]):
    """Each table as it was; the audit trail as it was plus the restore's own event at the end."""
    assert after.keys() == before.keys()
    for name in before.keys() - AUDIT_TABLES:
        assert len(after[name]) == len(before[name]), name
        assert after[name] == before[name], name
    events = after["audit_event"]
    assert events[:len(before["audit_event"])] == before["audit_event"]
    added = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)
                               .where(AuditEvent.id > max((e[0] for e in before["audit_event"]), default=0))).scalars()
    assert [event.action for event in added] == ["backup.restore"]


def audit_actions() -> list[str]:
    return list(db.session.execute(db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def change_everything(make_user):
    """Rename an agency, add an account and delete every household member."""
    agency = db.session.execute(db.select(Agency).order_by(Agency.id)).scalars().first()
    agency.name = "바뀐 기관명"
    db.session.execute(db.delete(Member))
    db.session.commit()
    make_user("added-after-backup")


@pytest.fixture
def seeded_snapshot(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return snapshot()


def test_backup_then_restore_brings_back_every_table(runner, seeded_snapshot, make_user, tmp_path):
    output = tmp_path / "conference.backup"
    result = runner.invoke(args=["backup", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "personal data" in result.output
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o600
    created = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "backup.create")).scalar_one()
    details = json.loads(created.details)
    assert details["sha256"] == file_sha256(output)
    assert details["revision"] == seeded_snapshot["alembic_version"][0][0]

    change_everything(make_user)
    changed = snapshot()
    assert changed["agency"] != seeded_snapshot["agency"]
    assert len(changed["user_account"]) == len(seeded_snapshot["user_account"]) + 1
    assert changed["household_member"] == [] != seeded_snapshot["household_member"]

    result = runner.invoke(args=["restore", str(output), "--yes"])
    assert result.exit_code == 0, result.output
    assert "restored" in result.output
    assert_restored(seeded_snapshot, snapshot())  # the backup.create event came after the copy, so it is not in it
    restored = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "backup.restore")).scalar_one()
    assert json.loads(restored.details)["sha256"] == details["sha256"]


def test_restore_asks_first_and_changes_nothing_when_told_no(runner, seeded_snapshot, make_user, tmp_path):
    output = tmp_path / "conference.backup"
    assert runner.invoke(args=["backup", "-o", str(output)]).exit_code == 0
    change_everything(make_user)
    changed = snapshot()

    for answer in ("n\n", ""):
        result = runner.invoke(args=["restore", str(output)], input=answer)
        assert result.exit_code == 1, result.output
        assert "Continue?" in result.output and "Aborted" in result.output
        assert snapshot() == changed

    result = runner.invoke(args=["restore", str(output)], input="y\n")
    assert result.exit_code == 0, result.output
    assert_restored(seeded_snapshot, snapshot())


def write_text_file(path):
    path.write_text("이름,주소\n김민수,중앙동\n", encoding="utf-8")


def write_other_sqlite(path):
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE household (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO household (name) VALUES ('김민수')")
    connection.close()


@pytest.mark.parametrize("write", [write_text_file, write_other_sqlite])
def test_restore_refuses_a_file_that_is_not_a_backup(runner, seeded_snapshot, tmp_path, write):
    path = tmp_path / "not-a-backup.bin"
    write(path)
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and "not a" in result.output
    assert snapshot() == seeded_snapshot
    assert "backup.restore" not in audit_actions()


def test_backup_refuses_to_overwrite_a_file(runner, seeded_snapshot, tmp_path):
    output = tmp_path / "existing.backup"
    output.write_bytes(b"an earlier backup")
    result = runner.invoke(args=["backup", "-o", str(output)])
    assert result.exit_code == 1
    assert "File exists" in result.output
    assert output.read_bytes() == b"an earlier backup"
    assert "backup.create" not in audit_actions()


@sqlite_only
def test_restore_refuses_a_backup_made_by_newer_code(runner, seeded_snapshot, tmp_path):
    output = tmp_path / "conference.backup"
    assert runner.invoke(args=["backup", "-o", str(output)]).exit_code == 0
    with sqlite3.connect(output) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()
    result = runner.invoke(args=["restore", str(output), "--yes"])
    assert result.exit_code == 1
    assert "9999_from_the_future is unknown to this code" in result.output
    assert "backup.restore" not in audit_actions()


def test_restoring_an_older_backup_upgrades_it_to_the_code_schema(app, runner, make_user, tmp_path):
    migrations = app.extensions["migrate"].directory
    downgrade(directory=migrations, revision=OLD_REVISION)
    db.session.execute(text("INSERT INTO agency (name, is_public, sector, is_active, created_at) "
                            "VALUES ('옛 기관', true, 'other', true, '2021-01-04 09:00:00')"))
    db.session.commit()
    backup = create_backup(db.engine, tmp_path / "old.backup")
    assert backup.revision == OLD_REVISION
    upgrade(directory=migrations)
    user = make_user("after-upgrade")
    db.session.add(RecoveryCode(user_id=user.id, code_hash="x"))  # a newer table whose foreign key holds user_account
    db.session.commit()

    result = runner.invoke(args=["restore", str(backup.path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Upgrading" in result.output
    head = ScriptDirectory(migrations).get_heads()
    assert [db.session.execute(db.select(ALEMBIC_VERSION.c.version_num)).scalar_one()] == head
    assert list(db.session.execute(db.select(Agency.name)).scalars()) == ["옛 기관"]
    assert list(db.session.execute(db.select(User.id)).scalars()) == []
    assert list(db.session.execute(db.select(RecoveryCode.id)).scalars()) == []
    assert audit_actions() == ["backup.restore"]


def test_revisions_are_current_older_or_unknown(app):
    migrations = ScriptDirectory(app.extensions["migrate"].directory)
    assert revision_is_current(migrations.get_current_head(), migrations) is True
    assert revision_is_current("0001_accounts", migrations) is False
    with pytest.raises(BackupError, match="unknown to this code"):
        revision_is_current("9999_from_the_future", migrations)


def test_the_postgres_password_goes_in_the_environment_not_the_command_line():
    url = make_url("postgresql+psycopg://us'er:p%40ss%20w'rd@db.example:5433/my db?sslmode=require")
    conninfo, env = pg_connection(url)
    assert conninfo == r"host='db.example' port='5433' user='us\'er' dbname='my db' sslmode='require'"
    assert env["PGPASSWORD"] == "p@ss w'rd"
    assert "p@ss" not in conninfo


def fake_client(directory, version: str, programs=("pg_dump", "pg_restore", "psql")):
    """A directory of stand-in client programs that only print their version."""
    directory.mkdir()
    for name in programs:
        program = directory / name
        program.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
        program.chmod(0o755)
    return str(directory)


def test_a_missing_or_older_pg_dump_is_a_clear_error(tmp_path):
    server_major = 99  # no /usr/lib/postgresql/99 here, so only the given PATH is searched
    with pytest.raises(BackupError, match="pg_dump not found"):
        find_pg_client(server_major, search_path=str(tmp_path))
    with pytest.raises(BackupError, match=r"pg_dump is older than the server \(99\)"):
        find_pg_client(server_major, search_path=fake_client(tmp_path / "old", "9.6.24"))
    with pytest.raises(BackupError, match="psql.* not found"):
        find_pg_client(server_major, search_path=fake_client(tmp_path / "no-psql", "99.1", ("pg_dump", "pg_restore")))
    assert find_pg_client(server_major, search_path=fake_client(tmp_path / "new", "99.1")) == tmp_path / "new"
