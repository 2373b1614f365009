"""``flask import-households FILE``: import a discovery list (복지사각지대 발굴시스템 추출 명단) from the shell.

    flask --app app import-households 2021-1.xlsx --dry-run           # check and show, write nothing
    flask --app app import-households 2021-1.xlsx                     # stops if any row repeats a household
    flask --app app import-households 2021-1.xlsx --duplicates merge  # or keep: decide for all repeats
    flask --app app import-households 2021-1.csv --as coord1          # the audit names this account

Exit code 0 when imported (or, with --dry-run, when it could be); 1 when the file has errors or repeats
stop it — then nothing is written.
"""
import os

import click
from flask import current_app
from flask.cli import with_appcontext

from conference.cases.importer import RowError, parse_with_config
from conference.cases.imports import find_repeats, import_rows
from conference.core.formatting import today_local
from conference.core.i18n import force_locale
from conference.core.masking import mask_name
from conference.extensions import db
from conference.models import User
from conference.shared.rules import RuleError


def _line(problem: RowError) -> str:
    if problem.row == 0:
        return f"파일: {problem.message}"
    if problem.column:
        return f"{problem.row}행 [{problem.column}] {problem.message}"
    return f"{problem.row}행 {problem.message}"


def _repeat_line(number: int, repeat) -> str:
    if repeat.kind == "existing":
        return f"{number}행: 이미 등록된 가구 {repeat.case_number}와(과) 같은 사람입니다."
    also = f" (등록된 가구 {repeat.case_number})" if repeat.case_number else ""
    return f"{number}행: 이 파일의 {repeat.first_row}행과 같은 사람입니다{also}."


@click.command("import-households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would happen; write nothing.")
@click.option("--duplicates", type=click.Choice(["stop", "merge", "keep"]), default="stop", show_default=True,
              help="Rows that repeat a registered household or an earlier row: stop, merge into it, "
                   "or keep as a new household.")
@click.option("--as", "username", default=None, help="Account recorded as the importer (default: cli).")
@with_appcontext
def import_households_command(file, dry_run, duplicates, username):
    """Import a quarterly discovery list (.xlsx or CSV in UTF-8/CP949) as households of stage 발굴."""
    # No request here: messages are rendered in the default language, not the (absent) user's.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        _import(file, dry_run, duplicates, username)


def _import(file, dry_run, duplicates, username):
    config = current_app.config
    user = None
    if username:
        user = db.session.execute(
            db.select(User).where(User.username == username.strip().lower())).scalar_one_or_none()
        if user is None:
            raise click.ClickException(f"계정 '{username}'이(가) 없습니다. / No such account.")
        if not user.is_active:
            raise click.ClickException(f"계정 '{username}'은(는) 사용 중지되었습니다. / Account disabled.")

    max_bytes = config["IMPORT_MAX_BYTES"]
    with open(file, "rb") as handle:
        data = handle.read(max_bytes + 1)  # one byte more is enough to tell it is too big
    filename = os.path.basename(file)
    today = today_local()
    parsed = parse_with_config(data, filename, config, today)
    for warning in parsed.warnings:
        click.echo("주의 " + _line(warning))
    if not parsed.ok:
        for error in parsed.errors:
            click.echo(_line(error), err=True)
        click.echo(f"오류 {len(parsed.errors)}건: 아무것도 가져오지 않았습니다. / "
                   f"{len(parsed.errors)} error(s); nothing imported.", err=True)
        db.session.rollback()
        raise SystemExit(1)

    repeats = find_repeats(parsed.rows)
    if repeats and duplicates == "stop":
        for number, repeat in sorted(repeats.items()):
            click.echo(_repeat_line(number, repeat), err=True)
        click.echo(f"같은 가구로 보이는 행 {len(repeats)}건: --duplicates merge(합치기) 또는 keep(새로 등록)을 "
                   f"골라 다시 실행하세요. 아무것도 가져오지 않았습니다. / {len(repeats)} repeat(s); "
                   f"choose --duplicates merge or keep. Nothing imported.", err=True)
        db.session.rollback()
        raise SystemExit(1)
    decisions = {number: duplicates for number in repeats}

    if dry_run:
        merging = len(repeats) if duplicates == "merge" else 0
        click.echo(f"[시험 실행] {len(parsed.rows)}행: 새 가구 {len(parsed.rows) - merging}건, 합치기 {merging}건. "
                   f"아무것도 저장하지 않았습니다. / dry run: nothing written.")
        for row in parsed.rows:
            repeat = repeats.get(row.row)
            action = "합치기" if repeat and duplicates == "merge" else "새 가구"
            note = f" — {_repeat_line(row.row, repeat)}" if repeat else ""
            click.echo(f"{row.row}행 {action}: {row.district} {mask_name(row.name)} "
                       f"({row.birth_year}){note}")
        db.session.rollback()
        return

    try:
        result = import_rows(parsed.rows, decisions, by=user, discovered_on=today, filename=filename,
                             actor_name="cli")
    except RuleError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    created = ", ".join(h.case_number for h in result.created)
    click.echo(f"새 가구 {len(result.created)}건 등록 / created: {created or '-'}")
    if result.merged_rows:
        targets = ", ".join(dict.fromkeys(result.by_row[n].case_number for n in result.merged_rows))
        click.echo(f"합친 행 {len(result.merged_rows)}건 / merged {len(result.merged_rows)} row(s) into: {targets}")


def register_commands(app):
    app.cli.add_command(import_households_command)
