"""Backup and restore of the whole database: SQLite's online backup API, or pg_dump and pg_restore.

The functions here do the work and know nothing of Flask; the two commands at the end load the app's
engine and migrations, ask before a restore, and write the audit trail.
"""
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess  # nosec B404  # runs only pg_dump, pg_restore and psql, with argument lists and no shell
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine

from conference import audit
from conference.extensions import db


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why, in Korean and English."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    #: The Alembic revision of the database the file holds.
    revision: str
    size: int
    sha256: str


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _describe(path: Path, revision: str) -> BackupFile:
    return BackupFile(path=path, revision=revision, size=path.stat().st_size, sha256=file_sha256(path))


def _partial_file(target: Path) -> Path:
    """An empty file beside ``target``, readable by its owner only, for the backup to be written into."""
    if target.exists():
        raise BackupError(f"{target}: 파일이 이미 있습니다. 다른 이름을 쓰세요. / File exists; choose another name.")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: 폴더가 없습니다. / No such directory.")
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    return Path(name)


# --- SQLite ------------------------------------------------------------------------------------


def sqlite_path(url: URL) -> Path:
    """The database file of a SQLite URL; an in-memory database has none to back up."""
    if not url.database or url.database == ":memory:":
        raise BackupError("메모리 데이터베이스는 백업할 수 없습니다. / An in-memory database cannot be backed up.")
    return Path(url.database)


