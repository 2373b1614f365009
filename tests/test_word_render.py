"""The demo's Word files rendered by LibreOffice: no date or case number broken across lines, the 결재란 there.

The approved minutes of the demo's 2021 meeting, the sign-in sheet of its upcoming meeting (printed before it starts)
and the quarterly report are converted to PDF with ``soffice --headless`` (a private profile per test) and to PNG with
``pdftoppm``; both are kept under ``test-artifacts/word-render/`` for CI to publish. ``pdftotext -layout`` then gives
the lines as laid out: a date or case number that wrapped no longer appears whole on one line.

Automatic Asian/Latin spacing is not checked here: LibreOffice's DOCX import ignores ``w:autoSpaceDE``/``w:autoSpaceDN``
(writerfilter's DomainMapper drops both), so its rendering of "2021년도" keeps a gap whatever the file says; Word
honours them, and tests/test_word_files.py checks every Word file carries them.

Needs ``libreoffice-writer-nogui`` and ``poppler-utils`` (.ci/run installs them): skipped without them outside CI,
failed on CI (CI=true).
"""
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from factories_world import login

from conference.extensions import db
from conference.models import Meeting

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "word-render"
TOOLS = ("soffice", "pdftotext", "pdftoppm")
#: A date as the documents write it (2021. 3. 24.) or a case number (2021-0001).
PATTERN = re.compile(r"\d{4}\. \d{1,2}\. \d{1,2}\.|\d{4}-\d{3,4}")
#: Converting one file takes about 2 s; a cold LibreOffice start on a busy machine much longer.
TIMEOUT = 240


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture
def tools():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        message = (f"{', '.join(missing)} not installed: apt-get install -y --no-install-recommends "
                   "libreoffice-writer-nogui poppler-utils fonts-nanum")
        if _on_ci():
            pytest.fail(f"missing on CI. {message}", pytrace=False)
        pytest.skip(message)


def every_text(content: bytes) -> str:
    """The text of a Word file's paragraphs and table cells."""
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def render(content: bytes, name: str, profile: Path) -> str:
    """Convert to PDF and PNG pages under ARTIFACTS (named ``name``); the PDF's text as laid out."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.docx"
    source.write_bytes(content)
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(ARTIFACTS), str(source)], check=True, timeout=TIMEOUT, capture_output=True)
    pdf = ARTIFACTS / f"{name}.pdf"
    assert pdf.exists(), f"LibreOffice wrote no {pdf.name}"
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(ARTIFACTS / name)], check=True, timeout=TIMEOUT)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, timeout=TIMEOUT,
                          capture_output=True, text=True).stdout


def unbroken(content: bytes, laid_out: str) -> list[str]:
    """The dates and case numbers of the file, checked to appear whole on one line of the rendering; returns them."""
    lines = [re.sub(r"\s+", " ", line) for line in laid_out.splitlines()]
    found = sorted(set(PATTERN.findall(every_text(content))))
    broken = [value for value in found if not any(value in line for line in lines)]
    assert not broken, f"broken across lines in the rendering: {broken}"
    return found


def past_meeting_id() -> int:
    return db.session.execute(select(Meeting.id).where(Meeting.year == 2021)).scalar_one()


def test_the_approved_minutes_render_with_whole_dates_and_a_sign_off(tools, client, seeded, tmp_path):
    login(client, "coordinator")
    response = client.post(f"/meetings/{past_meeting_id()}/minutes.docx", data={"purpose": "렌더링 확인"})
    assert response.status_code == 200
    laid_out = render(response.data, "minutes", tmp_path / "lo-profile")
    assert len(unbroken(response.data, laid_out)) >= 3
    for step in ("작성", "검토", "결재"):
        assert step in laid_out
    assert "회의록" in laid_out


def test_the_sign_in_sheet_of_the_upcoming_meeting_renders_with_the_invited(tools, client, seeded, tmp_path):
    login(client, "coordinator")
    response = client.post(f"/meetings/{seeded}/attendance.docx", data={"purpose": "렌더링 확인"})
    assert response.status_code == 200
    laid_out = render(response.data, "sign-in-sheet", tmp_path / "lo-profile")
    unbroken(response.data, laid_out)
    assert "참석자 서명부" in laid_out and "윤팀장" in laid_out and "희망복지팀장" in laid_out
    assert re.search(r"\d{4}\. \d{1,2}\. \d{1,2}\.\(.\) \d\d:\d\d ~ \d\d:\d\d", re.sub(r"\s+", " ", laid_out))


def test_the_quarterly_report_renders_with_whole_dates(tools, client, seeded, tmp_path):
    login(client, "coordinator")
    response = client.get("/dashboard/report.docx?year=2021&quarter=1")
    assert response.status_code == 200
    laid_out = render(response.data, "quarterly-report", tmp_path / "lo-profile")
    assert len(unbroken(response.data, laid_out)) >= 2
