"""Command line: write a meeting's pre-read packet as a Word or 한글 file (by the output's extension)."""
from datetime import datetime, UTC

import click
from flask import current_app
from flask.cli import with_appcontext

from conference import audit
from conference.core.downloads import format_for_path
from conference.core.formatting import today_local
from conference.extensions import db
from conference.meetings import packets
from conference.meetings.packet_docx import build_packet_docx, build_packet_hwpx
from conference.shared.permissions import REFUSED


@click.command("export-packet")
@click.argument("meeting_id", type=int)
@click.option("--agency", "agency_id", type=int, default=None,
              help="Invited agency whose packet to write; omit for the coordinator's full packet.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--purpose", default="명령줄 내보내기", show_default=True, help="Why the file is written (logged).")
@with_appcontext
def export_packet_command(meeting_id, agency_id, output, purpose):
    """Write the pre-read packet of MEETING_ID (as the web page builds it) to a .docx file, or a 한글 file when the
    output ends in .hwpx."""
    meeting = packets.load_meeting(meeting_id)
    if meeting is None:
        raise click.ClickException(f"회의 {meeting_id}이(가) 없습니다. / No such meeting.")
    copy = packets.packet_for_reader(meeting, None, agency_id, coordinator_notes=True, today=today_local())
    if copy is REFUSED:
        raise click.ClickException(f"기관 {agency_id}은(는) 이 회의에 초대되지 않았습니다. / Agency not invited.")
    data = copy.packet
    build = build_packet_hwpx if format_for_path(output) == "hwpx" else build_packet_docx
    content = build(data, font=current_app.config["DOCX_FONT"], author=current_app.config["DOCUMENT_AUTHOR"],
                    generated_at=datetime.now(UTC))
    with open(output, "wb") as handle:
        handle.write(content)
    audit.record("packet.download", meeting, actor_name="cli",
                 details={"agency_id": agency_id, "purpose": purpose, "file": output,
                          "cases": [c.case_number for c in data.cases]})
    db.session.commit()
    click.echo(f"{output}: {meeting.title} · {data.agency_name or '전체'} · {len(data.cases)}건")


def register_commands(app):
    app.cli.add_command(export_packet_command)
