"""Command line: write a meeting's minutes as a Word or 한글 file (by the output's extension), or its sign-in sheet."""
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from conference import audit
from conference.core.downloads import format_for_path
from conference.extensions import db
from conference.minutes import document, services
from conference.shared.rules import RuleError


@click.command("export-minutes")
@click.argument("meeting_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--agency", "agency_id", type=int, default=None,
              help="Invited agency whose version to write (its need-to-know copy); omit for the full version.")
@click.option("--attendance-sheet", is_flag=True,
              help="Write the sign-in sheet (참석자 서명부) instead, from the invitations (also before the meeting).")
@click.option("--purpose", default="명령줄 내보내기", show_default=True, help="Why the file is written (logged).")
@with_appcontext
def export_minutes_command(meeting_id, output, agency_id, attendance_sheet, purpose):
    """Write the minutes of MEETING_ID as the web page builds them: the approved text once finalised, masked;
    with --agency, that agency's version; a .hwpx output is written as a 한글 file. A meeting that has not started
    has no minutes (exit status 1)."""
    meeting = services.load_for_minutes(meeting_id)
    if meeting is None:
        raise click.ClickException(f"회의 {meeting_id}이(가) 없습니다. / No such meeting.")
    if agency_id is not None and agency_id not in {i.agency_id for i in meeting.invitations}:
        raise click.ClickException(f"기관 {agency_id}은(는) 이 회의에 초대되지 않았습니다. / Agency not invited.")
    minutes = meeting.minutes
    font, now = current_app.config["DOCX_FONT"], datetime.now(UTC)
    file_format = format_for_path(output)
    if attendance_sheet:
        sheet = services.sign_in_sheet(meeting)
        build = document.build_sign_in_sheet_hwpx if file_format == "hwpx" else document.build_sign_in_sheet_docx
        content = build(sheet, font=font, generated_at=now)
        summary = f"참석자 서명부 {len(sheet.people)}명"
    else:
        try:
            data = services.reader_minutes(meeting, agency_id)
        except RuleError as problem:
            raise click.ClickException(str(problem.message)) from None
        build = document.build_minutes_hwpx if file_format == "hwpx" else document.build_minutes_docx
        content = build(data, font=font, generated_at=now)
        summary = f"{len(data.cases)}건"
    with open(output, "wb") as handle:
        handle.write(content)
    audit.record("attendance.download" if attendance_sheet else "minutes.download", meeting, actor_name="cli",
                 details={"purpose": purpose, "file": output, "full_names": False, "agency_id": agency_id})
    db.session.commit()
    state = minutes.minutes_status.label if minutes else "초안"
    click.echo(f"{output}: {meeting.title} · {state} · {summary}")


def register_commands(app):
    app.cli.add_command(export_minutes_command)