def _open_sqlite(path: Path, mode: str) -> sqlite3.Connection:
    """Open an existing SQLite file (``mode`` "ro" or "rw"); never create one."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode={mode}", uri=True, timeout=30)


def _sqlite_problem(connection: sqlite3.Connection) -> str | None:
    """Why the open file is not a sound database of this application, or None."""
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        return "무결성 검사 실패 / integrity check failed: " + "; ".join(rows[:5])
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone() is None:
        return "alembic_version 표가 없습니다 / no alembic_version table"
    return None


def _sqlite_revision(connection: sqlite3.Connection) -> str:
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise BackupError("alembic_version 표가 비어 있습니다. / The alembic_version table is empty.")
    return row[0]


def backup_sqlite(database: Path, target: Path) -> BackupFile:
    """Copy a live SQLite database to ``target`` in one consistent snapshot, then check the copy's integrity.

    The backup API reads under one read transaction, which in WAL mode never blocks the running app. The copy
    is switched to a rollback journal so that it is a single self-contained file, readable by its owner only.
    """
    if not database.is_file():
        raise BackupError(f"{database}: 데이터베이스 파일이 없습니다. / No database file.")
    partial = _partial_file(target)
    try:
        source = _open_sqlite(database, "rw")
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            problem = _sqlite_problem(copy)
            if problem:
                raise BackupError(f"백업 사본을 검사하다 멈췄습니다 / the copy failed its check: {problem}")
            revision = _sqlite_revision(copy)
        finally:
            copy.close()
            source.close()
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite 백업 실패 / SQLite backup failed: {error}") from error
    finally:
        partial.unlink(missing_ok=True)
    return _describe(target, revision)


def inspect_sqlite_backup(path: Path) -> BackupFile:
    """Check that ``path`` is a sound SQLite database with an Alembic revision, and describe it."""
    try:
        connection = _open_sqlite(path, "ro")
        try:
            problem = _sqlite_problem(connection)
            revision = None if problem else _sqlite_revision(connection)
        finally:
            connection.close()
    except sqlite3.Error as error:
        problem = str(error)
    if problem:
        raise BackupError(f"{path}: 이 앱의 SQLite 백업이 아닙니다 / not a SQLite backup of this application ({problem}).")
    return _describe(path, revision)


def restore_sqlite(backup: Path, database: Path) -> None:
    """Replace the contents of ``database`` with ``backup`` through the backup API (the file keeps WAL mode).

    The copy happens under SQLite's own write lock, so a running app waits for it and then reads the restored data.
    """
    try:
        source = _open_sqlite(backup, "ro")
        target = _open_sqlite(database, "rw")
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite 복원 실패 / SQLite restore failed: {error}") from error


# --- PostgreSQL --------------------------------------------------------------------------------

#: Directories where Debian and Ubuntu keep each PostgreSQL version's client programs.
DEBIAN_PG_BIN = "/usr/lib/postgresql/{major}/bin"


def _conninfo_value(value) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string for ``url`` without its password, and the environment that carries the password.

    The password goes in PGPASSWORD so that it never appears in a process list.
    """
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    for key, value in url.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in params.items() if value not in (None, ""))
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _run(args: list, *, env: dict | None = None, what: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(  # nosec B603  # an argument list of a client program's path and fixed options, no shell
            args, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(f"{what} 실패 / failed: {error}") from error
    if result.returncode != 0:
        raise BackupError(f"{what} 실패 / failed ({Path(args[0]).name}, exit {result.returncode}): "
                          f"{result.stderr.strip()[-2000:]}")
    return result


def client_major_version(program: Path) -> int:
    output = _run([str(program), "--version"], what="버전 확인 / version check").stdout
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", output)
    if match is None:
        raise BackupError(f"{program}: 버전을 읽지 못했습니다 / cannot read the version from {output!r}")
    return int(match.group(1))


def find_pg_client(server_major: int, search_path: str | None = None) -> Path:
    """The directory whose pg_dump, pg_restore and psql can serve a server of ``server_major``.

    The server's own version under /usr/lib/postgresql comes first (Debian installs one per version), then
    whatever pg_dump is on PATH. A missing or older client is a clear error: pg_dump cannot dump a newer server.
    """
    candidates = [Path(DEBIAN_PG_BIN.format(major=server_major)) / "pg_dump"]
    on_path = shutil.which("pg_dump", path=search_path)
    if on_path:
        candidates.append(Path(on_path))
    too_old = []
    for pg_dump in candidates:
        if not os.access(pg_dump, os.X_OK):
            continue
        major = client_major_version(pg_dump)
        if major >= server_major:
            missing = [name for name in ("pg_restore", "psql") if not os.access(pg_dump.parent / name, os.X_OK)]
            if missing:
                raise BackupError(f"{pg_dump.parent}: {', '.join(missing)}이(가) 없습니다 / not found. "
                                  f"postgresql-client-{server_major}을(를) 설치하세요. / Install postgresql-client-{server_major}.")
            return pg_dump.parent
        too_old.append(f"{pg_dump} ({major})")
    if too_old:
        raise BackupError(f"pg_dump가 서버({server_major})보다 오래되었습니다 / pg_dump is older than the server "
                          f"({server_major}): {', '.join(too_old)}. postgresql-client-{server_major}을(를) 설치하세요. "
                          f"/ Install postgresql-client-{server_major}.")
    raise BackupError(f"pg_dump가 없습니다 / pg_dump not found. postgresql-client-{server_major}을(를) 설치하세요 "
                      f"(apt-get install postgresql-client). / Install postgresql-client-{server_major}.")


def _pg_revision(client: Path, path: Path) -> str:
    """The Alembic revision stored in a custom-format dump, read without connecting to a server."""
    script = _run([str(client / "pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
                  what="alembic_version 읽기 / reading alembic_version").stdout
    match = re.search(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n([^\n\\]+)\n", script, re.MULTILINE)
    if match is None:
        raise BackupError(f"{path}: alembic_version이 없습니다. 이 앱의 백업이 아닙니다. "
                          "/ No alembic_version: not a backup of this application.")
    return match.group(1).strip()


def backup_postgres(url: URL, target: Path, client: Path) -> BackupFile:
    """Dump the database with ``pg_dump --format=custom`` (a consistent snapshot) and check the file lists back."""
    conninfo, env = pg_connection(url)
    partial = _partial_file(target)
    try:
        _run([str(client / "pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={conninfo}"],
             env=env, what="pg_dump")
        _run([str(client / "pg_restore"), "--list", str(partial)], what="백업 검사 / checking the dump")
        revision = _pg_revision(client, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return _describe(target, revision)


def inspect_postgres_backup(path: Path, client: Path) -> BackupFile:
    """Check that ``path`` is a custom-format dump (``pg_restore --list``) of this application, and describe it."""
    try:
        _run([str(client / "pg_restore"), "--list", str(path)], what="pg_restore --list")
    except BackupError as error:
        raise BackupError(f"{path}: PostgreSQL 백업(pg_dump --format=custom)이 아닙니다 "
                          f"/ not a PostgreSQL custom-format backup. {error}") from None
    return _describe(path, _pg_revision(client, path))


def restore_postgres(url: URL, backup: Path, client: Path, tables: list[str]) -> None:
    """Replace the database with ``backup`` in one transaction: drop ``tables``, then run the dump's script.

    Tables are dropped first so that tables added by later migrations (which the backup does not know, and whose
    foreign keys would block pg_restore's own DROPs) go too; the upgrade afterwards creates them again. psql runs
    the drops and ``pg_restore --clean --if-exists --no-owner`` as a single transaction: on any error nothing changes.
    """
    conninfo, env = pg_connection(url)
    restore = [str(client / "pg_restore"), "--clean", "--if-exists", "--no-owner", "--file=-", str(backup)]
    psql = [str(client / "psql"), "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
            f"--dbname={conninfo}"]
    if tables:
        psql.append(f"--command=DROP TABLE IF EXISTS {', '.join(tables)} CASCADE")
    psql.append("--file=-")
    with tempfile.TemporaryFile() as producer_stderr:
        with subprocess.Popen(  # nosec B603  # an argument list of the client's path and fixed options, no shell
                restore, stdout=subprocess.PIPE, stderr=producer_stderr) as producer:
            consumer = subprocess.run(  # nosec B603  # as above: argument list, no shell
                psql, stdin=producer.stdout, env=env, capture_output=True, text=True, check=False)
        producer_stderr.seek(0)
        producer_error = producer_stderr.read().decode(errors="replace")
    if producer.returncode != 0:
        raise BackupError(f"pg_restore 실패 / failed (exit {producer.returncode}); 데이터베이스는 그대로입니다 "
                          f"/ the database is unchanged: {producer_error.strip()[-2000:]}")
    if consumer.returncode != 0:
        raise BackupError(f"복원 실패 / restore failed (psql exit {consumer.returncode}); 데이터베이스는 그대로입니다 "
                          f"/ the database is unchanged: {consumer.stderr.strip()[-2000:]}")


def _quoted_tables(engine: Engine) -> list[str]:
    inspector = inspect(engine)
    schema = inspector.default_schema_name
    quote = engine.dialect.identifier_preparer.quote
    return [f"{quote(schema)}.{quote(name)}" for name in inspector.get_table_names(schema=schema)]


def _postgres_client(engine: Engine) -> Path:
    with engine.connect() as connection:
        server_major = connection.dialect.server_version_info[0]
    return find_pg_client(server_major)


# --- either database ---------------------------------------------------------------------------


def create_backup(engine: Engine, target: Path) -> BackupFile:
    """Write a consistent backup of ``engine``'s database to ``target`` (which must not exist yet)."""
    if engine.dialect.name == "sqlite":
        return backup_sqlite(sqlite_path(engine.url), target)
    if engine.dialect.name == "postgresql":
        return backup_postgres(engine.url, target, _postgres_client(engine))
    raise BackupError(f"{engine.dialect.name}: 지원하지 않는 데이터베이스 / unsupported database")


def inspect_backup(engine: Engine, path: Path) -> BackupFile:
    """Check that ``path`` is a backup of the same kind as ``engine``'s database and describe it; changes nothing."""
    if engine.dialect.name == "sqlite":
        return inspect_sqlite_backup(path)
    if engine.dialect.name == "postgresql":
        return inspect_postgres_backup(path, _postgres_client(engine))
    raise BackupError(f"{engine.dialect.name}: 지원하지 않는 데이터베이스 / unsupported database")


def restore_backup(engine: Engine, backup: Path) -> None:
    """Replace ``engine``'s database with the checked ``backup``; the engine's pooled connections are closed first."""
    engine.dispose()
    if engine.dialect.name == "sqlite":
        restore_sqlite(backup, sqlite_path(engine.url))
    elif engine.dialect.name == "postgresql":
        restore_postgres(engine.url, backup, _postgres_client(engine), _quoted_tables(engine))
    else:
        raise BackupError(f"{engine.dialect.name}: 지원하지 않는 데이터베이스 / unsupported database")
    engine.dispose()


def revision_is_current(revision: str, migrations: ScriptDirectory) -> bool:
    """True if ``revision`` is the code's head, False if it is an older one; a revision the code does not know
    (a backup made by a newer version of the application) is an error."""
    if revision in migrations.get_heads():
        return True
    if revision in {script.revision for script in migrations.walk_revisions()}:
        return False
    raise BackupError(f"백업의 스키마 버전 {revision}을(를) 이 코드가 모릅니다. 더 새 버전의 앱으로 만든 백업이면 "
                      f"앱을 먼저 올리세요. / The backup's schema revision {revision} is unknown to this code "
                      f"(head: {', '.join(migrations.get_heads())}); if a newer version of the application made it, "
                      "upgrade the application first.")


# --- commands ----------------------------------------------------------------------------------


@click.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The backup file to write (must not exist yet).")
@with_appcontext
def backup_command(output):
    """Write a consistent backup of the whole database to OUTPUT, safe while the app runs. It holds personal data."""
    try:
        backup = create_backup(db.engine, output)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    audit.record("backup.create", actor_name="cli", object_type="database",
                 details={"file": str(backup.path.resolve()), "bytes": backup.size, "sha256": backup.sha256,
                          "revision": backup.revision})
    db.session.commit()
    click.echo(f"{backup.path}: {backup.size:,} bytes · revision {backup.revision} · sha256 {backup.sha256}")
    click.echo("개인정보가 담긴 파일입니다. 암호화해 접근을 제한한 곳에 보관하세요. "
               "/ The file holds personal data: store it encrypted, with access restricted.")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@with_appcontext
def restore_command(backup_file, yes):
    """Replace the whole database with BACKUP_FILE (made by `backup`), then upgrade it to the code's schema."""
    migrations = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        backup = inspect_backup(db.engine, backup_file)
        current = revision_is_current(backup.revision, migrations)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(f"지금 데이터베이스의 모든 내용이 {backup_file}의 내용(revision {backup.revision})으로 바뀝니다. "
                      f"계속할까요? / Every row of the current database will be replaced by {backup_file} "
                      f"(revision {backup.revision}). Continue?", abort=True)
    db.session.remove()
    try:
        restore_backup(db.engine, backup_file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not current:
        click.echo(f"백업의 스키마({backup.revision})를 최신으로 올립니다. / Upgrading the backup's schema "
                   f"({backup.revision}) to the code's head.")
        upgrade(directory=current_app.extensions["migrate"].directory)
    audit.record("backup.restore", actor_name="cli", object_type="database",
                 details={"file": str(backup_file.resolve()), "bytes": backup.size, "sha256": backup.sha256,
                          "revision": backup.revision, "upgraded": not current})
    db.session.commit()
    click.echo(f"복원했습니다 / restored: {backup_file} (revision {backup.revision})")


def register_commands(app):
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
