"""Command-line tools: database set-up, demo data and accounts."""
import os
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from conference.admin import services as account_services
from conference.admin.forms import USERNAME_RULE
from conference.auth.passwords import password_problem
from conference.extensions import db
from conference.models import Agency, Role, User
from conference.seed import demo
from conference.seed.datagen import SUMMARY, generate, settle


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema by applying the migrations (safe to run again)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA optimize")  # refresh planner statistics that went stale
    click.echo("데이터베이스가 최신 상태입니다. / Database is up to date.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no accounts yet.")
@click.option("--households", type=click.IntRange(0, 1_000_000), default=0,
              help="Also generate this many fictional households over the last three years, with their meetings, "
                   "agency input, approved minutes, actions and monitoring (about one meeting per 25 households).")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed of the generated data.")
@with_appcontext
def seed_demo_command(if_empty, households, seed):
    """Add the demo agencies, accounts, cases and meetings (idempotent). Password: DEMO_PASSWORD or conference-demo."""
    if if_empty and db.session.execute(db.select(User.id).limit(1)).first() is not None:
        click.echo("계정이 이미 있어 데모 데이터를 넣지 않았습니다. / Accounts exist; demo data not added.")
        return
    password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
    created = demo.seed(password)
    db.session.commit()
    click.echo(f"데모 데이터: {created} 건 추가 / demo data: {created} added")
    if households:
        users = {u.username: u for u in db.session.execute(
            db.select(User).where(User.username.in_(["coordinator", "chair"]))).scalars()}
        started = time.perf_counter()
        written = generate(households, config=current_app.config, coordinator_id=users["coordinator"].id,
                           chair_id=users["chair"].id if "chair" in users else None, seed=seed)
        db.session.commit()
        click.echo(f"생성한 자료 / generated data ({time.perf_counter() - started:.1f} s):")
        settle()
        for table, korean, english in SUMMARY:
            click.echo(f"  {korean} / {english}: {written[table]:,}")


@click.command("create-user")
@click.option("--username", prompt="아이디 / username")
@click.option("--name", "display_name", prompt="성명 / name")
@click.option("--agency", "agency_name", prompt="소속기관 / agency")
@click.option("--role", type=click.Choice([r.value for r in Role]), prompt="역할 / role")
@click.option("--position", default="", help="직위 / position")
@click.option("--password", prompt="비밀번호 / password", hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_user_command(username, display_name, agency_name, role, position, password):
    """Create an account on an existing agency."""
    agency = db.session.execute(db.select(Agency).where(Agency.name == agency_name.strip())).scalar_one_or_none()
    if agency is None:
        raise click.ClickException(f"기관 '{agency_name}'이(가) 없습니다. / No such agency.")
    if not USERNAME_RULE.regex.match(username.strip().lower()):
        raise click.ClickException(str(USERNAME_RULE.message))
    problem = password_problem(password, username)
    if problem:
        raise click.ClickException(str(problem))
    try:
        user = account_services.create_user(by=None, username=username, display_name=display_name,
                                            agency_id=agency.id, role=role, position=position,
                                            password=password, must_change_password=False)
    except account_services.AccountError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"계정을 만들었습니다 / created: {user.username} ({role}, {agency.name})")


def register_commands(app):
    from conference.admin.backup import register_commands as register_backup_commands
    from conference.audit.cli import register_commands as register_audit_commands
    from conference.cases.cli import register_commands as register_case_commands
    from conference.meetings.cli import register_commands as register_meeting_commands
    from conference.minutes.cli import register_commands as register_minutes_commands

    for command in (init_db_command, seed_demo_command, create_user_command):
        app.cli.add_command(command)
    register_case_commands(app)
    register_meeting_commands(app)
    register_minutes_commands(app)
    register_audit_commands(app)
    register_backup_commands(app)
