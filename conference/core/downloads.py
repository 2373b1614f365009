"""Sending generated files: attachment with a Korean file name, never cached."""
import io

from flask import Response, send_file

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(content: bytes, filename: str, mimetype: str) -> Response:
    """A download response; ``send_file`` writes the RFC 6266 ``filename*`` form for Hangul names."""
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response
