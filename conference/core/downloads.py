"""Sending generated files: attachment with a Korean file name, never cached."""
import io
from urllib.parse import quote

from flask import Response, send_file

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A 한글 (OWPML) package, as its own mimetype file names it.
HWPX = "application/hwp+zip"
#: A document's file formats: extension and media type.
DOCUMENT_FORMATS = {"docx": DOCX, "hwpx": HWPX}


def format_for_path(path: str) -> str:
    """hwpx for a file name ending in .hwpx, else docx (as before HWPX: ``-o /dev/null`` writes a Word file)."""
    return "hwpx" if path.lower().endswith(".hwpx") else "docx"


def attachment(content: bytes, filename: str, mimetype: str, *, ascii_name: str | None = None) -> Response:
    """A download response; ``send_file`` writes the RFC 6266 ``filename*`` form for Hangul names.

    Its plain ``filename`` (for clients that do not read ``filename*``) drops every Hangul syllable ("2021 1  .xlsx");
    ``ascii_name`` ("report-2021-Q1.xlsx") replaces it, the ``filename*`` staying as it is.
    """
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)
    if ascii_name is not None and not filename.isascii():
        response.headers.set("Content-Disposition", "attachment", filename=ascii_name,
                             **{"filename*": f"UTF-8''{quote(filename, safe='!#$&+-.^_`|~')}"})
    response.headers["Cache-Control"] = "no-store"
    return response
