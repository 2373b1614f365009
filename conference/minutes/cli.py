"""Command line: write a meeting's minutes (or attendance sheet) as a Word file."""
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from conference import audit
from conference.extensions import db
from conference.minutes import document, services
from conference.models import MinutesStatus


@click.command("export-minutes")
@click.argument("meeting_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--attendance-sheet", is_flag=True, help="Write the attendance sheet (참석자 명부) instead.")
@click.option("--purpose", default="명령줄 내보내기", show_default=True, help="Why the file is written (logged).")
@with_appcontext
def export_minutes_command(meeting_id, output, attendance_sheet, purpose):
    """Write the minutes of MEETING_ID as the web page builds them: the approved text once finalised, masked."""
    meeting = services.load_for_minutes(meeting_id)
    if meeting is None:
        raise click.ClickException(f"회의 {meeting_id}이(가) 없습니다. / No such meeting.")
    minutes = meeting.minutes
    data = services.final_data(minutes) if minutes and minutes.status == MinutesStatus.FINAL.value \
        else services.minutes_data(meeting)
    build = document.build_attendance_sheet_docx if attendance_sheet else document.build_minutes_docx
    content = build(data, font=current_app.config["DOCX_FONT"], generated_at=datetime.now(UTC))
    with open(output, "wb") as handle:
        handle.write(content)
    audit.record("attendance.download" if attendance_sheet else "minutes.download", meeting, actor_name="cli",
                 details={"purpose": purpose, "file": output, "full_names": False})
    db.session.commit()
    state = minutes.minutes_status.label if minutes else "초안"
    click.echo(f"{output}: {meeting.title} · {state} · {len(data.cases)}건")


def register_commands(app):
    app.cli.add_command(export_minutes_command)
