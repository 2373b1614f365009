"""Meeting invitations as iCalendar (.ics) files. Pure; holds no personal data of households."""
import re
from datetime import datetime, UTC

from conference.meetings.services import meeting_end

#: Characters iCalendar text may not hold (RFC 5545 3.3.11): control characters other than tab.
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _escape(text: str) -> str:
    """Text for one property line: line breaks (CRLF, LF or a lone CR) become \\n, other controls are dropped."""
    text = (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))
    return CONTROL.sub("", text)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded, parts, current = line.encode("utf-8"), [], b""
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts) if len(encoded) > 75 else line


def meeting_ics(meeting, *, host: str, now: datetime | None = None) -> str:
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//conference//integrated case meetings//KO", "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:meeting-{meeting.id}@{host}",
        f"DTSTAMP:{_stamp(now or datetime.now(UTC))}",
        f"DTSTART:{_stamp(meeting.starts_at)}",
        f"DTEND:{_stamp(meeting_end(meeting))}",
        f"SUMMARY:{_escape(meeting.title)}",
        f"LOCATION:{_escape(meeting.place)}",
        "DESCRIPTION:" + _escape("사전 공유자료는 통합사례회의 시스템에서 확인하세요. 자료를 외부로 전달하지 마세요."),
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
