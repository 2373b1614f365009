"""The discovery list's blank form to download: the header row and one example row, as CSV or XLSX.

Pure: the columns and examples come in (``importer.column_guide``), bytes go out; the import reads both back.
"""
import csv
import io

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from conference.cases.importer import ColumnGuide
from conference.documents.xlsx_kit import HEADER_FILL, new_workbook, put, to_bytes

#: The sheet's name in the XLSX form.
SHEET_TITLE = "발굴 명단"


def template_csv(guide: list[ColumnGuide]) -> bytes:
    """UTF-8 with a byte order mark, so that Excel on a Korean Windows opens the Hangul as such."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([entry.column.name for entry in guide])
    writer.writerow([entry.example for entry in guide])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(guide: list[ColumnGuide]) -> bytes:
    """Every column formatted as text, so Excel keeps 2024-1 and 010-… as typed instead of making dates and
    numbers of them."""
    workbook, sheet = new_workbook(SHEET_TITLE)
    for index, entry in enumerate(guide, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.number_format = "@"
        dimension.width = max(10, min(40, len(entry.example) * 2 + 2))
        header = sheet.cell(row=1, column=index)
        put(header, entry.column.name)
        header.font, header.fill, header.alignment = Font(bold=True), HEADER_FILL, Alignment(horizontal="center")
        example = sheet.cell(row=2, column=index)
        put(example, entry.example)
        example.number_format = "@"
    sheet.freeze_panes = "A2"
    return to_bytes(workbook)
